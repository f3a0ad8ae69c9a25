/* model_main.c - the test model under the nnc_model_* names a compiled model exports, linked with
 * libnnc_rt.a and no main of its own: runtime/main.c comes out of the archive, as it does for
 * executables that nnc links.
 */
#include "testmodel.h"

static TestModel *model(void) {
    static TestModel m;
    static int ready;
    if (!ready) {
        tm_setup(&m, 784, 10, 0, 1, "fashion_mnist", 32, 1, 0.05);
        ready = 1;
    }
    return &m;
}

/* The descriptor must be a const array; this one is the text tm_setup writes for the same
 * arguments, checked by the test (summary prints the tensors). */
const char nnc_model_desc[] =
    "model softmax\n"
    "tensor input 0 x f32 3 B 28 28\n"
    "tensor target 1 y i32 1 B\n"
    "tensor output 2 out f32 2 B 10\n"
    "tensor param 3 W f32 2 784 10 init glorot_uniform 0 0 784 10\n"
    "tensor param 4 b f32 1 10 init zeros 0 0 0 0\n"
    "tensor state 5 W.mom f32 2 784 10 init zeros 0 0 0 0\n"
    "tensor state 6 b.mom f32 1 10 init zeros 0 0 0 0\n"
    "loss loss\n"
    "step main loss momentum 0.05\n"
    "hyper batch 32\n"
    "hyper epochs 1\n"
    "data fashion_mnist\n"
    "metric accuracy\n"
    "task classify 10\n"
    "end\n";

/* The generated code gets no user pointer from main.c (def.user = 0): route it here. */
int64_t nnc_model_workspace_size(int64_t B) { return tm_workspace_size(B); }
void nnc_model_forward(NncArgs *a) { a->user = model(); tm_forward(a); }
void nnc_model_evaluate(NncArgs *a) { a->user = model(); tm_evaluate(a); }
void nnc_model_train_step(NncArgs *a, int32_t step) { a->user = model(); tm_train_step(a, step); }
