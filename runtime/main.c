/* main.c - the main() of a model executable: wraps the compiled model's nnc_model_* symbols into
 * an NncModelDef and hands over to the runtime. It sits in libnnc_rt.a, so the linker pulls it in
 * only for links that need a main (model executables), never into nnc itself. It closes stdout
 * itself, so an output error that only fclose reports still makes the exit status 1. It first
 * makes sure OpenBLAS runs the kernels made for this CPU (runtime/blas.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nnc_abi.h"

extern const char nnc_model_desc[];
extern const char nnc_model_version[] __attribute__((weak));   /* absent from older objects */
int64_t nnc_model_workspace_size(int64_t B);
void nnc_model_forward(NncArgs *a);
void nnc_model_evaluate(NncArgs *a);
void nnc_model_train_step(NncArgs *a, int32_t step);

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        /* the model, its source's SHA-256, the nnc that compiled it (pipeline.c version_text) */
        printf("%s\n", nnc_model_version ? nnc_model_version : "compiled by nnc (no version recorded)");
        return fflush(stdout) || ferror(stdout) || fclose(stdout) ? 1 : 0;
    }
    nnc_blas_check(argv);
    NncModelDef def = {nnc_model_desc, nnc_model_workspace_size, nnc_model_forward, nnc_model_evaluate,
                       nnc_model_train_step, 0, 0};
    int rc = nnc_main(&def, argc, argv);
    /* nnc_main flushed and checked stdout; closing it can still fail (a deferred write error) */
    if (fclose(stdout) && rc == 0) {
        const char *p = argc > 0 && argv[0] ? argv[0] : "model", *s = strrchr(p, '/');
        fprintf(stderr, "%s: error: closing standard output failed: %s\n", s ? s + 1 : p, strerror(errno));
        rc = 1;
    }
    return rc;
}
