/* main.c - the main() of a model executable: wraps the compiled model's nnc_model_* symbols into
 * an NncModelDef and hands over to the runtime. It sits in libnnc_rt.a, so the linker pulls it in
 * only for links that need a main (model executables), never into nnc itself.
 */
#include "nnc_abi.h"

extern const char nnc_model_desc[];
int64_t nnc_model_workspace_size(int64_t B);
void nnc_model_forward(NncArgs *a);
void nnc_model_evaluate(NncArgs *a);
void nnc_model_train_step(NncArgs *a, int32_t step);

int main(int argc, char **argv) {
    NncModelDef def = {nnc_model_desc, nnc_model_workspace_size, nnc_model_forward, nnc_model_evaluate,
                       nnc_model_train_step, 0};
    return nnc_main(&def, argc, argv);
}
