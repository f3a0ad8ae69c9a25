/* testmodel.h - a hand-written model implementing the ABI of runtime/nnc_abi.h for real, so the
 * runtime's tests do not depend on the compiler: softmax regression (classify) or linear
 * regression (regress) over D features, with its true gradient and an SGD-with-momentum step whose
 * velocity tensors are `state` (so checkpoints carry optimizer state).
 */
#ifndef NNC_TESTMODEL_H
#define NNC_TESTMODEL_H

#include "nnc_abi.h"

typedef struct TestModel {
    int D, K;                   /* features, classes (or regression outputs) */
    int regress;                /* 0: softmax + cross entropy; 1: linear + mse */
    long nan_at_step;           /* > 0: train_step reports a NaN loss from this step on */
    int no_train_outputs;       /* train_step leaves the output buffer alone (as the interpreter's
                                 * train graphs do): the runtime must run forward for metrics */
    long nan_param_at_step;     /* > 0: train_step writes a NaN into b at this step, out of the loss's sight
                                 * (as a ReLU's `where` hides one) */
    int cosine;                 /* lr follows a cosine schedule over step / total_steps */
    long kill_at_step;          /* > 0: the process kills itself (SIGKILL) when this step starts, as
                                 * an interrupted run dies */
    char desc[8192];
} TestModel;

/* Fills m->desc; data is the `data` record ("fashion_mnist", "csv(\"f.csv\", label = \"y\")").
 * image: declare the input as f32[B, 28, 28] instead of f32[B, D]. */
void tm_setup(TestModel *m, int D, int K, int regress, int image, const char *data, int batch, int epochs,
              double lr);
NncModelDef tm_def(TestModel *m);

int64_t tm_workspace_size(int64_t B);
extern int tm_huge_workspace;   /* workspace_size answers 2^50 bytes: a plan no machine can hold */
void tm_forward(NncArgs *a);
void tm_evaluate(NncArgs *a);
void tm_train_step(NncArgs *a, int32_t step);

#endif
