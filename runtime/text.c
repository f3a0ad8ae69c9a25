/* text.c - text as data: `text("file.txt", seq = T, stride = S)` into windows of character ids,
 * and the vocabulary that numbers the characters.
 *
 * The text is UTF-8 (checked: an invalid byte sequence, an overlong form, a surrogate or a NUL is an
 * error naming the byte offset and line; a leading byte-order mark is skipped). Its characters are
 * Unicode code points, so 'ñ' or '¿' is one character, one id.
 *
 * Windows: window i starts at character i * S (S = stride, by default T: consecutive windows that
 * do not overlap) and yields ids = chars[iS .. iS+T) for the model's input i32[B, T] and next =
 * chars[iS+1 .. iS+T] for its target i32[B, T]. A text of L characters gives (L - 1 - T) / S + 1
 * windows; the training loop shuffles them per epoch like any samples. The windows are marked
 * ordered (RtData.ordered): a --val-split holds out the last windows, the end of the text, not a
 * random choice of them, and leaves out the windows that would share characters with those
 * (RtData.gap), so validation reads text training never saw.
 *
 * Vocabulary: id 0 is "unknown" (a character outside the vocabulary; never generated), ids 1..n
 * are the vocabulary's characters in code point order. Training builds it from the whole training
 * text (before --limit cuts it, so a shorter run numbers the characters the same) unless a loaded
 * checkpoint already has one; it must fit the model's vocabulary size V, the last dim of its first
 * output f32[B, T, V]: n + 1 <= V. When the text has more distinct characters, the V - 1 most
 * frequent ones stay and the rarest read as unknown, with a note, as long as they are at most 1% of
 * the text; beyond that it is an error naming both numbers (the model's V is too small for this
 * text). rt_save stores the vocabulary in the weights file's metadata ("vocab": its characters as one
 * JSON string) and rt_load restores it, so eval, generate and a resumed run on another machine
 * number the characters as training did: with a vocabulary at hand, a text's characters outside it
 * read as unknown, with a note.
 *
 * Default corpus (`text` without a file): Debian's fortunes-es, the *.fortunes files of
 * /usr/share/games/fortunes/es (not its offensive "off" folder) in name order, each saying's '%'
 * separator line turned into an empty line.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rt.h"

#define FORTUNES_DIR "/usr/share/games/fortunes/es"
#define MAX_CP 0x110000u
#define MAX_TEXT_BYTES ((size_t)1 << 32)   /* 4 GiB */

/* ---- UTF-8 ---- */

/* Decodes one code point of s[0..n) into *cp; returns its byte length, or 0 for an invalid sequence
 * (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, beyond U+10FFFF). */
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char b = s[0];
    if (b < 0x80) { *cp = b; return 1; }
    int len = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? (b <= 0xEF ? 3 : 0) : b >= 0xC2 ? 2 : 0;
    if (!len || (size_t)len > n) return 0;
    uint32_t v = b & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

int rt_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 63));
        out[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 63));
    out[2] = (char)(0x80 | ((cp >> 6) & 63));
    out[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* A character for a message: itself when printable, else U+XXXX ('\n' as \n). */
void rt_char_str(uint32_t cp, char *buf, size_t n) {
    if (cp == '\n') snprintf(buf, n, "'\\n'");
    else if (cp == '\t') snprintf(buf, n, "'\\t'");
    else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) snprintf(buf, n, "U+%04X", cp);
    else {
        char u[5] = {0};
        u[rt_utf8_encode(cp, u)] = 0;
        snprintf(buf, n, "'%s' (U+%04X)", u, cp);
    }
}

/* UTF-8 bytes into code points (*out, *nout; a fresh allocation). name: for messages. */
int rt_utf8_decode_all(RtCtx *c, const char *name, const char *bytes, size_t n, uint32_t **out, int64_t *nout) {
    const unsigned char *s = (const unsigned char *)bytes;
    uint32_t *cp = rt_alloc(c, sizeof(uint32_t) * (n ? n : 1));
    if (!cp) return -1;
    int64_t k = 0, line = 1;
    size_t at = 0;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) at = 3;   /* a byte-order mark */
    while (at < n) {
        uint32_t v;
        int len = utf8_decode(s + at, n - at, &v);
        if (!len || v == 0) {
            /* the bytes of the sequence the first byte announces (one when it announces none) */
            unsigned char b = s[at];
            size_t want = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1, m = 0;
            char shown[32] = "";
            for (size_t i = at; i < n && i < at + want; i++) m += (size_t)snprintf(shown + m, sizeof shown - m, " 0x%02X", s[i]);
            rt_free(c, cp);
            if (len)
                return rt_error(c, "'%s': a NUL byte at byte %zu (line %lld): not text", name, at, (long long)line);
            return rt_error(c, "'%s': invalid UTF-8 at byte %zu (line %lld):%s is no character (text must be UTF-8)",
                            name, at, (long long)line, shown);
        }
        line += v == '\n';
        cp[k++] = v;
        at += (size_t)len;
    }
    *out = cp;
    *nout = k;
    return 0;
}

/* ---- reading the text ---- */

static int read_all(RtCtx *c, const char *path, char **buf, size_t *len) {
    FILE *f = rt_open_input(c, path, "", false);
    if (!f) return -1;
    struct stat st;
    if (fstat(fileno(f), &st)) { fclose(f); return rt_error(c, "cannot read '%s': %s", path, strerror(errno)); }
    if ((uint64_t)st.st_size > MAX_TEXT_BYTES) {
        fclose(f);
        return rt_error(c, "'%s' holds %lld bytes: text data is at most 4 GiB", path, (long long)st.st_size);
    }
    size_t n = (size_t)st.st_size;
    char *p = rt_alloc(c, n + 1);
    if (!p) { fclose(f); return -1; }
    size_t got = fread(p, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (got != n || err) {
        rt_free(c, p);
        return rt_error(c, "cannot read '%s': %s", path, err ? strerror(errno) : "the file shrank while being read");
    }
    p[n] = 0;
    *buf = p;
    *len = n;
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The fortunes-es corpus as one text: each *.fortunes file of FORTUNES_DIR in name order, its '%'
 * lines (the separators of sayings) made empty lines. */
static int read_fortunes(RtCtx *c, char **buf, size_t *len) {
    DIR *dir = opendir(FORTUNES_DIR);
    if (!dir)
        return rt_error(c, "the default text corpus '%s' is not installed (install Debian's fortunes-es package, "
                           "or name a file: text(\"file.txt\"))", FORTUNES_DIR);
    char **names = NULL, *all = NULL;
    int nn = 0, cap = 0, rc = -1;
    size_t total = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l <= 9 || strcmp(de->d_name + l - 9, ".fortunes")) continue;
        if (nn == cap) {
            cap = cap ? cap * 2 : 32;
            char **q = rt_realloc(c, names, sizeof(char *) * (size_t)cap);
            if (!q) goto done;
            names = q;
        }
        if (!(names[nn] = rt_strdup(c, de->d_name))) goto done;
        nn++;
    }
    if (nn == 0) {
        rt_error(c, "the default text corpus '%s' holds no *.fortunes files (reinstall Debian's fortunes-es package, "
                    "or name a file: text(\"file.txt\"))", FORTUNES_DIR);
        goto done;
    }
    qsort(names, (size_t)nn, sizeof(char *), cmp_name);
    for (int i = 0; i < nn; i++) {
        char path[PATH_MAX], *one;
        size_t n;
        snprintf(path, sizeof path, "%s/%s", FORTUNES_DIR, names[i]);
        if (read_all(c, path, &one, &n)) goto done;
        char *q = rt_realloc(c, all, total + n + 2);
        if (!q) { rt_free(c, one); goto done; }
        all = q;
        /* copy line by line, a line that is just "%" becoming empty */
        for (size_t at = 0; at < n;) {
            char *nl = memchr(one + at, '\n', n - at);
            size_t e = nl ? (size_t)(nl - one) + 1 : n;
            if (!(e - at == 2 && one[at] == '%') && !(e - at == 1 && one[at] == '%')) {
                memcpy(all + total, one + at, e - at);
                total += e - at;
            } else {
                all[total++] = '\n';
            }
            at = e;
        }
        if (total && all[total - 1] != '\n') all[total++] = '\n';
        rt_free(c, one);
    }
    all[total] = 0;
    *buf = all;
    *len = total;
    all = NULL;
    rc = 0;
done:
    closedir(dir);
    for (int i = 0; i < nn; i++) rt_free(c, names[i]);
    rt_free(c, names);
    rt_free(c, all);
    return rc;
}

/* ---- the vocabulary ---- */

/* The model's vocabulary size: the last dim of its first output f32[B, T, V]; -1 when it has none. */
int64_t rt_vocab_limit(const RtCtx *c, const char **out_name) {
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role != RT_OUTPUT) continue;
        if (t->dtype == RT_F32 && t->rank == 3 && t->dim[0] == RT_DIM_B) {
            if (out_name) *out_name = t->name;
            return t->dim[2];
        }
        return -1;
    }
    return -1;
}

/* The id of code point cp: 1 + its index in the sorted vocabulary, 0 when absent. */
int32_t rt_vocab_id(const RtCtx *c, uint32_t cp) {
    int lo = 0, hi = c->nvocab;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (c->vocab[mid] < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < c->nvocab && c->vocab[lo] == cp ? lo + 1 : 0;
}

int rt_vocab_set(RtCtx *c, uint32_t *cps, int n) {
    rt_free(c, c->vocab);
    c->vocab = cps;
    c->nvocab = n;
    return 0;
}

/* The "vocab" metadata of a weights file: the characters in code point order, each once. */
int rt_vocab_parse(RtCtx *c, const char *path, const char *text, uint32_t **out, int *nout) {
    uint32_t *cp = NULL;
    int64_t n = 0;
    char name[PATH_MAX + 32];
    snprintf(name, sizeof name, "%s' metadata 'vocab", path);
    if (rt_utf8_decode_all(c, name, text, strlen(text), &cp, &n)) return -1;
    bool ok = n > 0 && n < (int64_t)MAX_CP;
    for (int64_t i = 1; i < n && ok; i++) ok = cp[i] > cp[i - 1];
    if (!ok) {
        rt_free(c, cp);
        return rt_error(c, "'%s': its \"vocab\" metadata is not a vocabulary (distinct characters in code point order)",
                        path);
    }
    const char *oname = NULL;
    int64_t V = rt_vocab_limit(c, &oname);
    if (V > 0 && n + 1 > V) {
        rt_free(c, cp);
        return rt_error(c, "'%s' holds a vocabulary of %lld characters (ids 1 to %lld, 0 is unknown), but output '%s' "
                           "of this model scores %lld ids", path, (long long)n, (long long)n, oname, (long long)V);
    }
    *out = cp;
    *nout = (int)n;
    return 0;
}

typedef struct Freq { uint32_t cp; int64_t n; } Freq;

static int by_count(const void *a, const void *b) {
    const Freq *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;   /* most frequent first */
    return x->cp < y->cp ? -1 : x->cp > y->cp;        /* ties: the lower code point first */
}

static int by_cp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Builds the vocabulary of text[0..n) into the ctx, at most V - 1 characters. */
static int build_vocab(RtCtx *c, const char *name, const uint32_t *text, int64_t n, int64_t V, const char *oname) {
    int64_t *count = rt_calloc(c, sizeof(int64_t) * MAX_CP);
    if (!count) return -1;
    int distinct = 0;
    for (int64_t i = 0; i < n; i++) distinct += count[text[i]]++ == 0;
    Freq *f = rt_alloc(c, sizeof(Freq) * (size_t)distinct);
    if (!f) { rt_free(c, count); return -1; }
    int k = 0;
    for (uint32_t cp = 0; cp < MAX_CP; cp++)
        if (count[cp]) f[k++] = (Freq){cp, count[cp]};
    rt_free(c, count);
    qsort(f, (size_t)distinct, sizeof(Freq), by_count);
    int keep = distinct;
    if ((int64_t)distinct + 1 > V) {
        keep = (int)(V - 1);
        int64_t dropped = 0;
        for (int i = keep; i < distinct; i++) dropped += f[i].n;
        if (dropped * 100 > n || keep < 1) {
            rt_free(c, f);
            return rt_error(c, "'%s' has %d distinct characters, but output '%s' of the model scores %lld ids (one is "
                               "'unknown'): make its vocabulary size at least %d (the %d rarest characters are %.1f%% "
                               "of the text; up to 1%% would read as unknown)", name, distinct, oname, (long long)V,
                            distinct + 1, distinct - keep, 100.0 * (double)dropped / (double)n);
        }
        char ex[256] = "";
        size_t at = 0;
        for (int i = keep; i < distinct && i < keep + 5 && at < sizeof ex - 32; i++) {
            char s[32];
            rt_char_str(f[i].cp, s, sizeof s);
            at += (size_t)snprintf(ex + at, sizeof ex - at, "%s%s", i > keep ? ", " : "", s);
        }
        fprintf(stderr, "%s: note: '%s' has %d distinct characters, but output '%s' scores %lld ids (id 0 is "
                        "unknown): the %d rarest (%lld occurrences: %s%s) read as unknown\n", c->prog, name, distinct,
                oname, (long long)V, distinct - keep, (long long)dropped, ex, distinct - keep > 5 ? ", ..." : "");
    }
    uint32_t *v = rt_alloc(c, sizeof(uint32_t) * (size_t)(keep ? keep : 1));
    if (!v) { rt_free(c, f); return -1; }
    for (int i = 0; i < keep; i++) v[i] = f[i].cp;
    rt_free(c, f);
    qsort(v, (size_t)keep, sizeof(uint32_t), by_cp);
    return rt_vocab_set(c, v, keep);
}

/* ---- the data source ---- */

int rt_text_load(RtCtx *c, const char *path, int64_t seq, int64_t stride, int64_t limit, bool training,
                 const RtTensor *const *dest, int ndest, RtData *d) {
    const char *name = path ? path : FORTUNES_DIR;
    const RtTensor *in = dest[0];
    for (int k = 0; k < ndest && k < 2; k++) {
        const RtTensor *t = dest[k];
        if (t->dtype != RT_I32 || t->rank != 2 || t->dim[0] != RT_DIM_B || (k && t->dim[1] != in->dim[1])) {
            char sh[256];
            rt_shape_str(t, sh, sizeof sh);
            return rt_error(c, "text data yields i32[B, %lld] windows of character ids, but %s '%s' is %s",
                            (long long)(in->rank == 2 ? in->dim[1] : seq > 0 ? seq : 128), rt_role_name(t->role),
                            t->name, sh);
        }
    }
    int64_t T = in->dim[1];
    if (seq > 0 && seq != T)
        return rt_error(c, "the text source's seq = %lld, but input '%s' holds %lld positions", (long long)seq,
                        in->name, (long long)T);
    if (stride <= 0) stride = T;
    const char *oname = NULL;
    int64_t V = rt_vocab_limit(c, &oname);
    if (V <= 0 && !c->vocab)
        return rt_error(c, "text data needs a model whose first output scores the vocabulary, f32[B, T, V] (V: the "
                           "number of character ids), e.g. `output probs = softmax(logits)`");
    char *bytes = NULL;
    size_t nbytes = 0;
    if (path ? read_all(c, path, &bytes, &nbytes) : read_fortunes(c, &bytes, &nbytes)) return -1;
    uint32_t *text = NULL;
    int64_t L = 0;
    int rc = rt_utf8_decode_all(c, name, bytes, nbytes, &text, &L);
    rt_free(c, bytes);
    if (rc) return -1;
    rc = -1;
    if (L == 0) { rt_error(c, "'%s' is empty: no text to learn from", name); goto done; }
    if (L < T + 1) {
        rt_error(c, "'%s' holds %lld characters, but one window needs seq + 1 = %lld (%lld ids and the character after "
                    "them)", name, (long long)L, (long long)T + 1, (long long)T);
        goto done;
    }
    bool built = !c->vocab;
    if (built && !training) {
        rt_error(c, "reading text needs the vocabulary its training built, and the weights hold none (pass --weights "
                    "of the model trained on text data)");
        goto done;
    }
    if (built && build_vocab(c, name, text, L, V, oname)) goto done;
    int64_t unknown = 0;
    uint32_t first_unknown = 0;
    for (int64_t i = 0; i < L; i++) {
        int32_t id = rt_vocab_id(c, text[i]);
        if (!id && !unknown++) first_unknown = text[i];
        text[i] = (uint32_t)id;
    }
    if (unknown && !built) {
        /* a vocabulary built here has said which characters it left out */
        char s[32];
        rt_char_str(first_unknown, s, sizeof s);
        fprintf(stderr, "%s: note: %lld characters of '%s' (the first: %s) are not in the vocabulary of the weights: "
                        "they read as unknown (id 0)\n", c->prog, (long long)unknown, name, s);
    }
    int64_t n = (L - 1 - T) / stride + 1;
    if (limit > 0 && limit < n) n = limit;
    /* the windows are materialised: T ids per window per array (T / stride times the text) */
    char what[PATH_MAX + 64], parts[128];
    snprintf(what, sizeof what, "reading '%s' as %lld windows of %lld characters", name, (long long)n, (long long)T);
    snprintf(parts, sizeof parts, "%d arrays of %lld x %lld i32 ids; a larger stride makes fewer", ndest < 2 ? ndest : 2,
             (long long)n, (long long)T);
    if (rt_mem_plan(c, what, (double)n * (double)T * 4.0 * (ndest < 2 ? ndest : 2), parts)) goto done;
    for (int k = 0; k < ndest && k < 2; k++) {
        RtColumn *col = &d->col[k];
        col->dtype = RT_I32;
        col->per = T;
        col->u8 = false;
        if (!(col->data = rt_alloc(c, sizeof(int32_t) * (size_t)(n * T)))) goto done;
        int32_t *o = col->data;
        for (int64_t w = 0; w < n; w++)
            for (int64_t j = 0; j < T; j++) o[w * T + j] = (int32_t)text[w * stride + j + k];
    }
    d->n = n;
    d->ordered = true;
    d->gap = (T + stride - 1) / stride - 1;
    rc = 0;
done:
    rt_free(c, text);
    return rc;
}
