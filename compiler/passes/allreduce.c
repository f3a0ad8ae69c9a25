/* allreduce.c - the data-parallel pass, between autodiff and optim (docs/ir.md "Train steps",
 * docs/distributed.md).
 *
 * requires: the module after autodiff (each step's graph holds `grad P = %g` results).
 * Each `grad P = %g` becomes `grad P = allreduce(%g)`: the mean of the gradient over the processes
 * of the run, which optim then reads as the gradient, so weight decay and the optimizer's other
 * terms apply to the averaged gradient, as torch's DistributedDataParallel does. Neither autodiff
 * nor optim changes. The allreduces are appended after every gradient, in descriptor order, so
 * fuse makes them one kernel (one runtime call that reduces one flat buffer per step); in a run of
 * one process that call returns at once. The f32 state updates of the walk (batch-norm running
 * statistics) are averaged the same way, so every process keeps the same state. The pass always
 * runs: the same executable trains alone or under mpirun.
 */
#include "passes.h"

void allreduce_module(IrModule *m) {
    for (int s = 0; s < m->nsteps; s++) {
        IrGraph *g = m->steps[s].graph;
        for (int r = 0; r < g->nres; r++) {
            /* the gradients, and the f32 state the walk updates (batch-norm running statistics:
             * each process saw its own share of the batch; their mean is the global batch's mean,
             * and the mean of the shares' variances for a variance). optim's updates come later. */
            IrResult *res = &g->res[r];
            uint32_t x = res->node;
            bool state = res->kind == RES_UPDATE && res->index >= 0 && res->index < m->ntensors &&
                         m->tensors[res->index].role == ROLE_STATE && g->nodes[x].type.dtype == DT_F32;
            if (res->kind != RES_GRAD && !state)
                continue;
            res->node = ir_op(g, OP_ALLREDUCE, &x, 1, NULL, g->nodes[x].type);
        }
    }
}
