/* ir_ops.c - every primitive's forward through the interpreter, printed for PyTorch to check.
 *
 * For each case it builds a one-op graph (inputs -> op -> output), runs interp_run on
 * deterministic pseudo-random inputs and prints one JSON line {case, op, attr, ins, out};
 * tests/ir/check_ops.py computes the same op with torch on the same inputs and compares
 * (STYLE.md: every op checked against PyTorch). RAND, CONST and HYPER have no torch twin and are
 * checked here directly. The exit status is non-zero if a direct check fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"

typedef enum { IN_F, IN_POS, IN_INT, IN_NZ, IN_LABEL, IN_BOOL, IN_TIE, IN_HALF, IN_UNIT, IN_WIDE } InKind;

typedef struct In {
    InKind kind;
    IrType t;
} In;

static uint64_t rng = 12345;
static double unif(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static IrType T(DType d, int rank, int d0, int d1, int d2) {
    IrType t = {.dtype = d, .rank = rank};
    int v[3] = {d0, d1, d2};
    for (int k = 0; k < rank; k++)
        t.dim[k] = (Dim){0, v[k]};
    return t;
}

static int64_t label_max = 4;

static void fill(void *p, const In *in, int64_t n) {
    for (int64_t e = 0; e < n; e++) {
        double u = unif();
        switch (in->kind) {
        case IN_F:
            ((float *)p)[e] = (float)(4 * u - 2);
            break;
        case IN_POS:
            ((float *)p)[e] = (float)(0.1 + 2.9 * u);
            break;
        case IN_TIE:
            ((float *)p)[e] = (float)floor(5 * u - 2);
            break;
        case IN_HALF: /* halves and integers in [-3, 3]: round's ties, floor's and ceil's steps */
            ((float *)p)[e] = (float)(floor(13 * u - 6) / 2);
            break;
        case IN_UNIT: /* asin, acos: [-1, 1] with both ends */
            ((float *)p)[e] = e == 0 ? -1.0f : e == 1 ? 1.0f : (float)(2 * u - 1);
            break;
        case IN_WIDE: /* [-20, 20) */
            ((float *)p)[e] = (float)(40 * u - 20);
            break;
        case IN_INT:
            ((int32_t *)p)[e] = (int32_t)floor(11 * u - 5);
            break;
        case IN_NZ:
            ((int32_t *)p)[e] = (u < 0.5 ? -1 : 1) * (int32_t)(1 + floor(5 * u));
            break;
        case IN_LABEL:
            ((int32_t *)p)[e] = (int32_t)floor(label_max * u);
            break;
        case IN_BOOL:
            ((uint8_t *)p)[e] = u < 0.5;
            break;
        }
    }
}

static void print_tensor(const IrType *t, const void *p) {
    printf("{\"dtype\":\"%s\",\"shape\":[", ir_dtype_name(t->dtype));
    for (int k = 0; k < t->rank; k++)
        printf("%s%lld", k ? "," : "", (long long)t->dim[k].c);
    printf("],\"data\":[");
    int64_t n = ir_numel(t, 1);
    for (int64_t e = 0; e < n; e++) {
        if (e)
            putchar(',');
        if (t->dtype == DT_F32) {
            float v = ((const float *)p)[e];
            if (isnan(v))
                printf("NaN");
            else if (isinf(v))
                printf(v > 0 ? "Infinity" : "-Infinity");
            else
                printf("%.9g", (double)v);
        } else if (t->dtype == DT_I32) {
            printf("%d", ((const int32_t *)p)[e]);
        } else {
            printf("%d", ((const uint8_t *)p)[e]);
        }
    }
    printf("]}");
}

static void run_case(const char *name, Op op, int nin, const In *ins, IrAttr at, IrType want) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, name);
    uint32_t src[3];
    void *bufs[4];
    for (int k = 0; k < nin; k++) {
        IrAttr sa = {.i = {k}, .ni = 1, .name = "in"};
        src[k] = ir_add(g, OP_INPUT, ins[k].t, NULL, 0, &sa, (Loc){0});
        bufs[k] = calloc((size_t)ir_numel(&ins[k].t, 1), 4);
        fill(bufs[k], &ins[k], ir_numel(&ins[k].t, 1));
    }
    uint32_t r = ir_op(g, op, src, nin, &at, want);
    ir_result(g, r, RES_OUTPUT, nin);
    if (ir_verify(g, stderr))
        exit(1);
    const IrType *rt = &g->nodes[r].type;
    bufs[nin] = calloc((size_t)ir_numel(rt, 1) + 1, 4);
    NncArgs args = {.B = 1, .bufs = bufs};
    interp_run(g, &args);
    printf("{\"case\":\"%s\",\"op\":\"%s\",\"attr\":[", name, ir_op_name[op]);
    for (int k = 0; k < at.ni; k++)
        printf("%s%lld", k ? "," : "", (long long)at.i[k]);
    printf("],\"f\":%.9g,\"ins\":[", at.f);
    for (int k = 0; k < nin; k++) {
        if (k)
            putchar(',');
        print_tensor(&ins[k].t, bufs[k]);
    }
    printf("],\"out\":");
    print_tensor(rt, bufs[nin]);
    printf("}\n");
    for (int k = 0; k <= nin; k++)
        free(bufs[k]);
    arena_free(&a);
}

#define A(...)                                                                                     \
    ((IrAttr){.i = {__VA_ARGS__}, .ni = sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)})
static const IrAttr NOATTR;

/* Convolution geometries shared by ir_ops and (copied) ir_grad: odd sizes, stride 2, explicit and
 * asymmetric ("same" with stride 2) padding, dilation 2, groups 2, depthwise, 1-D, 1x1. */
static IrType TN(int rank, const int *d) {
    IrType t = {.dtype = DT_F32, .rank = rank};
    for (int k = 0; k < rank; k++)
        t.dim[k] = (Dim){0, d[k]};
    return t;
}
#define T4(a, b, c, d) TN(4, (const int[]){a, b, c, d})
#define T3(a, b, c) TN(3, (const int[]){a, b, c})
typedef struct ConvCase { const char *name; IrType x, w; IrAttr at; } ConvCase;

/* RAND, CONST, HYPER: no torch twin. Returns the number of failures. */
static int direct_checks(void) {
    int bad = 0;
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, "direct");
    IrType t = T(DT_F32, 2, 50, 40, 0);
    IrAttr s0 = {.i = {0}, .ni = 1}, s1 = {.i = {1}, .ni = 1};
    uint32_t r0 = ir_add(g, OP_RAND, t, NULL, 0, &s0, (Loc){0});
    uint32_t r0b = ir_add(g, OP_RAND, t, NULL, 0, &s0, (Loc){0});
    uint32_t r1 = ir_add(g, OP_RAND, t, NULL, 0, &s1, (Loc){0});
    if (r0 == r0b)
        bad += fprintf(stderr, "FAIL: two RAND nodes were merged (F_NOCSE)\n") > 0;
    IrAttr hl = {.i = {HY_LR}, .ni = 1}, hs = {.i = {HY_STEP}, .ni = 1},
           hb = {.i = {HY_BATCH}, .ni = 1};
    IrAttr ht = {.i = {HY_TOTAL_STEPS}, .ni = 1};
    IrType sc = {.dtype = DT_F32};
    uint32_t h[4] = {ir_add(g, OP_HYPER, sc, NULL, 0, &hl, (Loc){0}),
                     ir_add(g, OP_HYPER, sc, NULL, 0, &hs, (Loc){0}),
                     ir_add(g, OP_HYPER, sc, NULL, 0, &ht, (Loc){0}),
                     ir_add(g, OP_HYPER, (IrType){.dtype = DT_I32}, NULL, 0, &hb, (Loc){0})};
    static const float lit[6] = {1, -2, 3.5f, 0, 7, -0.25f};
    IrAttr la = {.i = {6}, .ni = 1, .data = lit};
    uint32_t c = ir_add(g, OP_CONST, T(DT_I32, 2, 2, 3, 0), NULL, 0, &la, (Loc){0});
    uint32_t f = ir_fill(g, T(DT_F32, 1, 4, 0, 0), 0.1);
    NncArgs args = {.B = 9, .lr = 0.5f, .step = 3, .total_steps = 11, .seed = 99};
    void **v = interp_eval(g, &args, true);
    double mean = 0;
    int same01 = 0;
    for (int e = 0; e < 2000; e++) {
        float x = ((float *)v[r0])[e], y = ((float *)v[r0b])[e], z = ((float *)v[r1])[e];
        if (!(x >= 0 && x < 1) || x != nnc_rand_uniform(99, 0, (uint64_t)e) || x != y)
            bad += fprintf(stderr, "FAIL: rand element %d = %g\n", e, x) > 0;
        same01 += x == z;
        mean += x;
    }
    mean /= 2000;
    if (fabs(mean - 0.5) > 0.05 || same01 > 5)
        bad += fprintf(stderr, "FAIL: rand mean %g, %d equal across streams\n", mean, same01) > 0;
    if (((float *)v[h[0]])[0] != 0.5f || ((float *)v[h[1]])[0] != 3 ||
        ((float *)v[h[2]])[0] != 11 || ((int32_t *)v[h[3]])[0] != 9)
        bad += fprintf(stderr, "FAIL: hyper values\n") > 0;
    int32_t want[6] = {1, -2, 3, 0, 7, 0};
    for (int e = 0; e < 6; e++)
        if (((int32_t *)v[c])[e] != want[e])
            bad +=
                fprintf(stderr, "FAIL: i32 literal const [%d] = %d\n", e, ((int32_t *)v[c])[e]) > 0;
    for (int e = 0; e < 4; e++)
        if (((float *)v[f])[e] != 0.1f)
            bad += fprintf(stderr, "FAIL: fill const\n") > 0;
    interp_free(g, v);
    arena_free(&a);
    /* i32 mod where torch traps (SIGFPE): x mod 0 = 0 and INT32_MIN mod -1 = 0 (docs/ir.md) */
    static const int32_t mx[4] = {7, -7, INT32_MIN, INT32_MIN}, my[4] = {0, 0, -1, 0};
    for (int e = 0; e < 4; e++)
        if (ir_eval_i32(OP_MOD, mx[e], my[e]) != 0)
            bad += fprintf(stderr, "FAIL: %d mod %d = %d, not 0\n", mx[e], my[e],
                           ir_eval_i32(OP_MOD, mx[e], my[e])) > 0;
    return bad;
}

int main(void) {
    IrType m34 = T(DT_F32, 2, 3, 4, 0);
    static const Op unary[] = {OP_NEG, OP_EXP, OP_TANH, OP_SIGMOID,  OP_ATAN,
                               OP_ABS, OP_SIN, OP_COS,  OP_STOP_GRAD};
    for (size_t k = 0; k < sizeof unary / sizeof *unary; k++)
        run_case(ir_op_name[unary[k]], unary[k], 1, (In[]){{IN_F, m34}}, NOATTR, m34);
    run_case("log", OP_LOG, 1, (In[]){{IN_POS, m34}}, NOATTR, m34);
    run_case("sqrt", OP_SQRT, 1, (In[]){{IN_POS, m34}}, NOATTR, m34);
    run_case("sign", OP_SIGN, 1, (In[]){{IN_TIE, m34}}, NOATTR, m34);
    static const Op steps[] = {OP_FLOOR, OP_CEIL, OP_ROUND};
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        char nm[32];
        run_case(ir_op_name[steps[k]], steps[k], 1, (In[]){{IN_F, m34}}, NOATTR, m34);
        snprintf(nm, sizeof nm, "%s_half", ir_op_name[steps[k]]);
        run_case(nm, steps[k], 1, (In[]){{IN_HALF, m34}}, NOATTR, m34);
    }
    run_case("erf", OP_ERF, 1, (In[]){{IN_WIDE, T(DT_F32, 1, 8, 0, 0)}}, NOATTR, T(DT_F32, 1, 8, 0, 0));
    run_case("erf_small", OP_ERF, 1, (In[]){{IN_F, m34}}, NOATTR, m34);
    run_case("asin", OP_ASIN, 1, (In[]){{IN_UNIT, m34}}, NOATTR, m34);
    run_case("acos", OP_ACOS, 1, (In[]){{IN_UNIT, m34}}, NOATTR, m34);
    run_case("asin_out", OP_ASIN, 1, (In[]){{IN_F, m34}}, NOATTR, m34); /* NaN outside [-1, 1] */
    run_case("exp_big", OP_EXP, 1, (In[]){{IN_F, T(DT_F32, 1, 7, 0, 0)}}, NOATTR,
             T(DT_F32, 1, 7, 0, 0));
    IrType i34 = T(DT_I32, 2, 3, 4, 0), b34 = T(DT_BOOL, 2, 3, 4, 0);
    run_case("neg_i32", OP_NEG, 1, (In[]){{IN_INT, i34}}, NOATTR, i34);
    run_case("abs_i32", OP_ABS, 1, (In[]){{IN_INT, i34}}, NOATTR, i34);
    run_case("sign_i32", OP_SIGN, 1, (In[]){{IN_INT, i34}}, NOATTR, i34);
    run_case("cast_f32_i32", OP_CAST, 1, (In[]){{IN_F, m34}}, NOATTR, i34);
    run_case("cast_i32_f32", OP_CAST, 1, (In[]){{IN_INT, i34}}, NOATTR, m34);
    run_case("cast_f32_bool", OP_CAST, 1, (In[]){{IN_TIE, m34}}, NOATTR, b34);
    run_case("cast_bool_f32", OP_CAST, 1, (In[]){{IN_BOOL, b34}}, NOATTR, m34);
    run_case("not", OP_NOT, 1, (In[]){{IN_BOOL, b34}}, NOATTR, b34);

    static const Op binary[] = {OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN};
    for (size_t k = 0; k < sizeof binary / sizeof *binary; k++) {
        run_case(ir_op_name[binary[k]], binary[k], 2, (In[]){{IN_F, m34}, {IN_F, m34}}, NOATTR,
                 m34);
        char nm[32];
        snprintf(nm, sizeof nm, "%s_i32", ir_op_name[binary[k]]);
        run_case(nm, binary[k], 2, (In[]){{IN_INT, i34}, {IN_INT, i34}}, NOATTR, i34);
    }
    run_case("div", OP_DIV, 2, (In[]){{IN_F, m34}, {IN_POS, m34}}, NOATTR, m34);
    run_case("div_i32", OP_DIV, 2, (In[]){{IN_INT, i34}, {IN_NZ, i34}}, NOATTR, i34);
    /* floor mod: the divisor's sign; ties: exact multiples (zeros keep the dividend's sign, as
     * torch) and zero divisors (NaN) */
    run_case("mod", OP_MOD, 2, (In[]){{IN_WIDE, m34}, {IN_F, m34}}, NOATTR, m34);
    run_case("mod_ties", OP_MOD, 2, (In[]){{IN_TIE, m34}, {IN_TIE, m34}}, NOATTR, m34);
    run_case("mod_i32", OP_MOD, 2, (In[]){{IN_INT, i34}, {IN_NZ, i34}}, NOATTR, i34);
    run_case("floor_i32", OP_FLOOR, 1, (In[]){{IN_INT, i34}}, NOATTR, i34);
    run_case("round_i32", OP_ROUND, 1, (In[]){{IN_INT, i34}}, NOATTR, i34);
    run_case("pow", OP_POW, 2, (In[]){{IN_POS, m34}, {IN_F, m34}}, NOATTR, m34);
    static const Op cmp[] = {OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE};
    for (size_t k = 0; k < sizeof cmp / sizeof *cmp; k++) {
        run_case(ir_op_name[cmp[k]], cmp[k], 2, (In[]){{IN_TIE, m34}, {IN_TIE, m34}}, NOATTR, b34);
        char nm[32];
        snprintf(nm, sizeof nm, "%s_i32", ir_op_name[cmp[k]]);
        run_case(nm, cmp[k], 2, (In[]){{IN_INT, i34}, {IN_INT, i34}}, NOATTR, b34);
    }
    run_case("and", OP_AND, 2, (In[]){{IN_BOOL, b34}, {IN_BOOL, b34}}, NOATTR, b34);
    run_case("or", OP_OR, 2, (In[]){{IN_BOOL, b34}, {IN_BOOL, b34}}, NOATTR, b34);
    run_case("select", OP_SELECT, 3, (In[]){{IN_BOOL, b34}, {IN_F, m34}, {IN_F, m34}}, NOATTR, m34);

    IrType b234 = T(DT_F32, 3, 2, 3, 4);
    run_case("broadcast", OP_BROADCAST, 1, (In[]){{IN_F, T(DT_F32, 2, 3, 1, 0)}}, NOATTR, b234);
    run_case("broadcast_rank", OP_BROADCAST, 1, (In[]){{IN_F, T(DT_F32, 1, 4, 0, 0)}}, NOATTR,
             b234);
    run_case("broadcast_scalar", OP_BROADCAST, 1, (In[]){{IN_F, T(DT_F32, 0, 0, 0, 0)}}, NOATTR,
             m34);
    run_case("reshape", OP_RESHAPE, 1, (In[]){{IN_F, T(DT_F32, 2, 2, 6, 0)}}, NOATTR, m34);
    /* the mean over the processes of a run of one: the operand (docs/distributed.md) */
    run_case("allreduce", OP_ALLREDUCE, 1, (In[]){{IN_F, m34}}, NOATTR, m34);
    run_case("transpose", OP_TRANSPOSE, 1, (In[]){{IN_F, b234}}, A(2, 0, 1), m34);
    run_case("transpose2", OP_TRANSPOSE, 1, (In[]){{IN_F, m34}}, A(1, 0), m34);
    IrType m54 = T(DT_F32, 2, 5, 4, 0);
    run_case("slice", OP_SLICE, 1, (In[]){{IN_F, m54}}, A(0, 1, 5, 2), m34);
    run_case("slice_axis1", OP_SLICE, 1, (In[]){{IN_F, b234}}, A(2, 1, 3, 1), m34);
    run_case("unslice", OP_UNSLICE, 1, (In[]){{IN_F, T(DT_F32, 2, 2, 4, 0)}}, A(0, 1, 5, 2), m54);
    run_case("concat", OP_CONCAT, 2, (In[]){{IN_F, m34}, {IN_F, T(DT_F32, 2, 3, 2, 0)}}, A(1), m34);
    run_case("concat0", OP_CONCAT, 2, (In[]){{IN_F, m34}, {IN_F, T(DT_F32, 2, 2, 4, 0)}}, A(0),
             m34);
    run_case("sum", OP_SUM, 1, (In[]){{IN_F, b234}}, A(5), m34);
    run_case("sum_all", OP_SUM, 1, (In[]){{IN_F, b234}}, A(7), m34);
    run_case("sum_none", OP_SUM, 1, (In[]){{IN_F, b234}}, A(0), m34);
    run_case("sum_i32", OP_SUM, 1, (In[]){{IN_INT, i34}}, A(2), m34);
    run_case("rmax", OP_RMAX, 1, (In[]){{IN_F, b234}}, A(2), m34);
    run_case("rmax_all", OP_RMAX, 1, (In[]){{IN_F, b234}}, A(7), m34);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char nm[32];
            snprintf(nm, sizeof nm, "matmul_%d%d", ta, tb);
            IrType at = ta ? T(DT_F32, 2, 5, 3, 0) : T(DT_F32, 2, 3, 5, 0);
            IrType bt = tb ? T(DT_F32, 2, 4, 5, 0) : T(DT_F32, 2, 5, 4, 0);
            run_case(nm, OP_MATMUL, 2, (In[]){{IN_F, at}, {IN_F, bt}}, A(ta, tb), m34);
        }
    /* batched: [P, M, K] @ [P, K, N] with the flags on the last two dims */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char nm[32];
            snprintf(nm, sizeof nm, "bmatmul_%d%d", ta, tb);
            IrType at = ta ? T(DT_F32, 3, 2, 5, 3) : T(DT_F32, 3, 2, 3, 5);
            IrType bt = tb ? T(DT_F32, 3, 2, 4, 5) : T(DT_F32, 3, 2, 5, 4);
            run_case(nm, OP_MATMUL, 2, (In[]){{IN_F, at}, {IN_F, bt}}, A(ta, tb), T(DT_F32, 3, 2, 3, 4));
        }
    /* softmax over the last axis of f*x, causal: column j of row i kept for j <= i; its adjoint */
    {
        IrType s3 = T(DT_F32, 3, 2, 4, 5), s1 = T(DT_F32, 1, 7, 0, 0);
        IrAttr plain = A(0), causal = A(1), scaled = A(1);
        scaled.f = 0.37;
        plain.f = causal.f = 1.0;
        run_case("softmax", OP_SOFTMAX, 1, (In[]){{IN_WIDE, s3}}, plain, s3);
        run_case("softmax_1d", OP_SOFTMAX, 1, (In[]){{IN_F, s1}}, plain, s1);
        run_case("softmax_causal", OP_SOFTMAX, 1, (In[]){{IN_F, s3}}, causal, s3);
        run_case("softmax_causal_scaled", OP_SOFTMAX, 1, (In[]){{IN_WIDE, s3}}, scaled, s3);
        IrAttr bs = A(0);
        bs.f = 0.37;
        run_case("softmax_bwd", OP_SOFTMAX_BWD, 2, (In[]){{IN_UNIT, s3}, {IN_F, s3}}, bs, s3);
    }
    /* convolution, channels-last (attrs: stride, dilation, pad_lo, pad_hi per spatial dim); each
     * of the three ops on the same geometries: the result type is what the shape rule gives */
    const ConvCase conv_cases[] = {
        {"conv_valid", T4(2, 5, 7, 3), T4(3, 3, 3, 4), A(1, 1, 1, 1, 0, 0, 0, 0)},
        {"conv_stride2", T4(2, 7, 6, 2), T4(3, 2, 2, 3), A(2, 2, 1, 1, 0, 0, 0, 0)},
        {"conv_same_s2", T4(1, 7, 8, 2), T4(3, 3, 2, 3), A(2, 2, 1, 1, 1, 0, 1, 1)},
        {"conv_pad", T4(2, 4, 5, 2), T4(3, 2, 2, 2), A(1, 1, 1, 1, 2, 1, 1, 0)},
        {"conv_dil2", T4(1, 7, 7, 2), T4(3, 2, 2, 3), A(1, 1, 2, 2, 1, 0, 1, 0)},
        {"conv_groups2", T4(2, 5, 5, 4), T4(3, 3, 2, 6), A(1, 2, 1, 1, 1, 1, 1, 1)},
        {"conv_depthwise", T4(2, 6, 5, 3), T4(3, 3, 1, 6), A(2, 1, 1, 1, 1, 1, 1, 1)},
        {"conv_1x1", T4(2, 3, 4, 5), T4(1, 1, 5, 3), A(1, 1, 1, 1, 0, 0, 0, 0)},
        {"conv1d", T3(2, 9, 3), T3(3, 3, 4), A(2, 1, 1, 1)},
        {"conv1d_dil", T3(2, 8, 2), T3(2, 1, 2), A(1, 3, 2, 1)},
    };
    for (size_t k = 0; k < sizeof conv_cases / sizeof *conv_cases; k++) {
        const ConvCase *c = &conv_cases[k];
        IrType y;
        if (ir_conv_geom(&c->x, &c->w, &c->at, NULL, &y)) {
            fprintf(stderr, "conv case %s: bad geometry\n", c->name);
            return 1;
        }
        char nm[48];
        run_case(c->name, OP_CONV, 2, (In[]){{IN_F, c->x}, {IN_F, c->w}}, c->at, y);
        snprintf(nm, sizeof nm, "%s_bwd_data", c->name);
        run_case(nm, OP_CONV_BWD_DATA, 2, (In[]){{IN_F, y}, {IN_F, c->w}}, c->at, c->x);
        snprintf(nm, sizeof nm, "%s_bwd_filter", c->name);
        run_case(nm, OP_CONV_BWD_FILTER, 2, (In[]){{IN_F, c->x}, {IN_F, y}}, c->at, c->w);
    }
    label_max = 5;
    run_case("one_hot", OP_ONE_HOT, 1, (In[]){{IN_LABEL, T(DT_I32, 1, 6, 0, 0)}}, A(5), m34);
    label_max = 6;
    run_case("gather", OP_GATHER, 2,
             (In[]){{IN_F, T(DT_F32, 2, 6, 3, 0)}, {IN_LABEL, T(DT_I32, 2, 2, 4, 0)}}, NOATTR, m34);
    run_case("scatter_add", OP_SCATTER_ADD, 2,
             (In[]){{IN_F, T(DT_F32, 3, 2, 4, 3)}, {IN_LABEL, T(DT_I32, 2, 2, 4, 0)}}, NOATTR,
             T(DT_F32, 2, 6, 3, 0));
    /* pooling, channels-last: odd sizes (floor), window 3 stride 2 'same' (padding 1 | 1 and
     * 0 | 1, TensorFlow's split), ties (IN_TIE: small integers), 1-D */
    IrType x4 = {.dtype = DT_F32, .rank = 4, .dim = {{0, 2}, {0, 5}, {0, 7}, {0, 3}}};
    IrType xs = {.dtype = DT_F32, .rank = 4, .dim = {{0, 2}, {0, 7}, {0, 6}, {0, 3}}};
    IrType x1 = T(DT_F32, 3, 2, 9, 3);
    IrAttr p22 = A(2, 2, 2, 2, 0, 0, 0, 0), same = A(3, 3, 2, 2, 1, 0, 1, 1), p1 = A(3, 2, 1, 1);
    IrType y4 = {.dtype = DT_F32, .rank = 4, .dim = {{0, 2}, {0, 2}, {0, 3}, {0, 3}}};
    IrType ys = {.dtype = DT_F32, .rank = 4, .dim = {{0, 2}, {0, 4}, {0, 3}, {0, 3}}};
    static const Op pools[] = {OP_MAXPOOL, OP_AVGPOOL};
    for (int k = 0; k < 2; k++) {
        char nm[32];
        run_case(ir_op_name[pools[k]], pools[k], 1, (In[]){{IN_F, x4}}, p22, x4);
        snprintf(nm, sizeof nm, "%s_same", ir_op_name[pools[k]]);
        run_case(nm, pools[k], 1, (In[]){{IN_F, xs}}, same, xs);
        snprintf(nm, sizeof nm, "%s_ties", ir_op_name[pools[k]]);
        run_case(nm, pools[k], 1, (In[]){{IN_TIE, xs}}, same, xs);
        snprintf(nm, sizeof nm, "%s_1d", ir_op_name[pools[k]]);
        run_case(nm, pools[k], 1, (In[]){{IN_F, x1}}, p1, x1);
    }
    run_case("maxpool_bwd", OP_MAXPOOL_BWD, 2, (In[]){{IN_F, x4}, {IN_F, y4}}, p22, x4);
    run_case("maxpool_bwd_ties", OP_MAXPOOL_BWD, 2, (In[]){{IN_TIE, xs}, {IN_F, ys}}, same, xs);
    run_case("maxpool_bwd_1d", OP_MAXPOOL_BWD, 2, (In[]){{IN_TIE, x1}, {IN_F, T(DT_F32, 3, 2, 5, 3)}}, p1, x1);
    run_case("avgpool_bwd", OP_AVGPOOL_BWD, 1, (In[]){{IN_F, y4}}, p22, x4);
    run_case("avgpool_bwd_same", OP_AVGPOOL_BWD, 1, (In[]){{IN_F, ys}}, same, xs);
    run_case("avgpool_bwd_1d", OP_AVGPOOL_BWD, 1, (In[]){{IN_F, T(DT_F32, 3, 2, 5, 3)}}, p1, x1);
    return direct_checks() ? 1 : 0;
}
