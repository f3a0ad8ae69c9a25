/* optim.c - the optim pass: one train graph per train step (docs/language.md [train.step],
 * [optimizer]).
 *
 * requires: the module from lower_module (tensor table, losses, forward/evaluate graphs).
 * For each step, the model body is walked again with `training` true (dropout on), the gradient of
 * the step's loss with respect to its parameters is appended by autodiff (ad_grad), and the step's
 * optimizer declaration from stdlib/optim.nn is instantiated once per parameter by the lowering
 * evaluator: its `state` tensors become ROLE_STATE tensors named <param>.<optimizer>.<state>
 * (<param>.<step>.<optimizer>.<state> when several steps train the parameter), and
 * the new values of the parameter and its states are the graph's RES_UPDATE results. Keeping the
 * update rule in the language means every optimizer is fused and planned like the forward pass.
 */
#include <string.h>

#include "lower.h"
#include "passes.h"

/* Is the parameter `name` under `path` (the path itself, or path.<more>)? */
static bool under(const char *name, const char *path) {
    size_t n = strlen(path);
    return !strncmp(name, path, n) && (name[n] == 0 || name[n] == '.');
}

/* The node of parameter tensor pi in g (the walk made one PARAM node per parameter), or IR_NONE. */
static uint32_t param_node(const IrGraph *g, int pi) {
    for (uint32_t i = 0; i < g->len; i++)
        if (g->nodes[i].op == OP_PARAM && g->nodes[i].attr.i[0] == pi) return i;
    return IR_NONE;
}

/* The nodes the gradient of `loss` flows into: backwards from it through f32 operands, stopping at
 * STOP_GRAD and F_NOGRAD ops (autodiff's rules). A parameter outside this set gets no gradient in
 * the step, and is left alone as torch.optim leaves a parameter whose .grad is None: no decay, no
 * momentum, no state. */
static uint8_t *grad_reach(Arena *a, const IrGraph *g, uint32_t loss) {
    uint8_t *r = arena_alloc(a, g->len + 1);
    r[loss] = 1;
    for (uint32_t i = loss + 1; i-- > 0;) {
        const IrNode *n = &g->nodes[i];
        if (!r[i] || n->op == OP_STOP_GRAD || (ir_op_flags[n->op] & F_NOGRAD)) continue;
        for (int k = 0; k < n->nsrc; k++)
            if (g->nodes[n->src[k]].type.dtype == DT_F32) r[n->src[k]] = 1;
    }
    return r;
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

/* One step's train graph before its optimizer: the graph, its loss, the parameters it trains. */
typedef struct StepPlan {
    IrGraph *g;
    uint32_t loss;
    int n;
    uint32_t *wrt;          /* the PARAM nodes */
    int *which;             /* their tensor indices */
} StepPlan;

int optim_module(Lower *L, IrModule *m, Diag *d) {
    int nsteps;
    const LowerStep *steps = lower_steps(L, &nsteps);
    Arena *a = m->arena;
    int nt0 = m->ntensors;              /* params come first; optimizer states are added below */
    int *nsteps_of = arena_alloc(a, sizeof(int) * (size_t)(nt0 + 1));  /* steps training each */
    StepPlan *plan = arena_alloc(a, sizeof(StepPlan) * (size_t)(nsteps + 1));
    /* first every step's graph and parameters, so a parameter's step count is known before any
     * optimizer state is named */
    for (int si = 0; si < nsteps; si++) {
        const LowerStep *s = &steps[si];
        StepPlan *sp = &plan[si];
        IrGraph *g = sp->g = ir_graph_new(a, arena_printf(a, "train.%s", s->name));
        uint32_t loss;
        if (lower_train_graph(L, g, s->loss, &loss)) return -1;
        sp->loss = loss;
        int ntensors = m->ntensors;
        /* the parameters this step trains, in descriptor order */
        uint8_t *reach = grad_reach(a, g, loss);
        uint32_t *wrt = sp->wrt = arena_alloc(a, sizeof(uint32_t) * (size_t)(ntensors + 1));
        int *which = sp->which = arena_alloc(a, sizeof(int) * (size_t)(ntensors + 1));
        int n = 0;
        for (int k = 0; k < s->nover; k++) {
            bool any = false;
            for (int i = 0; i < ntensors; i++) any |= m->tensors[i].role == ROLE_PARAM && under(m->tensors[i].name, s->over[k]);
            if (!any) {
                diag_error(d, s->loc, "step '%s': '%s' names no parameter of model '%s'", s->name, s->over[k], m->name);
                return -1;
            }
        }
        for (int i = 0; i < ntensors; i++) {
            if (m->tensors[i].role != ROLE_PARAM) continue;
            bool sel = s->nover == 0;
            for (int k = 0; k < s->nover && !sel; k++) sel = under(m->tensors[i].name, s->over[k]);
            uint32_t p = sel ? param_node(g, i) : IR_NONE;
            if (p == IR_NONE || !reach[p]) continue;    /* the step's loss has no gradient for it */
            wrt[n] = p;
            which[n++] = i;
            if (i < nt0) nsteps_of[i]++;
        }
        if (n == 0) {
            diag_error(d, s->loc, "step '%s' trains no parameter: no gradient of its loss '%s' reaches %s",
                       s->name, s->loss ? s->loss : "loss", s->nover ? "the parameters under its paths" : "any parameter");
            return -1;
        }
        sp->n = n;
    }
    for (int si = 0; si < nsteps; si++) {
        const LowerStep *s = &steps[si];
        StepPlan *sp = &plan[si];
        IrGraph *g = sp->g;
        int n = sp->n;
        if (ir_verify(g, stderr)) die("lowering made an invalid graph %s", g->name);
        uint32_t *grads = arena_alloc(a, sizeof(uint32_t) * (size_t)n);
        ad_grad(g, sp->loss, sp->wrt, n, grads);
        for (int k = 0; k < n; k++) {
            int pi = sp->which[k], first = m->ntensors;
            if (lower_apply_optimizer(L, g, s->optimizer, pi, sp->wrt[k], grads[k])) return -1;
            if (pi < nt0 && nsteps_of[pi] > 1) tag_states(a, m, g, first, pi, s->name);
        }
        m->steps[si].graph = lower_prune(a, g);
    }
    for (int i = 0; i < nt0 && nsteps > 0; i++)
        if (m->tensors[i].role == ROLE_PARAM && !nsteps_of[i]) m->tensors[i].frozen = true;
    return 0;
}
