/* weights.c - weights and checkpoints in the safetensors format.
 *
 * Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON, then the raw little-endian tensor data. The JSON maps each tensor name ("h.W") to
 * {"dtype": "F32"|"I32"|"BOOL", "shape": [...], "data_offsets": [begin, end]} (offsets relative to
 * the data section) and holds "__metadata__", a map of strings: format, model, step, epoch, seed,
 * rng (the shuffle generator's state) and, for CSV classifiers, classes. The header is padded with
 * spaces to a multiple of 8 so the data is aligned, as the reference writer does.
 *
 * A save writes FILE.tmp, checks every fwrite/fflush/fsync/fclose, then renames it over FILE, so a
 * failed or interrupted save never destroys the previous checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
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

int rt_save(RtCtx *c, const char *path, const RtData *classes_from) {
    if (!little_endian()) return rt_error(c, "saving weights needs a little-endian machine");
    Sb b = {0};
    sb_put(c, &b, "{\"__metadata__\":{\"format\":\"pt\",\"model\":");
    sb_str(c, &b, c->desc.name);
    sb_put(c, &b, ",\"step\":\"%" PRId64 "\",\"epoch\":\"%" PRId64 "\",\"seed\":\"%" PRIu64
                  "\",\"rng\":\"%" PRIu64 "\"", c->step, c->epoch, c->seed, c->rng.s);
    if (classes_from && classes_from->classes) {
        sb_put(c, &b, ",\"classes\":\"");
        for (int i = 0; i < classes_from->nclasses; i++) {
            sb_put(c, &b, "%s", i ? "," : "");
            for (const char *s = classes_from->classes[i]; *s; s++)
                sb_put(c, &b, (*s == '"' || *s == '\\') ? "\\%c" : "%c", *s);
        }
        sb_put(c, &b, "\"");
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

    char tmp[PATH_MAX + 8];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        rt_free(c, b.p);
        return rt_error(c, "cannot save '%s': path too long", path);
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        rt_free(c, b.p);
        return rt_error(c, "cannot save weights: fopen('%s') failed: %s", tmp, strerror(e));
    }
    const char *what = NULL;
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
    if (!what && rename(tmp, path)) { what = "rename"; e = errno; }
    rt_free(c, b.p);
    if (what) {
        unlink(tmp);
        return rt_error(c, "cannot save weights to '%s': %s failed: %s (the previous file, if any, is "
                           "untouched)", path, what, strerror(e));
    }
    /* make the rename itself durable */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else snprintf(dir, sizeof dir, ".");
    int fd = open(dir[0] ? dir : "/", O_RDONLY);
    if (fd >= 0) { fsync(fd); close(fd); }
    return 0;
}

/* ---- reading: a small JSON reader for the header ---- */

typedef struct Entry {
    char name[128], dtype[8];
    int rank;
    int64_t shape[RT_MAXRANK];
    uint64_t begin, end;
    bool has_shape, has_off;
} Entry;

typedef struct Json { const char *p, *end; bool bad; } Json;

static void ws(Json *j) { while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')) j->p++; }

static bool eat(Json *j, char ch) {
    ws(j);
    if (j->p < j->end && *j->p == ch) { j->p++; return true; }
    return false;
}

static bool jstring(Json *j, char *out, size_t n) {
    ws(j);
    if (j->p >= j->end || *j->p != '"') return false;
    size_t k = 0;
    for (j->p++; j->p < j->end && *j->p != '"'; j->p++) {
        char ch = *j->p;
        if ((unsigned char)ch < 0x20) return false;
        if (ch == '\\') {
            if (++j->p >= j->end) return false;
            switch (*j->p) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': {
                if (j->end - j->p < 5) return false;
                char hex[5] = {j->p[1], j->p[2], j->p[3], j->p[4], 0};
                char *e;
                long v = strtol(hex, &e, 16);
                if (*e) return false;
                ch = v < 0x80 ? (char)v : '?';
                j->p += 4;
                break;
            }
            default: ch = *j->p;
            }
        }
        if (out) {
            if (k + 1 >= n) return false;
            out[k++] = ch;
        }
    }
    if (j->p >= j->end) return false;
    j->p++;
    if (out) out[k] = 0;
    return true;
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
    if (ch == '"') return jstring(j, NULL, 0);
    if (ch == '{' || ch == '[') {
        char close = ch == '{' ? '}' : ']';
        j->p++;
        if (eat(j, close)) return true;
        do {
            if (ch == '{' && (!jstring(j, NULL, 0) || !eat(j, ':'))) return false;
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

static void copy_trunc(char *dst, size_t n, const char *s) {
    size_t L = strlen(s);
    if (L >= n) L = n - 1;
    memcpy(dst, s, L);
    dst[L] = 0;
}

typedef struct Meta { char step[32], epoch[32], seed[32], rng[32], model[128]; char *classes; } Meta;

static bool parse_header(RtCtx *c, Json *j, Entry **out, int *nout, Meta *m) {
    int cap = 0, n = 0;
    Entry *e = NULL;
    bool ok = false;
    if (!eat(j, '{')) goto done;
    if (eat(j, '}')) { ok = true; goto done; }
    do {
        char key[128];
        if (!jstring(j, key, sizeof key) || !eat(j, ':')) goto done;
        if (!strcmp(key, "__metadata__")) {
            if (!eat(j, '{')) goto done;
            if (eat(j, '}')) continue;
            do {
                char k2[64], v[4096];
                if (!jstring(j, k2, sizeof k2) || !eat(j, ':') || !jstring(j, v, sizeof v)) goto done;
                char *dst = !strcmp(k2, "step") ? m->step : !strcmp(k2, "epoch") ? m->epoch :
                            !strcmp(k2, "seed") ? m->seed : !strcmp(k2, "rng") ? m->rng : NULL;
                if (dst) copy_trunc(dst, 32, v);
                if (!strcmp(k2, "model")) copy_trunc(m->model, sizeof m->model, v);
                if (!strcmp(k2, "classes") && !m->classes && !(m->classes = rt_strdup(c, v))) goto done;
            } while (eat(j, ','));
            if (!eat(j, '}')) goto done;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            Entry *q = rt_realloc(c, e, sizeof(Entry) * (size_t)cap);
            if (!q) goto done;
            e = q;
        }
        Entry *t = &e[n++];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", key);
        if (!eat(j, '{')) goto done;
        if (eat(j, '}')) continue;
        do {
            char k2[64];
            if (!jstring(j, k2, sizeof k2) || !eat(j, ':')) goto done;
            if (!strcmp(k2, "dtype")) {
                if (!jstring(j, t->dtype, sizeof t->dtype)) goto done;
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
    *out = e;
    *nout = n;
    return ok;
}

static void shape_of(const int64_t *d, int r, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < r && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)d[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static bool parse_u64(const char *s, uint64_t *v) {
    char *end;
    if (!*s) return false;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return !errno && !*end;
}

int rt_load(RtCtx *c, const char *path, bool need_state, bool restore_progress) {
    if (!little_endian()) return rt_error(c, "loading weights needs a little-endian machine");
    FILE *f = fopen(path, "rb");
    if (!f) return rt_error(c, "cannot open weights file '%s': %s", path, strerror(errno));
    int rc = -1;
    char *hdr = NULL;
    Entry *e = NULL;
    int ne = 0;
    Meta m;
    memset(&m, 0, sizeof m);
    struct stat st;
    if (fstat(fileno(f), &st)) { rt_error(c, "fstat('%s') failed: %s", path, strerror(errno)); goto done; }
    uint8_t len8[8];
    if (fread(len8, 1, 8, f) != 8) { rt_error(c, "'%s' is not a safetensors file (too short)", path); goto done; }
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | len8[k];
    if (hlen < 2 || hlen > (uint64_t)st.st_size - 8 || hlen > (100u << 20)) {
        rt_error(c, "'%s' is not a safetensors file (bad header length %" PRIu64 ")", path, hlen);
        goto done;
    }
    hdr = rt_alloc(c, (size_t)hlen + 1);
    if (!hdr) goto done;
    if (fread(hdr, 1, (size_t)hlen, f) != hlen) { rt_error(c, "'%s': truncated header", path); goto done; }
    hdr[hlen] = 0;
    Json j = {hdr, hdr + hlen, false};
    if (!parse_header(c, &j, &e, &ne, &m)) {
        rt_error(c, "'%s': bad JSON in the safetensors header (near byte %lld)", path, (long long)(j.p - hdr) + 8);
        goto done;
    }
    uint64_t data_size = (uint64_t)st.st_size - 8 - hlen;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!saved(t)) continue;
        Entry *x = NULL;
        for (int k = 0; k < ne; k++) if (!strcmp(e[k].name, t->name)) x = &e[k];
        if (!x) {
            if (t->role == RT_STATE && !need_state) continue;
            rt_error(c, "weights file '%s' is from another model: it has no tensor '%s'", path, t->name);
            goto done;
        }
        if (!x->has_shape || !x->has_off || !x->dtype[0]) {
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
    }
    /* all checks passed: only now overwrite the model's buffers */
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!saved(t)) continue;
        Entry *x = NULL;
        for (int k = 0; k < ne; k++) if (!strcmp(e[k].name, t->name)) x = &e[k];
        if (!x) continue;
        if (fseeko(f, (off_t)(8 + hlen + x->begin), SEEK_SET) ||
            fread(c->bufs[i], 1, (size_t)(x->end - x->begin), f) != x->end - x->begin) {
            rt_error(c, "cannot read tensor '%s' from '%s': %s", t->name, path, ferror(f) ? strerror(errno) : "file truncated");
            goto done;
        }
    }
    if (restore_progress) {
        uint64_t step, epoch, seed, rng;
        if (!parse_u64(m.step, &step) || !parse_u64(m.epoch, &epoch) || !parse_u64(m.seed, &seed) || !parse_u64(m.rng, &rng)) {
            rt_error(c, "'%s' is a weights file, not a checkpoint: its metadata lacks step/epoch/seed/rng", path);
            goto done;
        }
        c->step = (int64_t)step;
        c->epoch = (int64_t)epoch;
        c->seed = seed;
        c->rng.s = rng;
    }
    if (m.classes) {
        rt_free(c, c->class_names);
        c->class_names = m.classes;
        m.classes = NULL;
    }
    rc = 0;
done:
    rt_free(c, m.classes);
    rt_free(c, e);
    rt_free(c, hdr);
    fclose(f);
    return rc;
}
