/* passes.h - the graph passes of the ir area (autodiff.c, simplify.c), called in order by
 * compiler/driver/pipeline.c. Each pass's contract is the comment above its entry point. */
#ifndef NNC_PASSES_H
#define NNC_PASSES_H

#include "ir.h"

/* autodiff.c. requires: g verifies; loss a rank-0 f32 node of g.
 * Appends to g the reverse-mode gradient of node `loss` with respect to each node wrt[k] and
 * stores its index in grads[k] (same type as wrt[k]). wrt nodes the loss does not depend on get a
 * zero CONST. Integer/bool values, F_NOGRAD ops and STOP_GRAD carry no gradient. Each op's VJP
 * emits ordinary IR (so gradients are simplified, fused and planned like the forward). */
void ad_grad(IrGraph *g, uint32_t loss, const uint32_t *wrt, int n, uint32_t *grads);

/* simplify.c. requires: g verifies. Returns a new graph (same arena, same name) computing the same
 * results: STOP_GRAD removed, constants folded, algebraic identities applied, common
 * subexpressions merged, nodes no result needs dropped. docs/ir.md "simplify" lists the rules. */
IrGraph *simplify(IrGraph *g);

/* simplify every graph of m in place (m->forward, m->evaluate, each step's graph). */
void simplify_module(IrModule *m);

#endif
