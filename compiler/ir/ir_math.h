/* ir_math.h - nnc's f32 exp, log, tanh, sigmoid and erf, written once.
 *
 * The interpreter and constant folding (ir_eval.c) evaluate these functions in C; the LLVM backend
 * (compiler/backend/llvm/llvm.c) emits the same operations as inline LLVM IR, which the loop
 * vectoriser widens (a libm call kept a fused loop scalar, or cost a call per lane). Both include
 * this file as a template, so the two cannot drift apart: every step is one IEEE f32 operation
 * rounded on its own (never fused into an FMA), and the results agree bit for bit on any CPU.
 * Polynomials after Cephes (S. L. Moshier: expf, logf, tanhf) and N. Juffa (erff). Largest error
 * against the correctly rounded value, measured over every f32 input by tests/ir/test_math.c:
 * docs/backend-llvm.md "Math functions".
 *
 * The includer defines, then includes this file (no include guard: it may be included twice):
 *   MF, MI, MB             an f32 value, an i32 value, a comparison's result
 *   MATH_NAME(n)           the name of function n (exp, log, tanh, sigmoid, erf)
 *   MATH_CTX, MATH_ARG     a leading parameter (e.g. `Cg *g,`) and its argument (`g,`), or empty
 *   FC(c), IC(c)           f32 and i32 constants
 *   FADD, FSUB, FMUL, FDIV f32 arithmetic, each operation rounded on its own
 *   IADD, ISUB, IAND, IOR  i32 arithmetic, wrapping
 *   ISHL(a, n), IASHR(a, n) shifts by a constant (>>: arithmetic)
 *   FLT, FGT, FGE, FEQ     ordered comparisons (false when either side is NaN)
 *   SELF(m, a, b), SELI    m ? a : b for f32 / i32 values
 *   F2BITS(a), BITS2F(a)   reinterpret an f32 as i32 and back
 *   I2F(a)                 i32 -> f32 conversion (exact for the exponents used here)
 * and may define MATH_STATIC (default `static`) for the functions' linkage. The end of this
 * file undefines them all.
 */
#ifndef MATH_STATIC
#define MATH_STATIC static
#endif

/* |a| and copysign(a, s) through the sign bit; MATH_COPYSIGN wants a's sign bit clear (a >= 0,
 * or a NaN without it), which holds wherever it is used below */
#define MATH_FABS(a) BITS2F(IAND(F2BITS(a), IC(0x7fffffff)))
#define MATH_COPYSIGN(a, s) BITS2F(IOR(F2BITS(a), IAND(F2BITS(s), IC(INT32_MIN))))

/* e^x = 2^n e^r with n = round(x / ln 2), r = x - n ln 2 (ln 2 in two parts, Cody and Waite, so n
 * times the first is exact), |r| <= ln 2 / 2, e^r = 1 + r + r^2 P(r). x is clamped to [-104, 89]
 * first: beyond, the result is 0 or inf anyway (2^-150 and 2^128 round so), and NaN passes the
 * clamp (its compares are false). n comes from rounding by adding 1.5 * 2^23 (no float -> int
 * conversion, which is undefined for NaN), and 2^n is applied as two factors 2^(n/2) and
 * 2^(n - n/2), both normal, so results near FLT_MAX and subnormal ones round once. */
MATH_STATIC MF MATH_NAME(exp)(MATH_CTX MF x) {
    x = SELF(FGT(x, FC(89.0f)), FC(89.0f), x);
    x = SELF(FLT(x, FC(-104.0f)), FC(-104.0f), x);
    MF t = FADD(FMUL(x, FC(1.44269504088896341f)), FC(12582912.0f));
    MI n = ISUB(F2BITS(t), IC(0x4b400000)); /* the bits of 12582912.0f */
    MF nf = FSUB(t, FC(12582912.0f));
    MF r = FSUB(x, FMUL(nf, FC(0.693359375f)));
    r = FSUB(r, FMUL(nf, FC(-2.12194440e-4f)));
    MF p = FC(1.9875691500e-4f);
    p = FADD(FMUL(p, r), FC(1.3981999507e-3f));
    p = FADD(FMUL(p, r), FC(8.3334519073e-3f));
    p = FADD(FMUL(p, r), FC(4.1665795894e-2f));
    p = FADD(FMUL(p, r), FC(1.6666665459e-1f));
    p = FADD(FMUL(p, r), FC(5.0000001201e-1f));
    MF y = FADD(FADD(FMUL(p, FMUL(r, r)), r), FC(1.0f));
    MI n1 = IASHR(n, 1);
    MI n2 = ISUB(n, n1);
    MF s1 = BITS2F(ISHL(IADD(n1, IC(127)), 23));
    MF s2 = BITS2F(ISHL(IADD(n2, IC(127)), 23));
    return FMUL(FMUL(y, s1), s2);
}

/* log x = e ln 2 + log m with x = 2^e m, m in [sqrt(1/2), sqrt(2)) (subnormal x scaled by 2^25
 * first), log(1 + f) = f - f^2/2 + f^3 P(f); ln 2 in two parts as in exp. Special values as
 * libm: log(+-0) = -inf, log(x < 0) = NaN, log(inf) = inf, NaN stays NaN. */
MATH_STATIC MF MATH_NAME(log)(MATH_CTX MF x) {
    MB sub = FLT(x, FC(1.17549435e-38f));
    MF xs = SELF(sub, FMUL(x, FC(33554432.0f)), x);
    MI b = F2BITS(xs);
    MI e = ISUB(IASHR(b, 23), SELI(sub, IC(126 + 25), IC(126)));
    MF m = BITS2F(IOR(IAND(b, IC(0x007fffff)), IC(0x3f000000))); /* [0.5, 1) */
    MB lo = FLT(m, FC(0.707106781186547524f));
    e = ISUB(e, SELI(lo, IC(1), IC(0)));
    m = FSUB(SELF(lo, FADD(m, m), m), FC(1.0f));
    MF ef = I2F(e);
    MF z = FMUL(m, m);
    MF p = FC(7.0376836292e-2f);
    p = FADD(FMUL(p, m), FC(-1.1514610310e-1f));
    p = FADD(FMUL(p, m), FC(1.1676998740e-1f));
    p = FADD(FMUL(p, m), FC(-1.2420140846e-1f));
    p = FADD(FMUL(p, m), FC(1.4249322787e-1f));
    p = FADD(FMUL(p, m), FC(-1.6668057665e-1f));
    p = FADD(FMUL(p, m), FC(2.0000714765e-1f));
    p = FADD(FMUL(p, m), FC(-2.4999993993e-1f));
    p = FADD(FMUL(p, m), FC(3.3333331174e-1f));
    MF y = FMUL(m, FMUL(z, p));
    y = FADD(y, FMUL(ef, FC(-2.12194440e-4f)));
    y = FSUB(y, FMUL(z, FC(0.5f)));
    MF r = FADD(FADD(m, y), FMUL(ef, FC(0.693359375f)));
    r = SELF(FEQ(x, FC(INFINITY)), x, r);
    r = SELF(FEQ(x, FC(0.0f)), FC(-INFINITY), r);
    r = SELF(FLT(x, FC(0.0f)), FC(NAN), r);
    return SELF(FEQ(x, x), r, x);
}

/* tanh: |x| < 0.625: x + x^3 P(x^2) (tanh(-0) = -0); else 1 - 2 / (e^(2|x|) + 1) with x's sign
 * (e^(2|x|) = inf from |x| > 44 gives exactly 1). NaN takes the second form and stays NaN. */
MATH_STATIC MF MATH_NAME(tanh)(MATH_CTX MF x) {
    MF z = MATH_FABS(x);
    MF e = MATH_NAME(exp)(MATH_ARG FADD(z, z));
    MF big = MATH_COPYSIGN(FSUB(FC(1.0f), FDIV(FC(2.0f), FADD(e, FC(1.0f)))), x);
    MF s = FMUL(x, x);
    MF p = FC(-5.70498872745e-3f);
    p = FADD(FMUL(p, s), FC(2.06390887954e-2f));
    p = FADD(FMUL(p, s), FC(-5.37397155531e-2f));
    p = FADD(FMUL(p, s), FC(1.33314422036e-1f));
    p = FADD(FMUL(p, s), FC(-3.33332819422e-1f));
    MF small = SELF(FEQ(x, FC(0.0f)), x, FADD(FMUL(FMUL(p, s), x), x));
    return SELF(FLT(z, FC(0.625f)), small, big);
}

/* sigmoid: e = e^-|x| never overflows; x >= 0 ? 1 / (1 + e) : e / (1 + e) (NaN: the second) */
MATH_STATIC MF MATH_NAME(sigmoid)(MATH_CTX MF x) {
    MF e = MATH_NAME(exp)(MATH_ARG BITS2F(IOR(F2BITS(x), IC(INT32_MIN))));
    MF d = FADD(FC(1.0f), e);
    return SELF(FGE(x, FC(0.0f)), FDIV(FC(1.0f), d), FDIV(e, d));
}

/* erf: |x| < 0.927734375: x + x P(x^2); else 1 - e^R(|x|) with x's sign, |x| capped at 4 (erf(4)
 * is 1 in f32), R(t) = t (P6(t) - 1), P6 evaluated in Estrin's scheme (a short dependency chain:
 * this sits in front of exp on the critical path). Coefficients: Norbert Juffa's erff (minimax,
 * one exp and no division; fitted there for FMA, 1.23 ulp here without it). NaN passes the cap
 * and stays NaN; -0 stays -0. */
MATH_STATIC MF MATH_NAME(erf)(MATH_CTX MF x) {
    MF z = MATH_FABS(x);
    MF s = FMUL(x, x);
    MF p = FC(-5.96761703e-4f);
    p = FADD(FMUL(p, s), FC(4.99119423e-3f));
    p = FADD(FMUL(p, s), FC(-2.67681349e-2f));
    p = FADD(FMUL(p, s), FC(1.12819925e-1f));
    p = FADD(FMUL(p, s), FC(-3.76125336e-1f));
    p = FADD(FMUL(p, s), FC(1.28379166e-1f));
    MF small = FADD(FMUL(p, x), x);
    MF t = SELF(FGT(z, FC(4.0f)), FC(4.0f), z);
    MF t2 = FMUL(t, t);
    MF c01 = FADD(FMUL(FC(-6.34846687e-1f), t), FC(-1.28717512e-1f));
    MF c23 = FADD(FMUL(FC(2.42546219e-2f), t), FC(-1.06777877e-1f));
    MF c45 = FADD(FMUL(FC(3.83197126e-4f), t), FC(-3.88396438e-3f));
    MF lo = FADD(FMUL(c23, t2), c01);
    MF hi = FADD(FMUL(FC(-1.72853470e-5f), t2), c45);
    MF r = FSUB(FMUL(FADD(FMUL(hi, FMUL(t2, t2)), lo), t), t);
    /* e^r as exp above, shortened for r in [-18, 0] (t in [0, 4]; NaN stays NaN): no clamp,
     * 2^n one normal factor, the polynomial in Estrin's scheme */
    MF k = FADD(FMUL(r, FC(1.44269504088896341f)), FC(12582912.0f));
    MI n = ISUB(F2BITS(k), IC(0x4b400000));
    MF nf = FSUB(k, FC(12582912.0f));
    MF f = FSUB(r, FMUL(nf, FC(0.693359375f)));
    f = FSUB(f, FMUL(nf, FC(-2.12194440e-4f)));
    MF f2 = FMUL(f, f);
    MF q0 = FADD(FMUL(FC(1.6666665459e-1f), f), FC(5.0000001201e-1f));
    MF q1 = FADD(FMUL(FC(8.3334519073e-3f), f), FC(4.1665795894e-2f));
    MF q2 = FADD(FMUL(FC(1.9875691500e-4f), f), FC(1.3981999507e-3f));
    MF q = FADD(FMUL(FADD(FMUL(q2, f2), q1), f2), q0);
    MF e = FMUL(FADD(FADD(FMUL(q, f2), f), FC(1.0f)), BITS2F(ISHL(IADD(n, IC(127)), 23)));
    MF big = MATH_COPYSIGN(FSUB(FC(1.0f), e), x);
    return SELF(FLT(z, FC(0.927734375f)), small, big);
}

/* the includer's definitions end here */
#undef MATH_FABS
#undef MATH_COPYSIGN
#undef MF
#undef MI
#undef MB
#undef MATH_STATIC
#undef MATH_NAME
#undef MATH_CTX
#undef MATH_ARG
#undef FC
#undef IC
#undef FADD
#undef FSUB
#undef FMUL
#undef FDIV
#undef IADD
#undef ISUB
#undef IAND
#undef IOR
#undef ISHL
#undef IASHR
#undef FLT
#undef FGT
#undef FGE
#undef FEQ
#undef SELF
#undef SELI
#undef F2BITS
#undef BITS2F
#undef I2F
