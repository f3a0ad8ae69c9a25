/* interp.c - the reference interpreter: a graph evaluated in node order, one dense row-major
 * buffer per node, each op by its definition in the IR core (ir_eval_node, compiler/ir/ir_eval.c).
 *
 * It runs the semantics the fast backends are held to (STYLE.md: tinygrad's ops_python). What is
 * its own is what a call supplies: the sources (inputs, params and state copied from NncArgs.bufs,
 * the hyper-parameters, randomness from nnc_rand_uniform, the same function generated code calls),
 * the lifetime of the buffers, and the results applied after the whole graph ran. Bugs are fatal
 * (die); the interpreter allocates with malloc because it also runs training loops inside nnc,
 * where an arena would grow without bound.
 */
#include "interp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

static void *xcalloc(size_t n, size_t size, const char *what) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die("interp: calloc of %zu x %zu bytes for %s failed", n, size, what);
    return p;
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

/* Evaluate node i of g into a fresh buffer: the call's sources here, every other op by its
 * definition in the IR core (ir_eval_node). */
static void *eval_node(const IrGraph *g, uint32_t i, void **vals, const NncArgs *a) {
    const IrNode *n = &g->nodes[i];
    const IrType *t = &n->type;
    int64_t N = ir_numel(t, a->B);
    void *out = xcalloc((size_t)N, (size_t)ir_dtype_size(t->dtype), ir_op_name[n->op]);
    switch ((Op)n->op) {
    case OP_HYPER:
        ir_store(out, t->dtype, 0, hyper(a, n->attr.i[0]));
        return out;
    case OP_RAND:
        for (int64_t e = 0; e < N; e++)
            ((float *)out)[e] = nnc_rand_uniform(a->seed, (uint64_t)n->attr.i[0], (uint64_t)e);
        return out;
    default:
        break;
    }
    IrType st[IR_MAXSRC];
    const void *sv[IR_MAXSRC];
    for (int k = 0; k < n->nsrc; k++) {
        st[k] = g->nodes[n->src[k]].type;
        sv[k] = vals[n->src[k]];
    }
    ir_eval_node(n, st, sv, a->B, out);
    if (n->op == OP_ALLREDUCE) {    /* the mean over the processes of the run (runtime/mpi.c) */
        void *p[1] = {out};
        nnc_allreduce_mean(1, p, p, &N);
    }
    return out;
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
            size_t bytes = (size_t)ir_numel(&n->type, a->B) * (size_t)ir_dtype_size(n->type.dtype);
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
        size_t bytes = (size_t)ir_numel(&n->type, a->B) * (size_t)ir_dtype_size(n->type.dtype);
        switch (res->kind) {
        case RES_LOSS:
            if (!a->losses)
                die("interp: graph %s has a loss but the call has no losses array", g->name);
            a->losses[res->index] = (float)ir_value_at(vals[res->node], n->type.dtype, 0);
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
