/* link.c - the last stage: the model's object file + the runtime library -> an executable.
 *
 * The system C compiler is the linker driver (it knows the platform's crt files and library
 * paths): `cc [-fuse-ld=gold] model.o libnnc_rt.a -lopenblas -lpng16 -lz -lm -lpthread -o OUT.tmp`,
 * run with posix_spawnp (no shell, so no quoting problems with odd file names), then renamed over
 * OUT, so a failed link never destroys an executable that was there. Where binutils' gold linker
 * is on $PATH (Debian's binutils has it) the driver is told to use it, unless $CC names a linker
 * itself or $NNC_LD chooses another: it links the same program as the default ld.bfd in a third
 * of the time (35 ms against 100 ms of CPU for char_gru; docs/nnc.md "Modules and the standard
 * library"). The runtime library is found relative to the nnc executable: beside it in the build
 * tree, in ../lib/nnc/ once installed ($NNC_RUNTIME_LIB, when set, names it instead: an nnc linked
 * elsewhere, or a runtime built with other flags).
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lower.h"

extern char **environ;

static bool is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The folder of the running nnc: /proc/self/exe, else argv0's folder. */
static const char *exe_dir(Arena *a, const char *argv0) {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    const char *path;
    if (n > 0) {
        buf[n] = 0;
        path = buf;
    } else if (argv0 && strchr(argv0, '/')) {
        path = argv0;
    } else {
        return NULL;
    }
    const char *slash = strrchr(path, '/');
    return slash ? arena_strndup(a, path, (size_t)(slash - path)) : ".";
}

const char *link_runtime_library(Arena *a, Diag *d, const char *argv0) {
    const char *env = getenv("NNC_RUNTIME_LIB");
    if (env && *env) {
        if (is_file(env)) return env;
        diag_plain(d, "NNC_RUNTIME_LIB names '%s', which is not a file", env);
        return NULL;
    }
    const char *dir = exe_dir(a, argv0);
    if (dir) {
        const char *beside = arena_printf(a, "%s/libnnc_rt.a", dir);
        if (is_file(beside)) return beside;
        const char *installed = arena_printf(a, "%s/../lib/nnc/libnnc_rt.a", dir);
        if (is_file(installed)) return installed;
        diag_plain(d, "cannot find the runtime library: neither %s nor %s exists", beside, installed);
        return NULL;
    }
    diag_plain(d, "cannot find the runtime library: the nnc executable's folder is unknown");
    return NULL;
}

/* Whether an executable named `name` is in $PATH. */
static bool in_path(Arena *a, const char *name) {
    const char *path = getenv("PATH");
    if (!path || !*path)
        return false;
    for (const char *p = path;;) {
        const char *q = strchr(p, ':');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len > 0 && access(arena_printf(a, "%.*s/%s", (int)len, p, name), X_OK) == 0)
            return true;
        if (!q)
            return false;
        p = q + 1;
    }
}

/* The linker the compiler driver is told to use: $NNC_LD names one ("bfd", "gold", "lld"; "cc"
 * = the driver's default), else none when $CC has its own -fuse-ld, else gold when binutils has
 * it (ld.gold beside ld), else the default. NULL = the default. */
static const char *linker_flag(Arena *a, Diag *d, bool *bad) {
    const char *env = getenv("NNC_LD");
    *bad = false;
    if (env && *env) {
        if (!strcmp(env, "cc"))
            return NULL;
        if (strcmp(env, "bfd") && strcmp(env, "gold") && strcmp(env, "lld")) {
            diag_plain(d, "NNC_LD is '%s': one of bfd, gold, lld or cc (the compiler's default)", env);
            *bad = true;
            return NULL;
        }
        return arena_printf(a, "-fuse-ld=%s", env);
    }
    const char *cc = getenv("CC");     /* $CC that picks a linker of its own keeps it */
    if (cc && strstr(cc, "-fuse-ld"))
        return NULL;
    return in_path(a, "ld.gold") ? "-fuse-ld=gold" : NULL;
}

/* Split $CC on spaces ("ccache gcc"), or "cc". */
static int compiler_argv(Arena *a, const char **argv, int max) {
    const char *cc = getenv("CC");
    if (!cc || !*cc) cc = "cc";
    int n = 0;
    const char *p = cc;
    while (*p && n < max) {
        while (*p == ' ') p++;
        const char *q = p;
        while (*q && *q != ' ') q++;
        if (q > p) argv[n++] = arena_strndup(a, p, (size_t)(q - p));
        p = q;
    }
    return n;
}

int link_executable(Arena *a, Diag *d, const char *argv0, const char *const *objs, int nobj, const char *out,
                    int verbose, int portable) {
    const char *obj = objs[0];
    const char *rt = link_runtime_library(a, d, argv0);
    if (!rt) return -1;
    const char *tmp = arena_printf(a, "%s.tmp", out);
    const char *argv[40];
    int n = compiler_argv(a, argv, 8);
    if (n == 0) {
        diag_plain(d, "$CC is empty");
        return -1;
    }
    bool bad;
    const char *ld = linker_flag(a, d, &bad);
    if (bad)
        return -1;
    if (ld)
        argv[n++] = ld;
    for (int i = 0; i < nobj && i < 4; i++)
        argv[n++] = objs[i];
    argv[n++] = rt;
    if (portable) {
        /* --portable: Debian's static archives of OpenBLAS (with the Fortran runtime its LAPACK
         * needs), libpng and zlib, so the executable needs nothing but glibc (docs/nnc.md) */
        argv[n++] = "-Wl,-Bstatic";
        argv[n++] = "-lopenblas";
        argv[n++] = "-lpng16";
        argv[n++] = "-lz";
        argv[n++] = "-lgfortran";
        argv[n++] = "-lquadmath";
        argv[n++] = "-Wl,-Bdynamic";
        argv[n++] = "-static-libgcc";
    } else {
        argv[n++] = "-lopenblas";
        argv[n++] = "-lpng16";
        argv[n++] = "-lz";
    }
    argv[n++] = "-lm";
    argv[n++] = "-lpthread";
    argv[n++] = "-ldl";         /* runtime/cuda.c opens the CUDA driver with dlopen */
    size_t ol = strlen(obj);
    if (ol > 2 && !strcmp(obj + ol - 2, ".c"))  /* --target cuda: made to be carried to a GPU machine with */
        argv[n++] = "-Wl,-rpath,$ORIGIN";       /* its libraries beside it (scripts/cuda_bundle.sh) */
#ifdef NNC_SANITIZE
    /* this nnc and its runtime library are built with the sanitizers: so is the executable */
    argv[n++] = "-fsanitize=address,undefined";
#endif
    argv[n++] = "-o";
    argv[n++] = tmp;
    argv[n] = NULL;
    if (verbose) {
        fprintf(stderr, "nnc: link:");
        for (int i = 0; i < n; i++) fprintf(stderr, " %s", argv[i]);
        fprintf(stderr, "\n");
    }
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *)argv, environ);
    if (err) {
        diag_plain(d, "cannot run the linker '%s': %s (set $CC to a C compiler)", argv[0], strerror(err));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            diag_plain(d, "waitpid for the linker '%s': %s", argv[0], strerror(errno));
            unlink(tmp);
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            diag_plain(d, "linking %s failed: '%s' exited with status %d (its messages are above)", out,
                       argv[0], WEXITSTATUS(status));
        else
            diag_plain(d, "linking %s failed: '%s' was killed by signal %d", out, argv[0], WTERMSIG(status));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, out) != 0) {
        diag_plain(d, "rename %s to %s: %s", tmp, out, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
