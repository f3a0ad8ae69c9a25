/* allreduce.c - the data-parallel pass, between autodiff and optim (docs/ir.md "Train steps",
 * docs/distributed.md).
 *
 * requires: the module after autodiff (each step's graph holds `grad P = %g` results).
 * Each `grad P = %g` becomes `grad P = allreduce(%g)`: the mean of the gradient over the processes
 * of the run, which optim then reads as the gradient, so weight decay and the optimizer's other
 * terms apply to the averaged gradient, as torch's DistributedDataParallel does. Neither autodiff
 * nor optim changes. The allreduces are appended after every gradient, in descriptor order, so
 * fuse makes them one kernel (one runtime call that reduces one flat buffer per step); in a run of
 * one process that call returns at once. The pass always runs: the same executable trains alone or
 * under mpirun.
 */
#include "passes.h"

void allreduce_module(IrModule *m) {
    for (int s = 0; s < m->nsteps; s++) {
        IrGraph *g = m->steps[s].graph;
        for (int r = 0; r < g->nres; r++) {
            if (g->res[r].kind != RES_GRAD)
                continue;
            uint32_t x = g->res[r].node;
            g->res[r].node = ir_op(g, OP_ALLREDUCE, &x, 1, NULL, g->nodes[x].type);
        }
    }
}
