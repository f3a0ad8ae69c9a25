/* fuzz_pipeline.c - libFuzzer harness over the whole compiler short of LLVM: the input bytes are a
 * .nn file; when the front end and the checker accept it (what `nnc check` accepts), every model
 * of the file goes through the stages of `nnc FILE -o OUT` up to the backend:
 *
 *     lower -> verify -> autodiff -> optim -> simplify -> verify -> fuse -> verify -> plan -> verify
 *
 * (compiler/driver/pipeline.c's order). The project's contract is that whatever `nnc check`
 * accepts compiles, so an internal error on a checked program is a bug: die() and unreachable()
 * abort (lang/diag.c), which libFuzzer reports as a crash, like an assert or a sanitizer report.
 * A stage may still answer with a diagnostic (lowering's `fail`, autodiff's "trains no
 * parameter", plan's quadratic temporary): that is a user error found late, not a crash; with
 * NNC_FUZZ_STRICT=1 in the environment such a late diagnostic aborts too, to find where the
 * checker lets through what the compiler refuses. The LLVM backend is left out: too slow per input
 * (seconds), and its input, the planned kernel IR, is verified here.
 *
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/run.sh (target `pipeline`),
 * from the sources of lang/, compiler/lower.c, compiler/ir/, compiler/kernel/ and the passes; like
 * fuzz_frontend.c the input is written to a private temporary folder (the front end reads by path)
 * and the diagnostics go to /dev/null.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "ast.h"
#include "check.h"
#include "diag.h"
#include "frontend.h"
#include "ir.h"
#include "kernel.h"
#include "lower.h"
#include "passes.h"

#ifndef NNC_FUZZ_STDLIB
#define NNC_FUZZ_STDLIB "stdlib"
#endif

static char dir[64];
static char path[96];
static const char *stdlib_dir;
static FILE *sink;
static int strict;

static void fatal(const char *call, const char *what) {
    fprintf(stderr, "fuzz_pipeline: %s failed for %s: %s\n", call, what, strerror(errno));
    abort();
}

static void remove_dir(void) {
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *env = getenv("NNC_STDLIB");
    stdlib_dir = env && env[0] ? env : NNC_FUZZ_STDLIB;
    env = getenv("NNC_FUZZ_STRICT");
    strict = env && env[0] == '1';
    /* NNC_FUZZ_VERBOSE=1: the diagnostics on stderr (to read a reproducer's story) */
    env = getenv("NNC_FUZZ_VERBOSE");
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nnc-fuzzp.XXXXXX", tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fatal("mkdtemp", dir);
    snprintf(path, sizeof path, "%s/input.nn", dir);
    atexit(remove_dir);
    sink = env && env[0] == '1' ? stderr : fopen("/dev/null", "w");
    if (!sink)
        fatal("fopen", "/dev/null");
    return 0;
}

/* A stage answered with a diagnostic on a checked program. */
static void late(const char *stage, const char *model) {
    if (strict) {
        fprintf(stderr, "fuzz_pipeline: %s refused model '%s', which the checker accepted\n", stage, model);
        abort();
    }
}

static void verify(const IrModule *m, const char *after) {
    if (ir_module_verify(m, stderr))
        die("the IR is invalid after %s", after);
}

/* One model through the stages of pipeline() (compiler/driver/pipeline.c) short of the backend. */
static void compile(Node *prog, const char *model) {
    Arena a = {0};
    Diag d;
    diag_init(&d, sink);
    Lower *L = lower_new(&a, &d, prog, model, path);
    if (!L) {
        late("lower_new", model);
        goto out;
    }
    IrModule *m = lower_module(L);
    if (!m || d.nerrors) {
        late("lower", model);
        goto out;
    }
    if (lower_step_graphs(L, m) || d.nerrors) {
        late("lower (train step)", model);
        goto out;
    }
    verify(m, "lower");
    if (autodiff_module(m, &d) || d.nerrors) {
        late("autodiff", model);
        goto out;
    }
    if (optim_module(L, m, &d) || d.nerrors) {
        late("optim", model);
        goto out;
    }
    simplify_module(m);
    verify(m, "simplify");
    KModule *km = fuse_module(&a, m);
    if (k_module_verify(km, stderr))
        die("the kernel IR is invalid after fuse");
    if (plan_module(km, &d) || d.nerrors) {
        late("plan", model);
        goto out;
    }
    if (k_module_verify(km, stderr))
        die("the kernel IR is invalid after plan");
    k_plan_print(sink, km);
out:
    arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f)
        fatal("fopen", path);
    if (size && fwrite(data, 1, size, f) != size)
        fatal("fwrite", path);
    if (fclose(f) != 0)
        fatal("fclose", path);

    /* the models of the file itself (a `use`d module's are built only by name, like --model) */
    Arena b = {0};
    Diag d;
    diag_init(&d, sink);
    Node *prog = frontend_load(&b, &d, path, stdlib_dir);
    if (prog && d.nerrors == 0) {
        check_program(&b, &d, prog);
        if (d.nerrors == 0) {
            for (int i = 0; i < prog->nkids; i++) {
                Node *k = prog->kids[i];
                if (k->kind != ND_MODEL || !k->loc.file || strcmp(k->loc.file->name, path)) continue;
                /* each from a fresh front end run, as the driver does (lowering may annotate
                 * the tree it walks) */
                Arena c = {0};
                Diag dc;
                diag_init(&dc, sink);
                Node *p = frontend_load(&c, &dc, path, stdlib_dir);
                if (!p || dc.nerrors)
                    die("the front end refused on its second run what it accepted on the first");
                check_program(&c, &dc, p);
                if (dc.nerrors)
                    die("the checker refused on its second run what it accepted on the first");
                compile(p, k->name);
                arena_free(&c);
            }
        }
    }
    arena_free(&b);
    return 0;
}
