/* ir_math.c - nnc's own f32 exp, log, tanh, sigmoid and erf (compiler/ir/ir_math.h, evaluated by
 * the interpreter and emitted inline by the LLVM backend) against the double-precision libm
 * functions rounded to f32: the largest error in units in the last place over a sweep of every
 * f32 bit pattern with a stride (and every pattern around each function's branch points), which
 * must stay within the bounds stated in docs/backend-llvm.md "Math functions"; and the special
 * values libm gives (inf, NaN, -0, overflow, underflow to subnormals and 0) exactly.
 * Usage: ir_math [STRIDE]   (default 509; 1 sweeps all 2^32 patterns, some minutes)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

#include "expect.h"

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static double sigmoid_ref(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef struct Fn {
    const char *name;
    float (*f)(float);
    double (*ref)(double);
    double max_ulp;           /* the bound docs/backend-llvm.md states */
    float branch[4];          /* inputs where the implementation switches formula */
} Fn;

static const Fn fns[] = {
    {"exp", ir_expf, exp, 1.0, {-87.33655f, 88.72283f, -103.2789f, 0.34657359f}},
    {"log", ir_logf, log, 1.0, {0.70710677f, 1.17549435e-38f, 1.0f, 1.41421354f}},
    {"tanh", ir_tanhf, tanh, 2.0, {0.625f, -0.625f, 9.0f, 1e-3f}},
    {"sigmoid", ir_sigmoidf, sigmoid_ref, 3.0, {0.0f, -16.0f, 16.0f, -87.0f}},
    {"erf", ir_erff, erf, 2.0, {0.927734375f, -0.927734375f, 4.0f, 3.9f}},
};

/* |got - ref| in units of the last place of ref rounded to f32 (subnormal ulp below FLT_MIN);
 * HUGE_VAL when got is NaN or infinite and ref is not (or the reverse). */
static double ulp_error(float got, double ref) {
    if (isnan(ref))
        return isnan(got) ? 0 : HUGE_VAL;
    float r = (float)ref;
    if (isinf(r))
        return got == r ? 0 : HUGE_VAL;   /* beyond FLT_MAX: must be the infinity */
    if (!isfinite(got))
        return HUGE_VAL;
    float a = fabsf(r);
    double ulp = a < 1.17549435e-38f ? ldexp(1, -149) : ldexp(1, ilogbf(a) - 23);
    return fabs((double)got - ref) / ulp;
}

typedef struct Worst {
    double err;
    float at;
} Worst;

static void check(const Fn *fn, float x, Worst *w) {
    double e = ulp_error(fn->f(x), fn->ref((double)x));
    if (e > w->err || (isnan(e))) {
        w->err = e;
        w->at = x;
    }
}

static void same(const char *what, float got, float want) {
    bool ok = isnan(want) ? isnan(got) : to_bits(got) == to_bits(want);
    EXPECT(ok, "%s = %a, want %a", what, got, want);
}

int main(int argc, char **argv) {
    uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 509;
    if (stride < 1)
        stride = 1;
    for (size_t k = 0; k < sizeof fns / sizeof *fns; k++) {
        const Fn *fn = &fns[k];
        Worst w = {0, 0};
        for (uint64_t u = 0; u < (1ull << 32); u += stride)
            check(fn, from_bits((uint32_t)u), &w);
        /* every pattern within 2^16 of each branch point, both signs of its neighbourhood */
        for (int b = 0; b < 4; b++)
            for (int32_t d = -65536; d <= 65536; d++)
                check(fn, from_bits((uint32_t)((int64_t)to_bits(fn->branch[b]) + d)), &w);
        printf("%-8s max error %.3f ulp at %a (%.9g), bound %.1f\n", fn->name, w.err, w.at, w.at,
               fn->max_ulp);
        EXPECT(w.err <= fn->max_ulp, "%s: %.3f ulp at %a, more than the stated %.1f", fn->name, w.err,
               w.at, fn->max_ulp);
    }

    /* special values, as libm gives them */
    float inf = INFINITY, nan = NAN, tiny = 1.4e-45f;
    same("exp(inf)", ir_expf(inf), inf);
    same("exp(-inf)", ir_expf(-inf), 0);
    same("exp(nan)", ir_expf(nan), nan);
    same("exp(-0)", ir_expf(-0.0f), 1);
    same("exp(89)", ir_expf(89.0f), inf);
    same("exp(1000)", ir_expf(1000.0f), inf);
    same("exp(-1000)", ir_expf(-1000.0f), 0);
    same("exp(88.72283)", ir_expf(88.72283f), expf(88.72283f));   /* just below FLT_MAX */
    same("exp(-103.9)", ir_expf(-103.9f), expf(-103.9f));          /* the smallest subnormal */
    EXPECT(ir_expf(-100.0f) > 0 && ir_expf(-100.0f) < 1.17549435e-38f, "exp(-100) is not subnormal");
    same("log(0)", ir_logf(0.0f), -inf);
    same("log(-0)", ir_logf(-0.0f), -inf);
    same("log(-1)", ir_logf(-1.0f), nan);
    same("log(-inf)", ir_logf(-inf), nan);
    same("log(inf)", ir_logf(inf), inf);
    same("log(nan)", ir_logf(nan), nan);
    same("log(1)", ir_logf(1.0f), 0);
    same("log(tiny)", ir_logf(tiny), logf(tiny));   /* the smallest subnormal */
    same("log(FLT_MAX)", ir_logf(3.40282347e38f), logf(3.40282347e38f));
    same("tanh(inf)", ir_tanhf(inf), 1);
    same("tanh(-inf)", ir_tanhf(-inf), -1);
    same("tanh(-0)", ir_tanhf(-0.0f), -0.0f);
    same("tanh(0)", ir_tanhf(0.0f), 0.0f);
    same("tanh(nan)", ir_tanhf(nan), nan);
    same("tanh(100)", ir_tanhf(100.0f), 1);
    same("tanh(tiny)", ir_tanhf(tiny), tiny);
    same("tanh(-tiny)", ir_tanhf(-tiny), -tiny);
    same("sigmoid(inf)", ir_sigmoidf(inf), 1);
    same("sigmoid(-inf)", ir_sigmoidf(-inf), 0);
    same("sigmoid(nan)", ir_sigmoidf(nan), nan);
    same("sigmoid(0)", ir_sigmoidf(0.0f), 0.5f);
    same("sigmoid(-200)", ir_sigmoidf(-200.0f), 0);
    same("erf(inf)", ir_erff(inf), 1);
    same("erf(-inf)", ir_erff(-inf), -1);
    same("erf(-0)", ir_erff(-0.0f), -0.0f);
    same("erf(nan)", ir_erff(nan), nan);
    same("erf(10)", ir_erff(10.0f), 1);
    same("erf(-10)", ir_erff(-10.0f), -1);
    /* the ops evaluate through them (interpreter, constant folding) */
    same("ir_eval_f32(OP_TANH, 0.3)", ir_eval_f32(OP_TANH, 0.3f, 0), ir_tanhf(0.3f));
    same("ir_eval_f32(OP_EXP, 2)", ir_eval_f32(OP_EXP, 2.0f, 0), ir_expf(2.0f));
    same("ir_eval_f32(OP_LOG, 3)", ir_eval_f32(OP_LOG, 3.0f, 0), ir_logf(3.0f));
    same("ir_eval_f32(OP_SIGMOID, -2)", ir_eval_f32(OP_SIGMOID, -2.0f, 0), ir_sigmoidf(-2.0f));
    same("ir_eval_f32(OP_ERF, 0.7)", ir_eval_f32(OP_ERF, 0.7f, 0), ir_erff(0.7f));
    if (bad)
        fprintf(stderr, "ir_math: %d failures\n", bad);
    return bad != 0;
}
