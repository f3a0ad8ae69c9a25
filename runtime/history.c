/* history.c - the record of a training run: the values of one epoch (an RtRow, which both the epoch
 * line and the history file are made from, so the two never disagree), the history CSV of
 * `train --history` (one row per epoch, Keras' History / darknet's chart log), reading it back (for
 * `plot` and for a resumed run, which keeps the rows of the epochs it continues from), writing a
 * whole output file through a temporary, and early stopping's bookkeeping (which value is watched,
 * whether bigger is better).
 *
 * The history file is rewritten whole after every epoch (a temporary renamed over it, as a checkpoint
 * is), so a killed run leaves the rows of the epochs it finished, never half a line. Its header starts
 * with `epoch,` and ends with `,seconds,samples_per_s`: that is how a history file is recognised as
 * ours, the one kind of existing file `--history` replaces without --force (docs/cli.md *Outputs*).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt.h"

/* ---- one epoch's values ---- */

int rt_row_add(RtCtx *c, RtRow *r, const char *prefix, const char *name, double v, char fmt) {
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        char **nn = rt_realloc(c, r->name, sizeof(char *) * (size_t)cap);
        if (!nn) return -1;
        r->name = nn;
        double *nv = rt_realloc(c, r->v, sizeof(double) * (size_t)cap);
        if (!nv) return -1;
        r->v = nv;
        char *nf = rt_realloc(c, r->fmt, (size_t)cap);
        if (!nf) return -1;
        r->fmt = nf;
        r->cap = cap;
    }
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *s = rt_alloc(c, n);
    if (!s) return -1;
    snprintf(s, n, "%s%s", prefix, name);
    r->name[r->n] = s;
    r->v[r->n] = v;
    r->fmt[r->n++] = fmt;
    return 0;
}

void rt_row_clear(RtCtx *c, RtRow *r) {
    for (int i = 0; i < r->n; i++) rt_free(c, r->name[i]);
    r->n = 0;
}

void rt_row_free(RtCtx *c, RtRow *r) {
    rt_row_clear(c, r);
    rt_free(c, r->name);
    rt_free(c, r->v);
    rt_free(c, r->fmt);
    memset(r, 0, sizeof *r);
}

int rt_row_find(const RtRow *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) return i;
    return -1;
}

void rt_row_print(const RtRow *r, int from, int to, FILE *out) {
    for (int i = from; i < to && i < r->n; i++) {
        if (r->fmt[i] == 'l') fprintf(out, "  %s %.6f", r->name[i], r->v[i]);
        else if (r->fmt[i] == 'a') fprintf(out, "  %s %.4f", r->name[i], r->v[i]);
        else fprintf(out, "  %s %.6g", r->name[i], r->v[i]);
    }
}

/* JSON string of s (names come from the model: quotes and control characters escaped). */
void rt_json_str(FILE *out, const char *s) {
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
        else if (ch < 0x20) fprintf(out, "\\u%04x", ch);
        else fputc(ch, out);
    }
    fputc('"', out);
}

/* A JSON number; NaN and infinities (which JSON lacks) as null. */
void rt_json_num(FILE *out, double v) {
    if (isfinite(v)) fprintf(out, "%.9g", v);
    else fputs("null", out);
}

/* {"name": value, ...} of a row's entries (no braces). */
void rt_row_json(const RtRow *r, FILE *out) {
    for (int i = 0; i < r->n; i++) {
        fputs(i ? ", " : "", out);
        rt_json_str(out, r->name[i]);
        fputs(": ", out);
        rt_json_num(out, r->v[i]);
    }
}

/* Whether bigger is better for a monitored value: accuracy and the scores that rise with quality
 * (Keras' mode="auto" decides by the name the same way). */
bool rt_monitor_max(const char *name) {
    if (!strncmp(name, "val_", 4)) name += 4;
    static const char *const up[] = {"accuracy", "acc", "precision", "recall", "f1", "r2", "auc"};
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
        if (!strcmp(name, up[i])) return true;
    return strstr(name, "accuracy") != NULL;
}

/* ---- writing a whole file through a temporary ---- */

/* The one allocation of a write through a temporary, rt_tmp_open's name, served from a buffer
 * allocated beforehand (rt_write_whole_pre): a write made after the epoch's checkpoint then cannot
 * fail for memory, so a failed allocation never leaves a new checkpoint behind an error. */
typedef struct Pre { char *buf; bool used; } Pre;

static void *pre_alloc(void *ud, void *ptr, size_t nsize) {
    Pre *p = ud;
    if (nsize == 0) return NULL;        /* the buffer is the caller's to free */
    if (ptr || p->used) return NULL;
    p->used = true;
    return p->buf;
}

size_t rt_tmp_name_size(const char *path) { return strlen(path) + 64; }

int rt_write_whole_pre(RtCtx *c, const char *path, const RtOutput *o, const char *buf, size_t n, char *name) {
    RtCtx q = *c;
    Pre p = {name, false};
    q.alloc = pre_alloc;
    q.ud = &p;
    return rt_write_whole(&q, path, o, buf, n);
}

int rt_write_whole(RtCtx *c, const char *path, const RtOutput *o, const char *buf, size_t n) {
    if (rt_output_check(c, path, o)) return -1;
    rt_tmp_clean_stale(path);
    char *tmp = NULL;
    FILE *f = rt_tmp_open(c, path, &tmp, o->verb, "");
    if (!f) return -1;
    const char *what = NULL;
    if (fwrite(buf, 1, n, f) != n) what = "fwrite";
    /* no fsync: a history or plot is redrawn whole every epoch, and the rename alone keeps a reader
     * from ever seeing half a file; an fsync per file cost ~10 ms an epoch (iris: 300 epochs took
     * 3.2 s instead of 0.07 s), the checkpoint's own fsync is what a crash needs */
    if (!what && fflush(f)) what = "fflush";
    int e = errno;
    if (fclose(f) && !what) { what = "fclose"; e = errno; }
    if (!what && rt_output_check(c, path, o)) { what = "the target check"; e = EEXIST; }
    if (!what && rt_tmp_rename(tmp, path)) { what = "rename"; e = errno; }
    if (what) rt_tmp_release(tmp);
    rt_free(c, tmp);
    if (what)
        return rt_error(c, "cannot %s to '%s': %s failed: %s (the previous file, if any, is untouched)", o->verb,
                        path, what, strerror(e));
    return 0;
}

/* ---- the history file ---- */

#define HIST_TAIL ",seconds,samples_per_s"

static bool own_history(RtCtx *c, FILE *f) {
    (void)c;
    char line[4096];
    if (!fgets(line, sizeof line, f)) return false;
    size_t n = strcspn(line, "\r\n");
    line[n] = 0;
    size_t t = strlen(HIST_TAIL);
    return !strncmp(line, "epoch,", 6) && n >= t && !strcmp(line + n - t, HIST_TAIL);
}

RtOutput rt_history_output(bool force) {
    return (RtOutput){"--history", "write the training history", "a history file",
                      "a training history an nnc model wrote (a CSV whose header starts with 'epoch,' and ends "
                      "with ',seconds,samples_per_s')",
                      own_history, force, false, false};
}

void rt_history_free(RtCtx *c, RtHistory *h) {
    for (int i = 0; i < h->ncol; i++) rt_free(c, h->col[i]);
    rt_free(c, h->col);
    rt_free(c, h->v);
    h->col = NULL;
    h->v = NULL;
    h->ncol = h->nrows = h->cap = 0;
}

static int add_col(RtCtx *c, RtHistory *h, const char *name, size_t n) {
    char **nc = rt_realloc(c, h->col, sizeof(char *) * (size_t)(h->ncol + 1));
    if (!nc) return -1;
    h->col = nc;
    char *s = rt_alloc(c, n + 1);
    if (!s) return -1;
    memcpy(s, name, n);
    s[n] = 0;
    h->col[h->ncol++] = s;
    return 0;
}

static double *new_row(RtCtx *c, RtHistory *h) {
    if (h->nrows == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        double *nv = rt_realloc(c, h->v, sizeof(double) * (size_t)cap * (size_t)h->ncol);
        if (!nv) return NULL;
        h->v = nv;
        h->cap = cap;
    }
    double *row = h->v + (size_t)h->nrows++ * (size_t)h->ncol;
    for (int i = 0; i < h->ncol; i++) row[i] = NAN;
    return row;
}

int rt_history_col(const RtHistory *h, const char *name) {
    for (int i = 0; i < h->ncol; i++)
        if (!strcmp(h->col[i], name)) return i;
    return -1;
}

/* Reads a history CSV: a header of names (the first is `epoch`), then rows of numbers (an empty
 * field is a missing value). Errors name the file and line. */
#define HERR(...) ((void)(quiet ? -1 : rt_error(c, __VA_ARGS__)))

static int read_history(RtCtx *c, FILE *f, const char *path, RtHistory *h, bool quiet) {
    memset(h, 0, sizeof *h);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = -1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) { HERR("%s:%d: the file holds a NUL byte: a history is text", path, lineno); goto done; }
        line[strcspn(line, "\r\n")] = 0;
        if (lineno == 1) {
            if (strncmp(line, "epoch,", 6) && strcmp(line, "epoch")) {
                HERR("%s:1: not a training history (its header does not start with 'epoch,')", path);
                goto done;
            }
            for (char *p = line;;) {
                size_t n = strcspn(p, ",");
                if (!n) { HERR("%s:1: column %d of the header has no name", path, h->ncol + 1); goto done; }
                if (add_col(c, h, p, n)) goto done;
                if (!p[n]) break;
                p += n + 1;
            }
            continue;
        }
        if (!line[0]) continue;
        double *row = new_row(c, h);
        if (!row) goto done;
        int k = 0;
        for (char *p = line;; k++) {
            size_t n = strcspn(p, ",");
            if (k >= h->ncol) {
                HERR("%s:%d: more fields than the header's %d", path, lineno, h->ncol);
                goto done;
            }
            if (n) {
                char save = p[n], *end;
                p[n] = 0;
                errno = 0;
                row[k] = strtod(p, &end);
                p[n] = save;
                if (end != p + n || errno == ERANGE) {
                    HERR("%s:%d: field %d ('%.*s') of column '%s' is not a number", path, lineno, k + 1,
                             (int)(n > 40 ? 40 : n), p, h->col[k]);
                    goto done;
                }
            }
            if (!p[n]) break;
            p += n + 1;
        }
        if (k + 1 != h->ncol) {
            HERR("%s:%d: expected %d fields (as in the header), found %d", path, lineno, h->ncol, k + 1);
            goto done;
        }
        if (!isfinite(row[0])) { HERR("%s:%d: the epoch is missing", path, lineno); goto done; }
    }
    if (ferror(f)) { HERR("cannot read '%s': %s", path, strerror(errno)); goto done; }
    if (lineno == 0) { HERR("'%s' is empty: not a training history", path); goto done; }
    rc = 0;
done:
    free(line);     /* getline's buffer comes from malloc */
    if (rc) rt_history_free(c, h);
    return rc;
}

int rt_history_read(RtCtx *c, const char *path, RtHistory *h) {
    memset(h, 0, sizeof *h);
    FILE *f = rt_open_input(c, path, "history file", false);
    if (!f) return -1;
    int rc = read_history(c, f, path, h, false);
    fclose(f);
    return rc;
}

/* Before training: the history file may be written; a resumed run keeps the rows of the epochs
 * it continues from when the file is ours and has the same columns (checked at the first row). */
int rt_history_begin(RtCtx *c, RtHistory *h, const char *path, bool force, bool resume) {
    memset(h, 0, sizeof *h);
    RtOutput o = rt_history_output(force);
    if (rt_output_check(c, path, &o)) return -1;
    if (!resume || access(path, R_OK)) return 0;
    FILE *f = fopen(path, "rb");
    bool own = f && own_history(c, f);
    /* read quietly: a history we cannot parse is simply started anew (it is ours, and replaced) */
    RtHistory old;
    int r = -1;
    if (own && !fseek(f, 0, SEEK_SET)) r = read_history(c, f, path, &old, true);
    if (f) fclose(f);
    if (r) return 0;
    int keep = 0;
    for (int i = 0; i < old.nrows; i++)
        if (old.v[(size_t)i * (size_t)old.ncol] <= (double)c->epoch) keep = i + 1;
    old.nrows = keep;
    *h = old;
    h->resumed = true;
    return 0;
}

/* Appends epoch's row (the first one fixes the columns: epoch, the row's names, then lr of each
 * step, seconds and samples/s) and rewrites the file at path (none when path is NULL). */
int rt_history_add(RtCtx *c, RtHistory *h, const char *path, bool force, int64_t epoch, const RtRow *r,
                   const double *lr, const char *const *lr_names, int nlr, double secs, double rate) {
    int want = 1 + r->n + nlr + 2;
    bool same = h->ncol == want;
    for (int i = 0; same && i < r->n; i++) same = !strcmp(h->col[1 + i], r->name[i]);
    for (int i = 0; same && i < nlr; i++) same = !strcmp(h->col[1 + r->n + i], lr_names[i]);
    if (!same) {
        /* a first row, or a resumed history of other columns: start anew */
        rt_history_free(c, h);
        if (add_col(c, h, "epoch", 5)) return -1;
        for (int i = 0; i < r->n; i++) if (add_col(c, h, r->name[i], strlen(r->name[i]))) return -1;
        for (int i = 0; i < nlr; i++) if (add_col(c, h, lr_names[i], strlen(lr_names[i]))) return -1;
        if (add_col(c, h, "seconds", 7) || add_col(c, h, "samples_per_s", 13)) return -1;
    }
    double *row = new_row(c, h);
    if (!row) return -1;
    row[0] = (double)epoch;
    for (int i = 0; i < r->n; i++) row[1 + i] = r->v[i];
    for (int i = 0; i < nlr; i++) row[1 + r->n + i] = lr[i];
    row[1 + r->n + nlr] = secs;
    row[2 + r->n + nlr] = rate;
    if (!path) return 0;
    RtOutput o = rt_history_output(force);
    return rt_history_write(c, h, path, &o);
}

int rt_history_write(RtCtx *c, const RtHistory *h, const char *path, const RtOutput *o) {
    char *buf = NULL;
    size_t n = 0;
    if (rt_history_render(c, h, &buf, &n)) return -1;
    int rc = rt_write_whole(c, path, o, buf, n);
    free(buf);    /* open_memstream's buffer comes from malloc */
    return rc;
}

int rt_history_render(RtCtx *c, const RtHistory *h, char **out, size_t *outn) {
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    if (!m) return rt_error(c, "cannot write the history: open_memstream failed: %s", strerror(errno));
    for (int i = 0; i < h->ncol; i++) fprintf(m, "%s%s", i ? "," : "", h->col[i]);
    fputc('\n', m);
    for (int j = 0; j < h->nrows; j++) {
        const double *v = h->v + (size_t)j * (size_t)h->ncol;
        for (int i = 0; i < h->ncol; i++) {
            if (i) fputc(',', m);
            if (i == 0) fprintf(m, "%.0f", v[i]);
            else if (isfinite(v[i])) fprintf(m, "%.9g", v[i]);
        }
        fputc('\n', m);
    }
    if (fclose(m)) { free(buf); return rt_error(c, "cannot write the history: out of memory"); }
    *out = buf;
    *outn = n;
    return 0;
}
