/* pipeline.h - from a checked program to an executable, object, or dump: the list of stages in
 * order (compiler/driver/pipeline.c), which compiler/driver/main.c calls after the front end. */
#ifndef NNC_PIPELINE_H
#define NNC_PIPELINE_H

#include "ast.h"
#include "diag.h"

typedef enum { EMIT_EXE, EMIT_OBJ, EMIT_IR, EMIT_KERNELS, EMIT_PLAN, EMIT_LLVM } EmitKind;

typedef struct NncOptions {
    const char *input;          /* model.nn */
    const char *output;         /* -o; NULL = derived from the input (model.nn -> ./model) */
    EmitKind emit;              /* -o exe (default), -c/--emit obj, --emit ir|kernels|plan|llvm */
    int opt_level;              /* -O0..-O3, default 2 */
    const char *cpu;            /* --cpu NAME, NULL = host */
    const char *model;          /* --model NAME when the file has several */
    const char *dump_after;     /* --dump-after PASS: print the IR after that pass */
    const char *prefix;         /* -c: symbol prefix (default: the model's name) */
    const char *argv0;          /* to find the runtime library beside nnc */
    int verbose;                /* -v: print each stage, the link command */
} NncOptions;

/* Run lowering, passes, a backend and the link. Returns the process exit status. */
int pipeline_compile(const NncOptions *o, Arena *a, Diag *d, Node *prog);

/* nnc run FILE.nn -- ARGS: the same model driven by the runtime through the interpreter backend
 * (the reference semantics; tests compare compiled executables with it). */
int pipeline_run_interp(const NncOptions *o, Arena *a, Diag *d, Node *prog, int argc, char **argv);

/* -1 (diagnosed) when writing `out` would replace the file `input` (the same device and inode);
 * 0 otherwise, and for "-" (stdout). */
int pipeline_check_output(Diag *d, const char *input, const char *out);

#endif
