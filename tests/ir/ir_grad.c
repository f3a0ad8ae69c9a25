/* ir_grad.c - every differentiable op's VJP against central finite differences.
 *
 * For each case: f32 operands become PARAM nodes, integer/bool ones INPUT nodes; the graph
 * computes y = op(x...) and loss = sum(y * W) for a fixed random W; ad_grad gives d loss / d x.
 * The interpreter runs the graph once for the gradients, then twice per operand element with that
 * element moved by +-eps, and the finite difference of sum(y * W) (accumulated in double from the
 * output y) must match the gradient within tolerance (STYLE.md: kann's kad_check_grad). Also:
 * STOP_GRAD blocks the gradient, unreached params get zeros, a value used twice sums its adjoints.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp/interp.h"
#include "passes.h"

typedef enum { IN_F, IN_POS, IN_AWAY, IN_LABEL, IN_BOOL, IN_UNIT, IN_OFFGRID, IN_BIG, IN_DISTINCT } InKind;
typedef struct In {
    InKind kind;
    IrType t;
} In;

static uint64_t rng = 777;
static double unif(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static IrType T(int rank, int d0, int d1, int d2) {
    IrType t = {.dtype = DT_F32, .rank = rank};
    int v[3] = {d0, d1, d2};
    for (int k = 0; k < rank; k++)
        t.dim[k] = (Dim){0, v[k]};
    return t;
}

static IrType T4(int d0, int d1, int d2, int d3) {
    IrType t = {.dtype = DT_F32, .rank = 4, .dim = {{0, d0}, {0, d1}, {0, d2}, {0, d3}}};
    return t;
}

static IrType TD(DType d, IrType t) {
    t.dtype = d;
    return t;
}

static void fill(void *p, InKind kind, int64_t n) {
    for (int64_t e = 0; e < n; e++) {
        double u = unif();
        switch (kind) {
        case IN_F:
            ((float *)p)[e] = (float)(2 * u - 1);
            break;
        case IN_POS:
            ((float *)p)[e] = (float)(0.5 + 1.5 * u);
            break;
        case IN_AWAY:
            ((float *)p)[e] = (float)((u < 0.5 ? -1 : 1) * (0.3 + u));
            break;
        case IN_LABEL:
            ((int32_t *)p)[e] = (int32_t)(5 * u);
            break;
        case IN_UNIT: /* inside (-1, 1), away from the ends where asin' is infinite */
            ((float *)p)[e] = (float)(1.8 * u - 0.9);
            break;
        case IN_OFFGRID: /* n + [0.2, 0.3]: away from the steps of floor, ceil and round */
            ((float *)p)[e] = (float)(floor(6 * u - 3) + 0.2 + 0.1 * unif());
            break;
        case IN_BIG: /* |x| in [1.5, 2.5]: a divisor larger than IN_AWAY's dividends */
            ((float *)p)[e] = (float)((u < 0.5 ? -1 : 1) * (1.5 + u));
            break;
        case IN_BOOL:
            ((uint8_t *)p)[e] = u < 0.5;
            break;
        case IN_DISTINCT: /* [-1, 1) in steps of 2 / n, shuffled: a max-pool's argmax stays put
                             under the finite difference's nudge */
            ((float *)p)[e] = (float)((double)(e * 7919 % n) / (double)n * 2 - 1);
            break;
        }
    }
}

typedef uint32_t (*Build)(IrGraph *g, const uint32_t *x, const IrAttr *at, IrType want, Op op);

static uint32_t build_op(IrGraph *g, const uint32_t *x, const IrAttr *at, IrType want, Op op) {
    return ir_op(g, op, x, ir_op_nsrc[op], at, want);
}

/* y = x * x + exp(x): x has three users, so its adjoints are summed */
static uint32_t build_reuse(IrGraph *g, const uint32_t *x, const IrAttr *at, IrType want, Op op) {
    return ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, x[0], x[0]), ir_unary(g, OP_EXP, x[0]));
}

/* softmax cross-entropy written the way stdlib does, through rmax/exp/sum/log */
static uint32_t build_xent(IrGraph *g, const uint32_t *x, const IrAttr *at, IrType want, Op op) {
    uint32_t z = x[0], lab = x[1];
    uint32_t m = ir_op(g, OP_STOP_GRAD,
                       (uint32_t[]){ir_op(g, OP_RMAX, &z, 1, &(IrAttr){.i = {2}, .ni = 1}, want)},
                       1, NULL, want);
    uint32_t s = ir_binary(g, OP_SUB, z, m);
    uint32_t lse = ir_unary(g, OP_LOG, ir_sum(g, ir_unary(g, OP_EXP, s), 2));
    uint32_t oh = ir_op(g, OP_ONE_HOT, &lab, 1, &(IrAttr){.i = {5}, .ni = 1}, want);
    uint32_t logp = ir_binary(g, OP_SUB, s, lse);
    return ir_sum(g, ir_binary(g, OP_MUL, oh, logp), 2);
}

static int bad, ncases;
static int64_t gB = 1; /* the batch size the cases run at */

static void check(const char *name, Build build, Op op, int nin, const In *ins, IrAttr at,
                  IrType want) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, name);
    uint32_t x[3], wrt[3], grads[3];
    int nw = 0, widx[3];
    void *bufs[8] = {0};
    for (int k = 0; k < nin; k++) {
        IrAttr sa = {.i = {k}, .ni = 1, .name = "x"};
        bool f = ins[k].t.dtype == DT_F32;
        x[k] = ir_add(g, f ? OP_PARAM : OP_INPUT, ins[k].t, NULL, 0, &sa, (Loc){0});
        bufs[k] = calloc((size_t)ir_numel(&ins[k].t, gB), 4);
        fill(bufs[k], ins[k].kind, ir_numel(&ins[k].t, gB));
        if (f) {
            widx[nw] = k;
            wrt[nw++] = x[k];
        }
    }
    uint32_t y = build(g, x, &at, want, op);
    IrType yt = g->nodes[y].type;
    int64_t ny = ir_numel(&yt, gB);
    float *w = calloc((size_t)ny, sizeof(float)); /* the weights: an input, so y may hold B */
    for (int64_t e = 0; e < ny; e++)
        w[e] = (float)(2 * unif() - 1);
    bufs[7] = w;
    uint32_t wc =
        ir_add(g, OP_INPUT, yt, NULL, 0, &(IrAttr){.i = {7}, .ni = 1, .name = "w"}, (Loc){0});
    uint32_t l = ir_reshape(g, ir_sum(g, ir_binary(g, OP_MUL, y, wc), (1ull << yt.rank) - 1),
                            (IrType){.dtype = DT_F32});
    ad_grad(g, l, wrt, nw, grads);
    int out = nin;
    ir_result(g, y, RES_OUTPUT, out);
    bufs[out] = calloc((size_t)ny, 4);
    for (int k = 0; k < nw; k++) {
        ir_result(g, grads[k], RES_OUTPUT, out + 1 + k);
        bufs[out + 1 + k] = calloc((size_t)ir_numel(&ins[widx[k]].t, gB), 4);
    }
    if (ir_verify(g, stderr)) {
        bad++;
        ir_print(stderr, g);
        return;
    }
    NncArgs args = {.B = gB, .bufs = bufs};
    interp_run(g, &args);
    const double eps = 1e-3;
    double worst = 0;
    for (int k = 0; k < nw; k++) {
        float *xv = bufs[widx[k]], *gv = bufs[out + 1 + k];
        int64_t n = ir_numel(&ins[widx[k]].t, gB);
        for (int64_t e = 0; e < n; e++) {
            float keep = xv[e];
            double lv[2];
            for (int s = 0; s < 2; s++) {
                xv[e] = (float)(keep + (s ? -eps : eps));
                interp_run(g, &args);
                double acc = 0;
                for (int64_t q = 0; q < ny; q++)
                    acc += (double)((float *)bufs[out])[q] * w[q];
                lv[s] = acc;
            }
            double h = (double)(float)(keep + eps) - (double)(float)(keep - eps);
            xv[e] = keep;
            double fd = (lv[0] - lv[1]) / h, ad = gv[e];
            double err = fabs(fd - ad) / (1e-2 + fabs(fd));
            if (err > worst)
                worst = err;
            if (!(fabs(fd - ad) <= 2e-3 + 5e-3 * fabs(fd))) {
                if (bad < 30)
                    fprintf(stderr,
                            "FAIL %s: d/dx%d[%lld]: autodiff %.6g, finite difference %.6g\n", name,
                            widx[k], (long long)e, ad, fd);
                bad++;
            }
        }
        interp_run(g, &args); /* restore the gradient buffers for the next operand */
    }
    ncases++;
    printf("%-14s %u nodes, worst relative error %.2e\n", name, g->len, worst);
    for (int k = 0; k < 8; k++)
        free(bufs[k]);
    arena_free(&a);
}

/* STOP_GRAD, unreached params and integer paths: exact expectations. */
static void structural(void) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, "structural");
    IrType v = T(1, 3, 0, 0), s = {.dtype = DT_F32};
    uint32_t p = ir_add(g, OP_PARAM, v, NULL, 0, &(IrAttr){.i = {0}, .ni = 1}, (Loc){0});
    uint32_t q = ir_add(g, OP_PARAM, v, NULL, 0, &(IrAttr){.i = {1}, .ni = 1}, (Loc){0});
    uint32_t sg = ir_unary(g, OP_STOP_GRAD, p);
    /* loss = sum(p * stop_grad(p)) + sum(f32(i32(p)))  -> d/dp = p exactly, d/dq = 0 */
    uint32_t c = ir_op(g, OP_CAST, &p, 1, NULL, TD(DT_I32, v));
    uint32_t cf = ir_op(g, OP_CAST, &c, 1, NULL, v);
    uint32_t l = ir_binary(g, OP_ADD, ir_sum(g, ir_binary(g, OP_MUL, p, sg), 1), ir_sum(g, cf, 1));
    l = ir_reshape(g, l, s);
    uint32_t wrt[2] = {p, q}, gr[2];
    ad_grad(g, l, wrt, 2, gr);
    ir_result(g, gr[0], RES_OUTPUT, 2);
    ir_result(g, gr[1], RES_OUTPUT, 3);
    float pv[3] = {0.5f, -2, 3}, qv[3] = {1, 1, 1}, g0[3], g1[3] = {9, 9, 9};
    void *bufs[4] = {pv, qv, g0, g1};
    NncArgs args = {.B = 1, .bufs = bufs};
    if (ir_verify(g, stderr))
        bad++;
    interp_run(g, &args);
    for (int e = 0; e < 3; e++)
        if (g0[e] != pv[e] || g1[e] != 0) {
            fprintf(stderr, "FAIL structural: grad p[%d] = %g (want %g), grad q = %g (want 0)\n", e,
                    g0[e], pv[e], g1[e]);
            bad++;
        }
    if (g->nodes[gr[1]].op != OP_CONST)
        bad += fprintf(stderr,
                       "FAIL structural: unreached param's gradient is not a zero const\n") > 0;
    arena_free(&a);
}

/* Where finite differences mean nothing: max/min at ties split the gradient evenly, and pow's
 * exponent gradient is 0 at base 0 (not 0 * log 0 = NaN). Expected values are torch's
 * (torch.maximum/minimum/pow backward on the same inputs, loss = sum(y)). */
static void exact_case(const char *name, Op op, const float *av, const float *bv, const float *want_a,
                       const float *want_b) {
    Arena a = {0};
    IrGraph *g = ir_graph_new(&a, name);
    IrType v = T(1, 4, 0, 0), s = {.dtype = DT_F32};
    uint32_t p = ir_add(g, OP_PARAM, v, NULL, 0, &(IrAttr){.i = {0}, .ni = 1}, (Loc){0});
    uint32_t q = ir_add(g, OP_PARAM, v, NULL, 0, &(IrAttr){.i = {1}, .ni = 1}, (Loc){0});
    uint32_t l = ir_reshape(g, ir_sum(g, ir_binary(g, op, p, q), 1), s);
    uint32_t wrt[2] = {p, q}, gr[2];
    ad_grad(g, l, wrt, 2, gr);
    ir_result(g, gr[0], RES_OUTPUT, 2);
    ir_result(g, gr[1], RES_OUTPUT, 3);
    float pv[4], qv[4], g0[4], g1[4];
    memcpy(pv, av, sizeof pv);
    memcpy(qv, bv, sizeof qv);
    void *bufs[4] = {pv, qv, g0, g1};
    NncArgs args = {.B = 1, .bufs = bufs};
    ncases++;
    if (ir_verify(g, stderr))
        bad++;
    interp_run(g, &args);
    for (int e = 0; e < 4; e++)
        if ((want_a && g0[e] != want_a[e]) || g1[e] != want_b[e]) {
            fprintf(stderr, "FAIL %s: at (%g, %g) the gradients are (%g, %g), want (%g, %g)\n", name, av[e],
                    bv[e], g0[e], g1[e], want_a ? want_a[e] : g0[e], want_b[e]);
            bad++;
        }
    arena_free(&a);
}

static void exact_cases(void) {
    static const float a[4] = {0, 1, -1, 2}, b[4] = {0, 0, -1, 3};
    exact_case("max_ties", OP_MAX, a, b, (float[]){0.5f, 1, 0.5f, 0}, (float[]){0.5f, 0, 0.5f, 1});
    exact_case("min_ties", OP_MIN, a, b, (float[]){0.5f, 0, 0.5f, 1}, (float[]){0.5f, 1, 0.5f, 0});
    /* relu as max(x, 0): a zero pre-activation gets half the gradient (torch.maximum) */
    exact_case("max_zero", OP_MAX, (float[]){0, 0, 0.5f, -0.5f}, (float[]){0, 0, 0, 0},
               (float[]){0.5f, 0.5f, 1, 0}, (float[]){0.5f, 0.5f, 0, 1});
    /* pow's exponent gradient y log a: 0 where a == 0 (the base's gradient there is torch's too
     * but holds inf at 0^0.5, so only the exponent's is compared) */
    static const float pa[4] = {0, 0, 2, 1}, pb[4] = {2, 0.5f, 3, 1};
    exact_case("pow_base0", OP_POW, pa, pb, NULL, (float[]){0, 0, (float)(8 * log(2.0)), 0});
    /* mod: d/dx = 1, d/dy = -floor(x / y), torch.remainder's backward, at every sign pairing */
    exact_case("mod_signs", OP_MOD, (float[]){7, -7, 7, -7}, (float[]){3, 3, -3, -3},
               (float[]){1, 1, 1, 1}, (float[]){-2, 3, 3, -2});
}

#define A(...)                                                                                     \
    ((IrAttr){.i = {__VA_ARGS__}, .ni = sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)})
static const IrAttr NOATTR;

int main(void) {
    IrType m34 = T(2, 3, 4, 0);
    static const Op un[] = {OP_NEG, OP_EXP, OP_TANH, OP_SIGMOID, OP_ATAN, OP_SIN, OP_COS, OP_CAST};
    for (size_t k = 0; k < sizeof un / sizeof *un; k++)
        check(ir_op_name[un[k]], build_op, un[k], 1, (In[]){{IN_F, m34}}, NOATTR, m34);
    check("log", build_op, OP_LOG, 1, (In[]){{IN_POS, m34}}, NOATTR, m34);
    check("erf", build_op, OP_ERF, 1, (In[]){{IN_F, m34}}, NOATTR, m34);
    check("asin", build_op, OP_ASIN, 1, (In[]){{IN_UNIT, m34}}, NOATTR, m34);
    check("acos", build_op, OP_ACOS, 1, (In[]){{IN_UNIT, m34}}, NOATTR, m34);
    check("floor", build_op, OP_FLOOR, 1, (In[]){{IN_OFFGRID, m34}}, NOATTR, m34);
    check("ceil", build_op, OP_CEIL, 1, (In[]){{IN_OFFGRID, m34}}, NOATTR, m34);
    check("round", build_op, OP_ROUND, 1, (In[]){{IN_OFFGRID, m34}}, NOATTR, m34);
    /* x mod y with |x| < |y| away from 0: floor(x / y) is 0 or -1, no step within eps */
    check("mod", build_op, OP_MOD, 2, (In[]){{IN_AWAY, m34}, {IN_BIG, m34}}, NOATTR, m34);
    check("sqrt", build_op, OP_SQRT, 1, (In[]){{IN_POS, m34}}, NOATTR, m34);
    check("abs", build_op, OP_ABS, 1, (In[]){{IN_AWAY, m34}}, NOATTR, m34);
    static const Op bin[] = {OP_ADD, OP_SUB, OP_MUL, OP_MAX, OP_MIN};
    for (size_t k = 0; k < sizeof bin / sizeof *bin; k++)
        check(ir_op_name[bin[k]], build_op, bin[k], 2, (In[]){{IN_F, m34}, {IN_F, m34}}, NOATTR,
              m34);
    check("div", build_op, OP_DIV, 2, (In[]){{IN_F, m34}, {IN_POS, m34}}, NOATTR, m34);
    check("pow", build_op, OP_POW, 2, (In[]){{IN_POS, m34}, {IN_F, m34}}, NOATTR, m34);
    check("select", build_op, OP_SELECT, 3,
          (In[]){{IN_BOOL, TD(DT_BOOL, m34)}, {IN_F, m34}, {IN_F, m34}}, NOATTR, m34);
    IrType b234 = T(3, 2, 3, 4);
    check("broadcast", build_op, OP_BROADCAST, 1, (In[]){{IN_F, T(2, 3, 1, 0)}}, NOATTR, b234);
    check("broadcast_rank", build_op, OP_BROADCAST, 1, (In[]){{IN_F, T(1, 4, 0, 0)}}, NOATTR, b234);
    check("broadcast_sc", build_op, OP_BROADCAST, 1, (In[]){{IN_F, T(0, 0, 0, 0)}}, NOATTR, m34);
    check("reshape", build_op, OP_RESHAPE, 1, (In[]){{IN_F, T(2, 2, 6, 0)}}, NOATTR, m34);
    check("transpose", build_op, OP_TRANSPOSE, 1, (In[]){{IN_F, b234}}, A(2, 0, 1), m34);
    check("slice", build_op, OP_SLICE, 1, (In[]){{IN_F, T(2, 5, 4, 0)}}, A(0, 1, 5, 2), m34);
    check("unslice", build_op, OP_UNSLICE, 1, (In[]){{IN_F, T(2, 2, 4, 0)}}, A(0, 1, 5, 2),
          T(2, 5, 4, 0));
    check("concat", build_op, OP_CONCAT, 2, (In[]){{IN_F, m34}, {IN_F, T(2, 3, 2, 0)}}, A(1), m34);
    check("sum", build_op, OP_SUM, 1, (In[]){{IN_F, b234}}, A(5), m34);
    check("rmax", build_op, OP_RMAX, 1, (In[]){{IN_F, b234}}, A(2), m34);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char nm[32];
            snprintf(nm, sizeof nm, "matmul_%d%d", ta, tb);
            IrType at = ta ? T(2, 5, 3, 0) : T(2, 3, 5, 0), bt = tb ? T(2, 4, 5, 0) : T(2, 5, 4, 0);
            check(nm, build_op, OP_MATMUL, 2, (In[]){{IN_F, at}, {IN_F, bt}}, A(ta, tb), m34);
        }
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            char nm[32];
            snprintf(nm, sizeof nm, "bmatmul_%d%d", ta, tb);
            IrType at = ta ? T(3, 2, 5, 3) : T(3, 2, 3, 5), bt = tb ? T(3, 2, 4, 5) : T(3, 2, 5, 4);
            check(nm, build_op, OP_MATMUL, 2, (In[]){{IN_F, at}, {IN_F, bt}}, A(ta, tb), T(3, 2, 3, 4));
        }
    {   /* softmax (its VJP is softmax_bwd), plain and causal with a scale */
        IrAttr plain = A(0), causal = A(1);
        plain.f = 1.0, causal.f = 0.6;
        check("softmax", build_op, OP_SOFTMAX, 1, (In[]){{IN_F, b234}}, plain, b234);
        check("softmax_causal", build_op, OP_SOFTMAX, 1, (In[]){{IN_F, T(3, 2, 4, 4)}}, causal, T(3, 2, 4, 4));
    }
    check("gather", build_op, OP_GATHER, 2,
          (In[]){{IN_F, T(2, 6, 3, 0)}, {IN_LABEL, TD(DT_I32, T(2, 2, 4, 0))}}, NOATTR, m34);
    check("scatter_add", build_op, OP_SCATTER_ADD, 2,
          (In[]){{IN_F, T(3, 2, 4, 3)}, {IN_LABEL, TD(DT_I32, T(2, 2, 4, 0))}}, NOATTR,
          T(2, 6, 3, 0));
    /* convolution: each of the three ops w.r.t. both operands (so each VJP rule, and through
     * them the other two ops, is checked); odd sizes, stride 2, asymmetric padding, dilation 2,
     * groups 2, depthwise, 1-D, and a batch dim B */
    {
        IrType x = T4(2, 5, 6, 4), w = T4(3, 2, 2, 6), y;
        IrAttr cat = A(2, 1, 1, 2, 1, 1, 0, 1);   /* stride 2,1; dilation 1,2; pads 1,1 / 0,1 */
        ir_conv_geom(&x, &w, &cat, NULL, &y);
        check("conv", build_op, OP_CONV, 2, (In[]){{IN_F, x}, {IN_F, w}}, cat, y);
        check("conv_bwd_data", build_op, OP_CONV_BWD_DATA, 2, (In[]){{IN_F, y}, {IN_F, w}}, cat, x);
        check("conv_bwd_filter", build_op, OP_CONV_BWD_FILTER, 2, (In[]){{IN_F, x}, {IN_F, y}}, cat, w);
        IrType dx = T4(1, 5, 5, 3), dwt = T4(3, 3, 1, 3);
        IrAttr dat = A(2, 2, 1, 1, 1, 1, 1, 1);
        ir_conv_geom(&dx, &dwt, &dat, NULL, &y);
        check("conv_depthwise", build_op, OP_CONV, 2, (In[]){{IN_F, dx}, {IN_F, dwt}}, dat, y);
        IrType x1 = T(3, 2, 7, 2), w1 = T(3, 3, 2, 3);
        IrAttr at1 = A(2, 1, 1, 1);
        ir_conv_geom(&x1, &w1, &at1, NULL, &y);
        check("conv1d", build_op, OP_CONV, 2, (In[]){{IN_F, x1}, {IN_F, w1}}, at1, y);
        gB = 2;
        IrType xb = x;
        xb.dim[0] = (Dim){1, 0};
        ir_conv_geom(&xb, &w, &cat, NULL, &y);
        check("conv_B", build_op, OP_CONV, 2, (In[]){{IN_F, xb}, {IN_F, w}}, cat, y);
        gB = 1;
    }
    gB = 3; /* concat along the batch axis: its VJP slices with B-dependent bounds */
    IrType bx = {DT_F32, 2, {{1, 0}, {0, 2}}}, by = {DT_F32, 2, {{2, 1}, {0, 2}}};
    check("concat_B", build_op, OP_CONCAT, 2, (In[]){{IN_F, bx}, {IN_F, by}}, A(0), bx);
    /* symbolic batch dims through the other shape-changing VJPs */
    Dim Bd = {1, 0}, c3 = {0, 3}, c4 = {0, 4}, c1 = {0, 1};
    IrType b3 = {DT_F32, 2, {Bd, c3}}, b4 = {DT_F32, 2, {Bd, c4}};
    IrType w43 = {DT_F32, 2, {c4, c3}}, o3 = {DT_F32, 2, {c1, c3}}, idx = {DT_I32, 1, {Bd}};
    check("matmul_B", build_op, OP_MATMUL, 2, (In[]){{IN_F, b4}, {IN_F, w43}}, A(0, 0), b3);
    check("matmul_BK", build_op, OP_MATMUL, 2, (In[]){{IN_F, b4}, {IN_F, b3}}, A(1, 0), w43);
    check("sum_B", build_op, OP_SUM, 1, (In[]){{IN_F, b3}}, A(1), o3);
    check("broadcast_B", build_op, OP_BROADCAST, 1, (In[]){{IN_F, o3}}, NOATTR, b3);
    check("transpose_B", build_op, OP_TRANSPOSE, 1, (In[]){{IN_F, b3}}, A(1, 0), b3);
    check("slice_B", build_op, OP_SLICE, 1, (In[]){{IN_F, b4}}, A(1, 1, 4, 2), b3);
    check("rmax_B", build_op, OP_RMAX, 1, (In[]){{IN_F, b4}}, A(1), b3);
    check("gather_B", build_op, OP_GATHER, 2,
          (In[]){{IN_F, T(2, 6, 3, 0)}, {IN_LABEL, idx}}, NOATTR, b3);
    check("reshape_B", build_op, OP_RESHAPE, 1, (In[]){{IN_F, b4}},
          NOATTR, (IrType){DT_F32, 3, {Bd, {0, 2}, {0, 2}}});
    gB = 1;
    check("reuse", build_reuse, OP_ADD, 1, (In[]){{IN_F, m34}}, NOATTR, m34);
    check("xent", build_xent, OP_ADD, 2,
          (In[]){{IN_F, T(2, 3, 5, 0)}, {IN_LABEL, TD(DT_I32, T(1, 3, 0, 0))}}, NOATTR, m34);
    /* pooling, channels-last: 2x2 stride 2 on odd sizes, window 3 stride 2 'same' (TensorFlow's
     * uneven padding), 1-D, the batch symbolic; avgpool_bwd through its own VJP (maxpool_bwd has
     * none w.r.t. dy: a second derivative of max-pooling, docs/ir.md) */
    IrType x4 = {DT_F32, 4, {{0, 2}, {0, 5}, {0, 7}, {0, 3}}}, xs = {DT_F32, 4, {{0, 2}, {0, 7}, {0, 6}, {0, 3}}};
    IrType ys = {DT_F32, 4, {{0, 2}, {0, 4}, {0, 3}, {0, 3}}};
    IrAttr p22 = A(2, 2, 2, 2, 0, 0, 0, 0), same = A(3, 3, 2, 2, 1, 0, 1, 1), p1 = A(3, 2, 1, 1);
    check("maxpool", build_op, OP_MAXPOOL, 1, (In[]){{IN_DISTINCT, x4}}, p22, x4);
    check("maxpool_same", build_op, OP_MAXPOOL, 1, (In[]){{IN_DISTINCT, xs}}, same, xs);
    check("maxpool_1d", build_op, OP_MAXPOOL, 1, (In[]){{IN_DISTINCT, T(3, 2, 9, 3)}}, p1, xs);
    check("avgpool", build_op, OP_AVGPOOL, 1, (In[]){{IN_F, x4}}, p22, x4);
    check("avgpool_same", build_op, OP_AVGPOOL, 1, (In[]){{IN_F, xs}}, same, xs);
    check("avgpool_1d", build_op, OP_AVGPOOL, 1, (In[]){{IN_F, T(3, 2, 9, 3)}}, p1, xs);
    check("avgpool_bwd", build_op, OP_AVGPOOL_BWD, 1, (In[]){{IN_F, ys}}, same, xs);
    gB = 2;
    IrType xb = {DT_F32, 4, {{1, 0}, {0, 5}, {0, 4}, {0, 2}}};
    check("maxpool_B", build_op, OP_MAXPOOL, 1, (In[]){{IN_DISTINCT, xb}}, same, xb);
    check("avgpool_B", build_op, OP_AVGPOOL, 1, (In[]){{IN_F, xb}}, same, xb);
    gB = 1;
    structural();
    exact_cases();
    printf("%d cases, %d failures\n", ncases, bad);
    return bad ? 1 : 0;
}
