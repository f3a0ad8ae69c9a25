/* ir_shape.c - the shape rule of every op: which operand types and attributes are valid, and the
 * result type they give. One switch, used by the builders (ir.c), ir_verify and the parser, so
 * the rules are written once; docs/ir.md states them in prose.
 *
 * Messages are string literals (no formatting state); ir_verify prints the node and its operand
 * types beside them.
 */
#include "ir.h"

#include <math.h>
#include <string.h>

static bool dim_eq(Dim x, Dim y) { return x.a == y.a && x.c == y.c; }
static bool dim_one(Dim d) { return d.a == 0 && d.c == 1; }
static bool is_num(DType d) { return d == DT_F32 || d == DT_I32; }

/* Element counts of two types agree for every B: each is a polynomial of degree <= IR_MAXRANK in
 * B, so agreeing at IR_MAXRANK + 1 points proves them equal. */
static bool numel_eq(const IrType *x, const IrType *y) {
    for (int64_t B = 1; B <= IR_MAXRANK + 1; B++)
        if (ir_numel(x, B) != ir_numel(y, B))
            return false;
    return true;
}

static bool has_b(const IrType *t) {
    for (int k = 0; k < t->rank; k++)
        if (t->dim[k].a)
            return true;
    return false;
}

/* x - y, or a dim that dim_nonneg rejects when that overflows (only hostile text gets there) */
static Dim dim_sub(Dim x, Dim y) {
    Dim r;
    if (__builtin_sub_overflow(x.a, y.a, &r.a) || __builtin_sub_overflow(x.c, y.c, &r.c))
        return (Dim){-1, 0};
    return r;
}
/* a*B + c >= 0 for every B >= 1 */
static bool dim_nonneg(Dim d) {
    int64_t at1;
    return d.a >= 0 && !__builtin_add_overflow(d.a, d.c, &at1) && at1 >= 0;
}

/* SLICE and UNSLICE: i = axis, start, stop, step, and with ni = 6 the B coefficients of start and
 * stop (start = i[4]*B + i[1], stop = i[5]*B + i[2]; concat's VJP along a batch axis needs them).
 * Checks them against the full type and gives the extent of the slice along the axis. */
static const char *slice_rule(const IrType *full, const IrAttr *at, Dim *len) {
    if (!at || (at->ni != 4 && at->ni != 6))
        return "needs i = axis, start, stop, step [, B coefficients of start and stop]";
    int64_t axis = at->i[0], step = at->i[3];
    Dim start = ir_slice_start(at), stop = ir_slice_stop(at);
    if (axis < 0 || axis >= full->rank)
        return "axis out of range";
    if (step < 1 || !dim_nonneg(start) || !dim_nonneg(dim_sub(stop, start)))
        return "needs 0 <= start <= stop and step >= 1";
    if (!dim_nonneg(dim_sub(full->dim[axis], stop)))
        return "stop past the end of the axis";
    Dim n = dim_sub(stop, start);
    if (step > 1) {
        if (n.a)
            return "a strided slice needs bounds that do not depend on B";
        n.c = n.c == 0 ? 0 : (n.c - 1) / step + 1; /* ceil without overflow */
    }
    *len = n;
    return NULL;
}

/* MAXPOOL, AVGPOOL: x [N, *spatial, C] with 1 or 2 spatial dims of known extent; i = window,
 * stride, pad_lo, pad_hi per spatial dim. Each extent becomes (d + lo + hi - k) / s + 1 (floor);
 * pads under the window keep every window on at least one real element. */
static const char *pool_rule(const IrType *x, const IrAttr *at, IrType *y) {
    int nd = at->ni / 4;
    if ((at->ni != 4 && at->ni != 8))
        return "needs i = window, stride, pad_lo, pad_hi for each of 1 or 2 spatial dims";
    if (x->rank != nd + 2 || x->dtype != DT_F32)
        return "needs f32 [N, spatial..., C] with as many spatial dims as the attributes give";
    *y = *x;
    for (int d = 0; d < nd; d++) {
        int64_t k = at->i[d], s = at->i[nd + d], lo = at->i[2 * nd + d], hi = at->i[3 * nd + d];
        Dim e = x->dim[1 + d];
        if (k < 1 || s < 1 || k > (1 << 20) || s > (1 << 20))
            return "window and stride must be at least 1";
        if (lo < 0 || hi < 0 || lo >= k || hi >= k)
            return "padding must be at least 0 and less than the window";
        if (e.a || e.c < 0 || e.c > (INT64_C(1) << 40))
            return "spatial dims must be known extents (no B)";
        if (e.c + lo + hi < k)
            return "the window is larger than the padded input";
        y->dim[1 + d] = (Dim){0, (e.c + lo + hi - k) / s + 1};
    }
    return NULL;
}

IrPool ir_pool_geom(const IrAttr *at, const IrType *x, int64_t B) {
    int nd = at->ni / 4;
    IrPool p = {.k = {1, 1}, .s = {1, 1}, .lo = {0, 0}, .h = 1};
    for (int d = 0; d < nd; d++) {
        int q = 2 - nd + d;     /* a 1-D pool is the W dim */
        p.k[q] = at->i[d];
        p.s[q] = at->i[nd + d];
        p.lo[q] = at->i[2 * nd + d];
    }
    p.n = ir_dim_eval(x->dim[0], B);
    if (nd == 2)
        p.h = x->dim[1].c;
    p.w = x->dim[nd].c;
    p.c = x->dim[nd + 1].c;
    IrType y;
    pool_rule(x, at, &y);
    p.oh = nd == 2 ? y.dim[1].c : 1;
    p.ow = y.dim[nd].c;
    return p;
}

/* Convolution: every dim but N is a constant; sizes floor like torch and Keras. The attribute
 * bounds keep the arithmetic far from overflow whatever a parsed file says. */
#define CONV_MAXDIM ((int64_t)1 << 31)
const char *ir_conv_geom(const IrType *x, const IrType *w, const IrAttr *at, IrConv *c, IrType *y) {
    int nsp = x->rank - 2;
    if (nsp < 1 || nsp > 2)
        return "input must be [N, L, C] or [N, H, W, C]";
    if (!at || at->ni != 4 * nsp)
        return "needs i = stride, dilation, pad_lo, pad_hi per spatial dim";
    if (w->rank != nsp + 2)
        return "weights must be [*K, C/groups, F] with one K per spatial dim";
    if (x->dtype != DT_F32 || w->dtype != DT_F32)
        return "operands must be f32";
    for (int k = 1; k < x->rank; k++)
        if (x->dim[k].a || x->dim[k].c < 1 || x->dim[k].c >= CONV_MAXDIM)
            return "input dims but the first must be positive constants";
    for (int k = 0; k < w->rank; k++)
        if (w->dim[k].a || w->dim[k].c < 1 || w->dim[k].c >= CONV_MAXDIM)
            return "weight dims must be positive constants";
    for (int k = 0; k < 4 * nsp; k++) {
        bool pad = k >= 2 * nsp;
        if (at->i[k] < (pad ? 0 : 1) || at->i[k] > (1 << 20))
            return "stride and dilation must be in [1, 2^20], padding in [0, 2^20]";
    }
    IrConv g = {.N = x->dim[0], .nsp = nsp, .H = 1, .KH = 1, .OH = 1, .sh = 1, .dh = 1};
    int64_t s[2], d[2], pl[2], ph[2], in[2], kk[2], o[2];
    for (int k = 0; k < nsp; k++) {
        s[k] = at->i[k], d[k] = at->i[nsp + k], pl[k] = at->i[2 * nsp + k], ph[k] = at->i[3 * nsp + k];
        in[k] = x->dim[1 + k].c, kk[k] = w->dim[k].c;
        int64_t span = in[k] + pl[k] + ph[k] - d[k] * (kk[k] - 1) - 1;
        if (span < 0)
            return "the (dilated) kernel is larger than the padded input";
        o[k] = span / s[k] + 1;
    }
    g.C = x->dim[nsp + 1].c;
    int64_t cg = w->dim[nsp].c;
    g.F = w->dim[nsp + 1].c;
    if (g.C % cg)
        return "input channels are not a multiple of the weights' channels per group";
    g.G = g.C / cg;
    if (g.F % g.G)
        return "output channels are not a multiple of the groups";
    if (nsp == 2)
        g.H = in[0], g.KH = kk[0], g.OH = o[0], g.sh = s[0], g.dh = d[0], g.ph = pl[0];
    int l = nsp - 1;    /* the last spatial dim is W (1-D: the only one) */
    g.W = in[l], g.KW = kk[l], g.OW = o[l], g.sw = s[l], g.dw = d[l], g.pw = pl[l];
    if (c)
        *c = g;
    *y = *x;
    for (int k = 0; k < nsp; k++)
        y->dim[1 + k] = (Dim){0, o[k]};
    y->dim[nsp + 1] = (Dim){0, g.F};
    return NULL;
}

const char *ir_conv_node_geom(Op op, const IrType *a, const IrType *b, const IrType *t, const IrAttr *at,
                              IrConv *c) {
    IrType y;
    if (op == OP_CONV)
        return ir_conv_geom(a, b, at, c, &y);
    if (op == OP_CONV_BWD_DATA)
        return ir_conv_geom(t, b, at, c, &y);
    if (op == OP_CONV_BWD_FILTER)
        return ir_conv_geom(a, t, at, c, &y);
    return "not a convolution";
}

const char *ir_shape_rule(Op op, const IrType *s, int nsrc, const IrAttr *at, IrType *t) {
    static const IrAttr none;
    if (!at)
        at = &none;
    if ((unsigned)op >= OP__COUNT)
        return "unknown op";
    if (nsrc != ir_op_nsrc[op])
        return "wrong number of operands";
    if (t->rank < 0 || t->rank > IR_MAXRANK)
        return "rank out of range";
    int fl = ir_op_flags[op];

    switch (op) {
    case OP_INPUT:
    case OP_PARAM:
    case OP_STATE:
        if (at->ni < 1 || at->i[0] < 0)
            return "needs i[0] = the bufs index";
        return NULL;
    case OP_CONST:
        if (at->data) {
            if (at->ni < 1 || has_b(t) || ir_numel(t, 0) != at->i[0])
                return "literal data needs i[0] = element count of a type without B";
        }
        return NULL;
    case OP_HYPER:
        if (at->ni < 1 || at->i[0] < HY_LR || at->i[0] > HY_BATCH)
            return "needs i[0] = lr | step | total_steps | batch";
        if (t->rank != 0 || !is_num(t->dtype))
            return "is a rank-0 f32 or i32";
        return NULL;
    case OP_RAND:
        if (at->ni < 1)
            return "needs i[0] = the stream";
        if (t->dtype != DT_F32)
            return "makes f32 values";
        return NULL;

    case OP_CAST: {
        DType want = t->dtype;
        *t = s[0];
        t->dtype = want;
        return NULL;
    }
    case OP_NOT:
        if (s[0].dtype != DT_BOOL)
            return "needs a bool operand";
        *t = s[0];
        return NULL;
    case OP_NEG:
    case OP_ABS:
    case OP_SIGN:
    case OP_FLOOR:
    case OP_CEIL:
    case OP_ROUND:
    case OP_STOP_GRAD:
        if (op != OP_STOP_GRAD && !is_num(s[0].dtype))
            return "needs an f32 or i32 operand";
        *t = s[0];
        return NULL;

    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_POW:
    case OP_MOD:
    case OP_MAX:
    case OP_MIN:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
    case OP_EQ:
    case OP_NE:
    case OP_AND:
    case OP_OR:
        if (!ir_type_eq(&s[0], &s[1]))
            return "operands differ in type (elementwise ops take identical types; broadcast "
                   "first)";
        *t = s[0];
        if (op == OP_AND || op == OP_OR) {
            if (s[0].dtype != DT_BOOL)
                return "needs bool operands";
        } else if (op == OP_EQ || op == OP_NE) {
            /* any dtype */
        } else if (op == OP_POW) {
            if (s[0].dtype != DT_F32)
                return "needs f32 operands";
        } else if (!is_num(s[0].dtype)) {
            return "needs f32 or i32 operands";
        }
        if (op >= OP_LT && op <= OP_NE)
            t->dtype = DT_BOOL;
        return NULL;
    case OP_SELECT:
        if (s[0].dtype != DT_BOOL)
            return "condition must be bool";
        if (!ir_type_eq(&s[1], &s[2]))
            return "the two values differ in type";
        {
            IrType c = s[0];
            c.dtype = s[1].dtype;
            if (!ir_type_eq(&c, &s[1]))
                return "condition and values differ in shape";
        }
        *t = s[1];
        return NULL;

    case OP_BROADCAST: {
        if (t->dtype != s[0].dtype)
            return "changes the dtype";
        if (s[0].rank > t->rank)
            return "to a smaller rank";
        int off = t->rank - s[0].rank;
        for (int k = 0; k < s[0].rank; k++)
            if (!dim_eq(s[0].dim[k], t->dim[k + off]) && !dim_one(s[0].dim[k]))
                return "operand dims must equal the result's or be 1 (NumPy rules)";
        return NULL;
    }
    case OP_ALLREDUCE:
        if (s[0].dtype != DT_F32)
            return "needs an f32 operand";
        *t = s[0];
        return NULL;
    case OP_RESHAPE:
        if (t->dtype != s[0].dtype)
            return "changes the dtype";
        if (!numel_eq(&s[0], t))
            return "element counts differ";
        return NULL;
    case OP_TRANSPOSE: {
        if (at->ni != s[0].rank)
            return "needs i[0..rank) = a permutation of the axes";
        bool seen[8] = {0};
        IrType r = s[0];
        for (int k = 0; k < at->ni; k++) {
            if (at->i[k] < 0 || at->i[k] >= s[0].rank || seen[at->i[k]])
                return "i is not a permutation of the axes";
            seen[at->i[k]] = true;
            r.dim[k] = s[0].dim[at->i[k]];
        }
        *t = r;
        return NULL;
    }
    case OP_SLICE: {
        Dim len;
        const char *why = slice_rule(&s[0], at, &len);
        if (why)
            return why;
        *t = s[0];
        t->dim[at->i[0]] = len;
        return NULL;
    }
    case OP_UNSLICE: {
        if (t->dtype != s[0].dtype || t->rank != s[0].rank)
            return "result must have the operand's dtype and rank";
        Dim len;
        const char *why = slice_rule(t, at, &len);
        if (why)
            return why;
        for (int k = 0; k < t->rank; k++)
            if (!dim_eq(s[0].dim[k], k == at->i[0] ? len : t->dim[k]))
                return "operand is not the slice of the result type";
        return NULL;
    }
    case OP_CONCAT: {
        if (at->ni != 1 || at->i[0] < 0 || at->i[0] >= s[0].rank)
            return "needs i[0] = an axis of the operands";
        if (s[0].dtype != s[1].dtype || s[0].rank != s[1].rank)
            return "operands differ in dtype or rank";
        int ax = (int)at->i[0];
        for (int k = 0; k < s[0].rank; k++)
            if (k != ax && !dim_eq(s[0].dim[k], s[1].dim[k]))
                return "operands differ in a dim other than the axis";
        *t = s[0];
        if (__builtin_add_overflow(s[0].dim[ax].a, s[1].dim[ax].a, &t->dim[ax].a) ||
            __builtin_add_overflow(s[0].dim[ax].c, s[1].dim[ax].c, &t->dim[ax].c))
            return "the axis extent overflows";
        return NULL;
    }
    case OP_SUM:
    case OP_RMAX: {
        if (at->ni != 1 || at->i[0] < 0 || (s[0].rank < 63 && (at->i[0] >> s[0].rank) != 0))
            return "needs i[0] = a bit mask of the operand's axes";
        if (!is_num(s[0].dtype))
            return "needs an f32 or i32 operand";
        *t = s[0];
        for (int k = 0; k < s[0].rank; k++)
            if (at->i[0] >> k & 1)
                t->dim[k] = (Dim){0, 1};
        return NULL;
    }
    case OP_MATMUL: {
        if (at->ni != 2 || (at->i[0] & ~1) || (at->i[1] & ~1))
            return "needs i = trans a, trans b (0 or 1)";
        /* 2-D, or batched: [P, M, K] @ [P, K, N] -> [P, M, N], the flags on the last two dims */
        if (!((s[0].rank == 2 && s[1].rank == 2) || (s[0].rank == 3 && s[1].rank == 3)))
            return "operands must be both 2-D or both 3-D";
        if (s[0].dtype != DT_F32 || s[1].dtype != DT_F32)
            return "operands must be f32";
        int o = s[0].rank - 2;
        if (o && !dim_eq(s[0].dim[0], s[1].dim[0]))
            return "batch dims differ";
        Dim m = s[0].dim[o + (at->i[0] ? 1 : 0)], ka = s[0].dim[o + (at->i[0] ? 0 : 1)];
        Dim kb = s[1].dim[o + (at->i[1] ? 1 : 0)], n = s[1].dim[o + (at->i[1] ? 0 : 1)];
        if (!dim_eq(ka, kb))
            return "inner dims differ";
        *t = o ? (IrType){.dtype = DT_F32, .rank = 3, .dim = {s[0].dim[0], m, n}}
               : (IrType){.dtype = DT_F32, .rank = 2, .dim = {m, n}};
        return NULL;
    }
    case OP_SOFTMAX:
    case OP_SOFTMAX_BWD:
        /* over the last axis; SOFTMAX's causal flag masks column j of row i (the second-last
         * axis) where j > i; SOFTMAX_BWD takes y and dy of one type */
        if (at->ni != 1 || (at->i[0] & ~1) || (op == OP_SOFTMAX_BWD && at->i[0]))
            return "needs i[0] = causal (0 or 1; 0 for softmax_bwd)";
        if (!isfinite(at->f))
            return "needs a finite scale f";
        if (s[0].dtype != DT_F32 || s[0].rank < 1 + (int)at->i[0])
            return at->i[0] ? "needs an f32 operand of rank 2 or more" : "needs an f32 operand of rank 1 or more";
        if (at->i[0] && (s[0].dim[s[0].rank - 1].a || s[0].dim[s[0].rank - 2].a))
            return "a causal mask's last two dims must not depend on B";
        if (op == OP_SOFTMAX_BWD && !ir_type_eq(&s[0], &s[1]))
            return "y and dy must have one type";
        *t = s[0];
        return NULL;
    case OP_CONV:
        return ir_conv_geom(&s[0], &s[1], at, NULL, t);
    case OP_CONV_BWD_DATA:
    case OP_CONV_BWD_FILTER: {
        /* the node's type is the input (data) or the weights (filter); the convolution of
         * that shape must give the gradient's */
        IrType want = *t, y;
        bool data = op == OP_CONV_BWD_DATA;
        const char *why = ir_conv_geom(data ? &want : &s[0], data ? &s[1] : &want, at, NULL, &y);
        if (why)
            return why;
        if (!ir_type_eq(&y, &s[data ? 0 : 1]))
            return data ? "the convolution of the result type with w does not give dy's type"
                        : "the convolution of x with the result type does not give dy's type";
        return NULL;
    }
    case OP_ONE_HOT:
        if (at->ni != 1 || at->i[0] < 1)
            return "needs i[0] = number of classes";
        if (s[0].dtype != DT_I32)
            return "needs i32 labels";
        if (s[0].rank >= IR_MAXRANK)
            return "rank too large";
        *t = s[0];
        t->dtype = DT_F32;
        t->dim[t->rank++] = (Dim){0, at->i[0]};
        return NULL;
    case OP_GATHER:
        if (s[0].rank != 2 || s[0].dtype != DT_F32)
            return "table must be f32[V, D]";
        if (s[1].dtype != DT_I32)
            return "indices must be i32";
        if (s[1].rank >= IR_MAXRANK)
            return "rank too large";
        *t = s[1];
        t->dtype = DT_F32;
        t->dim[t->rank++] = s[0].dim[1];
        return NULL;
    case OP_SCATTER_ADD:
        if (t->rank != 2 || t->dtype != DT_F32)
            return "result must be f32[V, D]";
        if (s[1].dtype != DT_I32)
            return "indices must be i32";
        if (s[0].dtype != DT_F32 || s[0].rank != s[1].rank + 1)
            return "values must be f32[idx..., D]";
        for (int k = 0; k < s[1].rank; k++)
            if (!dim_eq(s[0].dim[k], s[1].dim[k]))
                return "values' leading dims differ from the indices'";
        if (!dim_eq(s[0].dim[s[1].rank], t->dim[1]))
            return "values' last dim differs from the result's D";
        return NULL;

    case OP_MAXPOOL:
    case OP_AVGPOOL:
        return pool_rule(&s[0], at, t);
    case OP_MAXPOOL_BWD: {
        IrType y;
        const char *why = pool_rule(&s[0], at, &y);
        if (why)
            return why;
        if (!ir_type_eq(&s[1], &y))
            return "the adjoint must have the pooled type of x";
        *t = s[0];
        return NULL;
    }
    case OP_AVGPOOL_BWD: {
        IrType y;
        const char *why = pool_rule(t, at, &y);
        if (why)
            return why;
        if (!ir_type_eq(&s[0], &y))
            return "the adjoint must have the pooled type of the result";
        return NULL;
    }

    default:
        break;
    }
    /* the remaining elementwise unary math: f32 -> f32 */
    if ((fl & F_ELEM) && nsrc == 1) {
        if (s[0].dtype != DT_F32)
            return "needs an f32 operand";
        *t = s[0];
        return NULL;
    }
    return "no shape rule for this op";
}
