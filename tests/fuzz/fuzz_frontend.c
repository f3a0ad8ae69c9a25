/* fuzz_frontend.c - libFuzzer harness over the whole front end: the input bytes are a .nn file,
 * which goes through the same steps as `nnc check` and `nnc --emit ast|types` (lexer, parser,
 * module loading with the real standard library, checker, and the AST and type dumps), and every
 * input that parses through `nnc fmt` (same tree, idempotent).
 *
 * The front end's promise is that any input gives diagnostics and never a crash, a hang or a
 * leak (docs/language.md [syntax.depth], lang/lexer.c); this harness is how that is tested.
 * Built with clang -fsanitize=fuzzer,address,undefined by tests/fuzz/run.sh (or by CMake with
 * -DNNC_FUZZ=ON when the C compiler is clang).
 *
 * The input is written to a file in a private temporary folder because the front end reads
 * programs by path (frontend_load) and resolves `use` beside that path; the folder holds nothing
 * else, so every `use` except of the input itself falls through to the standard library.
 * Diagnostics go to /dev/null: formatting them (source excerpts of arbitrary bytes) is part of
 * what is tested, reading them is not.
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
#include "fmt.h"
#include "frontend.h"

#ifndef NNC_FUZZ_STDLIB
#define NNC_FUZZ_STDLIB "stdlib"
#endif

static char dir[64];
static char path[96];
static const char *stdlib_dir;
static FILE *sink;

/* The harness's own environment failed (not the code under test): stop the run loudly. */
static void fatal(const char *call, const char *what) {
    fprintf(stderr, "fuzz_frontend: %s failed for %s: %s\n", call, what, strerror(errno));
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
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/nnc-fuzz.XXXXXX", tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fatal("mkdtemp", dir);
    snprintf(path, sizeof path, "%s/input.nn", dir);
    atexit(remove_dir);
    sink = fopen("/dev/null", "w");
    if (!sink)
        fatal("fopen", "/dev/null");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f)
        fatal("fopen", path);
    if (size && fwrite(data, 1, size, f) != size)
        fatal("fwrite", path);
    if (fclose(f) != 0)
        fatal("fclose", path);

    /* nnc --emit ast: the file alone */
    Arena a = {0};
    Diag d;
    diag_init(&d, sink);
    Node *prog = frontend_parse(&a, &d, path);
    if (prog && d.nerrors == 0)
        ast_dump(sink, prog);
    arena_free(&a);

    /* nnc fmt: a program that parses formats to one with the same tree (fmt_source checks that and
     * returns NULL otherwise), and formatting the result changes nothing */
    if (prog && d.nerrors == 0) {
        Arena c = {0};
        char *text = arena_alloc(&c, size + 1);
        memcpy(text, data, size);
        SrcFile src = {.name = "input.nn", .text = text, .len = size};
        diag_init(&d, sink);
        char *out = fmt_source(&c, &d, &src);
        if (!out) {
            fprintf(stderr, "fuzz_frontend: nnc fmt failed on a program that parses\n");
            abort();
        }
        SrcFile again = {.name = "input.nn", .text = out, .len = strlen(out)};
        char *out2 = fmt_source(&c, &d, &again);
        if (!out2 || strcmp(out, out2)) {
            fprintf(stderr, "fuzz_frontend: nnc fmt is not idempotent\n");
            abort();
        }
        arena_free(&c);
    }

    /* nnc check / --emit types: the file and its modules, then the checker (which, like the
     * driver, only runs on a program that parsed cleanly) */
    Arena b = {0};
    diag_init(&d, sink);
    prog = frontend_load(&b, &d, path, stdlib_dir);
    if (prog && d.nerrors == 0) {
        check_program(&b, &d, prog);
        if (d.nerrors == 0)
            check_dump_types(sink, prog);
    }
    arena_free(&b);
    return 0;
}
