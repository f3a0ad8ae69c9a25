/* ir_eval.c - the semantics of every op: what each computes, element by element and over whole
 * dense row-major buffers. It is the definition the reference interpreter
 * (compiler/backend/interp/interp.c) runs and constant folding (compiler/passes/simplify.c)
 * evaluates with, so a folded constant is exactly what the graph would have computed and no pass
 * depends on a backend. The code generators render the same rules (docs/ir.md, "Ops").
 *
 * It favours the obvious over the fast: elementwise math is done in f32 exactly as generated code
 * does it; sums, matmuls and scatter-adds accumulate in double and round once (the better oracle:
 * compiled f32 accumulation is within rounding of it). Temporaries are malloc'd and freed here.
 */
#include "ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void *xcalloc(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("ir_eval: calloc of %zu x %zu bytes for %s failed", n, size, what);
    return p;
}

/* Dims of a type at batch size B. */
static void dims_of(const IrType *t, int64_t B, int64_t *d) {
    for (int k = 0; k < t->rank; k++) {
        d[k] = ir_dim_eval(t->dim[k], B);
        if (d[k] < 0)
            die("ir_eval: negative dim %lld at B = %lld", (long long)d[k], (long long)B);
    }
}

/* Row-major strides (in elements) of dims d. */
static void strides_of(const int64_t *d, int rank, int64_t *s) {
    int64_t acc = 1;
    for (int k = rank - 1; k >= 0; k--) {
        s[k] = acc;
        acc *= d[k];
    }
}

/* Copy the rank-dimensional index space dims element by element from src (strides ss, offset so)
 * to dst (strides ds, offset do_), el bytes each. The one loop behind broadcast, transpose, slice,
 * unslice and concat. */
static void strided_copy(char *dst, const int64_t *ds, int64_t do_, const char *src,
                         const int64_t *ss, int64_t so, int rank, const int64_t *dims, size_t el) {
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    if (n == 0)
        return;
    int64_t idx[IR_MAXRANK + 1] = {0};
    int64_t di = do_, si = so;
    for (int64_t e = 0; e < n; e++) {
        memcpy(dst + (size_t)di * el, src + (size_t)si * el, el);
        for (int k = rank - 1; k >= 0; k--) {
            idx[k]++;
            di += ds[k];
            si += ss[k];
            if (idx[k] < dims[k])
                break;
            di -= ds[k] * dims[k];
            si -= ss[k] * dims[k];
            idx[k] = 0;
        }
    }
}

double ir_value_at(const void *p, DType d, int64_t i) {
    switch (d) {
    case DT_F32:
        return ((const float *)p)[i];
    case DT_I32:
        return ((const int32_t *)p)[i];
    case DT_BOOL:
        return ((const uint8_t *)p)[i] != 0;
    }
    return 0;
}

/* f32 rounds, i32 truncates toward zero and saturates (NaN -> 0), bool is v != 0. */
void ir_store(void *p, DType d, int64_t i, double v) {
    switch (d) {
    case DT_F32:
        ((float *)p)[i] = (float)v;
        break;
    case DT_I32:
        ((int32_t *)p)[i] = isnan(v)             ? 0
                            : v >= 2147483647.0  ? INT32_MAX
                            : v <= -2147483648.0 ? INT32_MIN
                                                 : (int32_t)v;
        break;
    case DT_BOOL:
        ((uint8_t *)p)[i] = v != 0;
        break;
    }
}

/* exp, log, tanh, sigmoid and erf: ir_math.h, instantiated on C floats (the LLVM backend
 * instantiates the same text on LLVM IR). Each step is a function, so no compiler contracts a
 * multiply and an add into an FMA (clang's -ffp-contract=on does within one expression). */
static inline float m_fadd(float a, float b) { return a + b; }
static inline float m_fsub(float a, float b) { return a - b; }
static inline float m_fmul(float a, float b) { return a * b; }
static inline float m_fdiv(float a, float b) { return a / b; }
static inline int32_t m_iadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t m_isub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t m_ishl(int32_t a, int n) { return (int32_t)((uint32_t)a << n); }
static inline int32_t m_iashr(int32_t a, int n) {
    return a < 0 ? (int32_t)~(~(uint32_t)a >> n) : (int32_t)((uint32_t)a >> n);
}
static inline int32_t m_f2bits(float a) {
    int32_t i;
    memcpy(&i, &a, sizeof i);
    return i;
}
static inline float m_bits2f(int32_t i) {
    float a;
    memcpy(&a, &i, sizeof a);
    return a;
}
#define MF float
#define MI int32_t
#define MB bool
#define MATH_STATIC
#define MATH_NAME(n) ir_##n##f
#define MATH_CTX
#define MATH_ARG
#define FC(c) (c)
#define IC(c) ((int32_t)(c))
#define FADD m_fadd
#define FSUB m_fsub
#define FMUL m_fmul
#define FDIV m_fdiv
#define IADD m_iadd
#define ISUB m_isub
#define IAND(a, b) ((a) & (b))
#define IOR(a, b) ((a) | (b))
#define ISHL m_ishl
#define IASHR m_iashr
#define FLT(a, b) ((a) < (b))
#define FGT(a, b) ((a) > (b))
#define FGE(a, b) ((a) >= (b))
#define FEQ(a, b) ((a) == (b))
#define SELF(m, a, b) ((m) ? (a) : (b))
#define SELI(m, a, b) ((m) ? (a) : (b))
#define F2BITS m_f2bits
#define BITS2F m_bits2f
#define I2F(a) ((float)(a))
#include "ir_math.h"

static float signf(float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : x; }

/* MAX/MIN propagate NaN from either side (as torch.maximum does); ties pick the first operand. */
float ir_eval_f32(Op op, float x, float y) {
    switch (op) {
    case OP_NEG:
        return -x;
    case OP_EXP:
        return ir_expf(x);
    case OP_LOG:
        return ir_logf(x);
    case OP_SQRT:
        return sqrtf(x);
    case OP_TANH:
        return ir_tanhf(x);
    case OP_SIGMOID:
        return ir_sigmoidf(x);
    case OP_ATAN:
        return atanf(x);
    case OP_ABS:
        return fabsf(x);
    case OP_SIGN:
        return signf(x);
    case OP_SIN:
        return sinf(x);
    case OP_COS:
        return cosf(x);
    case OP_FLOOR:
        return floorf(x);
    case OP_CEIL:
        return ceilf(x);
    case OP_ROUND: /* half to even, as torch.round: the default rounding mode's nearest */
        return nearbyintf(x);
    case OP_ERF:
        return ir_erff(x);
    case OP_ASIN:
        return asinf(x);
    case OP_ACOS:
        return acosf(x);
    case OP_STOP_GRAD:
        return x;

    case OP_ADD:
        return x + y;
    case OP_SUB:
        return x - y;
    case OP_MUL:
        return x * y;
    case OP_DIV:
        return x / y;
    case OP_POW:
        return powf(x, y);
    case OP_MOD: { /* floor mod, as torch.remainder: fmod moved to the divisor's sign; a zero
                    * result keeps fmod's sign (the dividend's); x mod 0 is NaN */
        float m = fmodf(x, y);
        return m != 0 && (m < 0) != (y < 0) ? m + y : m;
    }
    case OP_MAX:
        return (x >= y || isnan(x)) ? x : y;
    case OP_MIN:
        return (x <= y || isnan(x)) ? x : y;
    default:
        die("ir_eval_f32: %s is not an elementwise f32 op", ir_op_name[op]);
    }
}

/* i32 arithmetic wraps (two's complement); x / 0 is 0 and truncates toward zero otherwise. */
int32_t ir_eval_i32(Op op, int32_t x, int32_t y) {
    switch (op) {
    case OP_NEG:
        return (int32_t)(0u - (uint32_t)x);
    case OP_ABS:
        return x < 0 ? (int32_t)(0u - (uint32_t)x) : x;
    case OP_SIGN:
        return (x > 0) - (x < 0);
    case OP_FLOOR:
    case OP_CEIL:
    case OP_ROUND:
        return x;
    case OP_STOP_GRAD:
        return x;

    case OP_ADD:
        return (int32_t)((uint32_t)x + (uint32_t)y);
    case OP_SUB:
        return (int32_t)((uint32_t)x - (uint32_t)y);
    case OP_MUL:
        return (int32_t)((uint32_t)x * (uint32_t)y);
    case OP_DIV:
        return y == 0 ? 0 : (x == INT32_MIN && y == -1) ? INT32_MIN : x / y;
    case OP_MOD: { /* floor mod (the divisor's sign, as torch.remainder); x mod 0 is 0 (NumPy's
                    * value; torch traps), never a trap; x mod -1 is 0 (INT32_MIN too) */
        if (y == 0 || y == -1)
            return 0;
        int32_t m = x % y;
        return m != 0 && (m < 0) != (y < 0) ? m + y : m;
    }
    case OP_MAX:
        return x >= y ? x : y;
    case OP_MIN:
        return x <= y ? x : y;
    default:
        die("ir_eval_i32: %s is not an elementwise i32 op", ir_op_name[op]);
    }
}

bool ir_eval_bool(Op op, double x, double y) {
    switch (op) {
    case OP_LT:
        return x < y;
    case OP_LE:
        return x <= y;
    case OP_GT:
        return x > y;
    case OP_GE:
        return x >= y;
    case OP_EQ:
        return x == y;
    case OP_NE:
        return x != y;
    case OP_AND:
        return x != 0 && y != 0;
    case OP_OR:
        return x != 0 || y != 0;
    default:
        die("ir_eval_bool: %s is not a comparison", ir_op_name[op]);
    }
}

/* MAXPOOL, AVGPOOL and their adjoints as direct loops: the definition the backends follow. px
 * is x's type (the result's for AVGPOOL_BWD); dy the adjoint (the bwd ops). Each window is clipped
 * to the real elements, scanned row by row: max keeps the first maximum (a NaN wins, the last
 * one), as torch's max_pool2d; avg sums in f32 in that order and divides by the count of real
 * elements (count_include_pad = False; TensorFlow's 'same'). Adjoints accumulate into out (zeroed)
 * window after window, in result order. */
static void pool_eval(Op op, const IrAttr *at, const IrType *px, int64_t B, const float *x,
                      const float *dy, float *out) {
    IrPool p = ir_pool_geom(at, px, B);
    for (int64_t n = 0; n < p.n; n++)
        for (int64_t oh = 0; oh < p.oh; oh++)
            for (int64_t ow = 0; ow < p.ow; ow++) {
                int64_t h0 = oh * p.s[0] - p.lo[0], w0 = ow * p.s[1] - p.lo[1];
                int64_t hs = h0 > 0 ? h0 : 0, he = h0 + p.k[0] < p.h ? h0 + p.k[0] : p.h;
                int64_t ws = w0 > 0 ? w0 : 0, we = w0 + p.k[1] < p.w ? w0 + p.k[1] : p.w;
                float cnt = (float)((he - hs) * (we - ws));
                int64_t o = ((n * p.oh + oh) * p.ow + ow) * p.c;
                for (int64_t c = 0; c < p.c; c++) {
                    float m = -INFINITY, sum = 0.0f;
                    int64_t arg = ((n * p.h + hs) * p.w + ws) * p.c + c;
                    for (int64_t h = hs; h < he; h++)
                        for (int64_t w = ws; w < we; w++) {
                            int64_t e = ((n * p.h + h) * p.w + w) * p.c + c;
                            if (op == OP_AVGPOOL_BWD) {
                                out[e] += dy[o + c] / cnt;
                                continue;
                            }
                            float v = x[e];
                            sum += v;
                            if (v > m || isnan(v)) {
                                m = v;
                                arg = e;
                            }
                        }
                    if (op == OP_MAXPOOL)
                        out[o + c] = m;
                    else if (op == OP_AVGPOOL)
                        out[o + c] = sum / cnt;
                    else if (op == OP_MAXPOOL_BWD)
                        out[arg] += dy[o + c];
                }
            }
}

/* The three convolution ops as one walk over every (image, output place, kernel tap, group,
 * input channel, output channel) whose input place lies inside the (unpadded) input, each
 * accumulating one product in double: forward y += x w, backward-data dx += dy w, backward-filter
 * dw += x dy. a, b: the op's operands; out: the node's buffer (numel elements). */
static void conv_eval(Op op, const IrConv *c, int64_t B, const float *a, const float *b, int64_t numel,
                      void *out) {
    int64_t N = ir_dim_eval(c->N, B), Cg = c->C / c->G, Fg = c->F / c->G;
    double *acc = xcalloc((size_t)numel, sizeof(double), "conv");
    for (int64_t n = 0; n < N; n++)
        for (int64_t oh = 0; oh < c->OH; oh++)
            for (int64_t ow = 0; ow < c->OW; ow++)
                for (int64_t kh = 0; kh < c->KH; kh++)
                    for (int64_t kw = 0; kw < c->KW; kw++) {
                        int64_t ih = oh * c->sh + kh * c->dh - c->ph, iw = ow * c->sw + kw * c->dw - c->pw;
                        if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W)
                            continue;
                        int64_t xo = ((n * c->H + ih) * c->W + iw) * c->C;      /* x[n, ih, iw, :] */
                        int64_t yo = ((n * c->OH + oh) * c->OW + ow) * c->F;    /* y[n, oh, ow, :] */
                        int64_t wo = (kh * c->KW + kw) * Cg * c->F;             /* w[kh, kw, :, :] */
                        for (int64_t gr = 0; gr < c->G; gr++)
                            for (int64_t ci = 0; ci < Cg; ci++)
                                for (int64_t fi = 0; fi < Fg; fi++) {
                                    int64_t xi = xo + gr * Cg + ci, yi = yo + gr * Fg + fi;
                                    int64_t wi = wo + ci * c->F + gr * Fg + fi;
                                    if (op == OP_CONV)
                                        acc[yi] += (double)a[xi] * b[wi];
                                    else if (op == OP_CONV_BWD_DATA)
                                        acc[xi] += (double)a[yi] * b[wi];
                                    else
                                        acc[wi] += (double)a[xi] * b[yi];
                                }
                    }
    for (int64_t e = 0; e < numel; e++)
        ((float *)out)[e] = (float)acc[e];
    free(acc);
}

void ir_eval_node(const IrNode *n, const IrType *st, const void *const *sv, int64_t B, void *out) {
    const IrType *t = &n->type;
    int64_t N = ir_numel(t, B);
    int64_t d[IR_MAXRANK];
    dims_of(t, B, d);
    const void *x = n->nsrc > 0 ? sv[0] : NULL;
    const void *y = n->nsrc > 1 ? sv[1] : NULL;
    const IrType *tx = n->nsrc > 0 ? &st[0] : NULL;
    const IrType *tyy = n->nsrc > 1 ? &st[1] : NULL;
    const IrAttr *at = &n->attr;
    Op op = (Op)n->op;

    switch (op) {
    case OP_INPUT:
    case OP_PARAM:
    case OP_STATE:
    case OP_HYPER:
    case OP_RAND:
        die("ir_eval_node: %s reads the call's buffers or arguments: its caller evaluates it",
            ir_op_name[op]);
    case OP_CONST:
        for (int64_t e = 0; e < N; e++)
            ir_store(out, t->dtype, e, at->data ? at->data[e] : at->f);
        return;

    case OP_CAST:
        for (int64_t e = 0; e < N; e++)
            ir_store(out, t->dtype, e, ir_value_at(x, tx->dtype, e));
        return;
    case OP_NOT:
        for (int64_t e = 0; e < N; e++)
            ((uint8_t *)out)[e] = !((const uint8_t *)x)[e];
        return;
    /* the other elementwise ops: ir_eval_f32 / ir_eval_i32 per element ("default" below) */
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
    case OP_EQ:
    case OP_NE:
    case OP_AND:
    case OP_OR:
        for (int64_t e = 0; e < N; e++)
            ((uint8_t *)out)[e] =
                ir_eval_bool(op, ir_value_at(x, tx->dtype, e), ir_value_at(y, tx->dtype, e));
        return;
    case OP_SELECT: {
        const uint8_t *c = x;
        const char *p = y, *q = sv[2];
        size_t el = (size_t)ir_dtype_size(t->dtype);
        for (int64_t e = 0; e < N; e++)
            memcpy((char *)out + e * el, (c[e] ? p : q) + e * el, el);
        return;
    }

    case OP_BROADCAST: {
        int64_t xd[IR_MAXRANK], xs[IR_MAXRANK], os[IR_MAXRANK], ss[IR_MAXRANK] = {0};
        dims_of(tx, B, xd);
        strides_of(xd, tx->rank, xs);
        strides_of(d, t->rank, os);
        int off = t->rank - tx->rank;
        for (int k = 0; k < tx->rank; k++)
            ss[k + off] = xd[k] == 1 && d[k + off] != 1 ? 0 : xs[k];
        strided_copy(out, os, 0, x, ss, 0, t->rank, d, (size_t)ir_dtype_size(t->dtype));
        return;
    }
    case OP_RESHAPE:
    case OP_ALLREDUCE:      /* the mean over a world of one process; interp.c reduces across ranks */
        memcpy(out, x, (size_t)N * (size_t)ir_dtype_size(t->dtype));
        return;
    case OP_TRANSPOSE: {
        int64_t xd[IR_MAXRANK], xs[IR_MAXRANK], os[IR_MAXRANK], ss[IR_MAXRANK];
        dims_of(tx, B, xd);
        strides_of(xd, tx->rank, xs);
        strides_of(d, t->rank, os);
        for (int k = 0; k < t->rank; k++)
            ss[k] = xs[at->i[k]];
        strided_copy(out, os, 0, x, ss, 0, t->rank, d, (size_t)ir_dtype_size(t->dtype));
        return;
    }
    case OP_SLICE:
    case OP_UNSLICE: {
        /* the sliced view of the full tensor: same strides, the axis stepping by step */
        const IrType *full = op == OP_SLICE ? tx : t;
        const IrType *part = op == OP_SLICE ? t : tx;
        int64_t fd[IR_MAXRANK], fs[IR_MAXRANK], pd[IR_MAXRANK], ps[IR_MAXRANK], vs[IR_MAXRANK];
        dims_of(full, B, fd);
        dims_of(part, B, pd);
        strides_of(fd, full->rank, fs);
        strides_of(pd, part->rank, ps);
        int ax = (int)at->i[0];
        memcpy(vs, fs, sizeof vs);
        vs[ax] = fs[ax] * at->i[3];
        int64_t off = ir_dim_eval(ir_slice_start(at), B) * fs[ax];
        if (op == OP_SLICE)
            strided_copy(out, ps, 0, x, vs, off, t->rank, pd, (size_t)ir_dtype_size(t->dtype));
        else
            strided_copy(out, vs, off, x, ps, 0, t->rank, pd, (size_t)ir_dtype_size(t->dtype));
        return;
    }
    case OP_CONCAT: {
        int ax = (int)at->i[0];
        int64_t os[IR_MAXRANK], xd[IR_MAXRANK], xs[IR_MAXRANK], yd[IR_MAXRANK], ys[IR_MAXRANK];
        strides_of(d, t->rank, os);
        dims_of(tx, B, xd);
        dims_of(tyy, B, yd);
        strides_of(xd, tx->rank, xs);
        strides_of(yd, tyy->rank, ys);
        strided_copy(out, os, 0, x, xs, 0, t->rank, xd, (size_t)ir_dtype_size(t->dtype));
        strided_copy(out, os, xd[ax] * os[ax], y, ys, 0, t->rank, yd, (size_t)ir_dtype_size(t->dtype));
        return;
    }

    case OP_SUM:
    case OP_RMAX: {
        int64_t xd[IR_MAXRANK], os[IR_MAXRANK], ss[IR_MAXRANK];
        dims_of(tx, B, xd);
        strides_of(d, t->rank, os);
        for (int k = 0; k < t->rank; k++)
            ss[k] = at->i[0] >> k & 1 ? 0 : os[k];
        int64_t M = ir_numel(tx, B);
        double *acc = xcalloc((size_t)N, sizeof(double), "reduction");
        if (op == OP_RMAX)
            for (int64_t e = 0; e < N; e++)
                acc[e] = -INFINITY;
        int64_t idx[IR_MAXRANK] = {0}, o = 0;
        for (int64_t e = 0; e < M; e++) {
            double v = ir_value_at(x, tx->dtype, e);
            if (op == OP_SUM)
                acc[o] += v;
            else if (!(acc[o] >= v) && !isnan(acc[o]))
                acc[o] = v; /* NaN wins, as torch.amax */
            for (int k = tx->rank - 1; k >= 0; k--) {
                idx[k]++;
                o += ss[k];
                if (idx[k] < xd[k])
                    break;
                o -= ss[k] * xd[k];
                idx[k] = 0;
            }
        }
        for (int64_t e = 0; e < N; e++) {
            if (t->dtype == DT_I32 && op == OP_SUM) /* wraps like i32 adds */
                ((int32_t *)out)[e] = (int32_t)(uint32_t)(uint64_t)(int64_t)acc[e];
            else
                ir_store(out, t->dtype, e, acc[e]);
        }
        free(acc);
        return;
    }

    case OP_MATMUL: {
        int64_t ad0[3], bd0[3], *ad = ad0, *bd = bd0, *od = d, P = 1;
        dims_of(tx, B, ad);
        dims_of(tyy, B, bd);
        if (t->rank == 3) { /* batched: one product per leading index */
            P = ad[0], ad++, bd++, od++;
        }
        bool ta = at->i[0], tb = at->i[1];
        int64_t M = od[0], Nn = od[1], K = ta ? ad[0] : ad[1];
        /* element (i, k) of op(A) and (k, j) of op(B) */
        int64_t as_i = ta ? 1 : ad[1], as_k = ta ? ad[1] : 1;
        int64_t bs_k = tb ? 1 : bd[1], bs_j = tb ? bd[1] : 1;
        double *row = xcalloc((size_t)Nn, sizeof(double), "matmul row");
        for (int64_t p = 0; p < P; p++) {
            const float *A = (const float *)x + p * M * K, *Bm = (const float *)y + p * K * Nn;
            float *C = (float *)out + p * M * Nn;
            for (int64_t i0 = 0; i0 < M; i0++) {
                memset(row, 0, sizeof(double) * (size_t)Nn);
                for (int64_t k = 0; k < K; k++) {
                    double av = A[i0 * as_i + k * as_k];
                    for (int64_t j = 0; j < Nn; j++)
                        row[j] += av * Bm[k * bs_k + j * bs_j];
                }
                for (int64_t j = 0; j < Nn; j++)
                    C[i0 * Nn + j] = (float)row[j];
            }
        }
        free(row);
        return;
    }
    case OP_SOFTMAX:
    case OP_SOFTMAX_BWD: {
        /* per row, the float operations of the primitives fuse expands it into (ir_expand):
         * SOFTMAX: z = f*x (masked: -inf), m = rmax z, e = exp(z - m), y = e / sum e;
         * SOFTMAX_BWD: s = sum(dy*y), dx = f*(y*(dy - s)); sums in double, rounded once */
        int64_t S = d[t->rank - 1], T = t->rank >= 2 ? d[t->rank - 2] : 1, R = S ? N / S : 0;
        float f = (float)at->f;
        const float *xf = x, *yf = y;
        float *o = out;
        for (int64_t r = 0; r < R; r++) {
            const float *xr = xf + r * S;
            float *orow = o + r * S;
            if (op == OP_SOFTMAX_BWD) {
                const float *dy = yf + r * S;
                double acc = 0;
                for (int64_t j = 0; j < S; j++)
                    acc += ir_eval_f32(OP_MUL, dy[j], xr[j]);
                float sm = (float)acc;
                for (int64_t j = 0; j < S; j++) {
                    float v = ir_eval_f32(OP_MUL, xr[j], ir_eval_f32(OP_SUB, dy[j], sm));
                    orow[j] = f == 1.0f ? v : ir_eval_f32(OP_MUL, v, f);
                }
                continue;
            }
            int64_t lim = at->i[0] ? r % T : S - 1; /* the last column kept */
            for (int64_t j = 0; j < S; j++)
                orow[j] = j > lim ? -INFINITY : f == 1.0f ? xr[j] : ir_eval_f32(OP_MUL, xr[j], f);
            double m = -INFINITY;
            for (int64_t j = 0; j < S; j++)
                if (!(m >= orow[j]) && !isnan(m))
                    m = orow[j];
            double acc = 0;
            for (int64_t j = 0; j < S; j++)
                acc += ir_eval_f32(OP_EXP, ir_eval_f32(OP_SUB, orow[j], (float)m), 0);
            float sm = (float)acc;
            for (int64_t j = 0; j < S; j++)
                orow[j] = ir_eval_f32(OP_DIV, ir_eval_f32(OP_EXP, ir_eval_f32(OP_SUB, orow[j], (float)m), 0), sm);
        }
        return;
    }
    case OP_CONV:
    case OP_CONV_BWD_DATA:
    case OP_CONV_BWD_FILTER: {
        IrConv c;
        const char *why = ir_conv_node_geom(op, tx, tyy, t, at, &c);
        if (why)
            die("ir_eval_node: %s: %s", ir_op_name[op], why);
        conv_eval(op, &c, B, x, y, N, out);
        return;
    }
    case OP_ONE_HOT: {
        int64_t C = at->i[0], S = ir_numel(tx, B);
        for (int64_t s = 0; s < S; s++) {
            int32_t l = ((const int32_t *)x)[s];
            if (l >= 0 && l < C)
                ((float *)out)[s * C + l] = 1.0f;
        }
        return;
    }
    case OP_GATHER: {
        int64_t td[2];
        dims_of(tx, B, td);
        int64_t V = td[0], D = td[1], S = ir_numel(tyy, B);
        for (int64_t s = 0; s < S; s++) {
            int32_t r = ((const int32_t *)y)[s];
            if (r >= 0 && r < V) /* out of range: a zero row */
                memcpy((float *)out + s * D, (const float *)x + r * D, sizeof(float) * (size_t)D);
        }
        return;
    }
    case OP_SCATTER_ADD: {
        int64_t V = d[0], D = d[1], S = ir_numel(tyy, B);
        double *acc = xcalloc((size_t)N, sizeof(double), "scatter_add");
        for (int64_t s = 0; s < S; s++) {
            int32_t r = ((const int32_t *)y)[s];
            if (r >= 0 && r < V)
                for (int64_t k = 0; k < D; k++)
                    acc[r * D + k] += ((const float *)x)[s * D + k];
        }
        for (int64_t e = 0; e < N; e++)
            ((float *)out)[e] = (float)acc[e];
        free(acc);
        return;
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        pool_eval(op, at, tx, B, x, NULL, out);
        return;
    case OP_MAXPOOL_BWD:
        pool_eval(op, at, tx, B, x, y, out);
        return;
    case OP_AVGPOOL_BWD:
        pool_eval(op, at, t, B, NULL, x, out);
        return;
    case OP__COUNT:
        break;
    default:
        if (!(ir_op_flags[op] & F_ELEM) || n->nsrc > 2)
            break;
        if (t->dtype == DT_F32) {
            for (int64_t e = 0; e < N; e++)
                ((float *)out)[e] = ir_eval_f32(op, ((const float *)x)[e], y ? ((const float *)y)[e] : 0);
        } else if (t->dtype == DT_I32) {
            for (int64_t e = 0; e < N; e++)
                ((int32_t *)out)[e] = ir_eval_i32(op, ((const int32_t *)x)[e], y ? ((const int32_t *)y)[e] : 0);
        } else if (op == OP_STOP_GRAD) {
            memcpy(out, x, (size_t)N); /* stop_grad of a bool */
        } else {
            break;
        }
        return;
    }
    die("ir_eval_node: op %d has no evaluation", (int)op);
}

