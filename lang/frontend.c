/* frontend.c - reading a program: the model file and every module it `use`s, into one ND_PROGRAM
 * (see frontend.h; docs/language.md [use.missing]).
 *
 * Module search, for `use a.b` written in file F: `a/b.nn` in F's folder, then in the model's
 * folder, then in the standard library. A stdlib module therefore finds its stdlib siblings first,
 * and a model can bring its own modules. Each file is loaded once, identified by its real path, so
 * a cycle of uses is harmless. Declarations keep their file in loc.file, and the program lists them
 * in load order: the model's own first, then each module's in the order they were first used.
 */
#include "frontend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SOURCE_BYTES (16u << 20)

typedef struct Loaded {
    const char *real;       /* realpath: the identity of a loaded file */
    const SrcFile *file;
    Node *prog;
} Loaded;

typedef struct Loader {
    Arena *a;
    Diag *d;
    const char *stdlib_dir;
    const char *model_dir;
    Loaded *files;
    int nfiles, capfiles;
} Loader;

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The folder part of path with its trailing '/', or "" for a bare name. */
static char *dir_of(Arena *a, const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? arena_strndup(a, path, (size_t)(slash - path) + 1) : arena_strdup(a, "");
}

/* Errors go to the `use` that asked for the file when there is one, else they have no place. */
static void __attribute__((format(printf, 3, 4))) read_error(Loader *L, const Node *use, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (use)
        diag_error(L->d, use->name_loc, "%s", msg);
    else
        diag_plain(L->d, "%s", msg);
}

/* Read a whole source file (at most MAX_SOURCE_BYTES), NUL-terminated. NUL bytes inside are kept:
 * the lexer reports them. */
FILE *frontend_open(const char *path, bool fifo) {
    if (!fifo)
        return fopen(path, "rb");
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == 0)
        return fdopen(fd, "rb");
    if (fd >= 0)
        close(fd);
    return NULL;
}

static SrcFile *read_source(Loader *L, const char *path, const Node *use) {
    struct stat st;
    if (stat(path, &st) != 0) {
        read_error(L, use, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        read_error(L, use, "'%s' is a directory, not a source file", path);
        return NULL;
    }
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > MAX_SOURCE_BYTES) {
        read_error(L, use, "'%s' is too large (%lld bytes; the limit is %u MiB)", path,
                   (long long)st.st_size, MAX_SOURCE_BYTES >> 20);
        return NULL;
    }
    /* a FIFO is opened without waiting for a writer (a named FIFO nobody writes to would block
     * nnc forever): with none, the read below finds end of file at once and says so; a pipe from
     * process substitution, <(...), has its writer already and reads as usual */
    bool fifo = S_ISFIFO(st.st_mode);
    FILE *fp = frontend_open(path, fifo);
    if (!fp) {
        read_error(L, use, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        read_error(L, use, "cannot read '%s': out of memory", path);
        return NULL;
    }
    for (;;) {
        if (len == cap) {
            if (cap > MAX_SOURCE_BYTES)
                break;
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                read_error(L, use, "cannot read '%s': out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    int failed = ferror(fp);
    int saved_errno = errno;
    fclose(fp);
    if (failed) {
        free(buf);
        read_error(L, use, "cannot read '%s': %s", path, strerror(saved_errno));
        return NULL;
    }
    if (fifo && len == 0) {
        free(buf);
        read_error(L, use, "'%s' is a FIFO and nothing was written to it (no writer had opened it)", path);
        return NULL;
    }
    if (len > MAX_SOURCE_BYTES) {
        free(buf);
        read_error(L, use, "'%s' is too large (the limit is %u MiB)", path, MAX_SOURCE_BYTES >> 20);
        return NULL;
    }
    SrcFile *f = arena_alloc(L->a, sizeof *f);
    char *text = arena_alloc(L->a, len + 1);
    memcpy(text, buf, len);
    text[len] = 0;
    free(buf);
    f->name = arena_strdup(L->a, path);
    f->text = text;
    f->len = len;
    f->id = L->nfiles;
    return f;
}

static const Loaded *find_loaded(Loader *L, const char *real) {
    for (int i = 0; i < L->nfiles; i++)
        if (!strcmp(L->files[i].real, real))
            return &L->files[i];
    return NULL;
}

/* Read and parse path unless it is loaded already. */
static void load(Loader *L, const char *path, const Node *use) {
    char real[PATH_MAX];
    const char *id = realpath(path, real) ? real : path;
    if (find_loaded(L, id))
        return;
    SrcFile *f = read_source(L, path, use);
    if (!f)
        return;
    Loaded *ld = ARENA_PUSH(L->a, L->files, L->nfiles, L->capfiles);
    ld->real = arena_strdup(L->a, id);
    ld->file = f;
    ld->prog = parse_file(L->a, L->d, f);
}

/* `use a.b` -> "a/b.nn" */
static char *module_file(Arena *a, const char *name) {
    char *s = arena_printf(a, "%s.nn", name);
    for (char *c = s; c < s + strlen(name); c++)
        if (*c == '.')
            *c = '/';
    return s;
}

/* The module name closest to name among the .nn files of dirs (for "did you mean"). */
static const char *closest_module(Loader *L, const char *name, const char *const *dirs, int ndirs) {
    const char **names = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < ndirs; i++) {
        DIR *dir = opendir(dirs[i][0] ? dirs[i] : ".");
        if (!dir)
            continue;   /* only a suggestion: a folder we cannot list has none to offer */
        for (struct dirent *e; (e = readdir(dir)) && n < 1000;) {
            size_t len = strlen(e->d_name);
            if (len > 3 && !strcmp(e->d_name + len - 3, ".nn"))
                *ARENA_PUSH(L->a, names, n, cap) = arena_strndup(L->a, e->d_name, len - 3);
        }
        closedir(dir);
    }
    return diag_suggest(name, names, n);
}

static void resolve_use(Loader *L, const Loaded *from, const Node *use) {
    char *rel = module_file(L->a, use->name);
    const char *dirs[3] = {dir_of(L->a, from->file->name), L->model_dir, NULL};
    int ndirs = 2;
    if (L->stdlib_dir)
        dirs[ndirs++] = arena_printf(L->a, "%s/", L->stdlib_dir);
    for (int i = 0; i < ndirs; i++) {
        char *cand = arena_printf(L->a, "%s%s", dirs[i], rel);
        if (is_file(cand)) {
            load(L, cand, use);
            return;
        }
    }
    diag_error(L->d, use->name_loc, "module '%s' not found", use->name);
    const char *close = closest_module(L, use->name, dirs, ndirs);
    if (close)
        diag_hint(L->d, "did you mean '%s'?", close);
    /* the folders searched, without their trailing '/' */
    char *here = L->model_dir[0] ? arena_strndup(L->a, L->model_dir, strlen(L->model_dir) - 1) : ".";
    if (!here[0])
        here = "/";
    char *mine = dirs[0][0] ? arena_strndup(L->a, dirs[0], strlen(dirs[0]) - 1) : ".";
    if (!mine[0])
        mine = "/";
    const char *also = strcmp(mine, here) && !(L->stdlib_dir && !strcmp(mine, L->stdlib_dir))
                           ? arena_printf(L->a, "'%s', ", mine) : "";
    if (L->stdlib_dir)
        diag_hint(L->d, "looked for '%s' in %s'%s' and the standard library '%s' (NNC_STDLIB chooses another)",
                  rel, also, here, L->stdlib_dir);
    else
        diag_hint(L->d, "looked for '%s' in %s'%s'; no standard library was found (set NNC_STDLIB to its folder)",
                  rel, also, here);
}

/* ---- concat of a list: concat([a, b, c], axis = 1) is concat(concat(a, b, axis = 1), c, axis = 1) ----
 * Keras' concatenate([...]) and torch.cat([...], dim) take a list of tensors; the builtin takes two.
 * The rewrite is made on the loaded program (check and build see the nested calls; nnc fmt, which
 * parses alone, keeps the list as written), and only where no declaration of the program is named
 * concat [scope.module]. */
static Node *clone_expr(Arena *a, const Node *n) {
    if (!n)
        return NULL;
    Node *c = arena_alloc(a, sizeof *c);
    *c = *n;
    c->lhs = clone_expr(a, n->lhs);
    c->rhs = clone_expr(a, n->rhs);
    c->body = clone_expr(a, n->body);
    if (n->nkids) {
        c->kids = arena_alloc(a, sizeof(Node *) * (size_t)n->nkids);
        for (int i = 0; i < n->nkids; i++)
            c->kids[i] = clone_expr(a, n->kids[i]);
    }
    return c;
}

static void concat_lists(Arena *a, Node *n) {
    if (!n)
        return;
    concat_lists(a, n->lhs);
    concat_lists(a, n->rhs);
    concat_lists(a, n->body);
    for (int i = 0; i < n->nkids; i++)
        concat_lists(a, n->kids[i]);
    for (int i = 0; i < n->nformals; i++)
        concat_lists(a, n->formals[i]);
    /* concat(LIST) or concat(LIST, axis) or concat(LIST, axis = k), the list of 2 or more */
    if (n->kind != ND_CALL || !n->lhs || n->lhs->kind != ND_IDENT || strcmp(n->lhs->name, "concat") != 0 ||
        n->nkids < 1 || n->nkids > 2 || n->kids[0]->kind != ND_TENSOR || n->kids[0]->nkids < 2)
        return;
    Node *axis = n->nkids == 2 ? n->kids[1] : NULL;
    if (axis && axis->kind == ND_ARG && strcmp(axis->name, "axis") != 0)
        return;
    /* a positional axis is an int literal: concat([1, 2], t) stays the concat of a literal and t */
    const Node *ax = axis && axis->kind == ND_UNARY ? axis->lhs : axis;
    if (axis && axis->kind != ND_ARG && !(ax && ax->kind == ND_INT))
        return;
    Node *list = n->kids[0], *acc = list->kids[0];
    for (int i = 1; i < list->nkids; i++) {
        Node *call = arena_alloc(a, sizeof *call);
        *call = *n;
        call->lhs = clone_expr(a, n->lhs);
        call->nkids = axis ? 3 : 2;
        call->kids = arena_alloc(a, sizeof(Node *) * 3);
        call->kids[0] = acc;
        call->kids[1] = list->kids[i];
        if (axis)
            call->kids[2] = i == list->nkids - 1 ? axis : clone_expr(a, axis);
        acc = call;
    }
    *n = *acc;
}

Node *frontend_load(Arena *a, Diag *d, const char *path, const char *stdlib_dir) {
    Loader L = {.a = a, .d = d, .stdlib_dir = stdlib_dir, .model_dir = dir_of(a, path)};
    load(&L, path, NULL);
    if (L.nfiles == 0)
        return NULL;
    Node *prog = arena_alloc(a, sizeof *prog);
    prog->kind = ND_PROGRAM;
    prog->loc = L.files[0].prog->loc;
    prog->name_loc = prog->loc;
    int cap = 0;
    /* L.files grows while this walks it: modules found here are parsed and walked in turn. */
    for (int i = 0; i < L.nfiles; i++) {
        Node *fp = L.files[i].prog;
        for (int k = 0; k < fp->nkids; k++) {
            Node *decl = fp->kids[k];
            *ARENA_PUSH(a, prog->kids, prog->nkids, cap) = decl;
            if (decl->kind == ND_USE) {
                Loaded from = L.files[i];
                resolve_use(&L, &from, decl);
            }
        }
    }
    bool own_concat = false;
    for (int k = 0; k < prog->nkids; k++)
        own_concat |= (prog->kids[k]->kind == ND_FN || prog->kids[k]->kind == ND_LAYER) && prog->kids[k]->name &&
                      !strcmp(prog->kids[k]->name, "concat");
    if (!own_concat)
        concat_lists(a, prog);
    return prog;
}

Node *frontend_parse(Arena *a, Diag *d, const char *path) {
    Loader L = {.a = a, .d = d, .model_dir = dir_of(a, path)};
    SrcFile *f = read_source(&L, path, NULL);
    return f ? parse_file(a, d, f) : NULL;
}

const char *frontend_stdlib_dir(Arena *a, const char *argv0) {
    const char *env = getenv("NNC_STDLIB");
    if (env && env[0])
        return arena_strdup(a, env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *bin = NULL;
    if (n > 0) {
        exe[n] = 0;
        bin = exe;
    } else if (argv0 && strchr(argv0, '/')) {
        bin = argv0;
    }
    if (bin) {
        char *dir = dir_of(a, bin);
        char *cand = arena_printf(a, "%s../share/nnc/stdlib", dir);
        if (is_dir(cand))
            return cand;
    }
#ifdef NNC_SOURCE_DIR
    if (is_dir(NNC_SOURCE_DIR "/stdlib"))
        return NNC_SOURCE_DIR "/stdlib";
#endif
    return NULL;
}
