/* weights.c - weights and checkpoints in the safetensors format.
 *
 * Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON, then the raw little-endian tensor data. The JSON maps each tensor name ("h.W") to
 * {"dtype": "F32"|"I32"|"BOOL", "shape": [...], "data_offsets": [begin, end]} (offsets relative to
 * the data section) and holds "__metadata__", a map of strings: format, model, step, epoch, seed,
 * rng (the shuffle generator's state), for CSV classifiers classes and for text data vocab. The header is padded with
 * spaces to a multiple of 8 so the data is aligned, as the reference writer does.
 *
 * A save writes a fresh FILE.tmp.PID.N (created exclusively, so concurrent saves never share one),
 * checks every fwrite/fflush/fsync/fclose, then renames it over FILE, so a failed or interrupted save
 * never destroys the previous checkpoint. FILE must be absent or a regular file: a device, FIFO,
 * symlink or directory is never replaced. The class names of a CSV classifier are stored as a JSON
 * array (inside the metadata's string, as safetensors wants), so any name round-trips.
 * Loading refuses a file of another model: one whose `model` metadata names another model, or one
 * holding a tensor this model lacks (a file without the metadata, e.g. PyTorch's, is judged by its
 * tensors alone). rt_save_probe checks before training that a save could create its temporary.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "rt.h"

static bool saved(const RtTensor *t) { return t->role == RT_PARAM || t->role == RT_STATE; }

static const char *st_dtype(RtDType d) {
    return d == RT_F32 ? "F32" : d == RT_I32 ? "I32" : "BOOL";
}

/* ---- writing ---- */

typedef struct Sb { char *p; size_t n, cap; bool oom; } Sb;

static void sb_put(RtCtx *c, Sb *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sb_put(RtCtx *c, Sb *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (b->p && (size_t)k < b->cap - b->n) { b->n += (size_t)k; return; }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *q = rt_realloc(c, b->p, cap);
        if (!q) { b->oom = true; return; }
        b->p = q;
        b->cap = cap;
    }
}

/* JSON string body: names never hold quotes or control characters, but escape them anyway. */
static void sb_str(RtCtx *c, Sb *b, const char *s) {
    sb_put(c, b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sb_put(c, b, "\\%c", *s);
        else if ((unsigned char)*s < 0x20) sb_put(c, b, "\\u%04x", *s);
        else sb_put(c, b, "%c", *s);
    }
    sb_put(c, b, "\"");
}

static bool little_endian(void) {
    uint16_t x = 1;
    return *(uint8_t *)&x == 1;
}

/* classes as a JSON array of JSON strings, itself stored as one JSON string (safetensors metadata
 * maps strings to strings): any name round-trips, commas, quotes, backslashes and tabs included. */
static void sb_classes(RtCtx *c, Sb *b, const RtData *d) {
    Sb arr = {0};
    sb_put(c, &arr, "[");
    for (int i = 0; i < d->nclasses; i++) {
        if (i) sb_put(c, &arr, ",");
        sb_str(c, &arr, d->classes[i]);
    }
    sb_put(c, &arr, "]");
    if (arr.oom) b->oom = true;
    else sb_str(c, b, arr.p);
    rt_free(c, arr.p);
}

/* [text.vocab] the vocabulary of text data (text.c): its characters in id order (id i + 1 is the
 * i-th), UTF-8 in one JSON string, control characters escaped by sb_str. */
static void sb_vocab(RtCtx *c, Sb *b) {
    char *s = rt_alloc(c, (size_t)c->nvocab * 4 + 1);
    if (!s) { b->oom = true; return; }
    size_t n = 0;
    for (int i = 0; i < c->nvocab; i++) n += (size_t)rt_utf8_encode(c->vocab[i], s + n);
    s[n] = 0;
    sb_put(c, b, ",\"vocab\":");
    sb_str(c, b, s);
    rt_free(c, s);
}

/* The start of every header rt_save writes: an existing file that starts so is a checkpoint of nnc's. */
static const char OWN_PREFIX[] = "{\"__metadata__\":{\"format\":\"pt\",\"model\":";

static bool own_checkpoint(RtCtx *c, FILE *f) {
    (void)c;
    uint8_t len8[8];
    char head[sizeof OWN_PREFIX];
    if (fread(len8, 1, 8, f) != 8) return false;
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | len8[k];
    size_t n = sizeof OWN_PREFIX - 1;
    return hlen > n && hlen <= (100u << 20) && fread(head, 1, n, f) == n && !memcmp(head, OWN_PREFIX, n);
}

static RtOutput save_output(bool force) {
    return (RtOutput){"--save", "save weights", "a checkpoint", "a checkpoint written by an nnc model",
                      own_checkpoint, force, false, true};
}

int rt_save_probe(RtCtx *c, const char *path, bool force) {
    size_t n = strlen(path) + 2;
    char *dir = rt_alloc(c, n);
    if (!dir) return -1;
    snprintf(dir, n, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(dir, n, ".");
    /* the reason a temporary cannot be made there, in words, when the folder itself is the problem */
    char why[4200] = "";
    struct stat st;
    if (stat(dir, &st)) {
        if (errno == ENOENT) snprintf(why, sizeof why, " (the folder '%s' does not exist)", dir);
        else if (errno == ENOTDIR) snprintf(why, sizeof why, " ('%s' is not a folder)", dir);
    } else if (!S_ISDIR(st.st_mode)) {
        snprintf(why, sizeof why, " ('%s' is not a folder)", dir);
    }
    rt_free(c, dir);
    RtOutput o = save_output(force);
    if (!why[0] && rt_output_check(c, path, &o)) return -1;
    /* create and remove a unique temporary there, as the real save does */
    char *tmp = NULL;
    FILE *f = rt_tmp_open(c, path, &tmp, "save weights", why);
    if (!f) return -1;
    int rc = 0;
    if (fclose(f)) rc = rt_error(c, "cannot save weights: fclose('%s') failed: %s", tmp, strerror(errno));
    rt_tmp_release(tmp);
    rt_free(c, tmp);
    return rc;
}

int rt_save(RtCtx *c, const char *path, const RtData *classes_from, bool force) {
    if (!little_endian()) return rt_error(c, "saving weights needs a little-endian machine");
    RtOutput out = save_output(force);
    if (rt_output_check(c, path, &out)) return -1;
    Sb b = {0};
    sb_put(c, &b, "{\"__metadata__\":{\"format\":\"pt\",\"model\":");
    sb_str(c, &b, c->desc.name);
    sb_put(c, &b, ",\"step\":\"%" PRId64 "\",\"epoch\":\"%" PRId64 "\",\"seed\":\"%" PRIu64
                  "\",\"rng\":\"%" PRIu64 "\"", c->step, c->epoch, c->seed, c->rng.s);
    if (c->run_epochs > 0) sb_put(c, &b, ",\"epochs\":\"%" PRId64 "\"", c->run_epochs);
    if (classes_from && classes_from->classes) {
        sb_put(c, &b, ",\"classes\":");
        sb_classes(c, &b, classes_from);
    }
    if (c->vocab) sb_vocab(c, &b);
    if (c->watch_monitor && c->watch_best_epoch > 0 && isfinite(c->watch_best)) {
        /* early stopping's watch, for --resume (around.c) */
        sb_put(c, &b, ",\"monitor\":");
        sb_str(c, &b, c->watch_monitor);
        sb_put(c, &b, ",\"best\":\"%.17g\",\"best_epoch\":\"%" PRId64 "\"", c->watch_best, c->watch_best_epoch);
    }
    sb_put(c, &b, "}");
    uint64_t off = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!saved(t)) continue;
        uint64_t bytes = (uint64_t)rt_numel(t, 1) * rt_dsize(t->dtype);
        sb_put(c, &b, ",");
        sb_str(c, &b, t->name);
        sb_put(c, &b, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype(t->dtype));
        for (int k = 0; k < t->rank; k++) sb_put(c, &b, "%s%" PRId64, k ? "," : "", t->dim[k]);
        sb_put(c, &b, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off, off + bytes);
        off += bytes;
    }
    sb_put(c, &b, "}");
    while (!b.oom && b.n % 8) sb_put(c, &b, " ");
    if (b.oom) { rt_free(c, b.p); return -1; }

    rt_tmp_clean_stale(path);
    char *tmp = NULL;
    FILE *f = rt_tmp_open(c, path, &tmp, "save weights", "");
    if (!f) {
        rt_free(c, b.p);
        return -1;
    }
    const char *what = NULL;
    if (c->def && c->def->device) c->def->device->to_host(c->def->user);   /* the device's params and state */
    uint8_t len[8];
    for (int k = 0; k < 8; k++) len[k] = (uint8_t)((uint64_t)b.n >> (8 * k));
    if (fwrite(len, 1, 8, f) != 8 || fwrite(b.p, 1, b.n, f) != b.n) what = "fwrite";
    for (int i = 0; i < c->desc.nt && !what; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!saved(t)) continue;
        size_t bytes = (size_t)rt_numel(t, 1) * rt_dsize(t->dtype);
        if (fwrite(c->bufs[i], 1, bytes, f) != bytes) what = "fwrite";
    }
    if (!what && fflush(f)) what = "fflush";
    if (!what && fsync(fileno(f))) what = "fsync";
    int e = errno;
    if (fclose(f) && !what) { what = "fclose"; e = errno; }
    /* checked again just before the rename: the target may have appeared meanwhile */
    if (!what && rt_output_check(c, path, &out)) { what = "the target check"; e = EEXIST; }
    if (!what && rt_tmp_rename(tmp, path)) { what = "rename"; e = errno; }
    rt_free(c, b.p);
    if (what) {
        rt_tmp_release(tmp);
        rt_free(c, tmp);
        return rt_error(c, "cannot save weights to '%s': %s failed: %s (the previous file, if any, is "
                           "untouched)", path, what, strerror(e));
    }
    /* make the rename itself durable: fsync the directory (tmp's buffer is long enough for it) */
    char *slash = strrchr(tmp, '/');
    if (slash == tmp) tmp[1] = 0;
    else if (slash) *slash = 0;
    else snprintf(tmp, 2, ".");
    int fd = open(tmp, O_RDONLY);
    if (fd >= 0) { fsync(fd); close(fd); }
    rt_free(c, tmp);
    return 0;
}

/* ---- reading: a small JSON reader for the header ---- */

typedef struct Entry {
    char *name, *dtype;
    int rank;
    int64_t shape[RT_MAXRANK];
    uint64_t begin, end;
    bool has_shape, has_off;
} Entry;

typedef struct Json { const char *p, *end; bool oom, nul; } Json;

static void ws(Json *j) { while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')) j->p++; }

static bool eat(Json *j, char ch) {
    ws(j);
    if (j->p < j->end && *j->p == ch) { j->p++; return true; }
    return false;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
                ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Reads one JSON string. out == NULL only measures: *len gets the decoded byte count. \u escapes
 * (surrogate pairs too) decode to UTF-8. */
static bool jstring(Json *j, char *out, size_t *len) {
    ws(j);
    if (j->p >= j->end || *j->p != '"') return false;
    size_t k = 0;
    for (j->p++; j->p < j->end && *j->p != '"'; j->p++) {
        char ch = *j->p, u8[4];
        int nu = 0;
        if ((unsigned char)ch < 0x20) return false;
        if (ch == '\\') {
            if (++j->p >= j->end) return false;
            switch (*j->p) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case '"': case '\\': case '/': ch = *j->p; break;
            case 'u': {
                if (j->end - j->p < 5) return false;
                long v = hex4(j->p + 1);
                if (v < 0) return false;
                if (v == 0) { j->nul = true; return false; }   /* a C string cannot hold it: never cut a name */
                j->p += 4;
                if (v >= 0xD800 && v < 0xDC00) {        /* a surrogate pair */
                    if (j->end - j->p < 7 || j->p[1] != '\\' || j->p[2] != 'u') return false;
                    long lo = hex4(j->p + 3);
                    if (lo < 0xDC00 || lo > 0xDFFF) return false;
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                    j->p += 6;
                } else if (v >= 0xDC00 && v < 0xE000) {
                    return false;
                }
                if (v < 0x80) { u8[nu++] = (char)v; }
                else if (v < 0x800) { u8[nu++] = (char)(0xC0 | (v >> 6)); u8[nu++] = (char)(0x80 | (v & 63)); }
                else if (v < 0x10000) {
                    u8[nu++] = (char)(0xE0 | (v >> 12));
                    u8[nu++] = (char)(0x80 | ((v >> 6) & 63));
                    u8[nu++] = (char)(0x80 | (v & 63));
                } else {
                    u8[nu++] = (char)(0xF0 | (v >> 18));
                    u8[nu++] = (char)(0x80 | ((v >> 12) & 63));
                    u8[nu++] = (char)(0x80 | ((v >> 6) & 63));
                    u8[nu++] = (char)(0x80 | (v & 63));
                }
                break;
            }
            default: return false;
            }
        }
        if (!nu) u8[nu++] = ch;
        if (out) memcpy(out + k, u8, (size_t)nu);
        k += (size_t)nu;
    }
    if (j->p >= j->end) return false;
    j->p++;
    if (out) out[k] = 0;
    if (len) *len = k;
    return true;
}

/* A JSON string into a fresh allocation of exactly its length (no length limit). */
static bool jstr_dup(RtCtx *c, Json *j, char **out) {
    const char *at = j->p;
    size_t n;
    if (!jstring(j, NULL, &n)) return false;
    j->p = at;
    if (!(*out = rt_alloc(c, n + 1))) { j->oom = true; return false; }
    return jstring(j, *out, NULL);
}

static bool jint(Json *j, uint64_t *v) {
    ws(j);
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return false;
    uint64_t x = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        if (x > (UINT64_MAX - 9) / 10) return false;
        x = x * 10 + (uint64_t)(*j->p++ - '0');
    }
    *v = x;
    return true;
}

static bool jskip(Json *j, int depth) {
    ws(j);
    if (j->p >= j->end || depth > 32) return false;
    char ch = *j->p;
    if (ch == '"') return jstring(j, NULL, NULL);
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        j->p++;
        if (eat(j, close)) return true;
        do {
            if (ch == '{' && (!jstring(j, NULL, NULL) || !eat(j, ':'))) return false;
            if (!jskip(j, depth + 1)) return false;
        } while (eat(j, ','));
        return eat(j, close);
    }
    const char *s = j->p;
    while (j->p < j->end && (strchr("+-.eE", *j->p) || (*j->p >= '0' && *j->p <= '9') || (*j->p >= 'a' && *j->p <= 'z'))) j->p++;
    return j->p > s;
}

static bool jints(Json *j, int64_t *v, int max, int *n) {
    *n = 0;
    if (!eat(j, '[')) return false;
    if (eat(j, ']')) return true;
    do {
        uint64_t x;
        if (*n == max || !jint(j, &x) || x > INT64_MAX) return false;
        v[(*n)++] = (int64_t)x;
    } while (eat(j, ','));
    return eat(j, ']');
}

/* The metadata this runtime reads; every value is a fresh allocation (NULL when absent). */
typedef struct Meta { char *step, *epoch, *epochs, *seed, *rng, *model, *classes, *vocab, *monitor, *best, *best_epoch; } Meta;

static void meta_free(RtCtx *c, Meta *m) {
    char **f[] = {&m->step, &m->epoch, &m->epochs, &m->seed, &m->rng, &m->model, &m->classes, &m->vocab,
                  &m->monitor, &m->best, &m->best_epoch};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) { rt_free(c, *f[i]); *f[i] = NULL; }
}

static void entries_free(RtCtx *c, Entry *e, int n) {
    for (int i = 0; e && i < n; i++) { rt_free(c, e[i].name); rt_free(c, e[i].dtype); }
    rt_free(c, e);
}

static bool parse_header(RtCtx *c, Json *j, Entry **out, int *nout, Meta *m) {
    int cap = 0, n = 0;
    Entry *e = NULL;
    bool ok = false;
    char *key = NULL, *k2 = NULL, *v = NULL;
    if (!eat(j, '{')) goto done;
    if (eat(j, '}')) { ok = true; goto done; }
    do {
        rt_free(c, key);
        key = NULL;
        if (!jstr_dup(c, j, &key) || !eat(j, ':')) goto done;
        if (!strcmp(key, "__metadata__")) {
            if (!eat(j, '{')) goto done;
            if (eat(j, '}')) continue;
            do {
                rt_free(c, k2);
                k2 = NULL;
                if (!jstr_dup(c, j, &k2) || !eat(j, ':') || !jstr_dup(c, j, &v)) goto done;
                char **dst = !strcmp(k2, "step") ? &m->step : !strcmp(k2, "epoch") ? &m->epoch :
                             !strcmp(k2, "epochs") ? &m->epochs :
                             !strcmp(k2, "seed") ? &m->seed : !strcmp(k2, "rng") ? &m->rng :
                             !strcmp(k2, "model") ? &m->model : !strcmp(k2, "classes") ? &m->classes :
                             !strcmp(k2, "vocab") ? &m->vocab : !strcmp(k2, "monitor") ? &m->monitor :
                             !strcmp(k2, "best") ? &m->best : !strcmp(k2, "best_epoch") ? &m->best_epoch : NULL;
                if (dst && !*dst) *dst = v;
                else rt_free(c, v);
                v = NULL;
            } while (eat(j, ','));
            if (!eat(j, '}')) goto done;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            Entry *q = rt_realloc(c, e, sizeof(Entry) * (size_t)cap);
            if (!q) { j->oom = true; goto done; }
            e = q;
        }
        Entry *t = &e[n++];
        memset(t, 0, sizeof *t);
        t->name = key;
        key = NULL;
        if (!eat(j, '{')) goto done;
        if (eat(j, '}')) continue;
        do {
            rt_free(c, k2);
            k2 = NULL;
            if (!jstr_dup(c, j, &k2) || !eat(j, ':')) goto done;
            if (!strcmp(k2, "dtype") && !t->dtype) {
                if (!jstr_dup(c, j, &t->dtype)) goto done;
            } else if (!strcmp(k2, "shape")) {
                if (!jints(j, t->shape, RT_MAXRANK, &t->rank)) goto done;
                t->has_shape = true;
            } else if (!strcmp(k2, "data_offsets")) {
                int64_t o[2]; int no;
                if (!jints(j, o, 2, &no) || no != 2 || o[1] < o[0]) goto done;
                t->begin = (uint64_t)o[0];
                t->end = (uint64_t)o[1];
                t->has_off = true;
            } else if (!jskip(j, 0)) {
                goto done;
            }
        } while (eat(j, ','));
        if (!eat(j, '}')) goto done;
    } while (eat(j, ','));
    if (!eat(j, '}')) goto done;
    ws(j);
    ok = j->p == j->end;
done:
    rt_free(c, key);
    rt_free(c, k2);
    rt_free(c, v);
    *out = e;
    *nout = n;
    return ok;
}

/* The "classes" metadata value: a JSON array of strings (see sb_classes). */
static int parse_classes(RtCtx *c, const char *path, const char *text, char ***out, int *nout) {
    Json j = {text, text + strlen(text), false, false};
    char **v = NULL;
    int n = 0, cap = 0;
    if (!eat(&j, '[')) goto bad;
    if (!eat(&j, ']')) {
        do {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **q = rt_realloc(c, v, sizeof(char *) * (size_t)cap);
                if (!q) goto fail;
                v = q;
            }
            if (!jstr_dup(c, &j, &v[n])) { if (j.oom) goto fail; goto bad; }
            n++;
        } while (eat(&j, ','));
        if (!eat(&j, ']')) goto bad;
    }
    ws(&j);
    if (j.p != j.end || n == 0) goto bad;
    *out = v;
    *nout = n;
    return 0;
bad:
    rt_error(c, "'%s': its \"classes\" metadata is not a JSON array of class names", path);
fail:
    for (int i = 0; i < n; i++) rt_free(c, v[i]);
    rt_free(c, v);
    return -1;
}

static const Entry *find_entry(const Entry *e, int n, const char *name) {
    for (int k = 0; k < n; k++) if (!strcmp(e[k].name, name)) return &e[k];
    return NULL;
}

static void shape_of(const int64_t *d, int r, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < r && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static bool parse_u64(const char *s, uint64_t *v) {
    char *end;
    if (!s || !*s || *s == '-' || *s == ' ') return false;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return !errno && !*end;
}

/* One metadata number: decimal digits only, at most max; else a message naming the field. */
static int meta_u64(RtCtx *c, const char *path, const char *field, const char *s, uint64_t max, const char *why,
                    uint64_t *v) {
    if (!parse_u64(s, v))
        return rt_error(c, "'%s': checkpoint field '%s' is '%s', not a whole number", path, field, s);
    if (*v > max)
        return rt_error(c, "'%s': checkpoint field '%s' is %s, which makes no sense (%s)", path, field, s, why);
    return 0;
}

/* A checkpoint's progress, every number range-checked so that nothing downstream can overflow: at
 * most RT_MAX_EPOCHS epochs of at most RT_MAX_LIMIT steps, and at least one step per epoch. */
static int check_progress(RtCtx *c, const char *path, const Meta *m, uint64_t *step, uint64_t *epoch,
                          uint64_t *epochs, uint64_t *seed, uint64_t *rng) {
    char why[128];
    snprintf(why, sizeof why, "a run has at most %lld epochs", (long long)RT_MAX_EPOCHS);
    if (meta_u64(c, path, "epoch", m->epoch, (uint64_t)RT_MAX_EPOCHS, why, epoch)) return -1;
    snprintf(why, sizeof why, "%llu epochs take at most %llu steps", (unsigned long long)*epoch,
             (unsigned long long)(*epoch * (uint64_t)RT_MAX_LIMIT));
    if (meta_u64(c, path, "step", m->step, *epoch * (uint64_t)RT_MAX_LIMIT, why, step)) return -1;
    if (*step < *epoch)
        return rt_error(c, "'%s': checkpoint field 'step' is %s, which makes no sense (%llu finished epochs take at "
                           "least %llu steps)", path, m->step, (unsigned long long)*epoch, (unsigned long long)*epoch);
    if (m->epochs) {
        if (meta_u64(c, path, "epochs", m->epochs, (uint64_t)RT_MAX_EPOCHS, "a run has at most 1000000 epochs", epochs))
            return -1;
        if (*epochs < *epoch)
            return rt_error(c, "'%s': checkpoint field 'epochs' is %s, which makes no sense (fewer than the %llu epochs "
                               "it has finished)", path, m->epochs, (unsigned long long)*epoch);
    }
    if (meta_u64(c, path, "seed", m->seed, UINT64_MAX, "", seed)) return -1;
    return meta_u64(c, path, "rng", m->rng, UINT64_MAX, "", rng);
}

/* The length field and the JSON header of safetensors file f (path names it in errors): *hdr (the
 * caller frees it), its entries and metadata, and the size of the data section after it. */
/* The index of the first NaN or infinity among n f32 values (read bytewise: any alignment), or -1. */
static int64_t first_nonfinite(const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float x;
        memcpy(&x, (const char *)v + 4 * i, 4);
        if (!isfinite(x)) return i;
    }
    return -1;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int read_header(RtCtx *c, FILE *f, const char *path, char **hdr, uint64_t *hlen, uint64_t *data_size, Entry **e,
                       int *ne, Meta *m) {
    struct stat st;
    if (fstat(fileno(f), &st)) return rt_error(c, "fstat('%s') failed: %s", path, strerror(errno));
    uint8_t len8[8];
    if (fread(len8, 1, 8, f) != 8) return rt_error(c, "'%s' is not a safetensors file (too short)", path);
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--) n = (n << 8) | len8[k];
    if (n < 2 || n > (100u << 20))
        return rt_error(c, "'%s' is not a safetensors file (bad header length %" PRIu64 ")", path, n);
    if (n > (uint64_t)st.st_size - 8)
        return rt_error(c, "'%s' is truncated: its header says %" PRIu64 " bytes, the file has %" PRIu64 " after the "
                           "length field", path, n, (uint64_t)st.st_size - 8);
    if (!(*hdr = rt_alloc(c, (size_t)n + 1))) return -1;
    if (fread(*hdr, 1, (size_t)n, f) != n) return rt_error(c, "'%s': truncated header", path);
    (*hdr)[n] = 0;
    Json j = {*hdr, *hdr + n, false, false};
    if (!parse_header(c, &j, e, ne, m)) {
        if (j.nul)
            return rt_error(c, "'%s': a string in the safetensors header holds \\u0000, a NUL character (near byte "
                               "%lld): names and metadata may not", path, (long long)(j.p - *hdr) + 8);
        if (!j.oom)
            return rt_error(c, "'%s': bad JSON in the safetensors header (near byte %lld)", path, (long long)(j.p - *hdr) + 8);
        return -1;
    }
    /* a name twice (JSON allows it; the safetensors writers never write it): which copy is meant is
     * unknowable, so the file is refused rather than one copy taken silently */
    if (*ne > 1) {
        const char **names = rt_alloc(c, sizeof *names * (size_t)*ne);
        if (!names) return -1;
        for (int i = 0; i < *ne; i++) names[i] = (*e)[i].name;
        qsort(names, (size_t)*ne, sizeof *names, cmp_name);
        for (int i = 1; i < *ne; i++)
            if (!strcmp(names[i - 1], names[i])) {
                rt_error(c, "'%s': tensor '%s' appears twice in the safetensors header", path, names[i]);
                rt_free(c, names);
                return -1;
            }
        rt_free(c, names);
    }
    *hlen = n;
    *data_size = (uint64_t)st.st_size - 8 - n;
    /* the data section is exactly its tensors (the format's rule: no bytes that no tensor owns): bytes
     * after the last tensor are something appended to the file, or two files joined, never read
     * silently. (A tensor ending beyond the file is the truncation the loaders report.) */
    uint64_t last = 0;
    bool offsets = true;
    for (int i = 0; i < *ne; i++) {
        offsets &= (*e)[i].has_off;
        if ((*e)[i].has_off && (*e)[i].end > last) last = (*e)[i].end;
    }
    if (offsets && last < *data_size)
        return rt_error(c, "'%s' has %" PRIu64 " bytes after its last tensor's data (something appended to the file, "
                           "or two files joined?): a safetensors file's data section holds its tensors only",
                        path, *data_size - last);
    return 0;
}

/* Every check runs, and every tensor is read into one temporary buffer, before anything of the
 * model changes: a failed load leaves its buffers, progress and class names as they were. */
int rt_load(RtCtx *c, const char *path, bool need_state, bool restore_progress) {
    if (!little_endian()) return rt_error(c, "loading weights needs a little-endian machine");
    FILE *f = rt_open_input(c, path, "weights file", restore_progress);
    if (!f) return -1;
    int rc = -1;
    char *hdr = NULL, **classes = NULL;
    uint8_t *stage = NULL;
    int nclasses = 0, nvocab = 0;
    uint32_t *vocab = NULL;
    Entry *e = NULL;
    int ne = 0;
    Meta m;
    memset(&m, 0, sizeof m);
    uint64_t step = 0, epoch = 0, epochs = 0, seed = 0, rng = 0;
    uint64_t hlen = 0, data_size = 0;
    if (read_header(c, f, path, &hdr, &hlen, &data_size, &e, &ne, &m)) goto done;
    /* a file of another model by its own word (a file without the metadata is judged by its tensors) */
    if (m.model && strcmp(m.model, c->desc.name)) {
        rt_error(c, "'%s' holds weights of model '%s', not '%s'", path, m.model, c->desc.name);
        goto done;
    }
    uint64_t total = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!saved(t)) continue;
        const Entry *x = find_entry(e, ne, t->name);
        if (!x) {
            if (t->role == RT_STATE && !need_state) continue;
            rt_error(c, "weights file '%s' is from another model: it has no tensor '%s'", path, t->name);
            goto done;
        }
        if (!x->has_shape || !x->has_off || !x->dtype) {
            rt_error(c, "'%s': tensor '%s' lacks dtype, shape or data_offsets", path, t->name);
            goto done;
        }
        char want[256], have[256];
        shape_of(t->dim, t->rank, want, sizeof want);
        shape_of(x->shape, x->rank, have, sizeof have);
        if (strcmp(want, have)) {
            rt_error(c, "weights file '%s' is from another model: '%s' has shape %s, expected %s", path, t->name, have, want);
            goto done;
        }
        if (strcmp(x->dtype, st_dtype(t->dtype))) {
            rt_error(c, "weights file '%s' is from another model: '%s' has dtype %s, expected %s", path, t->name, x->dtype, st_dtype(t->dtype));
            goto done;
        }
        uint64_t bytes = (uint64_t)rt_numel(t, 1) * rt_dsize(t->dtype);
        if (x->end - x->begin != bytes) {
            rt_error(c, "'%s': tensor '%s' has %" PRIu64 " bytes of data, its shape needs %" PRIu64, path, t->name, x->end - x->begin, bytes);
            goto done;
        }
        if (x->end > data_size) {
            rt_error(c, "'%s' is truncated: tensor '%s' ends at byte %" PRIu64 " of a %" PRIu64 "-byte data section", path, t->name, x->end, data_size);
            goto done;
        }
        total += bytes;
    }
    /* ... and a tensor this model does not have (checked after the missing and misshapen ones) */
    for (int k = 0; k < ne; k++) {
        bool known = false;
        for (int i = 0; i < c->desc.nt && !known; i++) known = saved(&c->desc.t[i]) && !strcmp(c->desc.t[i].name, e[k].name);
        if (!known) {
            rt_error(c, "weights file '%s' is from another model: it has '%s', which '%s' does not", path, e[k].name,
                     c->desc.name);
            goto done;
        }
    }
    if (restore_progress && (!m.step || !m.epoch || !m.seed || !m.rng)) {
        rt_error(c, "'%s' is a weights file, not a checkpoint: its metadata lacks step/epoch/seed/rng", path);
        goto done;
    }
    if (restore_progress && check_progress(c, path, &m, &step, &epoch, &epochs, &seed, &rng)) goto done;
    double best = NAN;
    uint64_t best_epoch = 0;
    if (restore_progress && (m.monitor || m.best || m.best_epoch)) {
        /* early stopping's watch: all three or none; a finite best of an epoch the run has finished */
        char *end = NULL;
        if (!m.monitor || !m.best || !m.best_epoch || !m.monitor[0]) {
            rt_error(c, "'%s': checkpoint metadata has only part of the early-stopping watch (monitor, best, best_epoch)", path);
            goto done;
        }
        best = strtod(m.best, &end);
        if (end == m.best || *end || !isfinite(best)) {
            rt_error(c, "'%s': checkpoint field 'best' is '%s', not a finite number", path, m.best);
            goto done;
        }
        char why[96];
        snprintf(why, sizeof why, "it has finished %llu epochs", (unsigned long long)epoch);
        if (meta_u64(c, path, "best_epoch", m.best_epoch, epoch, why, &best_epoch)) goto done;
        if (best_epoch == 0) {
            rt_error(c, "'%s': checkpoint field 'best_epoch' is 0, which makes no sense (epochs count from 1)", path);
            goto done;
        }
    }
    if (m.classes && parse_classes(c, path, m.classes, &classes, &nclasses)) goto done;
    if (m.vocab && rt_vocab_parse(c, path, m.vocab, &vocab, &nvocab)) goto done;
    /* read every tensor into the staging buffer (the file is at most its size, checked above) */
    if (!(stage = rt_alloc(c, (size_t)total))) goto done;
    uint64_t at = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        const Entry *x = saved(t) ? find_entry(e, ne, t->name) : NULL;
        if (!x) continue;
        if (fseeko(f, (off_t)(8 + hlen + x->begin), SEEK_SET) ||
            fread(stage + at, 1, (size_t)(x->end - x->begin), f) != x->end - x->begin) {
            rt_error(c, "cannot read tensor '%s' from '%s': %s", t->name, path, ferror(f) ? strerror(errno) : "file truncated");
            goto done;
        }
        /* a NaN or infinity is no trained value (training stops before it saves one): a corrupt
         * or hand-made file, refused here rather than evaluated into a loss of nan */
        if (t->dtype == RT_F32) {
            int64_t bad = first_nonfinite((const float *)(const void *)(stage + at), (int64_t)((x->end - x->begin) / 4));
            if (bad >= 0) {
                float v;
                memcpy(&v, stage + at + 4 * bad, 4);
                rt_error(c, "'%s': tensor '%s' holds %s at element %lld (counting from 0): the weights must be finite "
                            "numbers", path, t->name, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", (long long)bad);
                goto done;
            }
        }
        at += x->end - x->begin;
    }
    /* all checks passed and everything is read: only now change the model */
    at = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        const Entry *x = saved(t) ? find_entry(e, ne, t->name) : NULL;
        if (!x) continue;
        memcpy(c->bufs[i], stage + at, (size_t)(x->end - x->begin));
        at += x->end - x->begin;
    }
    if (c->def && c->def->device) c->def->device->from_host(c->def->user);
    if (restore_progress) {
        c->step = (int64_t)step;
        c->epoch = (int64_t)epoch;
        c->ckpt_epochs = (int64_t)epochs;
        c->seed = seed;
        c->rng.s = rng;
        rt_free(c, c->resume_monitor);
        c->resume_monitor = NULL;
        if (m.monitor) {
            c->resume_monitor = m.monitor;     /* taken over: meta_free leaves it */
            m.monitor = NULL;
            c->resume_best = best;
            c->resume_best_epoch = (int64_t)best_epoch;
        }
    }
    if (classes) {
        for (int i = 0; i < c->nclass_names; i++) rt_free(c, c->class_names[i]);
        rt_free(c, c->class_names);
        c->class_names = classes;
        c->nclass_names = nclasses;
        classes = NULL;
    }
    if (vocab) {
        rt_vocab_set(c, vocab, nvocab);
        vocab = NULL;
    }
    rc = 0;
done:
    rt_free(c, vocab);
    for (int i = 0; classes && i < nclasses; i++) rt_free(c, classes[i]);
    rt_free(c, classes);
    rt_free(c, stage);
    meta_free(c, &m);
    entries_free(c, e, ne);
    rt_free(c, hdr);
    fclose(f);
    return rc;
}

/* ---- any model's file, read whole (train --init-from, transfer.c) ---- */

void rt_st_free(RtCtx *c, RtStEntry *e, int n) {
    for (int k = 0; e && k < n; k++) { rt_free(c, e[k].name); rt_free(c, e[k].data); }
    rt_free(c, e);
}

int rt_st_read(RtCtx *c, const char *path, RtStEntry **out, int *nout) {
    *out = NULL;
    *nout = 0;
    if (!little_endian()) return rt_error(c, "loading weights needs a little-endian machine");
    FILE *f = rt_open_input(c, path, "weights file", false);
    if (!f) return -1;
    int rc = -1, ne = 0;
    char *hdr = NULL;
    Entry *e = NULL;
    RtStEntry *r = NULL;
    Meta m;
    memset(&m, 0, sizeof m);
    uint64_t hlen = 0, data_size = 0;
    if (read_header(c, f, path, &hdr, &hlen, &data_size, &e, &ne, &m)) goto done;
    if (!(r = rt_calloc(c, sizeof(RtStEntry) * (size_t)(ne ? ne : 1)))) goto done;
    for (int k = 0; k < ne; k++) {
        const Entry *x = &e[k];
        if (!x->has_shape || !x->has_off || !x->dtype) {
            rt_error(c, "'%s': tensor '%s' lacks dtype, shape or data_offsets", path, x->name);
            goto done;
        }
        if (x->end > data_size) {
            rt_error(c, "'%s' is truncated: tensor '%s' ends at byte %" PRIu64 " of a %" PRIu64 "-byte data section", path,
                     x->name, x->end, data_size);
            goto done;
        }
        RtStEntry *y = &r[k];
        y->dtype = !strcmp(x->dtype, "F32") ? RT_F32 : !strcmp(x->dtype, "I32") ? RT_I32 : !strcmp(x->dtype, "BOOL") ? RT_BOOL : -1;
        y->rank = x->rank;
        memcpy(y->shape, x->shape, sizeof y->shape);
        y->bytes = x->end - x->begin;
        if (!(y->name = rt_strdup(c, x->name)) || !(y->data = rt_alloc(c, (size_t)(y->bytes ? y->bytes : 1)))) goto done;
        if (fseeko(f, (off_t)(8 + hlen + x->begin), SEEK_SET) || fread(y->data, 1, (size_t)y->bytes, f) != y->bytes) {
            rt_error(c, "cannot read tensor '%s' from '%s': %s", x->name, path, ferror(f) ? strerror(errno) : "file truncated");
            goto done;
        }
    }
    *out = r;
    *nout = ne;
    r = NULL;
    rc = 0;
done:
    rt_st_free(c, r, ne);
    meta_free(c, &m);
    entries_free(c, e, ne);
    rt_free(c, hdr);
    fclose(f);
    return rc;
}
