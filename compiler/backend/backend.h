/* backend.h - what every backend offers the driver (STYLE.md: QBE's Target, ggml_backend_i): a
 * struct of function pointers that render planned kernel IR (compiler/kernel/kernel.h) into code.
 * A backend knows nothing of fusion or memory placement: fuse and plan decided both, and a
 * backend only renders the kernels, values, buffers and results it is given. The interpreter
 * (backend/interp/) is not one of these: it runs the graph IR itself, as the reference.
 */
#ifndef NNC_BACKEND_H
#define NNC_BACKEND_H

#include <stdio.h>

#include "diag.h"
#include "kernel.h"

typedef enum { BACKEND_OUT_OBJ, BACKEND_OUT_TEXT } BackendOut;

typedef struct BackendOptions {
    const char *output;         /* file to write */
    BackendOut kind;            /* an object file, or the backend's text (LLVM IR for llvm) */
    const char *prefix;         /* symbol prefix P of runtime/nnc_abi.h; NULL = "nnc_model" */
    int opt_level;              /* 0..3 */
    const char *cpu;            /* target CPU name; NULL = the host's */
    const char *gpu_arch;       /* cuda: --gpu-arch list, NULL = sm_80,sm_90 */
    int verbose;                /* print what it does to stderr */
    int time;                   /* print the time of each part (IR, passes, code generation) */
    /* an object may be split: code generation of part i >= 1 on its own thread into
     * more_outputs[i - 1] (llvm: docs/backend-llvm.md "Compile time"); *nwritten = the number of
     * files written (output first). NULL/0: one file. */
    const char *const *more_outputs;
    int nmore;
    int *nwritten;
    const char *version;        /* text of P_version (nnc's version, the model's hash), or NULL */
} BackendOptions;

typedef struct Backend {
    const char *name;
    /* Render km into o->output. 0 on success; -1 after reporting a user-visible failure to d. */
    int (*emit)(const KModule *km, const BackendOptions *o, Diag *d);
    /* 0 when the backend's view of NncArgs matches runtime/nnc_abi.h; else prints why, -1. */
    int (*check_abi)(FILE *err);
} Backend;

extern const Backend backend_llvm;     /* backend/llvm/llvm.c */

#endif
