/* passes.h - the graph passes (autodiff.c, simplify.c; optim.c's entry point is in lower.h, as it
 * instantiates the language's optimizer declarations), called in order by pipeline() in
 * compiler/driver/pipeline.c. Each pass's contract is the comment above its entry point. */
#ifndef NNC_PASSES_H
#define NNC_PASSES_H

#include "diag.h"
#include "ir.h"

/* autodiff.c. requires: g verifies; loss a rank-0 f32 node of g.
 * Appends to g the reverse-mode gradient of node `loss` with respect to each node wrt[k] and
 * stores its index in grads[k] (same type as wrt[k]). wrt nodes the loss does not depend on get a
 * zero CONST. Integer/bool values, F_NOGRAD ops and STOP_GRAD carry no gradient. Each op's VJP
 * emits ordinary IR (so gradients are simplified, fused and planned like the forward). */
void ad_grad(IrGraph *g, uint32_t loss, const uint32_t *wrt, int n, uint32_t *grads);

/* autodiff.c, the pass. requires: m verifies; each step's graph is the model walked for training
 * with every loss a RES_LOSS result (lowering's), and no RES_GRAD result yet.
 * For each train step: the gradient of its objective (IrStep.objective: one loss, or the sum of all)
 * with respect to every parameter under its `over` paths (all when none) that the objective reaches
 * through differentiable ops, appended by ad_grad, each marked by a result `grad P` (P = the
 * parameter's bufs index) in descriptor order. A parameter the objective does not reach gets no
 * result (it stays as it is, like a torch parameter whose .grad is None). 0, or -1 after a
 * diagnostic: a path naming no parameter, a step that reaches none. */
int autodiff_module(IrModule *m, Diag *d);

/* allreduce.c. requires: m after autodiff_module. Each step's `grad P = %g` becomes
 * `grad P = allreduce(%g)`, the gradient's mean over the processes of the run (docs/distributed.md). */
void allreduce_module(IrModule *m);

/* simplify.c. requires: g verifies. Returns a new graph (same arena, same name) computing the same
 * results: STOP_GRAD removed, constants folded, algebraic identities applied, common
 * subexpressions merged, nodes no result needs dropped. docs/ir.md "simplify" lists the rules. */
IrGraph *simplify(IrGraph *g);

/* simplify.c. requires: g verifies. The composite ops (SOFTMAX, SOFTMAX_BWD) replaced by the
 * primitives they stand for (in the order of their ir_eval.c evaluation), so that fuse makes
 * each one row kernel; g itself when it has none. fuse calls it on every graph. */
IrGraph *expand(IrGraph *g);

/* simplify every graph of m in place (m->forward, m->evaluate, each step's graph). */
void simplify_module(IrModule *m);

#endif
