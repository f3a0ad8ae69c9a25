/* pipeline.c - every stage from a checked program to an executable, in order, in one function:
 * pipeline() at the end of this file (STYLE.md: QBE's func()).
 *
 *     lower -> verify -> autodiff -> allreduce -> optim -> simplify -> verify -> fuse -> plan -> verify -> emit -> link
 *
 * compiler/driver/main.c runs the front end (parse, check) and calls pipeline(). `nnc run` takes
 * the same path with the reference interpreter as the backend (no object, no link), so it runs
 * exactly the module the LLVM backend would have compiled. `--dump-after PASS` prints the module
 * after any pass, `--emit ir` stops before the backend, and -v or --time prints each stage's time.
 *
 * Output files are written atomically: each goes to a temporary sibling first and is renamed over
 * the destination only when its stage succeeded, so a failed compile never destroys a file.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cuda/cuda.h"
#include "interp/interp.h"
#include "kernel.h"
#include "llvm/llvm.h"
#include "lower.h"
#include "passes.h"
#include "sha256.h"

#if __has_include(<llvm/Config/llvm-config.h>)
#include <llvm/Config/llvm-config.h>
#define LLVM_VERSION_TEXT LLVM_VERSION_STRING
#else
#define LLVM_VERSION_TEXT "?"
#endif
/* --portable: x86-64-v3 (AVX2, FMA, BMI2: Haswell, Zen and later) */
#define PORTABLE_CPU "x86-64-v3"

/* The passes --dump-after can name, in pipeline order. */
static const char *const dump_passes[] = {"lower", "autodiff", "allreduce", "optim", "simplify", "fuse", "plan"};
#define NPASSES ((int)(sizeof dump_passes / sizeof *dump_passes))

/* One compilation: the options, and where its result goes (decided before any work). */
typedef struct Run {
    const NncOptions *o;
    Arena *a;
    Diag *d;
    const char *out;        /* the output path, "-" = stdout; NULL for nnc run */
    const char *prefix;     /* the symbols' prefix (object, executable) */
    double last;            /* -v: when the previous stage ended */
    const char *more[2];    /* an executable's object in parts: the second and third (LLVM backend) */
    int nobj;               /* object files the backend wrote: the one emit returns, then more[] */
} Run;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The end of a stage: -1 when it reported an error. Else -v prints its name and time on stderr,
 * and --dump-after prints the module m (NULL: a stage that changes none) on stdout. */
static int done(Run *r, const char *stage, const IrModule *m) {
    if (r->d->nerrors)
        return -1;
    double t = now();
    if (r->o->verbose || r->o->time)
        fprintf(stderr, "nnc: %-14s %8.1f ms\n", stage, (t - r->last) * 1e3);
    r->last = t;
    if (m && r->o->dump_after && !strcmp(r->o->dump_after, stage)) {
        printf("; after %s\n", stage);
        ir_module_print(stdout, m);
        fflush(stdout);
    }
    return 0;
}

/* The end of fuse or plan: done(), and --dump-after prints the kernel IR km. */
static int done_kernels(Run *r, const char *stage, const KModule *km) {
    if (done(r, stage, NULL))
        return -1;
    if (r->o->dump_after && !strcmp(r->o->dump_after, stage)) {
        printf("; after %s\n", stage);
        k_module_print(stdout, km);
        fflush(stdout);
    }
    return 0;
}

/* verify: every graph of m follows the IR's rules and agrees with the tensor table. A failure is
 * a compiler bug in the stage that ran last. */
static void verify(const IrModule *m, const char *after) {
    if (ir_module_verify(m, stderr))
        die("the IR is invalid after %s", after);
}

/* model.nn -> model (EMIT_EXE), model.o (EMIT_OBJ), model.ll (EMIT_LLVM), in the current folder.
 * An input without .nn keeps its whole name (model.txt -> model.txt.o); for an executable that
 * would be the input's own name, so nnc refuses to guess and asks for -o (NULL, diagnosed). */
static const char *default_output(Arena *a, Diag *d, const char *input, EmitKind k) {
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    size_t n = strlen(base);
    bool nn = n > 3 && !strcmp(base + n - 3, ".nn");
    if (nn) n -= 3;
    if (k == EMIT_EXE && !nn) {
        diag_plain(d, "cannot name the executable: '%s' does not end in .nn", input);
        diag_hint(d, "name the output with -o: nnc %s -o NAME", input);
        return NULL;
    }
    const char *ext = k == EMIT_OBJ ? ".o" : k == EMIT_LLVM ? ".ll" : "";
    return arena_printf(a, "%.*s%s", (int)n, base, ext);
}

/* Would writing `out` replace the file `input`? The same file when both exist (device and inode:
 * catches ./m.nn, links and other spellings); a missing `out` cannot be the existing input. */
static bool same_file(const char *input, const char *out) {
    struct stat si, so;
    if (stat(input, &si) != 0 || stat(out, &so) != 0) return false;
    return si.st_dev == so.st_dev && si.st_ino == so.st_ino;
}

int pipeline_check_output(Diag *d, const char *input, const char *out) {
    if (!input || !out || !strcmp(out, "-") || !same_file(input, out)) return 0;
    diag_plain(d, "the output '%s' would overwrite the input", out);
    diag_hint(d, "name another output with -o");
    return -1;
}

/* Does a file starting with head[0..n) look like a text dump of nnc's --emit (ast, types, ir,
 * kernels, plan, dot, cuda, ptx)? Its first line is what that kind's first line is. */
static bool text_dump(const char *head, size_t n) {
    static const char *const starts[] = {"(program", "module ", "kernels ", "plan ", "digraph ",
                                         "/* generated by nnc", "//\n// Generated by NVIDIA"};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (n >= strlen(starts[i]) && !memcmp(head, starts[i], strlen(starts[i]))) return true;
    /* --emit types: "NAME: fn(...", "NAME: layer(...", "MODEL: input x f32[B, 4]", ... */
    size_t i = 0;
    while (i < n && (head[i] == '_' || head[i] == '.' || (head[i] >= 'a' && head[i] <= 'z') ||
                     (head[i] >= 'A' && head[i] <= 'Z') || (head[i] >= '0' && head[i] <= '9')))
        i++;
    if (i == 0 || i + 2 > n || head[i] != ':' || head[i + 1] != ' ') return false;
    static const char *const kinds[] = {"fn(", "layer(", "optimizer(", "input ", "target ", "output ",
                                        "param ", "state ", "bind ", "loss "};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (n - i - 2 >= strlen(kinds[k]) && !memcmp(head + i + 2, kinds[k], strlen(kinds[k]))) return true;
    return false;
}

int pipeline_check_replace(Diag *d, const char *out, EmitKind k, bool header, bool force) {
    struct stat st;
    if (force || !out || !strcmp(out, "-") || stat(out, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
        return 0;
    char head[128] = {0};
    FILE *f = fopen(out, "rb");
    size_t n = f ? fread(head, 1, sizeof head - 1, f) : 0;
    if (f) fclose(f);
    bool elf = n >= 4 && !memcmp(head, "\177ELF", 4);
    size_t len = strlen(out);
    const char *want = NULL;
    if (header) {
        char *nl = memchr(head, '\n', n);
        if (nl) *nl = 0;
        if (!strstr(head, "generated by nnc")) want = "a C header nnc wrote (-c)";
    } else if (k == EMIT_EXE || k == EMIT_OBJ) {
        if (!elf) want = k == EMIT_EXE ? "an executable" : "an object file";
    } else if (k == EMIT_LLVM) {
        if (n < 10 || memcmp(head, "; ModuleID", 10)) want = "LLVM IR";
    } else if (elf || (len > 3 && !strcmp(out + len - 3, ".nn"))) {
        diag_plain(d, "cannot write %s: the file exists and is %s, which this text would replace", out,
                   elf ? "an executable or object file" : "a program's source (.nn)");
        diag_hint(d, "name another output with -o, or add --force to replace it");
        return -1;
    } else if (!text_dump(head, n)) {
        want = "a text output of nnc --emit (ast, types, ir, kernels, plan, dot, cuda, ptx)";
    }
    if (!want) return 0;
    diag_plain(d, "cannot write %s: the file exists and is not %s, so it is no earlier output of nnc "
               "(replacing it would lose it)", out, want);
    diag_hint(d, "name another output with -o, or add --force to replace it");
    return -1;
}

/* The header of -c's object: a trailing .o becomes .h (model.o -> model.h), else .h is appended. */
static const char *header_name(Arena *a, const char *obj) {
    size_t n = strlen(obj);
    return n > 2 && !strcmp(obj + n - 2, ".o") ? arena_printf(a, "%.*s.h", (int)(n - 2), obj)
                                                : arena_printf(a, "%s.h", obj);
}

/* The mode a file created by open(0666) gets: mkstemps makes 0600, which a user's output must
 * not keep. umask() both reads and sets, so it is set back at once (nnc is single-threaded). */
static int set_output_mode(Diag *d, const char *path) {
    mode_t mask = umask(022);
    umask(mask);
    if (chmod(path, 0666 & ~mask) != 0) {
        diag_plain(d, "chmod %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A C identifier from a tensor name: h.W -> h_W. */
static const char *c_ident(Arena *a, const char *s) {
    char *r = arena_strdup(a, s);
    for (char *p = r; *p; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) *p = '_';
    return r;
}

/* nnc -c: the header that declares the object's symbols, beside it (model.o -> model.h). */
static int write_header(Arena *a, Diag *d, const IrModule *m, const char *obj, const char *prefix) {
    const char *h = header_name(a, obj);
    const char *tmp = arena_printf(a, "%s.tmp", h);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        diag_plain(d, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    const char *P = prefix;
    fprintf(f, "/* %s - generated by nnc %s from model '%s': the C interface of %s.\n"
               " * Link %s with libnnc_rt.a, -lopenblas -lpng16 -lz -lm -lpthread. nnc_abi.h describes NncArgs\n"
               " * and the descriptor; %s_model_def() hands the model to nnc_main or to your own driver. */\n",
            h, NNC_VERSION, m->name, obj, obj, P);
    fprintf(f, "#ifndef NNC_MODEL_%s_H\n#define NNC_MODEL_%s_H\n\n#include \"nnc_abi.h\"\n\n", P, P);
    fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(f, "extern const char %s_desc[];\n", P);
    fprintf(f, "extern const char %s_version[];  /* the model's hash, the nnc that compiled it */\n", P);
    fprintf(f, "int64_t %s_workspace_size(int64_t B);\n", P);
    fprintf(f, "void %s_forward(NncArgs *a);\n", P);
    fprintf(f, "void %s_evaluate(NncArgs *a);\n", P);
    fprintf(f, "void %s_train_step(NncArgs *a, int32_t step);\n\n", P);
    fprintf(f, "/* NncArgs.bufs indices */\nenum {\n");
    static const char *const roles[] = {"input", "target", "output", "param", "state"};
    const char **ids = arena_alloc(a, sizeof(char *) * (size_t)(m->ntensors + 1));
    for (int i = 0; i < m->ntensors; i++) {
        /* h.W -> h_W; a name that clashes with an earlier one (h_W itself) gets its index */
        ids[i] = c_ident(a, m->tensors[i].name);
        for (int j = 0; j < i; j++)
            if (!strcmp(ids[i], ids[j]) || !strcmp(ids[i], "NTENSORS")) ids[i] = arena_printf(a, "%s_%d", ids[i], i);
        fprintf(f, "    %s_%s = %d, /* %s %s ", P, ids[i], i, roles[m->tensors[i].role], m->tensors[i].name);
        ir_type_print(f, &m->tensors[i].type);
        fprintf(f, " */\n");
    }
    fprintf(f, "    %s_NTENSORS = %d\n};\n\n", P, m->ntensors);
    fprintf(f, "static inline NncModelDef %s_model_def(void) {\n"
               "    NncModelDef d = {%s_desc, %s_workspace_size, %s_forward, %s_evaluate, %s_train_step, 0, 0};\n"
               "    return d;\n}\n\n", P, P, P, P, P, P);
    fprintf(f, "#ifdef __cplusplus\n}\n#endif\n\n#endif\n");
    if (fclose(f) != 0) {
        diag_plain(d, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, h) != 0) {
        diag_plain(d, "rename %s to %s: %s", tmp, h, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* A fresh temporary file: next to out when it is renamed into place later (same file system, so
 * the rename is atomic), else in $TMPDIR (the executable's object: only the linker reads it, and a
 * compiler crash leaves no litter beside the user's files). */
static const char *temp_file(Arena *a, Diag *d, const char *out, bool beside, const char *suffix) {
    const char *dir = getenv("TMPDIR");
    char *t = beside ? arena_printf(a, "%s.nnc-XXXXXX%s", out, suffix)
                     : arena_printf(a, "%s/nnc-XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    int fd = mkstemps(t, (int)strlen(suffix));
    if (fd < 0) {
        diag_plain(d, "cannot create the temporary file %s: %s", t, strerror(errno));
        return NULL;
    }
    close(fd);
    return t;
}

/* The output's folder must exist and be writable, and the output itself must not be a folder
 * (it would be found only at the final rename): said before any work, in the user's words. */
static int check_output_dir(Arena *a, Diag *d, const char *out) {
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        diag_plain(d, "cannot write %s: it is a folder", out);
        size_t n = strlen(out);
        if (n > 2 && !strcmp(out + n - 2, ".h"))   /* -c's header beside the object */
            diag_hint(d, "-c writes the header beside the object; name the object elsewhere with -o");
        else
            diag_hint(d, "name the output file inside it: -o %s%sNAME", out, out[n - 1] == '/' ? "" : "/");
        return -1;
    }
    /* outputs go through a temporary sibling renamed over the name: over a device (/dev/null as
     * root), a FIFO or a socket that rename would replace the special file itself */
    if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
        diag_plain(d, "cannot write %s: it is not a regular file (a device, FIFO or socket)", out);
        diag_hint(d, "nnc writes regular files; to check a program without writing anything, use nnc check");
        return -1;
    }
    const char *slash = strrchr(out, '/');
    const char *dir = !slash ? "." : slash == out ? "/" : arena_strndup(a, out, (size_t)(slash - out));
    if (access(dir, W_OK) != 0) {
        diag_plain(d, "cannot write %s: folder '%s': %s", out, dir, strerror(errno));
        return -1;
    }
    return 0;
}

static bool valid_prefix(const char *p) {
    if (!*p || (*p >= '0' && *p <= '9')) return false;
    for (; *p; p++)
        if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) return false;
    return true;
}


/* lower: the forward and evaluate graphs and the step table (lower_module), then each train step's
 * graph (lower_step_graphs). NULL after a diagnostic. */
static IrModule *lower(Lower *L, Diag *d) {
    IrModule *m = lower_module(L);
    if (!m || d->nerrors || lower_step_graphs(L, m) || d->nerrors)
        return NULL;
    return m;
}

/* The options and the output, checked before any work: a user error here costs no compile. */
static int prepare(Run *r) {
    const NncOptions *o = r->o;
    Diag *d = r->d;
    if (o->dump_after) {
        bool known = false;
        for (int i = 0; i < NPASSES; i++)
            known |= !strcmp(o->dump_after, dump_passes[i]);
        if (!known) {
            diag_plain(d, "--dump-after: unknown pass '%s'", o->dump_after);
            const char *s = diag_suggest(o->dump_after, dump_passes, NPASSES);
            if (s)
                diag_hint(d, "did you mean '%s'? (the passes: lower, autodiff, allreduce, optim, simplify, fuse, plan)", s);
            else
                diag_hint(d, "the passes: lower, autodiff, allreduce, optim, simplify, fuse, plan");
            return -1;
        }
    }
    if (o->emit == EMIT_RUN)
        return 0;
    bool text = o->emit == EMIT_IR || o->emit == EMIT_KERNELS || o->emit == EMIT_PLAN || o->emit == EMIT_DOT ||
                o->emit == EMIT_DOT_IR || o->emit == EMIT_CUDA || o->emit == EMIT_PTX;
    const char *out = o->output ? o->output : text ? "-" : default_output(r->a, d, o->input, o->emit);
    if (!out)
        return -1;
    if (!strcmp(out, "-") && !text) {   /* "-" is standard output, which only text can go to */
        diag_plain(d, "-o -: %s cannot go to standard output",
                   o->emit == EMIT_EXE ? "an executable" : o->emit == EMIT_OBJ ? "an object file" : "LLVM IR");
        diag_hint(d, "name a file with -o NAME (a file named '-' is -o ./-)");
        return -1;
    }
    if (strcmp(out, "-") && check_output_dir(r->a, d, out))
        return -1;
    if (pipeline_check_output(d, o->input, out))
        return -1;
    if (pipeline_check_replace(d, out, o->emit, false, o->force))
        return -1;
    if (o->emit == EMIT_OBJ) {
        size_t n = strlen(out);
        if (n >= 2 && !strcmp(out + n - 2, ".h")) {
            diag_plain(d, "-c writes an object file and its header; '%s' names a header", out);
            diag_hint(d, "name the object with -o NAME.o (its header becomes NAME.h)");
            return -1;
        }
        if (pipeline_check_output(d, o->input, header_name(r->a, out)) ||
            check_output_dir(r->a, d, header_name(r->a, out)) ||
            pipeline_check_replace(d, header_name(r->a, out), o->emit, true, o->force))
            return -1;
    }
    r->out = out;
    r->prefix = "nnc_model";
    if (o->emit == EMIT_OBJ) {
        r->prefix = o->prefix ? o->prefix : NULL;   /* NULL: the model's name, known after lower */
        if (r->prefix && !valid_prefix(r->prefix)) {
            diag_plain(d, "symbol prefix '%s' is not a C identifier (use --prefix NAME)", r->prefix);
            return -1;
        }
    }
    return 0;
}

static void print_text(EmitKind k, FILE *f, const IrModule *m, const KModule *km) {
    if (k == EMIT_DOT) ir_dot_layers(f, m);
    else if (k == EMIT_DOT_IR) ir_dot_graph(f, m, m->forward);
    else if (k == EMIT_IR) ir_module_print(f, m);
    else if (k == EMIT_KERNELS) k_module_print(f, km);
    else if (k == EMIT_CUDA) cuda_print_source(f, km);
    else k_plan_print(f, km);
}

/* --emit ptx: NVRTC's PTX of the CUDA source for the first --gpu-arch, on stdout or into -o. */
static int write_ptx(Run *r, const KModule *km) {
    const char *archs[8];
    int na = cuda_parse_archs(r->a, r->d, r->o->gpu_arch, archs);
    if (na < 0 || cuda_check_bf16_archs(r->d, km, archs, na))
        return 1;
    const char *ptx = cuda_nvrtc_ptx(r->a, r->d, cuda_source(r->a, km), archs[0], r->o->verbose);
    if (!ptx)
        return 1;
    FILE *f = strcmp(r->out, "-") ? fopen(r->out, "w") : stdout;
    if (!f || fputs(ptx, f) < 0 || (f != stdout && fclose(f))) {
        diag_plain(r->d, "cannot write %s: %s", r->out, strerror(errno));
        return 1;
    }
    return 0;
}

/* --target cuda: the C file of the executable (descriptor, PTX, schedule) in a temporary file,
 * which the link stage compiles with the runtime; NULL when it failed (diagnosed). */
static const char *emit_cuda(Run *r, const KModule *km) {
    const char *c = temp_file(r->a, r->d, r->out, false, ".c");
    if (!c)
        return NULL;
    BackendOptions bo = {.output = c, .kind = BACKEND_OUT_OBJ, .prefix = "nnc_model", .gpu_arch = r->o->gpu_arch,
                         .verbose = r->o->verbose};
    if (backend_cuda.emit(km, &bo, r->d)) {
        unlink(c);
        return NULL;
    }
    return c;
}

/* --emit ir|kernels|plan: the module, its kernel IR or its plan as text on stdout or into the
 * output file. */
static int write_ir(Run *r, const IrModule *m, const KModule *km) {
    if (!strcmp(r->out, "-")) {       /* a write error is reported by main (stdout_failed) */
        print_text(r->o->emit, stdout, m, km);
        return 0;
    }
    const char *tmp = arena_printf(r->a, "%s.tmp", r->out);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        diag_plain(r->d, "cannot write %s: %s", tmp, strerror(errno));
        return 1;
    }
    print_text(r->o->emit, f, m, km);
    if (fclose(f) != 0 || rename(tmp, r->out) != 0) {
        diag_plain(r->d, "cannot write %s: %s", r->out, strerror(errno));
        unlink(tmp);
        return 1;
    }
    return 0;
}

/* The text of P_version, printed by `./model --version`: the model, its source file's SHA-256 (the
 * digits `sha256sum FILE.nn` prints), the nnc that compiled it and for which CPU. */
static const char *version_text(Arena *a, const NncOptions *o, const IrModule *m, const char *cpu) {
    char hex[65] = "unknown";
    FILE *f = fopen(o->input, "rb");
    if (f) {
        char *buf = NULL;
        size_t n = 0;
        FILE *mem = open_memstream(&buf, &n);
        char chunk[65536];
        size_t got;
        while (mem && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
            fwrite(chunk, 1, got, mem);
        if (mem && !ferror(f) && fclose(mem) == 0)
            sha256_hex(buf, n, hex);
        free(buf);
        fclose(f);
    }
    const char *base = strrchr(o->input, '/');
    return arena_printf(a, "model %s from %s (sha256 %s)\ncompiled by nnc %s (LLVM %s) for %s%s", m->name,
                        base ? base + 1 : o->input, hex, NNC_VERSION, LLVM_VERSION_TEXT, cpu ? cpu : "the build machine's CPU",
                        o->portable ? ", portable (static OpenBLAS and zlib)" : "");
}

/* emit, LLVM backend: the object file (or textual LLVM IR) in a temporary file; NULL when it
 * failed (diagnosed). */
static const char *emit_llvm(Run *r, const IrModule *m, const KModule *km) {
    const NncOptions *o = r->o;
    if (!r->prefix) {
        r->prefix = m->name;
        if (!valid_prefix(r->prefix)) {
            diag_plain(r->d, "symbol prefix '%s' is not a C identifier (use --prefix NAME)", r->prefix);
            return NULL;
        }
    }
    const char *obj = temp_file(r->a, r->d, r->out, o->emit != EMIT_EXE, o->emit == EMIT_LLVM ? ".ll" : ".o");
    if (!obj)
        return NULL;
    /* an executable's object in up to three parts, compiled on their own threads: two for the
     * kernels, one for a long graph's call sequences (docs/backend-llvm.md "Compile time"); -c
     * keeps one object, and so does NNC_CODEGEN_THREADS=1 (for an A/B) */
    int nmore = 0;
    const char *threads = getenv("NNC_CODEGEN_THREADS");
    if (o->emit == EMIT_EXE && !(threads && !strcmp(threads, "1"))) {
        for (; nmore < 2; nmore++)
            if (!(r->more[nmore] = temp_file(r->a, r->d, r->out, false, ".o"))) {
                for (int i = 0; i < nmore; i++)
                    unlink(r->more[i]);
                unlink(obj);
                return NULL;
            }
    }
    const char *cpu = o->cpu ? o->cpu : o->portable ? PORTABLE_CPU : NULL;
    LlvmOptions lo = {.output = obj, .kind = o->emit == EMIT_LLVM ? LLVM_OUT_IR : LLVM_OUT_OBJ,
                      .prefix = r->prefix, .opt_level = o->opt_level, .cpu = cpu, .verbose = o->verbose, .time = o->time,
                      .version = version_text(r->a, o, m, cpu), .more_outputs = r->more, .nmore = nmore,
                      .nwritten = &r->nobj};
    r->nobj = 1;
    int rc = backend_llvm.emit(km, &lo, r->d);
    if (rc || r->nobj < 1 + nmore) {    /* the parts it did not use */
        for (int i = rc ? 0 : r->nobj - 1; i < nmore; i++)
            unlink(r->more[i]);
        r->nobj = rc ? 1 : r->nobj;
    }
    if (rc) {
        unlink(obj);
        return NULL;
    }
    return obj;
}

/* link: the object and the runtime into the executable; for -c and --emit llvm, the object (with
 * its header) or the LLVM IR moved into place instead. 0, or 1 after a diagnostic. */
static int link_stage(Run *r, const IrModule *m, const char *obj) {
    const NncOptions *o = r->o;
    int rc = 0;
    if (o->emit == EMIT_EXE) {
        const char *objs[3] = {obj, r->more[0], r->more[1]};
        int nobj = r->nobj > 0 && r->nobj <= 3 ? r->nobj : 1;
        rc = link_executable(r->a, r->d, o->argv0, objs, nobj, r->out, o->verbose, o->portable) ? 1 : 0;
        for (int i = 1; i < nobj; i++)
            unlink(objs[i]);
    } else if (o->emit == EMIT_OBJ && write_header(r->a, r->d, m, r->out, r->prefix)) {
        rc = 1;
    } else if (set_output_mode(r->d, obj)) {
        rc = 1;
    } else if (rename(obj, r->out) != 0) {
        diag_plain(r->d, "rename %s to %s: %s", obj, r->out, strerror(errno));
        rc = 1;
    }
    unlink(obj);
    return rc;
}

/* nnc run: the interpreter is the backend; the runtime's CLI drives it (train, eval, ...). */
static int run_interp(const NncOptions *o, IrModule *m) {
    NncModelDef def = interp_model_def(m);
    fflush(stdout);
    return nnc_main(&def, o->run_argc, o->run_argv);
}

int pipeline_check(Arena *a, Diag *d, Node *prog, const char *input) {
    for (int i = 0; i < prog->nkids; i++) {
        Node *model = prog->kids[i];
        if (model->kind != ND_MODEL || !model->loc.file || strcmp(model->loc.file->name, input)) continue;
        Lower *L = lower_new(a, d, prog, model->name, input);
        IrModule *m = L ? lower(L, d) : NULL;
        if (!m) return 1;
        verify(m, "lower");
        if (autodiff_module(m, d)) return 1;
        allreduce_module(m);
        if (optim_module(L, m, d) || d->nerrors) return 1;
    }
    return 0;
}

int pipeline(const NncOptions *o, Arena *a, Diag *d, Node *prog) {
    Run run = {.o = o, .a = a, .d = d, .last = now()}, *r = &run;
    if (prepare(r))                                           /* options, outputs: before work */
        return 1;
    Lower *L = lower_new(a, d, prog, o->model, o->input);
    if (!L)
        return 1;

    IrModule *m = lower(L, d);                 /* lower: forward, evaluate, each step's graph */
    if (!m || done(r, "lower", m))
        return 1;
    verify(m, "lower");                        /* verify */
    if (autodiff_module(m, d) || done(r, "autodiff", m))   /* autodiff: each step's gradients */
        return 1;
    allreduce_module(m);                       /* allreduce: gradients averaged over processes */
    if (done(r, "allreduce", m))
        return 1;
    if (optim_module(L, m, d) || done(r, "optim", m))      /* optim: each step's update */
        return 1;
    simplify_module(m);                        /* simplify: fold, CSE, identities, dead code */
    if (done(r, "simplify", m))
        return 1;
    verify(m, "simplify");                     /* verify */
    done(r, "verify", NULL);
    if (o->emit == EMIT_IR || o->emit == EMIT_DOT || o->emit == EMIT_DOT_IR)   /* text, no backend */
        return write_ir(r, m, NULL);
    if (o->emit == EMIT_RUN)                   /* nnc run: the interpreter is the backend */
        return run_interp(o, m);

    /* fuse: kernels (compiler/passes/fuse.c); the CUDA backend reads no windows, so --emit cuda|ptx
     * fuse as --target cuda does (the source an executable embeds, also without --target) */
    bool gpu = o->cuda || o->emit == EMIT_CUDA || o->emit == EMIT_PTX;
    KModule *km = fuse_module_ex(a, m, !gpu);
    if (k_module_verify(km, stderr))
        die("the kernel IR is invalid after fuse");
    if (done_kernels(r, "fuse", km))
        return 1;
    /* accumulators (plan.c): the LLVM backend's executables only; `nnc -c`'s train step stays
     * reentrant, and the CUDA backend (--target cuda, --emit cuda/ptx) renders no kept buffer */
    km->accumulate = !o->cuda && o->emit != EMIT_OBJ && o->emit != EMIT_CUDA && o->emit != EMIT_PTX;
    km->bf16 = o->bf16;         /* --precision bf16 (main.c allows it with the CUDA backend only) */
    if (plan_module(km, d) || done_kernels(r, "plan", km))  /* plan: buffers, in-place updates */
        return 1;
    if (k_module_verify(km, stderr))           /* verify the kernels and the plan */
        die("the kernel IR is invalid after plan");
    if (o->emit == EMIT_KERNELS || o->emit == EMIT_PLAN || o->emit == EMIT_CUDA)
        return write_ir(r, m, km);
    if (o->emit == EMIT_PTX)                   /* --emit ptx: NVRTC's output for one arch */
        return write_ptx(r, km);
    const char *obj = o->cuda ? emit_cuda(r, km) : emit_llvm(r, m, km);   /* emit: object or C file */     /* emit: the LLVM backend's object file */
    if (!obj || done(r, "emit", NULL))
        return 1;
    int rc = link_stage(r, m, obj);                  /* link (or place the object / LLVM IR) */
    if (!rc)
        done(r, o->emit == EMIT_EXE ? "link" : "write", NULL);
    return rc;
}
