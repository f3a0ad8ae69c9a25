/* optim.c - the optim pass: each train step's update (docs/language.md [train.step], [optimizer];
 * docs/ir.md "Train steps").
 *
 * requires: the module after autodiff: each step's graph holds a `grad P` result (RES_GRAD) for
 * every parameter P it trains. For each of them, the step's optimizer declaration from
 * stdlib/optim.nn is instantiated by the lowering evaluator (lower_apply_optimizer) on the
 * parameter's node and its gradient node: its `state` tensors become ROLE_STATE tensors named
 * <param>.<optimizer>.<state> (<param>.<step>.<optimizer>.<state> when several steps train the
 * parameter), and the new values of the parameter and its states become the graph's RES_UPDATE
 * results. The `grad` results are consumed: after optim a step graph has outputs, losses and
 * updates only. Keeping the update rule in the language means every optimizer is fused and planned
 * like the forward pass; reading the gradients only through the `grad` results means a pass run
 * between autodiff and optim can replace them (an allreduce across processes) without touching
 * either pass.
 */
#include <string.h>

#include "lower.h"
#include "passes.h"

/* The node of parameter tensor pi in g (a walk makes one PARAM node per parameter). */
static uint32_t param_node(const IrGraph *g, int pi) {
    for (uint32_t i = 0; i < g->len; i++)
        if (g->nodes[i].op == OP_PARAM && g->nodes[i].attr.i[0] == pi)
            return i;
    die("optim: graph %s has a gradient for parameter %d but no node of it", g->name, pi);
}

/* Rename the states made for param pi by step `step` (tensors first..m->ntensors-1, named
 * <param>.<optimizer>.<state>) to <param>.<step>.<optimizer>.<state>: a parameter trained by two
 * steps gets one set of optimizer state per step, as two torch.optim optimizers would keep. */
static void tag_states(Arena *a, IrModule *m, IrGraph *g, int first, int pi, const char *step) {
    const char *pname = m->tensors[pi].name;
    size_t n = strlen(pname);
    for (int i = first; i < m->ntensors; i++) {
        IrTensor *t = &m->tensors[i];
        if (t->role != ROLE_STATE || strncmp(t->name, pname, n) != 0 || t->name[n] != '.') continue;
        t->name = arena_printf(a, "%s.%s%s", pname, step, t->name + n);
        for (uint32_t k = 0; k < g->len; k++)     /* the STATE source nodes carry the name too */
            if (g->nodes[k].op == OP_STATE && g->nodes[k].attr.i[0] == i) g->nodes[k].attr.name = t->name;
    }
}

int optim_module(Lower *L, IrModule *m, Diag *d) {
    int nsteps;
    const LowerStep *steps = lower_steps(L, &nsteps);
    if (nsteps != m->nsteps)
        die("optim: the module has %d steps, the train block %d", m->nsteps, nsteps);
    Arena *a = m->arena;
    int nt0 = m->ntensors;              /* params come first; optimizer states are added below */
    /* how many steps train each parameter, before any optimizer state is named */
    int *nsteps_of = arena_alloc(a, sizeof(int) * (size_t)(nt0 + 1));
    for (int si = 0; si < nsteps; si++) {
        const IrGraph *g = m->steps[si].graph;
        for (int r = 0; g && r < g->nres; r++)
            if (g->res[r].kind == RES_GRAD && g->res[r].index < nt0) nsteps_of[g->res[r].index]++;
    }
    for (int si = 0; si < nsteps; si++) {
        IrGraph *g = m->steps[si].graph;
        if (!g) continue;
        /* take the grad results out; the updates take their place */
        IrResult *grads = arena_alloc(a, sizeof(IrResult) * (size_t)(g->nres + 1));
        int ngrads = 0, keep = 0;
        for (int r = 0; r < g->nres; r++) {
            if (g->res[r].kind == RES_GRAD) grads[ngrads++] = g->res[r];
            else g->res[keep++] = g->res[r];
        }
        g->nres = keep;
        /* global_clipnorm scales every gradient of the step by one factor, before the updates */
        uint32_t *gn = arena_alloc(a, sizeof(uint32_t) * (size_t)(ngrads + 1));
        for (int k = 0; k < ngrads; k++) gn[k] = grads[k].node;
        if (lower_clip_global(L, g, steps[si].optimizer, gn, ngrads)) return -1;
        for (int k = 0; k < ngrads; k++) grads[k].node = gn[k];
        for (int k = 0; k < ngrads; k++) {
            int pi = grads[k].index, first = m->ntensors;
            if (lower_apply_optimizer(L, g, steps[si].optimizer, pi, param_node(g, pi), grads[k].node))
                return -1;
            if (pi < nt0 && nsteps_of[pi] > 1) {
                tag_states(a, m, g, first, pi, steps[si].name);
                lower_tensors_renamed(L);
            }
        }
        m->steps[si].graph = lower_prune(a, g);
    }
    /* a parameter no step updates is frozen (the runtime never writes it back) */
    for (int i = 0; i < nt0 && nsteps > 0; i++)
        if (m->tensors[i].role == ROLE_PARAM && !nsteps_of[i]) m->tensors[i].frozen = true;
    (void)d;
    return 0;
}
