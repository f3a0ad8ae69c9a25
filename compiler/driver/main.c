/* main.c - the nnc driver: reads the command line, runs the front end (compile()), then the rest
 * of the stages in order (pipeline(), compiler/driver/pipeline.c).
 *
 *     nnc FILE.nn [-o OUT]            compile to an executable
 *     nnc check FILE.nn               check, and lower each model (no output)
 *     nnc run FILE.nn [--] train ...  drive the model through the reference interpreter
 *
 * docs/nnc.md documents every command and flag. Every error exits with status 1: user errors are
 * diagnostics (`file:line:col: error: ...`, or `nnc: error: ...` when there is no source place).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if __has_include(<llvm/Config/llvm-config.h>)
#include <llvm/Config/llvm-config.h>
#endif

#include "check.h"
#include "diag.h"
#include "fmt.h"
#include "frontend.h"
#include "nnc_abi.h"
#include "pipeline.h"

typedef enum { CMD_COMPILE, CMD_CHECK, CMD_RUN, CMD_HELP, CMD_VERSION, CMD_GRAPH } Command;
typedef enum { OUT_DEFAULT, OUT_AST, OUT_TYPES, OUT_BACKEND } Dump;

typedef struct Cli {
    Command cmd;
    Dump dump;              /* --emit ast|types stop after the front end / the checker */
    NncOptions o;           /* what the pipeline needs */
    int run_argc;           /* nnc run: the runtime's argv, argv[0] = the model file without .nn */
    char **run_argv;
    bool summary;           /* nnc summary FILE.nn: nnc run FILE.nn summary */
} Cli;

static const char *const options[] = {
    "-o", "-c", "--emit", "-O0", "-O1", "-O2", "-O3", "--cpu", "--model", "--dump-after",
    "--prefix", "-v", "--verbose", "--check", "--help", "--version", "--diagnostics-format", "--portable", "--force",
    "--target", "--gpu-arch", "--time", "--precision",
};
static const char *const emit_kinds[] = {"ast", "types", "ir", "kernels", "plan", "llvm", "obj", "exe", "dot", "dot=ir", "cuda", "ptx"};
#define NELEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void usage(FILE *out) {
    fputs("usage: nnc FILE.nn [-o OUT] [options]   compile a model to an executable\n"
          "       nnc check FILE.nn                 check, lower each model, write nothing (also: --check)\n"
          "       nnc run FILE.nn [--] CMD ARGS...  run train|eval|predict|summary with the interpreter\n"
          "       nnc summary FILE.nn [--batch N]   the model's layers, parameters and memory (no build)\n"
          "       nnc graph FILE.nn [-o OUT.svg]    draw the layer graph with Graphviz's dot (.svg/.png/.pdf)\n"
          "       nnc fmt [-w | --check] FILE.nn... print (-w: rewrite) in the canonical layout\n"
          "       nnc --help | --version\n"
          "\n"
          "options:\n"
          "  -o OUT             output file (default: FILE without .nn, plus .o for obj and\n"
          "                     .ll for llvm, in the current folder)\n"
          "  --force            let -o replace an existing file that is no earlier output of\n"
          "                     nnc (a text file under an executable, a .nn under a dump)\n"
          "  -c                 emit an object file (OUT.o) and a C header (OUT.h) instead of\n"
          "                     an executable\n"
          "  --emit KIND        ast | types | ir | kernels | plan | llvm | obj | exe (default exe)\n"
          "                     | dot (the layer graph, Graphviz DOT) | dot=ir (the primitive graph)\n"
          "                     | cuda (the CUDA source) | ptx (its PTX for the first --gpu-arch)\n"
          "                     ast, types and ir print to stdout unless -o is given (dot too);\n"
          "                     llvm and obj write a file\n"
          "  -O0 .. -O3         optimisation level (default -O2)\n"
          "  --cpu NAME         target CPU for code generation (default: this machine's)\n"
          "  --portable         x86-64-v3 code and static OpenBLAS and zlib: an executable\n"
          "                     that runs on other x86-64 Linux machines\n"
          "  --model NAME       which model to build when the file declares several\n"
          "  --dump-after PASS  print the IR after that pass: lower, autodiff, allreduce,\n"
          "                     optim, simplify\n"
          "  --prefix P         symbol prefix for -c (default: the model's name)\n"
          "  --target T         llvm (the CPU, default) | cuda (NVIDIA GPUs: NVRTC at compile\n"
          "                     time, the driver and cuBLAS at run time; docs/backend-cuda.md)\n"
          "  --gpu-arch LIST    cuda: architectures to embed PTX for (default sm_80,sm_90)\n"
          "  --precision P      cuda: f32 (default) | bf16 (the activations kept for the\n"
          "                     backward pass stored in bf16, bf16 products; sm_80 or newer)\n"
          "  -v, --verbose      print each stage and the link command\n"
          "  --time             print the time of each stage (parse .. link) and the total\n"
          "  --diagnostics-format text|json\n"
          "                     json: one JSON object per error on stderr (JSON Lines)\n"
          "\n"
          "environment: NNC_STDLIB (standard library folder), NO_COLOR (plain diagnostics),\n"
          "             NNC_LLVM_PASSES (replaces the LLVM pass pipeline; docs/nnc.md)\n"
          "docs/nnc.md has the details.\n",
          out);
}

static void version(void) {
#ifdef LLVM_VERSION_STRING
    printf("nnc %s (LLVM %s)\n", NNC_VERSION, LLVM_VERSION_STRING);
#else
    printf("nnc %s\n", NNC_VERSION);
#endif
}

/* `--name VALUE` or `--name=VALUE`; advances *i past what it used. NULL when arg is not name. */
static const char *option_value(Diag *d, int argc, char **argv, int *i, const char *name, int *bad) {
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != 0) {
        if (name[1] != '-')     /* -oOUT */
            return arg + n;
        return NULL;
    }
    if (*i + 1 >= argc) {
        diag_plain(d, "option '%s' needs a value", name);
        *bad = 1;
        return "";
    }
    return argv[++*i];
}

/* "did you mean 'X'?" for the closest of cands, else the otherwise hint. */
static void hint_similar(Diag *d, const char *name, const char *const *cands, int n,
                         const char *otherwise) {
    const char *s = diag_suggest(name, cands, n);
    if (s)
        diag_hint(d, "did you mean '%s'?", s);
    else
        diag_hint(d, "%s", otherwise);
}

static void unknown_option(Diag *d, const char *arg) {
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    diag_plain(d, "unknown option '%s'", arg);
    hint_similar(d, name, options, NELEMS(options), "nnc --help lists the options");
}

static int parse_emit(Diag *d, Cli *c, const char *kind) {
    if (!strcmp(kind, "ast"))
        c->dump = OUT_AST;
    else if (!strcmp(kind, "types"))
        c->dump = OUT_TYPES;
    else if (!strcmp(kind, "ir"))
        c->o.emit = EMIT_IR;
    else if (!strcmp(kind, "kernels"))
        c->o.emit = EMIT_KERNELS;
    else if (!strcmp(kind, "plan"))
        c->o.emit = EMIT_PLAN;
    else if (!strcmp(kind, "llvm"))
        c->o.emit = EMIT_LLVM;
    else if (!strcmp(kind, "obj"))
        c->o.emit = EMIT_OBJ;
    else if (!strcmp(kind, "exe"))
        c->o.emit = EMIT_EXE;
    else if (!strcmp(kind, "dot"))
        c->o.emit = EMIT_DOT;
    else if (!strcmp(kind, "dot=ir"))
        c->o.emit = EMIT_DOT_IR;
    else if (!strcmp(kind, "cuda"))
        c->o.emit = EMIT_CUDA;
    else if (!strcmp(kind, "ptx"))
        c->o.emit = EMIT_PTX;
    else {
        diag_plain(d, "unknown --emit kind '%s'", kind);
        hint_similar(d, kind, emit_kinds, NELEMS(emit_kinds),
                     "the kinds are ast, types, ir, kernels, plan, llvm, obj, exe, dot, dot=ir, cuda and ptx");
        return 0;
    }
    return 1;
}

/* Fills c from argv; 0 on a usage error (diagnosed). */
static int parse_args(Diag *d, Cli *c, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    c->o.opt_level = 2;
    c->o.argv0 = argv[0];
    int i = 1;
    if (argc > 1) {
        if (!strcmp(argv[1], "check"))
            c->cmd = CMD_CHECK, i = 2;
        else if (!strcmp(argv[1], "run"))
            c->cmd = CMD_RUN, i = 2;
        else if (!strcmp(argv[1], "help"))
            c->cmd = CMD_HELP, i = 2;
        else if (!strcmp(argv[1], "summary"))
            c->cmd = CMD_RUN, c->summary = true, i = 2;
        else if (!strcmp(argv[1], "graph"))
            c->cmd = CMD_GRAPH, i = 2;
    }
    int bad = 0;
    for (; i < argc && !bad; i++) {
        const char *arg = argv[i], *v;
        if (arg[0] != '-' || !strcmp(arg, "-")) {
            if (c->o.input) {
                diag_plain(d, "more than one input file ('%s' and '%s')", c->o.input, arg);
                return 0;
            }
            c->o.input = arg;
            if (c->cmd == CMD_RUN) {
                /* everything after the model belongs to the runtime's command line */
                int rest = i + 1;
                if (rest < argc && !strcmp(argv[rest], "--"))
                    rest++;
                c->run_argc = argc - rest + 1 + (c->summary ? 1 : 0);
                c->run_argv = calloc((size_t)c->run_argc + 1, sizeof(char *));
                if (!c->run_argv) {
                    diag_plain(d, "out of memory (calloc in parse_args)");
                    return 0;
                }
                /* argv[0] names the program in the runtime's messages: `mlp`, as the compiled
                 * executable would be called, not `mlp.nn` */
                size_t len = strlen(arg);
                c->run_argv[0] = len > 3 && !strcmp(arg + len - 3, ".nn") ? strndup(arg, len - 3) : strdup(arg);
                if (!c->run_argv[0]) {
                    diag_plain(d, "out of memory (strdup in parse_args)");
                    return 0;
                }
                int at = 1;
                if (c->summary)
                    c->run_argv[at++] = "summary";
                for (int k = rest; k < argc; k++)
                    c->run_argv[at++] = argv[k];
                return 1;
            }
        } else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            c->cmd = CMD_HELP;
        } else if (!strcmp(arg, "--version")) {
            c->cmd = CMD_VERSION;
        } else if (!strcmp(arg, "--check")) {
            c->cmd = CMD_CHECK;
        } else if (!strcmp(arg, "--portable")) {
            c->o.portable = 1;
        } else if (!strcmp(arg, "--force")) {
            c->o.force = 1;
        } else if (!strcmp(arg, "-c")) {
            c->o.emit = EMIT_OBJ;
        } else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
            c->o.verbose = 1;
        } else if (!strcmp(arg, "--time")) {
            c->o.time = 1;
        } else if (arg[1] == 'O' && arg[2] >= '0' && arg[2] <= '3' && !arg[3]) {
            c->o.opt_level = arg[2] - '0';
        } else if (arg[1] == 'O') {
            diag_plain(d, "unknown optimisation level '%s'", arg);
            diag_hint(d, "use -O0, -O1, -O2 or -O3");
            return 0;
        } else if ((v = option_value(d, argc, argv, &i, "-o", &bad))) {
            c->o.output = v;
        } else if ((v = option_value(d, argc, argv, &i, "--emit", &bad))) {
            if (!bad && !parse_emit(d, c, v))
                return 0;
        } else if ((v = option_value(d, argc, argv, &i, "--cpu", &bad))) {
            c->o.cpu = v;
        } else if ((v = option_value(d, argc, argv, &i, "--model", &bad))) {
            c->o.model = v;
        } else if ((v = option_value(d, argc, argv, &i, "--dump-after", &bad))) {
            c->o.dump_after = v;
        } else if ((v = option_value(d, argc, argv, &i, "--prefix", &bad))) {
            c->o.prefix = v;
        } else if ((v = option_value(d, argc, argv, &i, "--diagnostics-format", &bad))) {
            if (!strcmp(v, "json"))
                diag_set_json(d);   /* lang/diag.c: JSON Lines on stderr */
            else if (strcmp(v, "text") && !bad) {
                diag_plain(d, "unknown --diagnostics-format '%s'", v);
                diag_hint(d, "the formats are text (the default) and json");
                return 0;
            }
        } else if ((v = option_value(d, argc, argv, &i, "--target", &bad))) {
            if (!bad && strcmp(v, "cuda") && strcmp(v, "llvm")) {
                diag_plain(d, "unknown --target '%s'", v);
                diag_hint(d, "the targets are llvm (the CPU) and cuda (NVIDIA GPUs)");
                return 0;
            }
            c->o.cuda = !strcmp(v, "cuda");
        } else if ((v = option_value(d, argc, argv, &i, "--gpu-arch", &bad))) {
            c->o.gpu_arch = v;
        } else if ((v = option_value(d, argc, argv, &i, "--precision", &bad))) {
            if (!bad && strcmp(v, "f32") && strcmp(v, "bf16")) {
                diag_plain(d, "unknown --precision '%s'", v);
                diag_hint(d, "the precisions are f32 (the default) and bf16 (--target cuda)");
                return 0;
            }
            c->o.bf16 = !strcmp(v, "bf16");
        } else {
            unknown_option(d, arg);
            return 0;
        }
    }
    if (bad)
        return 0;
    if (c->cmd == CMD_HELP || c->cmd == CMD_VERSION)
        return 1;
    if (!c->o.input) {
        diag_plain(d, "no input file");
        diag_hint(d, c->cmd == CMD_RUN ? "usage: nnc run FILE.nn [--] train|eval|predict|summary ARGS..."
                                       : "usage: nnc FILE.nn [-o OUT]; nnc --help for more");
        return 0;
    }
    return 1;
}

/* Options that the command would ignore are errors, not silently dropped. */
static int check_combination(Diag *d, const Cli *c) {
    if (c->o.output && (c->cmd == CMD_CHECK || c->cmd == CMD_RUN)) {
        diag_plain(d, "-o has no effect with nnc %s", c->cmd == CMD_CHECK ? "check" : "run");
        diag_hint(d, c->cmd == CMD_CHECK ? "nnc check writes nothing; to save the types: nnc --emit types FILE.nn -o OUT"
                                         : "nnc run builds nothing; to build an executable: nnc FILE.nn -o OUT");
        return 0;
    }
    if (c->o.force && (c->cmd == CMD_CHECK || c->cmd == CMD_RUN)) {
        diag_plain(d, "--force has no effect with nnc %s, which writes no file", c->cmd == CMD_CHECK ? "check" : "run");
        return 0;
    }
    if (c->o.cuda && (c->o.emit == EMIT_OBJ || c->o.emit == EMIT_LLVM || c->cmd != CMD_COMPILE)) {
        diag_plain(d, "--target cuda builds executables (and --emit cuda|ptx|kernels|plan|ir), not %s",
                   c->cmd != CMD_COMPILE ? "with this command" : c->o.emit == EMIT_OBJ ? "object files" : "LLVM IR");
        return 0;
    }
    if (c->o.bf16 && !c->o.cuda && c->o.emit != EMIT_CUDA && c->o.emit != EMIT_PTX) {
        diag_plain(d, "--precision bf16 is for the CUDA backend (--target cuda, --emit cuda|ptx)");
        diag_hint(d, "the CPU backend computes and stores in f32");
        return 0;
    }
    return 1;
}

static void free_cli(Cli *c) {
    if (c->run_argv)
        free(c->run_argv[0]);
    free(c->run_argv);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void stage_done(const Cli *c, const char *stage, double t0) {
    if (c->o.verbose || c->o.time)
        fprintf(stderr, "nnc: %-14s %8.1f ms\n", stage, now_ms() - t0);
}

/* Every write to stdout is checked once, at the end (after --help, the dumps, --emit ir): a full
 * disk or a closed pipe is an error with its reason, never a silent exit 0. */
static int stdout_failed(void) {
    errno = 0;
    bool bad = fflush(stdout) != 0 || ferror(stdout);
    if (!bad)
        return 0;
    int e = errno ? errno : EIO;
    fprintf(stderr, "nnc: error: writing to standard output failed: %s\n", strerror(e));
    return 1;
}

/* --emit ast|types: print on stdout, or with -o into that file (written beside it, then renamed
 * over it, as every other output). */
static int write_dump(const Cli *c, Arena *a, Diag *d, Node *prog) {
    const char *out = c->o.output;
    if (!out || !strcmp(out, "-")) {
        if (c->dump == OUT_AST)
            ast_dump(stdout, prog);
        else
            check_dump_types(stdout, prog);
        return 0;
    }
    if (pipeline_check_output(d, c->o.input, out) || pipeline_check_replace(d, out, EMIT_RUN, false, c->o.force))
        return 1;
    const char *tmp = arena_printf(a, "%s.tmp", out);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        diag_plain(d, "cannot write %s: %s", tmp, strerror(errno));
        return 1;
    }
    errno = 0;
    if (c->dump == OUT_AST)
        ast_dump(f, prog);
    else
        check_dump_types(f, prog);
    bool err = ferror(f) != 0;
    if (fclose(f) != 0 || err) {
        diag_plain(d, "cannot write %s: %s", tmp, strerror(errno ? errno : EIO));
        remove(tmp);
        return 1;
    }
    if (rename(tmp, out) != 0) {
        diag_plain(d, "rename %s to %s: %s", tmp, out, strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

/* The whole pipeline, in order. Returns the exit status. */
/* The program NAME on PATH (into buf), as execvp would find it; false when there is none. */
static bool find_program(const char *name, char *buf, size_t n) {
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(buf, n, "%.*s/%s", (int)(len ? len : 1), len ? path : ".", name);
        if (access(buf, X_OK) == 0) return true;
        path += len + (path[len] == ':');
    }
    return false;
}

/* nnc graph FILE.nn [-o OUT]: the layer graph (--emit dot) drawn by Graphviz's dot program into
 * OUT (default FILE's name with .svg); the format is OUT's extension (svg, png, pdf). dot is run
 * as a program, never linked: a machine without Graphviz gets one clear message. */
static int graph(const Cli *c, Arena *a, Diag *d, Node *prog) {
    const char *out = c->o.output;
    if (!out) {
        const char *base = strrchr(c->o.input, '/');
        base = base ? base + 1 : c->o.input;
        size_t n = strlen(base);
        if (n > 3 && !strcmp(base + n - 3, ".nn")) n -= 3;
        out = arena_printf(a, "%.*s.svg", (int)n, base);
    }
    const char *ext = strrchr(out, '.');
    static const char *const formats[] = {"svg", "png", "pdf"};
    const char *fmt = NULL;
    for (int i = 0; ext && i < NELEMS(formats); i++)
        if (!strcmp(ext + 1, formats[i])) fmt = formats[i];
    if (!fmt) {
        diag_plain(d, "nnc graph draws .svg, .png or .pdf files, not '%s'", out);
        diag_hint(d, "for the DOT text itself: nnc --emit dot %s -o model.dot", c->o.input);
        return 1;
    }
    char dot[4096];
    if (!find_program("dot", dot, sizeof dot)) {
        diag_plain(d, "nnc graph needs Graphviz's 'dot' program, which is not installed (not on PATH)");
        diag_hint(d, "install Graphviz (Debian: apt install graphviz), or write the DOT text with "
                     "nnc --emit dot %s -o model.dot and render it elsewhere", c->o.input);
        return 1;
    }
    NncOptions o = c->o;
    o.emit = EMIT_DOT;
    o.output = arena_printf(a, "%s.%ld.dot", out, (long)getpid());
    int rc = pipeline(&o, a, d, prog);
    if (rc) {
        unlink(o.output);
        return rc;
    }
    const char *tmp = arena_printf(a, "%s.tmp.%ld", out, (long)getpid());
    char flag[16];
    snprintf(flag, sizeof flag, "-T%s", fmt);
    pid_t pid = fork();
    if (pid == 0) {
        execl(dot, "dot", flag, "-o", tmp, o.output, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0) {
        diag_plain(d, "cannot run '%s': %s", dot, strerror(errno));
        unlink(o.output);
        return 1;
    }
    unlink(o.output);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        unlink(tmp);
        diag_plain(d, "Graphviz's '%s' failed (%s %d) drawing '%s'", dot, WIFEXITED(st) ? "exit status" : "signal",
                   WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), out);
        return 1;
    }
    if (rename(tmp, out)) {
        diag_plain(d, "cannot write '%s': rename failed: %s", out, strerror(errno));
        unlink(tmp);
        return 1;
    }
    if (c->o.verbose) fprintf(stderr, "nnc: drew '%s' with %s\n", out, dot);
    return 0;
}

static int compile(const Cli *c, Arena *a, Diag *d) {
    double t0 = now_ms(), start = t0;
    if (c->dump == OUT_AST) {
        /* the file alone, as written: golden tests must not depend on the standard library */
        Node *prog = frontend_parse(a, d, c->o.input);
        stage_done(c, "parse", t0);
        if (!prog || d->nerrors)
            return 1;
        return write_dump(c, a, d, prog);
    }

    const char *stdlib_dir = frontend_stdlib_dir(a, c->o.argv0);
    if (c->o.verbose)
        fprintf(stderr, "nnc: standard library: %s\n", stdlib_dir ? stdlib_dir : "(none found)");
    Node *prog = frontend_load(a, d, c->o.input, stdlib_dir);
    stage_done(c, "parse", t0);
    if (!prog || d->nerrors)
        return 1;

    t0 = now_ms();
    check_program(a, d, prog);
    stage_done(c, "check", t0);
    if (d->nerrors)
        return 1;
    if (c->dump == OUT_TYPES)
        return write_dump(c, a, d, prog);
    if (c->cmd == CMD_CHECK)        /* what the build refuses, check refuses too */
        return pipeline_check(a, d, prog, c->o.input);

    NncOptions o = c->o;
    if (c->cmd == CMD_GRAPH)
        return graph(c, a, d, prog);
    if (c->cmd == CMD_RUN) {
        o.emit = EMIT_RUN;
        o.run_argc = c->run_argc;
        o.run_argv = c->run_argv;
    }
    int rc = pipeline(&o, a, d, prog);
    if (o.time && !rc && c->cmd != CMD_RUN) {     /* --time: the wall clock, and this process's CPU */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
        fprintf(stderr, "nnc: %-14s %8.1f ms (nnc's CPU %.1f ms)\n", "total", now_ms() - start, cpu);
    }
    return rc;
}

int main(int argc, char **argv) {
    /* `nnc run` trains through the interpreter, whose matmuls are OpenBLAS's: the same check of
     * its kernel choice as every executable makes (runtime/blas.c), before any output */
    if (argc > 1 && !strcmp(argv[1], "run")) nnc_blas_check(argv);
    if (argc > 1 && !strcmp(argv[1], "fmt"))
        return fmt_main(argc, argv);      /* lang/fmt.c */
    Diag d;
    diag_init(&d, stderr);
    Cli c;
    if (!parse_args(&d, &c, argc, argv) || !check_combination(&d, &c)) {
        free_cli(&c);
        return 1;
    }
    if (c.cmd == CMD_HELP) {
        usage(stdout);
        return stdout_failed();
    }
    if (c.cmd == CMD_VERSION) {
        version();
        return stdout_failed();
    }
    Arena a = {0};
    int status = compile(&c, &a, &d);
    arena_free(&a);
    free_cli(&c);
    if (stdout_failed())
        return 1;
    return status != 0 || d.nerrors ? (status ? status : 1) : 0;
}
