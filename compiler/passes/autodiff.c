/* autodiff.c - the autodiff pass: reverse-mode differentiation. ad_grad appends the gradient of a
 * scalar loss with respect to chosen nodes to the same graph; autodiff_module runs it on each train
 * step, for the step's objective and the parameters it trains, and marks each gradient as a `grad`
 * result of the step's graph, which the optim pass turns into the optimizer's update.
 *
 * requires: g verifies; the loss is a rank-0 f32 node.
 * The node array is a topological order, so the backward sweep is the forward loop reversed. Each
 * op has one VJP rule, vjp_NAME, found through a table generated from ops.def: given the node and
 * the adjoint of its result it emits ordinary IR for the adjoints of its operands, which are summed
 * with ADD where a value has several users. Because the rules emit IR through ir_add, gradients are
 * CSE'd with the forward pass and simplified, fused and planned like any other nodes.
 *
 * Only values that need a gradient get one: f32 values that depend on a wrt node through ops that
 * are not F_NOGRAD (STOP_GRAD, compares, sign, one_hot, rand, ...). Integer and bool values never
 * carry gradients.
 */
#include "passes.h"

#include <string.h>

#include "diag.h"

/* One VJP application: node y (a copy: ir_add may move the node array), its adjoint gy, which
 * operands need an adjoint; the rule stores the operand adjoints in gs (IR_NONE = none). */
typedef struct Vjp {
    IrGraph *g;
    IrNode n;
    uint32_t y, gy;
    bool need[IR_MAXSRC];
    uint32_t gs[IR_MAXSRC];
} Vjp;

static const IrType *type_of(IrGraph *g, uint32_t x) { return &g->nodes[x].type; }
static uint32_t fill_like(IrGraph *g, uint32_t x, double v) {
    return ir_fill(g, *type_of(g, x), v);
}
static uint32_t add(IrGraph *g, uint32_t a, uint32_t b) { return ir_binary(g, OP_ADD, a, b); }
static uint32_t sub(IrGraph *g, uint32_t a, uint32_t b) { return ir_binary(g, OP_SUB, a, b); }
static uint32_t mul(IrGraph *g, uint32_t a, uint32_t b) { return ir_binary(g, OP_MUL, a, b); }
static uint32_t dvd(IrGraph *g, uint32_t a, uint32_t b) { return ir_binary(g, OP_DIV, a, b); }
static uint32_t neg(IrGraph *g, uint32_t a) { return ir_unary(g, OP_NEG, a); }

#define X(v) ((v)->n.src[0])
#define Y(v) ((v)->n.src[1])

/* ---- sources and F_NOGRAD ops: never reached (no operands, or no gradient flows) ---- */
#define NO_VJP(name)                                                                               \
    static void vjp_##name(Vjp *v) { die("autodiff: %s has no VJP (F_NOGRAD or source)", #name); }
NO_VJP(INPUT)
NO_VJP(PARAM)
NO_VJP(STATE)
NO_VJP(CONST)
NO_VJP(HYPER)
NO_VJP(RAND)
NO_VJP(SIGN)
NO_VJP(NOT)
NO_VJP(STOP_GRAD)
NO_VJP(ALLREDUCE)   /* added after autodiff (compiler/passes/allreduce.c) */
NO_VJP(LT)
NO_VJP(LE)
NO_VJP(GT)
NO_VJP(GE)
NO_VJP(EQ)
NO_VJP(NE)
NO_VJP(AND)
NO_VJP(OR)
NO_VJP(ONE_HOT)
#undef NO_VJP

/* ---- elementwise, one operand: gx = gy * f'(x), written with y where that is cheaper ---- */
static void vjp_NEG(Vjp *v) { v->gs[0] = neg(v->g, v->gy); }
static void vjp_EXP(Vjp *v) { v->gs[0] = mul(v->g, v->gy, v->y); }
static void vjp_LOG(Vjp *v) { v->gs[0] = dvd(v->g, v->gy, X(v)); }
static void vjp_SQRT(Vjp *v) { /* gy / (2 sqrt x) */
    v->gs[0] = dvd(v->g, v->gy, mul(v->g, v->y, fill_like(v->g, v->y, 2)));
}
static void vjp_TANH(Vjp *v) { /* gy (1 - y^2) */
    IrGraph *g = v->g;
    v->gs[0] = mul(g, v->gy, sub(g, fill_like(g, v->y, 1), mul(g, v->y, v->y)));
}
static void vjp_SIGMOID(Vjp *v) { /* gy y (1 - y) */
    IrGraph *g = v->g;
    v->gs[0] = mul(g, v->gy, mul(g, v->y, sub(g, fill_like(g, v->y, 1), v->y)));
}
static void vjp_ATAN(Vjp *v) { /* gy / (1 + x^2) */
    IrGraph *g = v->g;
    v->gs[0] = dvd(g, v->gy, add(g, fill_like(g, X(v), 1), mul(g, X(v), X(v))));
}
static void vjp_ABS(Vjp *v) { v->gs[0] = mul(v->g, v->gy, ir_unary(v->g, OP_SIGN, X(v))); }
static void vjp_SIN(Vjp *v) { v->gs[0] = mul(v->g, v->gy, ir_unary(v->g, OP_COS, X(v))); }
static void vjp_COS(Vjp *v) {
    v->gs[0] = neg(v->g, mul(v->g, v->gy, ir_unary(v->g, OP_SIN, X(v))));
}
/* floor, ceil, round: piecewise constant, gradient 0 everywhere (as torch; a zero rather than
 * F_NOGRAD, so a parameter reached only through them is still trained, with a zero gradient) */
static void vjp_FLOOR(Vjp *v) { v->gs[0] = fill_like(v->g, X(v), 0); }
static void vjp_CEIL(Vjp *v) { v->gs[0] = fill_like(v->g, X(v), 0); }
static void vjp_ROUND(Vjp *v) { v->gs[0] = fill_like(v->g, X(v), 0); }
static void vjp_ERF(Vjp *v) { /* gy 2/sqrt(pi) exp(-x^2) */
    IrGraph *g = v->g;
    uint32_t e = ir_unary(g, OP_EXP, neg(g, mul(g, X(v), X(v))));
    v->gs[0] = mul(g, v->gy, mul(g, fill_like(g, X(v), 1.1283791670955126), e));
}
static uint32_t rsqrt_1mx2(IrGraph *g, uint32_t x) { /* 1 / sqrt(1 - x^2) */
    return dvd(g, fill_like(g, x, 1), ir_unary(g, OP_SQRT, sub(g, fill_like(g, x, 1), mul(g, x, x))));
}
static void vjp_ASIN(Vjp *v) { v->gs[0] = mul(v->g, v->gy, rsqrt_1mx2(v->g, X(v))); }
static void vjp_ACOS(Vjp *v) { v->gs[0] = neg(v->g, mul(v->g, v->gy, rsqrt_1mx2(v->g, X(v)))); }
static void vjp_CAST(Vjp *v) { v->gs[0] = v->gy; } /* f32 -> f32 only: others need no gradient */

/* ---- elementwise, two or three operands ---- */
static void vjp_ADD(Vjp *v) { v->gs[0] = v->gs[1] = v->gy; }
static void vjp_SUB(Vjp *v) {
    v->gs[0] = v->gy;
    if (v->need[1])
        v->gs[1] = neg(v->g, v->gy);
}
static void vjp_MUL(Vjp *v) {
    if (v->need[0])
        v->gs[0] = mul(v->g, v->gy, Y(v));
    if (v->need[1])
        v->gs[1] = mul(v->g, v->gy, X(v));
}
static void vjp_DIV(Vjp *v) { /* y = a / b: ga = gy / b, gb = -gy y / b */
    if (v->need[0])
        v->gs[0] = dvd(v->g, v->gy, Y(v));
    if (v->need[1])
        v->gs[1] = neg(v->g, dvd(v->g, mul(v->g, v->gy, v->y), Y(v)));
}
/* y = a^b: ga = gy b a^(b-1), gb = gy y log a, taken as 0 where a == 0 (y log a would be
 * 0 * -inf = NaN there; torch masks it the same way) */
static void vjp_POW(Vjp *v) {
    IrGraph *g = v->g;
    if (v->need[0]) {
        uint32_t bm1 = sub(g, Y(v), fill_like(g, Y(v), 1));
        v->gs[0] = mul(g, v->gy, mul(g, Y(v), ir_binary(g, OP_POW, X(v), bm1)));
    }
    if (v->need[1]) {
        uint32_t zero = fill_like(g, v->y, 0);
        uint32_t base0 = ir_binary(g, OP_EQ, X(v), fill_like(g, X(v), 0));
        uint32_t ylog = ir_select(g, base0, zero, mul(g, v->y, ir_unary(g, OP_LOG, X(v))));
        v->gs[1] = mul(g, v->gy, ylog);
    }
}
/* y = a mod b = a - b floor(a / b): ga = gy, gb = -gy floor(a / b) (as torch.remainder) */
static void vjp_MOD(Vjp *v) {
    IrGraph *g = v->g;
    if (v->need[0])
        v->gs[0] = v->gy;
    if (v->need[1])
        v->gs[1] = neg(g, mul(g, v->gy, ir_unary(g, OP_FLOOR, dvd(g, X(v), Y(v)))));
}
/* max/min: the gradient goes to the operand the forward picked; at ties it is split evenly
 * (gy/2 to each), as torch.maximum / torch.minimum do. win is OP_GT for max, OP_LT for min. */
static void minmax(Vjp *v, Op win) {
    IrGraph *g = v->g;
    uint32_t z = fill_like(g, v->gy, 0);
    uint32_t half = mul(g, v->gy, fill_like(g, v->gy, 0.5));
    uint32_t tie = ir_select(g, ir_binary(g, OP_EQ, X(v), Y(v)), half, z);
    if (v->need[0])
        v->gs[0] = ir_select(g, ir_binary(g, win, X(v), Y(v)), v->gy, tie);
    if (v->need[1])
        v->gs[1] = ir_select(g, ir_binary(g, win, Y(v), X(v)), v->gy, tie);
}
static void vjp_MAX(Vjp *v) { minmax(v, OP_GT); }
static void vjp_MIN(Vjp *v) { minmax(v, OP_LT); }
static void vjp_SELECT(Vjp *v) {
    IrGraph *g = v->g;
    uint32_t c = v->n.src[0], z = fill_like(g, v->gy, 0);
    if (v->need[1])
        v->gs[1] = ir_select(g, c, v->gy, z);
    if (v->need[2])
        v->gs[2] = ir_select(g, c, z, v->gy);
}

/* ---- shape ---- */
static void vjp_BROADCAST(Vjp *v) { /* sum over the broadcast axes, then drop the leading ones */
    const IrType *x = type_of(v->g, X(v)), *t = &v->n.type;
    int off = t->rank - x->rank;
    uint64_t axes = 0;
    for (int k = 0; k < t->rank; k++) {
        bool one = k >= off && x->dim[k - off].a == 0 && x->dim[k - off].c == 1;
        bool tone = t->dim[k].a == 0 && t->dim[k].c == 1;
        if (k < off || (one && !tone))
            axes |= 1ull << k;
    }
    IrType xt = *x;
    v->gs[0] = ir_reshape(v->g, axes ? ir_sum(v->g, v->gy, axes) : v->gy, xt);
}
static void vjp_RESHAPE(Vjp *v) { v->gs[0] = ir_reshape(v->g, v->gy, *type_of(v->g, X(v))); }
static void vjp_TRANSPOSE(Vjp *v) {
    IrAttr inv = {.ni = v->n.attr.ni};
    for (int k = 0; k < v->n.attr.ni; k++)
        inv.i[v->n.attr.i[k]] = k;
    v->gs[0] = ir_op(v->g, OP_TRANSPOSE, &v->gy, 1, &inv, *type_of(v->g, X(v)));
}
static void vjp_SLICE(Vjp *v) {
    v->gs[0] = ir_op(v->g, OP_UNSLICE, &v->gy, 1, &v->n.attr, *type_of(v->g, X(v)));
}
static void vjp_UNSLICE(Vjp *v) {
    v->gs[0] = ir_op(v->g, OP_SLICE, &v->gy, 1, &v->n.attr, *type_of(v->g, X(v)));
}
static void vjp_CONCAT(Vjp *v) { /* the two parts of gy, sliced back along the axis */
    int ax = (int)v->n.attr.i[0];
    Dim da = type_of(v->g, X(v))->dim[ax], db = type_of(v->g, Y(v))->dim[ax];
    int ni = da.a || db.a ? 6 : 4; /* B coefficients only when an extent depends on B */
    IrAttr a0 = {.i = {ax, 0, da.c, 1, 0, da.a}, .ni = ni};
    IrAttr a1 = {.i = {ax, da.c, da.c + db.c, 1, da.a, da.a + db.a}, .ni = ni};
    if (v->need[0])
        v->gs[0] = ir_op(v->g, OP_SLICE, &v->gy, 1, &a0, *type_of(v->g, X(v)));
    if (v->need[1])
        v->gs[1] = ir_op(v->g, OP_SLICE, &v->gy, 1, &a1, *type_of(v->g, Y(v)));
}

/* ---- reductions ---- */
static void vjp_SUM(Vjp *v) { v->gs[0] = ir_broadcast(v->g, v->gy, *type_of(v->g, X(v))); }
static void vjp_RMAX(Vjp *v) { /* shared evenly among the maxima, as torch.amax does */
    IrGraph *g = v->g;
    IrType xt = *type_of(g, X(v));
    uint32_t hit = ir_binary(g, OP_EQ, X(v), ir_broadcast(g, v->y, xt));
    IrType ft = xt;
    ft.dtype = DT_F32;
    uint32_t hits = ir_op(g, OP_CAST, &hit, 1, NULL, ft);
    uint32_t cnt = ir_sum(g, hits, (uint64_t)v->n.attr.i[0]);
    uint32_t share = ir_broadcast(g, dvd(g, v->gy, cnt), xt);
    v->gs[0] = ir_select(g, hit, share, fill_like(g, X(v), 0));
}

/* ---- contractions and indexing ---- */
static void vjp_MATMUL(Vjp *v) {
    /* C = op(A) op(B); with dC the adjoint:
     *   ta tb   dA                 dB
     *   0  0    dC B^T             A^T dC
     *   1  0    B dC^T             A dC
     *   0  1    dC B               dC^T A
     *   1  1    B^T dC^T           dC^T A^T          */
    IrGraph *g = v->g;
    bool ta = v->n.attr.i[0], tb = v->n.attr.i[1];
    uint32_t A = X(v), Bm = Y(v), dC = v->gy;
    if (v->need[0])
        v->gs[0] = !ta ? ir_matmul(g, dC, Bm, false, !tb) : ir_matmul(g, Bm, dC, tb, true);
    if (v->need[1])
        v->gs[1] = !tb ? ir_matmul(g, A, dC, !ta, false) : ir_matmul(g, dC, A, true, ta);
}
/* Convolution: the three ops are one bilinear form <dy, conv(x, w)>, so each one's VJP is the
 * other two, with the same attributes:
 *   y  = conv(x, w):               dx = conv_bwd_data(gy, w),   dw = conv_bwd_filter(x, gy)
 *   dx = conv_bwd_data(dy, w):     ddy = conv(gy, w),           dw = conv_bwd_filter(gy, dy)
 *   dw = conv_bwd_filter(x, dy):   dx = conv_bwd_data(dy, gy),  ddy = conv(x, gy)          */
static uint32_t conv_op(Vjp *v, Op op, uint32_t a, uint32_t b, uint32_t like) {
    uint32_t s[2] = {a, b};
    return ir_op(v->g, op, s, 2, &v->n.attr, *type_of(v->g, like));
}
static void vjp_CONV(Vjp *v) {
    if (v->need[0])
        v->gs[0] = conv_op(v, OP_CONV_BWD_DATA, v->gy, Y(v), X(v));
    if (v->need[1])
        v->gs[1] = conv_op(v, OP_CONV_BWD_FILTER, X(v), v->gy, Y(v));
}
static void vjp_CONV_BWD_DATA(Vjp *v) {
    if (v->need[0])
        v->gs[0] = conv_op(v, OP_CONV, v->gy, Y(v), X(v));
    if (v->need[1])
        v->gs[1] = conv_op(v, OP_CONV_BWD_FILTER, v->gy, X(v), Y(v));
}
static void vjp_CONV_BWD_FILTER(Vjp *v) {
    if (v->need[0])
        v->gs[0] = conv_op(v, OP_CONV_BWD_DATA, Y(v), v->gy, X(v));
    if (v->need[1])
        v->gs[1] = conv_op(v, OP_CONV, X(v), v->gy, Y(v));
}
static void vjp_GATHER(Vjp *v) {
    uint32_t s[2] = {v->gy, Y(v)};
    v->gs[0] = ir_op(v->g, OP_SCATTER_ADD, s, 2, NULL, *type_of(v->g, X(v)));
}
static void vjp_SCATTER_ADD(Vjp *v) {
    uint32_t s[2] = {v->gy, Y(v)};
    v->gs[0] = ir_op(v->g, OP_GATHER, s, 2, NULL, *type_of(v->g, X(v)));
}

/* ---- pooling ---- */
static void vjp_MAXPOOL(Vjp *v) {
    uint32_t s[2] = {X(v), v->gy};
    v->gs[0] = ir_op(v->g, OP_MAXPOOL_BWD, s, 2, &v->n.attr, *type_of(v->g, X(v)));
}
static void vjp_AVGPOOL(Vjp *v) {
    v->gs[0] = ir_op(v->g, OP_AVGPOOL_BWD, &v->gy, 1, &v->n.attr, *type_of(v->g, X(v)));
}
static void vjp_AVGPOOL_BWD(Vjp *v) { /* linear: its adjoint is the average again */
    v->gs[0] = ir_op(v->g, OP_AVGPOOL, &v->gy, 1, &v->n.attr, *type_of(v->g, X(v)));
}
static void vjp_MAXPOOL_BWD(Vjp *v) {
    /* piecewise constant in x (zeros, as torch); the adjoint of dy would gather at each window's
     * argmax, an op of its own that no model has needed yet (a second derivative of max-pooling) */
    if (v->need[0])
        v->gs[0] = fill_like(v->g, X(v), 0);
    if (v->need[1])
        die("autodiff: the second derivative of maxpool (through maxpool_bwd's dy) is not supported");
}

/* y = softmax(f*x masked): dx = f*y*(dy - sum(dy*y)), one op (a masked column has y = 0, so
 * its gradient is 0 with no mask) */
static void vjp_SOFTMAX(Vjp *v) {
    uint32_t s[2] = {v->y, v->gy};
    IrAttr at = {.i = {0}, .ni = 1, .f = v->n.attr.f};
    v->gs[0] = ir_op(v->g, OP_SOFTMAX_BWD, s, 2, &at, *type_of(v->g, X(v)));
}
static void vjp_SOFTMAX_BWD(Vjp *v) {
    (void)v;
    die("autodiff: the second derivative of softmax (through softmax_bwd) is not supported");
}

static void (*const vjp_rule[OP__COUNT])(Vjp *) = {
#define OP(name, text, nsrc, flags) [OP_##name] = vjp_##name,
#include "ops.def"
#undef OP
};

void ad_grad(IrGraph *g, uint32_t loss, const uint32_t *wrt, int n, uint32_t *grads) {
    uint32_t len = g->len;
    if (loss >= len)
        die("ad_grad: loss %u is not a node of %s", loss, g->name);
    if (g->nodes[loss].type.rank != 0 || g->nodes[loss].type.dtype != DT_F32)
        die("ad_grad: loss %%%u of %s is not a rank-0 f32", loss, g->name);
    /* need[i]: i is an f32 value that depends on a wrt node through differentiable ops */
    bool *need = arena_alloc(g->arena, len * sizeof *need);
    uint32_t *adj = arena_alloc(g->arena, len * sizeof *adj);
    for (int k = 0; k < n; k++) {
        if (wrt[k] >= len)
            die("ad_grad: wrt[%d] = %u is not a node of %s", k, wrt[k], g->name);
        need[wrt[k]] = g->nodes[wrt[k]].type.dtype == DT_F32;
    }
    for (uint32_t i = 0; i < len; i++) {
        const IrNode *nd = &g->nodes[i];
        adj[i] = IR_NONE;
        if (need[i] || nd->type.dtype != DT_F32 || (ir_op_flags[nd->op] & F_NOGRAD))
            continue;
        for (int k = 0; k < nd->nsrc; k++)
            need[i] = need[i] || need[nd->src[k]];
    }
    if (need[loss])
        adj[loss] = ir_fill(g, g->nodes[loss].type, 1.0);
    for (uint32_t i = loss + 1; i-- > 0;) {
        if (adj[i] == IR_NONE || !need[i])
            continue;
        Vjp v = {.g = g, .n = g->nodes[i], .y = i, .gy = adj[i]};
        if (v.n.nsrc == 0)
            continue;
        bool any = false;
        for (int k = 0; k < v.n.nsrc; k++) {
            v.need[k] = need[v.n.src[k]];
            v.gs[k] = IR_NONE;
            any = any || v.need[k];
        }
        if (!any)
            continue;
        vjp_rule[v.n.op](&v);
        for (int k = 0; k < v.n.nsrc; k++) {
            uint32_t s = v.n.src[k];
            if (!v.need[k] || v.gs[k] == IR_NONE)
                continue;
            if (!ir_type_eq(&g->nodes[v.gs[k]].type, &g->nodes[s].type))
                die("autodiff: vjp_%s gave operand %d an adjoint of the wrong type",
                    ir_op_name[v.n.op], k);
            adj[s] = adj[s] == IR_NONE ? v.gs[k] : add(g, adj[s], v.gs[k]);
        }
    }
    for (int k = 0; k < n; k++)
        grads[k] = adj[wrt[k]] != IR_NONE ? adj[wrt[k]] : ir_fill(g, g->nodes[wrt[k]].type, 0.0);
}

/* ---- the pass: each train step's gradients ---- */

/* Is the parameter `name` under `path` (the path itself, or path.<more>)? */
static bool under(const char *name, const char *path) {
    size_t n = strlen(path);
    return !strncmp(name, path, n) && (name[n] == 0 || name[n] == '.');
}

/* The node of parameter tensor pi in g (a walk makes one PARAM node per parameter), or IR_NONE. */
static uint32_t param_node(const IrGraph *g, int pi) {
    for (uint32_t i = 0; i < g->len; i++)
        if (g->nodes[i].op == OP_PARAM && g->nodes[i].attr.i[0] == pi)
            return i;
    return IR_NONE;
}

/* The nodes the gradient of `loss` flows into: backwards from it through f32 operands, stopping at
 * STOP_GRAD and F_NOGRAD ops (ad_grad's rules). A parameter outside this set gets no gradient in
 * the step, and is left alone as torch.optim leaves a parameter whose .grad is None: no decay, no
 * momentum, no state. */
static uint8_t *grad_reach(Arena *a, const IrGraph *g, uint32_t loss) {
    uint8_t *r = arena_alloc(a, g->len + 1);
    r[loss] = 1;
    for (uint32_t i = loss + 1; i-- > 0;) {
        const IrNode *n = &g->nodes[i];
        if (!r[i] || n->op == OP_STOP_GRAD || (ir_op_flags[n->op] & F_NOGRAD))
            continue;
        for (int k = 0; k < n->nsrc; k++)
            if (g->nodes[n->src[k]].type.dtype == DT_F32)
                r[n->src[k]] = 1;
    }
    return r;
}

static bool is_metric(const IrModule *m, const char *name) {
    for (int k = 0; k < m->nmetrics; k++)
        if (!strcmp(m->metrics[k], name))
            return true;
    return false;
}

/* The node of the step's objective: the loss result it names, or the sum of every loss result in
 * the order of m->losses (the node lowering made for it, found again by CSE). */
static uint32_t objective(const IrModule *m, const IrStep *s) {
    const IrGraph *g = s->graph;
    uint32_t acc = IR_NONE;
    for (int li = 0; li < m->nlosses; li++) {
        if (s->objective && strcmp(s->objective, m->losses[li]))
            continue;
        if (!s->objective && is_metric(m, m->losses[li]))
            continue;       /* a metric written as a fn (lower.c): reported, never minimized */
        uint32_t node = IR_NONE;
        for (int r = 0; r < g->nres; r++)
            if (g->res[r].kind == RES_LOSS && g->res[r].index == li)
                node = g->res[r].node;
        if (node == IR_NONE)
            die("autodiff: graph %s has no result for loss '%s'", g->name, m->losses[li]);
        acc = acc == IR_NONE ? node : add(s->graph, acc, node);
    }
    if (acc == IR_NONE)
        die("autodiff: step '%s' minimizes '%s', which is no loss of the module", s->name,
            s->objective ? s->objective : "the sum of its losses");
    return acc;
}

/* One step: the parameters under its paths that the objective reaches, in descriptor order, each
 * with a `grad` result. 0, or -1 after a diagnostic. */
static int step_grads(IrModule *m, IrStep *s, Diag *d) {
    IrGraph *g = s->graph;
    Arena *a = g->arena;
    uint32_t loss = objective(m, s);
    for (int k = 0; k < s->nover; k++) {
        bool any = false;
        for (int i = 0; i < m->ntensors; i++)
            any |= m->tensors[i].role == ROLE_PARAM && under(m->tensors[i].name, s->over[k]);
        if (!any) {
            diag_error(d, s->loc, "step '%s': '%s' names no parameter of model '%s'", s->name,
                       s->over[k], m->name);
            return -1;
        }
    }
    uint8_t *reach = grad_reach(a, g, loss);
    uint32_t *wrt = arena_alloc(a, sizeof(uint32_t) * (size_t)(m->ntensors + 1));
    int *which = arena_alloc(a, sizeof(int) * (size_t)(m->ntensors + 1));
    int n = 0;
    for (int i = 0; i < m->ntensors; i++) {
        if (m->tensors[i].role != ROLE_PARAM)
            continue;
        bool sel = s->nover == 0;
        for (int k = 0; k < s->nover && !sel; k++)
            sel = under(m->tensors[i].name, s->over[k]);
        uint32_t p = sel ? param_node(g, i) : IR_NONE;
        if (p == IR_NONE || !reach[p])
            continue; /* the step's objective has no gradient for it */
        wrt[n] = p;
        which[n++] = i;
    }
    if (n == 0) {
        diag_error(d, s->loc, "step '%s' trains no parameter: no gradient of its loss '%s' reaches %s",
                   s->name, s->objective ? s->objective : "loss",
                   s->nover ? "the parameters under its paths" : "any parameter");
        return -1;
    }
    uint32_t *grads = arena_alloc(a, sizeof(uint32_t) * (size_t)n);
    ad_grad(g, loss, wrt, n, grads);
    for (int k = 0; k < n; k++)
        ir_result(g, grads[k], RES_GRAD, which[k]);
    return 0;
}

int autodiff_module(IrModule *m, Diag *d) {
    for (int k = 0; k < m->nsteps; k++)
        if (m->steps[k].graph && step_grads(m, &m->steps[k], d))
            return -1;
    return 0;
}
