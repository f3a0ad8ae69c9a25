/* interp.c - the reference interpreter: every op of ops.def as plain C loops over dense row-major
 * buffers, one buffer per node, evaluated in node order.
 *
 * It defines the semantics the fast backends are held to (STYLE.md: tinygrad's ops_python), so it
 * favours the obvious over the fast: elementwise math is done in f32 exactly as generated code does
 * it; sums, matmuls and scatter-adds accumulate in double and round once (the better oracle: the
 * compiled code's f32 accumulation is within rounding of it). Randomness comes from
 * nnc_rand_uniform, the same function generated code calls. Bugs are fatal (die); the interpreter
 * allocates with malloc because it also runs training loops inside nnc, where an arena would grow
 * without bound.
 */
#include "interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static size_t elsize(DType d) { return d == DT_BOOL ? 1 : 4; }

static void *xcalloc(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("interp: calloc of %zu x %zu bytes for %s failed", n, size, what);
    return p;
}

/* Dims of a type at batch size B. */
static void dims_of(const IrType *t, int64_t B, int64_t *d) {
    for (int k = 0; k < t->rank; k++) {
        d[k] = ir_dim_eval(t->dim[k], B);
        if (d[k] < 0)
            die("interp: negative dim %lld at B = %lld", (long long)d[k], (long long)B);
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

/* Store v converted to dtype d: f32 rounds, i32 truncates toward zero and saturates (NaN -> 0),
 * bool is v != 0. CAST, CONST and HYPER all convert this way (docs/ir.md). */
static void put(void *p, DType d, int64_t i, double v) {
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

static float sigmoidf(float x) {
    if (x >= 0)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static float signf(float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : x; }

static float unary_f32(Op op, float x) {
    switch (op) {
    case OP_NEG:
        return -x;
    case OP_EXP:
        return expf(x);
    case OP_LOG:
        return logf(x);
    case OP_SQRT:
        return sqrtf(x);
    case OP_TANH:
        return tanhf(x);
    case OP_SIGMOID:
        return sigmoidf(x);
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
    case OP_STOP_GRAD:
        return x;
    default:
        die("interp: %s is not a unary f32 op", ir_op_name[op]);
    }
}

static int32_t unary_i32(Op op, int32_t x) {
    switch (op) {
    case OP_NEG:
        return (int32_t)(0u - (uint32_t)x);
    case OP_ABS:
        return x < 0 ? (int32_t)(0u - (uint32_t)x) : x;
    case OP_SIGN:
        return (x > 0) - (x < 0);
    case OP_STOP_GRAD:
        return x;
    default:
        die("interp: %s is not a unary i32 op", ir_op_name[op]);
    }
}

/* MAX/MIN propagate NaN from either side (as torch.maximum does); ties pick the first operand. */
static float binary_f32(Op op, float x, float y) {
    switch (op) {
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
    case OP_MAX:
        return (x >= y || isnan(x)) ? x : y;
    case OP_MIN:
        return (x <= y || isnan(x)) ? x : y;
    default:
        die("interp: %s is not a binary f32 op", ir_op_name[op]);
    }
}

/* i32 arithmetic wraps (two's complement); x / 0 is 0 and truncates toward zero otherwise. */
static int32_t binary_i32(Op op, int32_t x, int32_t y) {
    switch (op) {
    case OP_ADD:
        return (int32_t)((uint32_t)x + (uint32_t)y);
    case OP_SUB:
        return (int32_t)((uint32_t)x - (uint32_t)y);
    case OP_MUL:
        return (int32_t)((uint32_t)x * (uint32_t)y);
    case OP_DIV:
        return y == 0 ? 0 : (x == INT32_MIN && y == -1) ? INT32_MIN : x / y;
    case OP_MAX:
        return x >= y ? x : y;
    case OP_MIN:
        return x <= y ? x : y;
    default:
        die("interp: %s is not a binary i32 op", ir_op_name[op]);
    }
}

static bool compare(Op op, double x, double y) {
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
        die("interp: %s is not a comparison", ir_op_name[op]);
    }
}

static double hyper(const NncArgs *a, int64_t which) {
    switch (which) {
    case HY_LR:
        return a->lr;
    case HY_STEP:
        return (double)a->step;
    case HY_TOTAL_STEPS:
        return (double)a->total_steps;
    case HY_BATCH:
        return (double)a->B;
    }
    die("interp: unknown hyper %lld", (long long)which);
}

/* Evaluate node i of g into a fresh buffer. */
static void *eval_node(const IrGraph *g, uint32_t i, void **vals, const NncArgs *a) {
    const IrNode *n = &g->nodes[i];
    const IrType *t = &n->type;
    int64_t B = a->B, N = ir_numel(t, B);
    int64_t d[IR_MAXRANK];
    dims_of(t, B, d);
    void *out = xcalloc((size_t)N, elsize(t->dtype), ir_op_name[n->op]);
    const void *x = n->nsrc > 0 ? vals[n->src[0]] : NULL;
    const void *y = n->nsrc > 1 ? vals[n->src[1]] : NULL;
    const IrType *tx = n->nsrc > 0 ? &g->nodes[n->src[0]].type : NULL;
    const IrType *tyy = n->nsrc > 1 ? &g->nodes[n->src[1]].type : NULL;
    const IrAttr *at = &n->attr;
    Op op = (Op)n->op;

    switch (op) {
    case OP_INPUT:
    case OP_PARAM:
    case OP_STATE:
        unreachable(); /* aliased by interp_eval */
    case OP_CONST:
        for (int64_t e = 0; e < N; e++)
            put(out, t->dtype, e, at->data ? at->data[e] : at->f);
        return out;
    case OP_HYPER:
        put(out, t->dtype, 0, hyper(a, at->i[0]));
        return out;
    case OP_RAND:
        for (int64_t e = 0; e < N; e++)
            ((float *)out)[e] = nnc_rand_uniform(a->seed, (uint64_t)at->i[0], (uint64_t)e);
        return out;

    case OP_CAST:
        for (int64_t e = 0; e < N; e++)
            put(out, t->dtype, e, interp_value_at(x, tx->dtype, e));
        return out;
    case OP_NOT:
        for (int64_t e = 0; e < N; e++)
            ((uint8_t *)out)[e] = !((const uint8_t *)x)[e];
        return out;
    case OP_NEG:
    case OP_EXP:
    case OP_LOG:
    case OP_SQRT:
    case OP_TANH:
    case OP_SIGMOID:
    case OP_ATAN:
    case OP_ABS:
    case OP_SIGN:
    case OP_SIN:
    case OP_COS:
    case OP_STOP_GRAD:
        if (t->dtype == DT_F32)
            for (int64_t e = 0; e < N; e++)
                ((float *)out)[e] = unary_f32(op, ((const float *)x)[e]);
        else if (t->dtype == DT_I32)
            for (int64_t e = 0; e < N; e++)
                ((int32_t *)out)[e] = unary_i32(op, ((const int32_t *)x)[e]);
        else
            memcpy(out, x, (size_t)N); /* stop_grad of a bool */
        return out;

    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_POW:
    case OP_MAX:
    case OP_MIN:
        if (t->dtype == DT_F32)
            for (int64_t e = 0; e < N; e++)
                ((float *)out)[e] = binary_f32(op, ((const float *)x)[e], ((const float *)y)[e]);
        else
            for (int64_t e = 0; e < N; e++)
                ((int32_t *)out)[e] =
                    binary_i32(op, ((const int32_t *)x)[e], ((const int32_t *)y)[e]);
        return out;
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
                compare(op, interp_value_at(x, tx->dtype, e), interp_value_at(y, tx->dtype, e));
        return out;
    case OP_SELECT: {
        const uint8_t *c = x;
        const char *p = y, *q = vals[n->src[2]];
        size_t el = elsize(t->dtype);
        for (int64_t e = 0; e < N; e++)
            memcpy((char *)out + e * el, (c[e] ? p : q) + e * el, el);
        return out;
    }

    case OP_BROADCAST: {
        int64_t xd[IR_MAXRANK], xs[IR_MAXRANK], os[IR_MAXRANK], ss[IR_MAXRANK] = {0};
        dims_of(tx, B, xd);
        strides_of(xd, tx->rank, xs);
        strides_of(d, t->rank, os);
        int off = t->rank - tx->rank;
        for (int k = 0; k < tx->rank; k++)
            ss[k + off] = xd[k] == 1 && d[k + off] != 1 ? 0 : xs[k];
        strided_copy(out, os, 0, x, ss, 0, t->rank, d, elsize(t->dtype));
        return out;
    }
    case OP_RESHAPE:
        memcpy(out, x, (size_t)N * elsize(t->dtype));
        return out;
    case OP_TRANSPOSE: {
        int64_t xd[IR_MAXRANK], xs[IR_MAXRANK], os[IR_MAXRANK], ss[IR_MAXRANK];
        dims_of(tx, B, xd);
        strides_of(xd, tx->rank, xs);
        strides_of(d, t->rank, os);
        for (int k = 0; k < t->rank; k++)
            ss[k] = xs[at->i[k]];
        strided_copy(out, os, 0, x, ss, 0, t->rank, d, elsize(t->dtype));
        return out;
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
            strided_copy(out, ps, 0, x, vs, off, t->rank, pd, elsize(t->dtype));
        else
            strided_copy(out, vs, off, x, ps, 0, t->rank, pd, elsize(t->dtype));
        return out;
    }
    case OP_CONCAT: {
        int ax = (int)at->i[0];
        int64_t os[IR_MAXRANK], xd[IR_MAXRANK], xs[IR_MAXRANK], yd[IR_MAXRANK], ys[IR_MAXRANK];
        strides_of(d, t->rank, os);
        dims_of(tx, B, xd);
        dims_of(tyy, B, yd);
        strides_of(xd, tx->rank, xs);
        strides_of(yd, tyy->rank, ys);
        strided_copy(out, os, 0, x, xs, 0, t->rank, xd, elsize(t->dtype));
        strided_copy(out, os, xd[ax] * os[ax], y, ys, 0, t->rank, yd, elsize(t->dtype));
        return out;
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
            double v = interp_value_at(x, tx->dtype, e);
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
                put(out, t->dtype, e, acc[e]);
        }
        free(acc);
        return out;
    }

    case OP_MATMUL: {
        int64_t ad[2], bd[2];
        dims_of(tx, B, ad);
        dims_of(tyy, B, bd);
        bool ta = at->i[0], tb = at->i[1];
        int64_t M = d[0], Nn = d[1], K = ta ? ad[0] : ad[1];
        /* element (i, k) of op(A) and (k, j) of op(B) */
        int64_t as_i = ta ? 1 : ad[1], as_k = ta ? ad[1] : 1;
        int64_t bs_k = tb ? 1 : bd[1], bs_j = tb ? bd[1] : 1;
        const float *A = x, *Bm = y;
        double *row = xcalloc((size_t)Nn, sizeof(double), "matmul row");
        for (int64_t i0 = 0; i0 < M; i0++) {
            memset(row, 0, sizeof(double) * (size_t)Nn);
            for (int64_t k = 0; k < K; k++) {
                double av = A[i0 * as_i + k * as_k];
                for (int64_t j = 0; j < Nn; j++)
                    row[j] += av * Bm[k * bs_k + j * bs_j];
            }
            for (int64_t j = 0; j < Nn; j++)
                ((float *)out)[i0 * Nn + j] = (float)row[j];
        }
        free(row);
        return out;
    }
    case OP_ONE_HOT: {
        int64_t C = at->i[0], S = ir_numel(tx, B);
        for (int64_t s = 0; s < S; s++) {
            int32_t l = ((const int32_t *)x)[s];
            if (l >= 0 && l < C)
                ((float *)out)[s * C + l] = 1.0f;
        }
        return out;
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
        return out;
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
        return out;
    }
    case OP__COUNT:
        break;
    }
    die("interp: op %d has no evaluation", (int)op);
}

static bool is_buf_source(Op op) { return op == OP_INPUT || op == OP_PARAM || op == OP_STATE; }

void **interp_eval(const IrGraph *g, const NncArgs *a, bool keep_all) {
    void **vals = xcalloc(g->len, sizeof *vals, "node values");
    uint32_t *last = xcalloc(g->len, sizeof *last, "last uses");
    for (uint32_t i = 0; i < g->len; i++) {
        last[i] = i;
        for (int k = 0; k < g->nodes[i].nsrc; k++)
            last[g->nodes[i].src[k]] = i;
    }
    for (int r = 0; r < g->nres; r++)
        last[g->res[r].node] = UINT32_MAX;
    for (uint32_t i = 0; i < g->len; i++) {
        const IrNode *n = &g->nodes[i];
        if (is_buf_source((Op)n->op)) {
            int64_t b = n->attr.i[0];
            if (!a->bufs || !a->bufs[b])
                die("interp: %s %s reads bufs[%lld], which is NULL", ir_op_name[n->op],
                    n->attr.name ? n->attr.name : "?", (long long)b);
            /* a private copy, so writing results never changes a value still to be read */
            size_t bytes = (size_t)ir_numel(&n->type, a->B) * elsize(n->type.dtype);
            vals[i] = xcalloc(1, bytes, "source copy");
            memcpy(vals[i], a->bufs[b], bytes);
        } else {
            vals[i] = eval_node(g, i, vals, a);
        }
        if (keep_all)
            continue;
        for (int k = 0; k < n->nsrc; k++) {
            uint32_t s = n->src[k];
            if (last[s] == i && vals[s]) {
                free(vals[s]);
                vals[s] = NULL;
            }
        }
        if (last[i] == i) {
            free(vals[i]);
            vals[i] = NULL;
        }
    }
    free(last);
    return vals;
}

void interp_free(const IrGraph *g, void **vals) {
    if (!vals)
        return;
    for (uint32_t i = 0; i < g->len; i++)
        free(vals[i]);
    free(vals);
}

void interp_run(const IrGraph *g, NncArgs *a) {
    void **vals = interp_eval(g, a, false);
    for (int r = 0; r < g->nres; r++) {
        const IrResult *res = &g->res[r];
        const IrNode *n = &g->nodes[res->node];
        size_t bytes = (size_t)ir_numel(&n->type, a->B) * elsize(n->type.dtype);
        switch (res->kind) {
        case RES_LOSS:
            if (!a->losses)
                die("interp: graph %s has a loss but the call has no losses array", g->name);
            a->losses[res->index] = (float)interp_value_at(vals[res->node], n->type.dtype, 0);
            break;
        case RES_OUTPUT:
        case RES_UPDATE:
            if (!a->bufs || !a->bufs[res->index])
                die("interp: graph %s writes bufs[%d], which is NULL", g->name, res->index);
            memcpy(a->bufs[res->index], vals[res->node], bytes);
            break;
        case RES_GRAD: /* a gradient optim has not consumed yet: computed, kept nowhere */
            break;
        }
    }
    interp_free(g, vals);
}

/* ---- the module as a model for the runtime ---- */

static int64_t ws_size(int64_t B) { return 0; } /* the interpreter allocates its own buffers */

static IrModule *module_of(NncArgs *a) {
    if (!a->user)
        die("interp: NncArgs.user is NULL; the runtime must copy NncModelDef.user into it");
    return a->user;
}

static void run_forward(NncArgs *a) {
    IrModule *m = module_of(a);
    if (!m->forward)
        die("interp: model %s has no forward graph", m->name);
    interp_run(m->forward, a);
}

static void run_evaluate(NncArgs *a) {
    IrModule *m = module_of(a);
    if (!m->evaluate)
        die("interp: model %s has no evaluate graph", m->name);
    interp_run(m->evaluate, a);
}

static void run_train_step(NncArgs *a, int32_t step) {
    IrModule *m = module_of(a);
    if (step < 0 || step >= m->nsteps || !m->steps[step].graph)
        die("interp: model %s has no train step #%d", m->name, step);
    interp_run(m->steps[step].graph, a);
}

NncModelDef interp_model_def(IrModule *m) {
    return (NncModelDef){
        .desc = ir_module_desc(m->arena, m),
        .workspace_size = ws_size,
        .forward = run_forward,
        .evaluate = run_evaluate,
        .train_step = run_train_step,
        .user = m,
    };
}
