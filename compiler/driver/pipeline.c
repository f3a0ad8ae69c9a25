/* pipeline.c - every stage from a checked program to an executable, in order, in one function
 * (STYLE.md: QBE's func()): lower -> verify -> autodiff + optim -> simplify -> verify -> backend
 * -> link. compiler/driver/main.c runs the front end and calls pipeline_compile, or pipeline_run_interp
 * for `nnc run`, which drives the same module through the reference interpreter instead of LLVM.
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
#include "interp/interp.h"
#include "kernel.h"
#include "llvm/llvm.h"
#include "lower.h"
#include "passes.h"

/* --dump-after autodiff is the same point as optim: autodiff runs inside each train step's optim. */
static bool dump_wanted(const NncOptions *o, const char *pass) {
    if (!o->dump_after) return false;
    const char *want = !strcmp(o->dump_after, "autodiff") ? "optim" : o->dump_after;
    return !strcmp(want, pass);
}

/* -v: each stage's name and the time since the previous one, on stderr, in the driver's format
 * (name NULL: start the clock). */
typedef struct Timer { double last; } Timer;

static void stage(const NncOptions *o, Timer *t, const char *name) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    if (o->verbose && name) fprintf(stderr, "nnc: %-10s %8.1f ms\n", name, (now - t->last) * 1e3);
    t->last = now;
}

static void dump(const NncOptions *o, const char *pass, const IrModule *m) {
    if (!dump_wanted(o, pass)) return;
    printf("; after %s\n", pass);
    ir_module_print(stdout, m);
    fflush(stdout);
}

/* Verify every graph of m; a failure is a compiler bug in the pass that ran last. */
static void verify(const IrModule *m, const char *after) {
    const IrGraph *gs[2] = {m->forward, m->evaluate};
    for (int i = 0; i < 2 + m->nsteps; i++) {
        const IrGraph *g = i < 2 ? gs[i] : m->steps[i - 2].graph;
        if (g && ir_verify(g, stderr)) die("the IR is invalid after %s (graph %s)", after, g->name);
    }
}

static const char *const pass_names[] = {"lower", "autodiff", "optim", "simplify"};

/* The front half, shared by compile and run: the checked program -> the optimised module. */
static IrModule *build_module(const NncOptions *o, Timer *t, Arena *a, Diag *d, Node *prog) {
    if (o->dump_after) {
        bool known = false;
        for (size_t i = 0; i < sizeof pass_names / sizeof *pass_names; i++) known |= !strcmp(o->dump_after, pass_names[i]);
        if (!known) {
            diag_plain(d, "--dump-after: unknown pass '%s' (lower, autodiff, optim, simplify)", o->dump_after);
            return NULL;
        }
    }
    stage(o, t, NULL);
    Lower *L = lower_new(a, d, prog, o->model, o->input);
    if (!L) return NULL;
    IrModule *m = lower_module(L);                     /* forward + evaluate graphs, descriptor */
    if (!m || d->nerrors) return NULL;
    verify(m, "lower");
    stage(o, t, "lower");
    dump(o, "lower", m);
    if (optim_module(L, m, d) || d->nerrors) return NULL;  /* per step: autodiff + optimizer */
    verify(m, "optim");
    stage(o, t, "optim");
    dump(o, "optim", m);
    simplify_module(m);                                /* fold, CSE, identities, dead code */
    verify(m, "simplify");
    stage(o, t, "simplify");
    dump(o, "simplify", m);
    return m;
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
               " * Link %s with libnnc_rt.a, -lopenblas -lz -lm -lpthread. nnc_abi.h describes NncArgs\n"
               " * and the descriptor; %s_model_def() hands the model to nnc_main or to your own driver. */\n",
            h, NNC_VERSION, m->name, obj, obj, P);
    fprintf(f, "#ifndef NNC_MODEL_%s_H\n#define NNC_MODEL_%s_H\n\n#include \"nnc_abi.h\"\n\n", P, P);
    fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(f, "extern const char %s_desc[];\n", P);
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
               "    NncModelDef d = {%s_desc, %s_workspace_size, %s_forward, %s_evaluate, %s_train_step, 0};\n"
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

/* The output's folder must exist and be writable: said before any work, in the user's words. */
static int check_output_dir(Arena *a, Diag *d, const char *out) {
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

static void print_text(EmitKind k, FILE *f, const IrModule *m, const KModule *km) {
    if (k == EMIT_IR) ir_module_print(f, m);
    else if (k == EMIT_KERNELS) k_module_print(f, km);
    else k_plan_print(f, km);
}

int pipeline_compile(const NncOptions *o, Arena *a, Diag *d, Node *prog) {
    Timer timer = {0}, *t = &timer;
    IrModule *m = build_module(o, t, a, d, prog);                       /* lower .. simplify */
    if (!m) return 1;
    KModule *km = NULL;
    if (o->emit != EMIT_IR) {
        km = fuse_module(a, m);                                         /* kernels */
        if (k_module_verify(km, stderr)) die("the kernel IR is invalid after fuse");
        stage(o, t, "fuse");
        if (plan_module(km, d)) return 1;                               /* buffers */
        if (k_module_verify(km, stderr)) die("the kernel IR is invalid after plan");
        stage(o, t, "plan");
    }
    bool text = o->emit == EMIT_IR || o->emit == EMIT_KERNELS || o->emit == EMIT_PLAN;
    const char *out = o->output ? o->output : text ? "-" : default_output(a, d, o->input, o->emit);
    if (!out) return 1;
    if (strcmp(out, "-") && check_output_dir(a, d, out)) return 1;
    if (pipeline_check_output(d, o->input, out)) return 1;
    if (o->emit == EMIT_OBJ) {
        size_t n = strlen(out);
        if (n >= 2 && !strcmp(out + n - 2, ".h")) {
            diag_plain(d, "-c writes an object file and its header; '%s' names a header", out);
            diag_hint(d, "name the object with -o NAME.o (its header becomes NAME.h)");
            return 1;
        }
        if (pipeline_check_output(d, o->input, header_name(a, out))) return 1;
    }

    if (text) {                                          /* --emit ir|kernels|plan: print, stop */
        if (!strcmp(out, "-")) {      /* a write error is reported by main (stdout_failed) */
            print_text(o->emit, stdout, m, km);
            return 0;
        }
        const char *tmp = arena_printf(a, "%s.tmp", out);
        FILE *f = fopen(tmp, "w");
        if (!f) {
            diag_plain(d, "cannot write %s: %s", tmp, strerror(errno));
            return 1;
        }
        print_text(o->emit, f, m, km);
        if (fclose(f) != 0 || rename(tmp, out) != 0) {
            diag_plain(d, "cannot write %s: %s", out, strerror(errno));
            unlink(tmp);
            return 1;
        }
        return 0;
    }

    /* backend: LLVM -> an object file (or textual LLVM IR) in a temporary file */
    const char *prefix = o->emit == EMIT_OBJ ? (o->prefix ? o->prefix : m->name) : "nnc_model";
    if (!valid_prefix(prefix)) {
        diag_plain(d, "symbol prefix '%s' is not a C identifier (use --prefix NAME)", prefix);
        return 1;
    }
    const char *obj = temp_file(a, d, out, o->emit != EMIT_EXE, o->emit == EMIT_LLVM ? ".ll" : ".o");
    if (!obj) return 1;
    LlvmOptions lo = {.output = obj, .kind = o->emit == EMIT_LLVM ? LLVM_OUT_IR : LLVM_OUT_OBJ,
                      .prefix = prefix, .opt_level = o->opt_level, .cpu = o->cpu, .verbose = o->verbose};
    if (backend_llvm.emit(km, &lo, d)) {
        unlink(obj);
        return 1;
    }
    stage(o, t, "llvm");

    int rc = 0;
    if (o->emit == EMIT_OBJ || o->emit == EMIT_LLVM) {   /* -c: object + header; --emit llvm */
        if (o->emit == EMIT_OBJ && write_header(a, d, m, out, prefix)) rc = 1;
        else if (set_output_mode(d, obj)) rc = 1;
        else if (rename(obj, out) != 0) {
            diag_plain(d, "rename %s to %s: %s", obj, out, strerror(errno));
            rc = 1;
        }
    } else if (link_executable(a, d, o->argv0, obj, out, o->verbose)) { /* link */
        rc = 1;
    }
    unlink(obj);
    if (o->emit == EMIT_EXE) stage(o, t, "link");
    return rc;
}

int pipeline_run_interp(const NncOptions *o, Arena *a, Diag *d, Node *prog, int argc, char **argv) {
    Timer t = {0};
    IrModule *m = build_module(o, &t, a, d, prog);
    if (!m) return 1;
    NncModelDef def = interp_model_def(m);
    fflush(stdout);
    return nnc_main(&def, argc, argv);
}
