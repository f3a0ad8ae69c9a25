/* pipeline.h - from a checked program to an executable, object, dump or interpreter run: the list
 * of stages in order, pipeline() in compiler/driver/pipeline.c, which compiler/driver/main.c calls
 * after the front end. */
#ifndef NNC_PIPELINE_H
#define NNC_PIPELINE_H

#include "ast.h"
#include "diag.h"

/* What the pipeline ends in. EMIT_RUN: nnc run, the interpreter runs the module (no file). */
typedef enum {
    EMIT_EXE, EMIT_OBJ, EMIT_IR, EMIT_KERNELS, EMIT_PLAN, EMIT_LLVM, EMIT_RUN, EMIT_DOT, EMIT_DOT_IR, EMIT_CUDA, EMIT_PTX
} EmitKind;

typedef struct NncOptions {
    const char *input;          /* model.nn */
    const char *output;         /* -o; NULL = derived from the input (model.nn -> ./model) */
    EmitKind emit;              /* -o exe (default), -c/--emit obj, --emit ir, --emit llvm */
    int opt_level;              /* -O0..-O3, default 2 */
    const char *cpu;            /* --cpu NAME, NULL = host */
    bool cuda;                  /* --target cuda: the GPU backend (compiler/backend/cuda) */
    const char *gpu_arch;       /* --gpu-arch LIST, NULL = sm_80,sm_90 */
    bool bf16;                  /* --precision bf16 (cuda): activations stored in bf16 (KModule.bf16) */
    const char *model;          /* --model NAME when the file has several */
    const char *dump_after;     /* --dump-after PASS: print the IR after that pass */
    const char *prefix;         /* -c: symbol prefix (default: the model's name) */
    const char *argv0;          /* to find the runtime library beside nnc */
    int verbose;                /* -v: print each stage, the link command */
    int time;                   /* --time: print each stage's time and the total */
    int portable;               /* --portable: x86-64-v3 code, static OpenBLAS and zlib */
    int force;                  /* --force: -o may replace a file that is no earlier output of nnc */
    int run_argc;               /* EMIT_RUN: the runtime's command line, argv[0] = the model's name */
    char **run_argv;
} NncOptions;

/* Every stage after the front end, in order: lower, verify, autodiff, optim, simplify, verify, then
 * the backend (LLVM and the link, or the interpreter for EMIT_RUN), as o asks. Returns the
 * process exit status (for EMIT_RUN, the runtime's). */
int pipeline(const NncOptions *o, Arena *a, Diag *d, Node *prog);

/* Would writing `out` (of kind k; EMIT_RUN stands for --emit ast/types) destroy a user's file?
 * An existing non-empty file is replaced only when it looks like an earlier output of that kind
 * (an ELF file for an executable or object, '; ModuleID' for LLVM IR, nnc's header comment for -c's
 * header; for the text dumps an earlier text dump of nnc, never an ELF file or a .nn source), unless
 * force. 0, or -1
 * (diagnosed). */
int pipeline_check_replace(Diag *d, const char *out, EmitKind k, bool header, bool force);

/* `nnc check` after the checker: lower, autodiff and optim every model of the file `input` (no
 * output), so whatever the build of a model would refuse (the unrolled size [limits], a lowering
 * error) check refuses too, with the build's message at its place. 0, or 1 (diagnosed). */
int pipeline_check(Arena *a, Diag *d, Node *prog, const char *input);

/* -1 (diagnosed) when writing `out` would replace the file `input` (the same device and inode);
 * 0 otherwise, and for "-" (stdout). */
int pipeline_check_output(Diag *d, const char *input, const char *out);

#endif
