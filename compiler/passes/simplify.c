/* simplify.c - constant folding, algebraic identities, CSE and dead-code elimination.
 *
 * requires: g verifies. Nodes are append-only, so the pass rebuilds: it walks the nodes the results
 * need in order and re-adds each one to a new graph through ir_add (which merges equal nodes, so
 * CSE comes free), after trying the rules below on its already-rebuilt operands. A last sweep
 * drops nodes the rules made dead. Every rule keeps the interpreter's results the same, up to the
 * sign of a zero (x + 0 -> x keeps a -0 that the addition would have made +0); docs/ir.md
 * "simplify" lists the rules.
 *
 * Constant folding evaluates the op on its constant operands by the ops' definition in the IR core
 * (ir_eval_node, which the reference interpreter runs too), so a folded value is exactly what the
 * unfolded graph computes. Fill constants (one value, any shape,
 * B allowed) fold through elementwise and shape ops; constants with data fold when small.
 * x * 0 -> 0 is applied only when x is known finite (inf * 0 and NaN * 0 are NaN).
 */
#include "passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define FOLD_MAX 4096 /* largest constant with data that folding creates */

static const IrNode *nd(const IrGraph *g, uint32_t x) { return &g->nodes[x]; }

static bool is_fill(const IrGraph *g, uint32_t x) {
    return nd(g, x)->op == OP_CONST && !nd(g, x)->attr.data;
}
static bool is_fill_of(const IrGraph *g, uint32_t x, double v) {
    return is_fill(g, x) && nd(g, x)->attr.f == v;
}

static bool has_b(const IrType *t) {
    for (int k = 0; k < t->rank; k++)
        if (t->dim[k].a)
            return true;
    return false;
}

/* x's values are finite whatever the inputs (so x * 0 == 0). Conservative. */
static bool known_finite(const IrGraph *g, uint32_t x, int depth) {
    const IrNode *n = nd(g, x);
    if (depth > 16)
        return false;
    if (n->type.dtype != DT_F32)
        return true;
    switch (n->op) {
    case OP_CONST:
        if (!n->attr.data)
            return isfinite(n->attr.f);
        for (int64_t e = 0; e < n->attr.i[0]; e++)
            if (!isfinite(n->attr.data[e]))
                return false;
        return true;
    case OP_RAND:
    case OP_ONE_HOT:
        return true;
    case OP_CAST:
        return nd(g, n->src[0])->type.dtype != DT_F32 || known_finite(g, n->src[0], depth + 1);
    case OP_BROADCAST:
    case OP_RESHAPE:
    case OP_TRANSPOSE:
    case OP_SLICE:
    case OP_UNSLICE:
    case OP_NEG:
    case OP_SIGN:
    case OP_ABS:
    case OP_STOP_GRAD:
    case OP_TANH:
    case OP_SIGMOID:
    case OP_ATAN:
    case OP_FLOOR:
    case OP_CEIL:
    case OP_ROUND:
    case OP_ERF:
        return known_finite(g, n->src[0], depth + 1);
    case OP_SELECT:
        return known_finite(g, n->src[1], depth + 1) && known_finite(g, n->src[2], depth + 1);
    case OP_CONCAT:
    case OP_MAX:
    case OP_MIN:
        return known_finite(g, n->src[0], depth + 1) && known_finite(g, n->src[1], depth + 1);
    default:
        return false;
    }
}

/* The value (malloc'd, dense) of op applied to the constants src, whose types are given (rank 0
 * for fills feeding an elementwise op), with result type t: ir_eval_node on their values. */
static void *eval_const(IrGraph *h, Op op, const IrType *types, const uint32_t *src, int nsrc,
                        const IrAttr *attr, IrType t) {
    void *vals[IR_MAXSRC] = {0};
    for (int k = 0; k < nsrc; k++) {
        IrNode c = {.op = OP_CONST, .type = types[k], .attr = nd(h, src[k])->attr};
        vals[k] = calloc((size_t)ir_numel(&types[k], 1) + 1, 4);
        if (!vals[k])
            die("simplify: out of memory folding %s", ir_op_name[op]);
        ir_eval_node(&c, NULL, NULL, 1, vals[k]);
    }
    IrNode n = {.op = (uint16_t)op, .nsrc = (uint8_t)nsrc, .type = t};
    if (attr)
        n.attr = *attr;
    void *out = calloc((size_t)ir_numel(&t, 1) + 1, 4);
    if (!out)
        die("simplify: out of memory folding %s", ir_op_name[op]);
    ir_eval_node(&n, types, (const void *const *)vals, 1, out);
    for (int k = 0; k < nsrc; k++)
        free(vals[k]);
    return out;
}

/* Fold op over constant operands into a constant, or IR_NONE. */
static uint32_t fold(IrGraph *h, const IrNode *n, const uint32_t *src) {
    int fl = ir_op_flags[n->op];
    if (n->nsrc == 0 || (fl & F_SOURCE))
        return IR_NONE;
    bool all_fill = true;
    for (int k = 0; k < n->nsrc; k++) {
        if (nd(h, src[k])->op != OP_CONST)
            return IR_NONE;
        all_fill = all_fill && is_fill(h, src[k]);
    }
    const IrType *t = &n->type;
    if (all_fill) {
        double f0 = nd(h, src[0])->attr.f;
        if (fl & F_ELEM) { /* one value in, one value out: evaluate at rank 0 */
            IrType types[IR_MAXSRC];
            for (int k = 0; k < n->nsrc; k++)
                types[k] = (IrType){.dtype = nd(h, src[k])->type.dtype};
            IrType rt = {.dtype = t->dtype};
            void *v = eval_const(h, (Op)n->op, types, src, n->nsrc, &n->attr, rt);
            double r = ir_value_at(v, t->dtype, 0);
            free(v);
            return ir_fill(h, *t, r);
        }
        switch (n->op) {
        case OP_BROADCAST:
        case OP_RESHAPE:
        case OP_TRANSPOSE:
        case OP_SLICE:
        case OP_ALLREDUCE:  /* every process holds the constant: its mean is itself */
            return ir_fill(h, *t, f0);
        case OP_UNSLICE:
            return f0 == 0 && !signbit(f0) ? ir_fill(h, *t, 0) : IR_NONE;
        case OP_CONCAT:
            return f0 == nd(h, src[1])->attr.f ? ir_fill(h, *t, f0) : IR_NONE;
        default:
            break;
        }
    }
    /* small constants: evaluate the node itself */
    if (has_b(t) || ir_numel(t, 0) > FOLD_MAX)
        return IR_NONE;
    IrType types[IR_MAXSRC];
    for (int k = 0; k < n->nsrc; k++) {
        types[k] = nd(h, src[k])->type;
        if (has_b(&types[k]) || ir_numel(&types[k], 0) > FOLD_MAX)
            return IR_NONE;
    }
    void *v = eval_const(h, (Op)n->op, types, src, n->nsrc, &n->attr, *t);
    int64_t N = ir_numel(t, 0);
    float *data = arena_alloc(h->arena, sizeof(float) * (size_t)(N ? N : 1));
    bool exact = true;
    for (int64_t e = 0; e < N; e++) {
        double x = ir_value_at(v, t->dtype, e);
        data[e] = (float)x;
        exact = exact && (t->dtype == DT_F32 || (double)data[e] == x);
    }
    free(v);
    if (!exact)
        return IR_NONE;
    IrAttr at = {.i = {N}, .ni = 1, .data = data};
    return ir_add(h, OP_CONST, *t, NULL, 0, &at, n->loc);
}

/* z holds one element and broadcasts to t (all its dims are 1, and it has no more of them). */
static bool single(const IrGraph *g, uint32_t z, const IrType *t) {
    const IrType *zt = &nd(g, z)->type;
    if (zt->rank > t->rank)
        return false;
    for (int k = 0; k < zt->rank; k++)
        if (zt->dim[k].a != 0 || zt->dim[k].c != 1)
            return false;
    return true;
}

/* ---- windows along one axis: what unrolled time loops make ----
 * A loop over time slices x[:, t] out of one tensor, collects its states by concatenation, and
 * autodiff answers each slice with an unslice (zeros + the window) that the adjoints then add up:
 * T full-size tensors per sequence, O(T^2) work. These rules keep windows of windows as one
 * window (slice of a slice, slice of a concat or an unslice, unslice of an unslice) and add
 * unslices of disjoint windows as one unslice of their concatenation, so the T pieces become one
 * concat chain, which fuse turns into one kernel (docs/ir.md "simplify"). Windows with a step or
 * a B-dependent bound are left alone. */

/* The extent of x along axis, when it does not depend on B. */
static bool axis_ext(const IrGraph *g, uint32_t x, int axis, int64_t *n) {
    const IrType *t = &nd(g, x)->type;
    if (axis < 0 || axis >= t->rank || t->dim[axis].a)
        return false;
    *n = t->dim[axis].c;
    return true;
}

/* n is a slice or unslice of step 1 with constant bounds: its axis and window [s, e). */
static bool window(const IrNode *n, int *axis, int64_t *s, int64_t *e) {
    if ((n->op != OP_SLICE && n->op != OP_UNSLICE) || n->attr.i[3] != 1)
        return false;
    if (n->attr.ni == 6 && (n->attr.i[4] || n->attr.i[5]))
        return false;
    *axis = (int)n->attr.i[0];
    *s = n->attr.i[1];
    *e = n->attr.i[2];
    return *s >= 0 && *e > *s;
}

static IrType with_ext(IrType t, int axis, int64_t n) {
    t.dim[axis] = (Dim){0, n};
    return t;
}

static uint32_t mk_window(IrGraph *h, Op op, uint32_t x, int axis, int64_t s, int64_t e, IrType t) {
    IrAttr a = {.i = {axis, s, e, 1}, .ni = 4};
    return ir_op(h, op, &x, 1, &a, t);
}

static uint32_t concat2(IrGraph *h, uint32_t a, uint32_t b, int axis, IrType t) {
    uint32_t src[2] = {a, b};
    IrAttr at = {.i = {axis}, .ni = 1};
    return ir_op(h, OP_CONCAT, src, 2, &at, t);
}

/* x placed at [s, e) of a zero tensor of type big along axis */
static uint32_t unslice_of(IrGraph *h, uint32_t x, int axis, int64_t s, int64_t e, IrType big) {
    const IrNode *xn = nd(h, x);
    int ax;
    int64_t ws, we;
    if (s == 0 && e == big.dim[axis].c && !big.dim[axis].a)
        return x;
    if (is_fill_of(h, x, 0) && !signbit(xn->attr.f))
        return ir_fill(h, big, 0);
    if (xn->op == OP_UNSLICE && window(xn, &ax, &ws, &we) && ax == axis)
        return unslice_of(h, xn->src[0], axis, s + ws, s + we, big);
    return mk_window(h, OP_UNSLICE, x, axis, s, e, big);
}

/* the window [s, e) of x along axis (x's extent there known) */
static uint32_t slice_of(IrGraph *h, uint32_t x, int axis, int64_t s, int64_t e) {
    const IrNode *xn = nd(h, x);
    int64_t n, na;
    int ax;
    int64_t ws, we;
    if (!axis_ext(h, x, axis, &n))
        die("simplify: a window of %%%u along a B-dependent axis", x);
    if (s == 0 && e == n)
        return x;
    IrType t = with_ext(xn->type, axis, e - s);
    if (is_fill(h, x))
        return ir_fill(h, t, xn->attr.f);
    if (xn->op == OP_SLICE && window(xn, &ax, &ws, &we) && ax == axis)
        return slice_of(h, xn->src[0], axis, ws + s, ws + e);
    if (xn->op == OP_UNSLICE && window(xn, &ax, &ws, &we) && ax == axis) {
        if (e <= ws || s >= we)
            return ir_fill(h, t, 0);
        if (s >= ws && e <= we)
            return slice_of(h, xn->src[0], axis, s - ws, e - ws);
        int64_t lo = s > ws ? s : ws, hi = e < we ? e : we;
        return unslice_of(h, slice_of(h, xn->src[0], axis, lo - ws, hi - ws), axis, lo - s, hi - s, t);
    }
    if (xn->op == OP_CONCAT && xn->attr.i[0] == axis && axis_ext(h, xn->src[0], axis, &na)) {
        uint32_t a = xn->src[0], b = xn->src[1];
        if (e <= na)
            return slice_of(h, a, axis, s, e);
        if (s >= na)
            return slice_of(h, b, axis, s - na, e - na);
        int64_t nb = n - na;
        return concat2(h, slice_of(h, a, axis, s, na), slice_of(h, b, axis, 0, e - na < nb ? e - na : nb), axis, t);
    }
    return mk_window(h, OP_SLICE, x, axis, s, e, t);
}

/* unslice(a, [s1, e1)) + unslice(b, [s2, e2)) with disjoint windows on one axis: one unslice of
 * a, the zeros between, and b, concatenated; IR_NONE when x and y are not such a pair */
static uint32_t add_windows(IrGraph *h, uint32_t x, uint32_t y, const IrType *t) {
    int ax, ay;
    int64_t s1, e1, s2, e2;
    if (nd(h, x)->op != OP_UNSLICE || nd(h, y)->op != OP_UNSLICE || !window(nd(h, x), &ax, &s1, &e1) ||
        !window(nd(h, y), &ay, &s2, &e2) || ax != ay || t->dim[ax].a)
        return IR_NONE;
    if (s2 < s1) {
        uint32_t tx = x;
        int64_t ts = s1, te = e1;
        x = y, s1 = s2, e1 = e2;
        y = tx, s2 = ts, e2 = te;
    }
    if (e1 > s2)
        return IR_NONE;     /* overlapping windows: an addition */
    uint32_t a = nd(h, x)->src[0], b = nd(h, y)->src[0];
    IrType at = nd(h, a)->type;
    uint32_t piece = a;
    if (s2 > e1) {
        IrType gt = with_ext(at, ax, s2 - e1);
        piece = concat2(h, piece, ir_fill(h, gt, 0), ax, with_ext(at, ax, s2 - s1));
    }
    piece = concat2(h, piece, b, ax, with_ext(at, ax, e2 - s1));
    return unslice_of(h, piece, ax, s1, e2, *t);
}

/* A^T B + C^T D, as the weight gradient of a matrix used at every step of a time loop sums
 * them: [A; C]^T [B; D], one GEMM over the stacked rows (a concat along axis 0, which fuse
 * flattens), instead of T GEMMs whose T results are kept and added. IR_NONE when x and y are not
 * two such products. */
static uint32_t add_matmuls(IrGraph *h, uint32_t x, uint32_t y, const IrType *t) {
    const IrNode *a = nd(h, x), *b = nd(h, y);
    if (a->op != OP_MATMUL || b->op != OP_MATMUL || !a->attr.i[0] || a->attr.i[1] || !b->attr.i[0] ||
        b->attr.i[1] || t->rank != 2)
        return IR_NONE;
    uint32_t l[2] = {a->src[0], b->src[0]}, r[2] = {a->src[1], b->src[1]};
    const IrType *la = &nd(h, l[0])->type, *lb = &nd(h, l[1])->type;
    if (la->rank != 2 || lb->rank != 2 || nd(h, r[0])->type.rank != 2 || nd(h, r[1])->type.rank != 2)
        return IR_NONE;
    IrType lt = *la, rt = nd(h, r[0])->type;
    lt.dim[0].a += lb->dim[0].a, lt.dim[0].c += lb->dim[0].c;
    rt.dim[0] = lt.dim[0];
    uint32_t s[2] = {concat2(h, l[0], l[1], 0, lt), concat2(h, r[0], r[1], 0, rt)};
    IrAttr at = {.i = {1, 0}, .ni = 2};
    return ir_op(h, OP_MATMUL, s, 2, &at, *t);
}

/* Algebraic identities on the rebuilt operands; IR_NONE when none applies. */
static uint32_t identity(IrGraph *h, const IrNode *n, const uint32_t *s) {
    const IrType *t = &n->type;
    uint32_t x = s[0], y = n->nsrc > 1 ? s[1] : IR_NONE, r;
    switch (n->op) {
    case OP_STOP_GRAD: /* autodiff is done: stop_grad is the identity */
        return x;
    case OP_CAST:
        return nd(h, x)->type.dtype == t->dtype ? x : IR_NONE;
    case OP_NEG:
        return nd(h, x)->op == OP_NEG ? nd(h, x)->src[0] : IR_NONE;
    case OP_ADD:
        if (is_fill_of(h, y, 0))
            return x;
        if (is_fill_of(h, x, 0))
            return y;
        if ((r = add_windows(h, x, y, t)) != IR_NONE)
            return r;
        return add_matmuls(h, x, y, t);
    case OP_SLICE:
    case OP_UNSLICE: {
        int ax;
        int64_t s0, e0, ext;
        if (!window(n, &ax, &s0, &e0))
            return IR_NONE;
        if (n->op == OP_UNSLICE)
            return t->dim[ax].a ? IR_NONE : unslice_of(h, x, ax, s0, e0, *t);
        return axis_ext(h, x, ax, &ext) ? slice_of(h, x, ax, s0, e0) : IR_NONE;
    }
    case OP_SUB:
        if (is_fill_of(h, y, 0))
            return x;
        if (is_fill_of(h, x, 0))
            return ir_unary(h, OP_NEG, y);
        return IR_NONE;
    case OP_MUL:
        for (int k = 0; k < 2; k++) {
            uint32_t c = s[k], o = s[1 - k];
            if (is_fill_of(h, c, 1))
                return o;
            if (is_fill_of(h, c, -1))
                return ir_unary(h, OP_NEG, o);
            if (is_fill_of(h, c, 0) && known_finite(h, o, 0))
                return ir_fill(h, *t, 0);
        }
        return IR_NONE;
    case OP_DIV:
    case OP_POW:
        return is_fill_of(h, y, 1) ? x : IR_NONE;
    case OP_MAX:
    case OP_MIN:
        return x == y ? x : IR_NONE;
    case OP_SELECT:
        if (s[1] == s[2])
            return s[1];
        if (is_fill(h, x))
            return nd(h, x)->attr.f != 0 ? s[1] : s[2];
        return IR_NONE;
    case OP_BROADCAST:
        if (ir_type_eq(&nd(h, x)->type, t))
            return x;
        if (nd(h, x)->op == OP_BROADCAST)
            return ir_broadcast(h, nd(h, x)->src[0], *t);
        if (nd(h, x)->op == OP_RESHAPE && single(h, nd(h, x)->src[0], t))
            return ir_broadcast(h, nd(h, x)->src[0], *t);
        return IR_NONE;
    case OP_RESHAPE:
        if (ir_type_eq(&nd(h, x)->type, t))
            return x;
        if (nd(h, x)->op == OP_RESHAPE)
            return ir_reshape(h, nd(h, x)->src[0], *t);
        if (nd(h, x)->op == OP_BROADCAST && single(h, nd(h, x)->src[0], t))
            return ir_broadcast(h, nd(h, x)->src[0], *t); /* every element is the same value */
        return IR_NONE;
    case OP_TRANSPOSE: {
        IrAttr p = n->attr;
        uint32_t base = x;
        if (nd(h, x)->op == OP_TRANSPOSE) { /* t2(t1(z))[k] = z[p1[p2[k]]] */
            const IrAttr *p1 = &nd(h, x)->attr;
            for (int k = 0; k < p.ni; k++)
                p.i[k] = p1->i[n->attr.i[k]];
            base = nd(h, x)->src[0];
        }
        bool ident = true;
        for (int k = 0; k < p.ni; k++)
            ident = ident && p.i[k] == k;
        if (ident)
            return base;
        if (base != x)
            return ir_op(h, OP_TRANSPOSE, &base, 1, &p, *t);
        return IR_NONE;
    }
    case OP_SUM:
    case OP_RMAX: /* over no axes, or only axes of extent 1 */
        return ir_type_eq(&nd(h, x)->type, t) ? x : IR_NONE;
    default:
        return IR_NONE;
    }
}

/* Copy the nodes of g that its results need into a new graph, through ir_add; with rules, try
 * identities and folding on each node first. */
static IrGraph *rebuild(IrGraph *g, bool rules) {
    bool *live = arena_alloc(g->arena, (g->len ? g->len : 1) * sizeof *live);
    uint32_t *map = arena_alloc(g->arena, (g->len ? g->len : 1) * sizeof *map);
    for (int r = 0; r < g->nres; r++)
        live[g->res[r].node] = true;
    for (uint32_t i = g->len; i-- > 0;)
        if (live[i])
            for (int k = 0; k < g->nodes[i].nsrc; k++)
                live[g->nodes[i].src[k]] = true;
    uint32_t nlive = 0;
    for (uint32_t i = 0; i < g->len; i++)
        nlive += live[i];
    IrGraph *h = ir_graph_new(g->arena, g->name);
    ir_graph_reserve(h, nlive);     /* a copy needs no more; the rules may add some */
    for (uint32_t i = 0; i < g->len; i++) {
        map[i] = IR_NONE;
        if (!live[i])
            continue;
        IrNode n = g->nodes[i];
        uint32_t s[IR_MAXSRC];
        for (int k = 0; k < n.nsrc; k++)
            s[k] = map[n.src[k]];
        uint32_t r = IR_NONE;
        if (rules) {
            r = identity(h, &n, s);
            if (r == IR_NONE)
                r = fold(h, &n, s);
        }
        if (r == IR_NONE)
            r = ir_add(h, (Op)n.op, n.type, s, n.nsrc, &n.attr, n.loc);
        if (!ir_type_eq(&h->nodes[r].type, &n.type))
            die("simplify: rewriting %%%u (%s) of %s changed its type", i, ir_op_name[n.op],
                g->name);
        map[i] = r;
    }
    for (int r = 0; r < g->nres; r++)
        ir_result(h, map[g->res[r].node], g->res[r].kind, g->res[r].index);
    return h;
}

IrGraph *simplify(IrGraph *g) {
    /* rules, then a plain copy that drops what the rules left dead */
    return rebuild(rebuild(g, true), false);
}

void simplify_module(IrModule *m) {
    if (m->forward)
        m->forward = simplify(m->forward);
    if (m->evaluate)
        m->evaluate = simplify(m->evaluate);
    for (int k = 0; k < m->nsteps; k++)
        if (m->steps[k].graph)
            m->steps[k].graph = simplify(m->steps[k].graph);
}

/* ---- expand: composite ops into the primitives fuse makes row kernels of ---- */

/* SOFTMAX(x){f, causal}: z = f*x (f = 1: x), masked z = select(mask, z, -inf) with mask a bool
 * constant [T, S] (column j <= row i) that fuse reads in place (KA_TILE); then rmax, exp, sum,
 * div over the last axis. SOFTMAX_BWD(y, dy){f}: f*(y*(dy - sum(dy*y))). The float operations
 * are ir_eval.c's for the two ops, in order, so the interpreter and compiled code agree. */
static uint32_t expand_node(IrGraph *h, const IrNode *n, const uint32_t *s) {
    int r = n->type.rank;
    uint64_t last = (uint64_t)1 << (r - 1);
    IrType rowt = n->type;
    rowt.dim[r - 1] = (Dim){0, 1};
    IrAttr red = {.i = {(int64_t)last}, .ni = 1};
    float f = (float)n->attr.f;
    if (n->op == OP_SOFTMAX_BWD) {
        uint32_t y = s[0], dy = s[1];
        uint32_t p = ir_binary(h, OP_MUL, dy, y);
        uint32_t sm = ir_sum(h, p, last);
        uint32_t q = ir_binary(h, OP_MUL, y, ir_binary(h, OP_SUB, dy, ir_broadcast(h, sm, n->type)));
        return f == 1.0f ? q : ir_binary(h, OP_MUL, q, ir_scalar(h, DT_F32, f));
    }
    uint32_t z = f == 1.0f ? s[0] : ir_binary(h, OP_MUL, s[0], ir_scalar(h, DT_F32, f));
    if (n->attr.i[0]) {
        int64_t T = n->type.dim[r - 2].c, S = n->type.dim[r - 1].c;
        float *m = arena_alloc(h->arena, sizeof(float) * (size_t)(T * S > 0 ? T * S : 1));
        for (int64_t i = 0; i < T; i++)
            for (int64_t j = 0; j < S; j++)
                m[i * S + j] = j <= i;
        IrAttr at = {.i = {T * S}, .ni = 1, .data = m};
        IrType mt = {.dtype = DT_BOOL, .rank = 2, .dim = {{0, T}, {0, S}}};
        uint32_t mask = ir_add(h, OP_CONST, mt, NULL, 0, &at, n->loc);
        z = ir_select(h, ir_broadcast(h, mask, n->type), z, ir_fill(h, n->type, -INFINITY));
    }
    uint32_t mx = ir_op(h, OP_RMAX, &z, 1, &red, rowt);
    uint32_t e = ir_unary(h, OP_EXP, ir_binary(h, OP_SUB, z, ir_broadcast(h, mx, n->type)));
    uint32_t sm = ir_sum(h, e, last);
    return ir_binary(h, OP_DIV, e, ir_broadcast(h, sm, n->type));
}

IrGraph *expand(IrGraph *g) {
    bool any = false;
    for (uint32_t i = 0; i < g->len && !any; i++)
        any = g->nodes[i].op == OP_SOFTMAX || g->nodes[i].op == OP_SOFTMAX_BWD;
    if (!any)
        return g;
    uint32_t *map = arena_alloc(g->arena, (g->len ? g->len : 1) * sizeof *map);
    IrGraph *h = ir_graph_new(g->arena, g->name);
    ir_graph_reserve(h, g->len);
    for (uint32_t i = 0; i < g->len; i++) {
        IrNode n = g->nodes[i];
        uint32_t s[IR_MAXSRC];
        for (int k = 0; k < n.nsrc; k++)
            s[k] = map[n.src[k]];
        map[i] = n.op == OP_SOFTMAX || n.op == OP_SOFTMAX_BWD ? expand_node(h, &n, s)
                                                               : ir_add(h, (Op)n.op, n.type, s, n.nsrc, &n.attr, n.loc);
    }
    for (int r = 0; r < g->nres; r++)
        ir_result(h, map[g->res[r].node], g->res[r].kind, g->res[r].index);
    /* drop what the expansions left dead; when nothing is, that copy would be h itself */
    bool *live = arena_alloc(h->arena, (h->len ? h->len : 1) * sizeof *live);
    for (int r = 0; r < h->nres; r++)
        live[h->res[r].node] = true;
    bool dead = false;
    for (uint32_t i = h->len; i-- > 0;) {
        dead |= !live[i];
        if (live[i])
            for (int k = 0; k < h->nodes[i].nsrc; k++)
                live[h->nodes[i].src[k]] = true;
    }
    return dead ? rebuild(h, false) : h;
}
