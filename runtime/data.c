/* data.c - data sets into memory: IDX / IDX.gz (MNIST style), CSV with a header, NPY.
 *
 * A data source yields arrays in a fixed order (images then labels; features then label column;
 * x.npy then y.npy) and they are mapped onto the model's input and target tensors in descriptor
 * order, converted on the way to the dtype each tensor wants. Everything a user can get wrong is
 * checked and named: missing or truncated files, bad magic, sample shapes that do not match the
 * model, ragged or non-numeric CSV rows (file:line), labels out of range for a classifier, values
 * that are no integer in i32's range for an i32 tensor (never truncated), CSV labels that are not
 * among a loaded checkpoint's class names (which then number every label, numeric-looking or not).
 *
 * Conversions: IDX or NPY u8 of rank >= 2 (images: [N, ...]) into an f32 tensor is scaled by 1/255
 * to [0, 1], one rule for both formats (but a target's all-0/1 u8 array, a mask, is not); every other value is converted as is (u8 labels of rank 1
 * -> i32 or f32 unscaled). u8 arrays (IDX, NPY) feeding an f32 tensor are
 * kept as bytes and converted per batch (RtColumn.u8, rt.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "rt.h"

#define DEFAULT_FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define DEFAULT_MNIST_DIR "/usr/share/datasets/mnist"

/* ---- the data spec: `fashion_mnist`, `idx("a", "b")`, `csv("f.csv", label = "y")`, `npy(...)` ---- */

typedef struct Spec {
    char kind[32];              /* fashion_mnist mnist idx csv npy */
    const char *file[RT_MAXCOL]; int nfile;
    const char *label;          /* csv label column; "" = none given; several (`label = ["a", "b"]`)
                                 * are joined by tabs, which no name holds (the descriptor's rule) */
    bool has_label;
    int64_t seq, stride;        /* text: seq = N, stride = N (0 when not given) */
    char *buf;                  /* the spec's text, unescaped in place: file and label point into it */
} Spec;

static void spec_free(RtCtx *c, Spec *sp) {
    rt_free(c, sp->buf);
    sp->buf = NULL;
}

static char *skip_ws(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* A quoted string, unescaped in place (the text only shrinks); *out gets its start. */
static char *parse_string(char *s, const char **out);

/* `["a", "b"]`: the names unescaped and joined by tabs in place (each string's quotes and the
 * separators make the text shrink, so writing never overtakes reading). */
static char *parse_label_list(char *s, const char **out) {
    char *w = s;
    int n = 0;
    *out = w;
    s = skip_ws(s + 1);
    while (*s == '"') {
        const char *str;
        char *e = parse_string(s, &str);
        if (!e || !*str || strchr(str, '\t')) return NULL;
        if (n++) *w++ = '\t';
        size_t len = strlen(str);
        memmove(w, str, len);
        w += len;
        s = skip_ws(e);
        if (*s == ',') s = skip_ws(s + 1);
    }
    if (*s != ']' || n == 0) return NULL;
    *w = 0;
    return s + 1;
}

/* A quoted string, unescaped in place (the text only shrinks); *out gets its start. */
static char *parse_string(char *s, const char **out) {
    if (*s != '"') return NULL;
    char *w = s + 1;
    *out = w;
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && s[1]) s++;
        *w++ = *s;
    }
    if (*s != '"') return NULL;
    *w = 0;
    return s + 1;
}

static int parse_spec(RtCtx *c, const char *text, Spec *sp) {
    memset(sp, 0, sizeof *sp);
    sp->label = "";
    if (!(sp->buf = rt_strdup(c, text))) return -1;
    char *s = skip_ws(sp->buf);
    size_t k = 0;
    while (isalnum((unsigned char)*s) || *s == '_') {
        if (k + 1 >= sizeof sp->kind) goto bad;
        sp->kind[k++] = *s++;
    }
    sp->kind[k] = 0;
    s = skip_ws(s);
    bool args = !strcmp(sp->kind, "idx") || !strcmp(sp->kind, "csv") || !strcmp(sp->kind, "npy");
    if (!strcmp(sp->kind, "text")) {
        /* text, text(), text("f.txt"), text("f.txt", seq = 128, stride = 64): no file means fortunes-es */
        if (!*s) return 0;
        if (*s != '(') goto bad;
        s = skip_ws(s + 1);
        while (*s && *s != ')') {
            if (*s == '"') {
                if (sp->nfile == 1 || !(s = parse_string(s, &sp->file[sp->nfile]))) goto bad;
                sp->nfile++;
            } else if (!strncmp(s, "seq", 3) || !strncmp(s, "stride", 6)) {
                int64_t *dst = s[2] == 'q' ? &sp->seq : &sp->stride;
                s = skip_ws(s + (s[2] == 'q' ? 3 : 6));
                if (*s != '=') goto bad;
                char *end;
                errno = 0;
                long long v = strtoll(skip_ws(s + 1), &end, 10);
                if (errno || end == skip_ws(s + 1) || v < 1 || v > (1 << 24)) goto bad;
                *dst = v;
                s = end;
            } else {
                goto bad;
            }
            s = skip_ws(s);
            if (*s == ',') s = skip_ws(s + 1);
        }
        if (*s != ')' || *skip_ws(s + 1)) goto bad;
        return 0;
    }
    if (!strcmp(sp->kind, "fashion_mnist") || !strcmp(sp->kind, "mnist")) {
        if (*s == '(') {
            s = skip_ws(s + 1);
            if (*s != ')') goto bad;
            s = skip_ws(s + 1);
        }
        if (*s) goto bad;
        return 0;
    }
    if (!args || *s != '(') goto bad;
    s = skip_ws(s + 1);
    while (*s && *s != ')') {
        if (*s == '"') {
            if (sp->nfile == RT_MAXCOL || !(s = parse_string(s, &sp->file[sp->nfile]))) goto bad;
            sp->nfile++;
        } else if (!strncmp(s, "label", 5)) {
            s = skip_ws(s + 5);
            if (*s != '=') goto bad;
            s = skip_ws(s + 1);
            if (!(s = *s == '[' ? parse_label_list(s, &sp->label) : parse_string(s, &sp->label))) goto bad;
            sp->has_label = true;
        } else {
            goto bad;
        }
        s = skip_ws(s);
        if (*s == ',') s = skip_ws(s + 1);
    }
    if (*s != ')' || *skip_ws(s + 1)) goto bad;
    if (sp->nfile == 0) goto bad;
    if (!strcmp(sp->kind, "csv") && sp->nfile != 1) goto bad;
    return 0;
bad:
    spec_free(c, sp);
    return rt_error(c, "cannot understand the data source '%s' (expected fashion_mnist, mnist, "
                       "idx(\"images\", \"labels\"), csv(\"file.csv\", label = \"column\"), "
                       "npy(\"x.npy\", \"y.npy\") or text(\"file.txt\", seq = N, stride = N))", text);
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- the target of one array: which model tensor, and conversion into its dtype ---- */

typedef struct Dest {
    const RtTensor *t;          /* the model tensor this array feeds */
    RtColumn *col;
    char *src;                  /* file it came from, for messages */
    size_t srcn;
} Dest;

/* Whether v converts to i32 exactly: an integer in [-2^31, 2^31) (labels, token ids). */
static bool fits_i32(double v) {
    return v == floor(v) && v >= -2147483648.0 && v < 2147483648.0;
}

/* Stores element i; false (nothing stored) when an i32 column gets a value that is no integer in
 * i32's range (truncating it would silently change a label), or an f32 column a value that is not
 * finite in f32 (NaN, an infinity, or beyond f32's range, like 1e39): it would train to NaN weights. */
static bool store(RtColumn *col, int64_t i, double v) {
    switch (col->dtype) {
    case RT_F32:
        if (!isfinite((float)v)) return false;
        ((float *)col->data)[i] = (float)v;
        break;
    case RT_I32:
        if (!fits_i32(v)) return false;
        ((int32_t *)col->data)[i] = (int32_t)v;
        break;
    case RT_BOOL: ((uint8_t *)col->data)[i] = v != 0; break;
    }
    return true;
}

/* The message of a store() that failed on element i of a binary source. */
static int bad_value(RtCtx *c, const char *path, const Dest *dst, int64_t i, double v) {
    int64_t per = dst->col->per ? dst->col->per : 1;
    if (dst->col->dtype == RT_F32)
        return rt_error(c, "'%s': sample %lld (counting from 0) holds %g, which is not a finite f32 value, but %s "
                           "'%s' takes finite numbers only", path, (long long)(i / per), v,
                        rt_role_name(dst->t->role), dst->t->name);
    return rt_error(c, "'%s': value %.17g of sample %lld is not an integer in i32's range, but %s '%s' is i32%s",
                    path, v, (long long)(i / per), rt_role_name(dst->t->role), dst->t->name,
                    dst->t->role == RT_TARGET ? " (class labels must be whole numbers)" : "");
}

/* div > 0: the column keeps the file's u8 values, converted per batch as value / div. */
/* A u8 array of rank >= 2 feeding an f32 *target* whose values are all 0 or 1 is a mask or 0/1
 * labels (a segmentation mask, per-step labels), not pixels: it is not scaled by 1/255, which made
 * every 1 a silent 0.0039. Inputs keep the pixel rule. */
static void mask_unscaled(const Dest *dst, int64_t n) {
    RtColumn *col = dst->col;
    if (!col->u8 || col->div != 255.0f || dst->t->role != RT_TARGET) return;
    const uint8_t *v = col->data;
    for (int64_t i = 0; i < n * col->per; i++)
        if (v[i] > 1) return;
    col->div = 1.0f;
}

static int alloc_col(RtCtx *c, const RtTensor *t, RtColumn *col, int64_t n, float div) {
    col->dtype = t->dtype;
    col->per = rt_numel(t, 1);
    col->u8 = div > 0;
    col->div = div;
    col->data = rt_alloc(c, (size_t)(n ? n : 1) * (size_t)col->per * (col->u8 ? 1 : rt_dsize(t->dtype)));
    return col->data ? 0 : -1;
}

static void per_str(const RtTensor *t, char *buf, size_t n) {
    char sh[256];
    rt_shape_str(t, sh, sizeof sh);
    snprintf(buf, n, "%s '%s' is %s (%lld values per sample)", rt_role_name(t->role), t->name, sh,
             (long long)rt_numel(t, 1));
}

/* ---- IDX (optionally gzip'd: gzread reads plain files too) ---- */

static int load_idx(RtCtx *c, const char *path, int64_t limit, Dest *dst, int64_t *n_out) {
    snprintf(dst->src, dst->srcn, "%s", path);
    int fd = rt_open_fd(c, path, "", false);
    if (fd < 0) return -1;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return rt_error(c, "cannot open '%s': %s", path, errno ? strerror(errno) : "gzdopen failed");
    }
    unsigned char hdr[4 + 4 * 4];
    uint8_t *buf = NULL;
    int rc = -1;
    int got = gzread(f, hdr, 4);
    if (got < 0) {
        int zerr;
        rt_error(c, "cannot read '%s': gzread failed: %s (a corrupt .gz file?)", path, gzerror(f, &zerr));
        goto done;
    }
    if (got != 4) {     /* a gzip stream cut short unpacks to less than the magic, without an error */
        rt_error(c, "'%s' is too short to be an IDX file (%d byte%s%s)", path, got, got == 1 ? "" : "s",
                 gzdirect(f) ? "" : " once unpacked: a truncated .gz file?");
        goto done;
    }
    if (hdr[0] || hdr[1] || hdr[3] < 1 || hdr[3] > 4) {
        rt_error(c, "'%s' is not an IDX file (bad magic)", path);
        goto done;
    }
    int type = hdr[2], rank = hdr[3], isz;
    switch (type) {
    case 0x08: case 0x09: isz = 1; break;
    case 0x0B: isz = 2; break;
    case 0x0C: case 0x0D: isz = 4; break;
    case 0x0E: isz = 8; break;
    default: rt_error(c, "'%s' is not an IDX file (unknown element type 0x%02x)", path, type); goto done;
    }
    got = gzread(f, hdr + 4, (unsigned)(4 * rank));
    if (got != 4 * rank) {
        int zerr;
        rt_error(c, "'%s' is truncated (in its header)%s%s", path, got < 0 ? ": " : "", got < 0 ? gzerror(f, &zerr) : "");
        goto done;
    }
    int64_t dims[4], per = 1;
    for (int i = 0; i < rank; i++) {
        const unsigned char *b = hdr + 4 + 4 * i;
        dims[i] = ((int64_t)b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
        if (i && __builtin_mul_overflow(per, dims[i], &per)) per = INT64_MAX;
    }
    int64_t n = dims[0];
    if (per > ((int64_t)1 << 32) || (double)n * (double)per > (double)((int64_t)1 << 40)) {
        rt_error(c, "'%s' has an implausible IDX header (%lld samples of %lld values)", path, (long long)n, (long long)per);
        goto done;
    }
    if (per != rt_numel(dst->t, 1)) {
        char want[512], shape[128] = "";
        per_str(dst->t, want, sizeof want);
        size_t k = 0;
        for (int i = 1; i < rank; i++) k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", i > 1 ? "," : "", (long long)dims[i]);
        rt_error(c, "'%s' holds samples of shape [%s] (%lld values), but %s", path, shape, (long long)per, want);
        goto done;
    }
    /* the header's promise against the file's size, before allocating for it: a plain file holds
     * every byte; deflate packs at most 1032 bytes into one, so a .gz of S bytes holds less than
     * 1032 S (a tiny file never makes the loader allocate gigabytes) */
    struct stat st;
    double promised = (double)(4 + 4 * rank) + (double)n * (double)per * isz;
    if (fstat(fd, &st) == 0) {
        double most = gzdirect(f) ? (double)st.st_size : (double)st.st_size * 1032.0 + 4096.0;
        if (promised > most) {
            rt_error(c, "'%s' is truncated: its header promises %lld samples of %lld values (%.0f bytes), the file "
                        "has %lld bytes%s", path, (long long)n, (long long)per, promised, (long long)st.st_size,
                     gzdirect(f) ? "" : " (gzip'd: at most 1032 times as many once unpacked)");
            goto done;
        }
    }
    if (limit > 0 && limit < n) n = limit;
    bool scale = type == 0x08 && rank >= 2 && dst->t->dtype == RT_F32;
    bool bytes = type == 0x08 && dst->t->dtype == RT_F32;
    if (alloc_col(c, dst->t, dst->col, n, bytes ? (scale ? 255.0f : 1.0f) : 0)) goto done;
    const int64_t chunk = n * per < (1 << 20) ? (n * per > 0 ? n * per : 1) : 1 << 20;
    buf = rt_alloc(c, (size_t)(chunk * isz));
    if (!buf) goto done;
    int64_t total = n * per;
    for (int64_t at = 0; at < total; at += chunk) {
        int64_t m = total - at < chunk ? total - at : chunk;
        int r = gzread(f, buf, (unsigned)(m * isz));
        if (r < 0) {
            int zerr;
            rt_error(c, "gzread of '%s' failed: %s", path, gzerror(f, &zerr));
            goto done;
        }
        if (r != m * isz) {
            rt_error(c, "'%s' is truncated: its header promises %lld samples of %lld values, the data "
                        "ends after %lld values", path, (long long)dims[0], (long long)per,
                     (long long)(at + r / isz));
            goto done;
        }
        if (bytes) {
            memcpy((uint8_t *)dst->col->data + at, buf, (size_t)m);
            continue;
        }
        for (int64_t i = 0; i < m; i++) {
            const uint8_t *b = buf + i * isz;
            double v;
            switch (type) {
            case 0x08: v = scale ? b[0] / 255.0 : b[0]; break;
            case 0x09: v = (int8_t)b[0]; break;
            case 0x0B: v = (int16_t)((b[0] << 8) | b[1]); break;
            case 0x0C: v = (int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]); break;
            case 0x0D: {
                uint32_t u = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
                float fv;
                memcpy(&fv, &u, 4);
                v = fv;
                break;
            }
            default: {
                uint64_t u = 0;
                for (int j = 0; j < 8; j++) u = (u << 8) | b[j];
                memcpy(&v, &u, 8);
                break;
            }
            }
            if (!store(dst->col, at + i, v)) { bad_value(c, path, dst, at + i, v); goto done; }
        }
    }
    mask_unscaled(dst, n);
    *n_out = n;
    rc = 0;
done:
    rt_free(c, buf);
    if (rc) { rt_free(c, dst->col->data); dst->col->data = NULL; }
    gzclose(f);
    return rc;
}

/* ---- NPY (format 1.0 - 3.0, either byte order, C order) ---- */

/* IEEE binary16 bits to a double (numpy's float16). */
static double half_value(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return h & 0x8000 ? -v : v;
}

/* One element of an NPY array, little-endian bytes b (the loader swaps big-endian ones). */
static double npy_value(char kind, int isz, const uint8_t *b) {
    uint64_t u = 0;
    for (int j = isz - 1; j >= 0; j--) u = u << 8 | b[j];
    if (kind == 'f' && isz == 2) return half_value((uint16_t)u);
    if (kind == 'f' && isz == 4) { float x; uint32_t w = (uint32_t)u; memcpy(&x, &w, 4); return x; }
    if (kind == 'f') { double x; memcpy(&x, &u, 8); return x; }
    if (kind == 'i') {   /* sign-extend from isz bytes */
        int sh = 64 - 8 * isz;
        return (double)((int64_t)(u << sh) >> sh);
    }
    return (double)u;   /* 'u' and 'b' */
}

static int load_npy(RtCtx *c, const char *path, int64_t limit, Dest *dst, int64_t *n_out) {
    snprintf(dst->src, dst->srcn, "%s", path);
    FILE *f = rt_open_input(c, path, "", false);
    if (!f) return -1;
    int rc = -1;
    char *hdr = NULL;
    uint8_t *buf = NULL;
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got != 8 || memcmp(pre, "\x93NUMPY", 6) || pre[6] < 1 || pre[6] > 3) {
        if (got == 0) rt_error(c, "'%s' is empty (0 bytes), not an NPY file", path);
        else if (got < 8 && !memcmp(pre, "\x93NUMPY", got < 6 ? got : 6)) rt_error(c, "'%s' is truncated (in its NPY header)", path);
        else rt_error(c, "'%s' is not an NPY file (bad magic)", path);
        goto done;
    }
    uint32_t hlen;
    if (pre[6] == 1) {
        if (fread(pre + 8, 1, 2, f) != 2) goto trunc;
        hlen = pre[8] | (pre[9] << 8);
    } else {
        if (fread(pre + 8, 1, 4, f) != 4) goto trunc;
        hlen = pre[8] | (pre[9] << 8) | ((uint32_t)pre[10] << 16) | ((uint32_t)pre[11] << 24);
    }
    if (hlen > (1u << 20)) { rt_error(c, "'%s': NPY header too large", path); goto done; }
    hdr = rt_alloc(c, hlen + 1);
    if (!hdr) goto done;
    if (fread(hdr, 1, hlen, f) != hlen) goto trunc;
    hdr[hlen] = 0;
    char descr[16] = "";
    const char *p = strstr(hdr, "'descr'");
    if (!p || sscanf(p, "'descr' : '%15[^']'", descr) != 1) {
        if (!p || sscanf(p, "'descr': '%15[^']'", descr) != 1) { rt_error(c, "'%s': NPY header has no descr", path); goto done; }
    }
    p = strstr(hdr, "'fortran_order'");
    if (!p || !strstr(p, "False")) { rt_error(c, "'%s': only C-order NPY arrays are supported", path); goto done; }
    p = strstr(hdr, "'shape'");
    if (!p || !(p = strchr(p, '('))) { rt_error(c, "'%s': NPY header has no shape", path); goto done; }
    int64_t dims[RT_MAXRANK]; int rank = 0;
    for (p++;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || v > ((long long)1 << 40) || rank == RT_MAXRANK) { rt_error(c, "'%s': bad NPY shape", path); goto done; }
        dims[rank++] = v;
        p = end;
    }
    /* descr: byte order ('<' little, '>' big, '|' not applicable, '=' native: little here), kind
     * (f float, i signed, u unsigned, b bool), size in bytes; what numpy writes for these dtypes */
    int isz = 0; char kind = 0; bool swap = false;
    {
        char order = descr[0], k = descr[1];
        char *end;
        long sz = strtol(descr + 2, &end, 10);
        bool ok = (order == '<' || order == '>' || order == '|' || order == '=') && *end == 0 && end != descr + 2;
        if (ok && k == 'f' && (sz == 2 || sz == 4 || sz == 8)) kind = 'f';
        else if (ok && (k == 'i' || k == 'u') && (sz == 1 || sz == 2 || sz == 4 || sz == 8)) kind = k;
        else if (ok && k == 'b' && sz == 1) kind = 'b';
        if (!kind) {
            rt_error(c, "'%s': NPY dtype '%s' is not supported (float16/32/64, int8-64, uint8-64, bool; "
                        "either byte order)", path, descr);
            goto done;
        }
        isz = (int)sz;
        swap = order == '>' && isz > 1;
    }
    if (rank < 1) { rt_error(c, "'%s': a 0-d NPY array holds no samples", path); goto done; }
    int64_t n = dims[0], per = 1;
    for (int i = 1; i < rank; i++)
        if (__builtin_mul_overflow(per, dims[i], &per) || per > ((int64_t)1 << 40)) {
            rt_error(c, "'%s': implausible NPY shape", path);
            goto done;
        }
    if (per != rt_numel(dst->t, 1)) {
        char want[512], shape[128] = "";
        per_str(dst->t, want, sizeof want);
        size_t k = 0;
        for (int i = 0; i < rank; i++) k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", i ? "," : "", (long long)dims[i]);
        rt_error(c, "'%s' has shape [%s] (%lld values per sample), but %s", path, shape, (long long)per, want);
        goto done;
    }
    /* the header's promise against the file's size, before allocating for it */
    struct stat st;
    if (fstat(fileno(f), &st)) { rt_error(c, "fstat('%s') failed: %s", path, strerror(errno)); goto done; }
    double need = (double)ftell(f) + (double)n * (double)per * isz;
    if (need > (double)st.st_size) {
        rt_error(c, "'%s' is truncated: its header promises %.0f values (%.0f bytes in all), the file has %lld "
                    "bytes", path, (double)n * (double)per, need, (long long)st.st_size);
        goto done;
    }
    if (limit > 0 && limit < n) n = limit;
    /* the IDX rule: u8 with dims after the sample's (pixels) into f32 is scaled by 1/255 */
    bool scale = kind == 'u' && isz == 1 && rank >= 2 && dst->t->dtype == RT_F32;
    bool bytes = kind == 'u' && isz == 1 && dst->t->dtype == RT_F32;
    if (alloc_col(c, dst->t, dst->col, n, bytes ? (scale ? 255.0f : 1.0f) : 0)) goto done;
    int64_t total = n * per;
    const int64_t chunk = total < (1 << 18) ? (total > 0 ? total : 1) : 1 << 18;
    buf = rt_alloc(c, (size_t)(chunk * isz));
    if (!buf) goto done;
    for (int64_t at = 0; at < total; at += chunk) {
        int64_t m = total - at < chunk ? total - at : chunk;
        if (fread(buf, (size_t)isz, (size_t)m, f) != (size_t)m) {
            rt_error(c, "'%s' is truncated: its header promises shape with %lld values, the data ends "
                        "early", path, (long long)(dims[0] * per));
            goto done;
        }
        if (bytes) {
            memcpy((uint8_t *)dst->col->data + at, buf, (size_t)m);
            continue;
        }
        for (int64_t i = 0; i < m; i++) {
            uint8_t b[8];
            for (int j = 0; j < isz; j++) b[j] = buf[i * isz + (swap ? isz - 1 - j : j)];
            double v = npy_value(kind, isz, b);
            if (!store(dst->col, at + i, v)) { bad_value(c, path, dst, at + i, v); goto done; }
        }
    }
    mask_unscaled(dst, n);
    *n_out = n;
    rc = 0;
    goto done;
trunc:
    rt_error(c, "'%s' is truncated (in its NPY header)", path);
done:
    rt_free(c, hdr);
    rt_free(c, buf);
    if (rc && dst->col->data) { rt_free(c, dst->col->data); dst->col->data = NULL; }
    fclose(f);
    return rc;
}

/* ---- CSV with a header row ---- */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits one line in place into fields (commas; double quotes may wrap a field). Returns the count
 * written to fields (at most maxf; the true count is returned even when larger). */
static int split_csv(char *s, char **fields, int maxf) {
    int n = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t') s++;
        char *start = s, *w = s;
        if (*s == '"') {
            for (s++; *s; s++) {
                if (*s == '"' && s[1] == '"') { *w++ = '"'; s++; }
                else if (*s == '"') { s++; break; }
                else *w++ = *s;
            }
            while (*s && *s != ',') s++;
        } else {
            while (*s && *s != ',') s++;
            w = s;
            while (w > start && (w[-1] == ' ' || w[-1] == '\t')) w--;
        }
        char sep = *s;
        *w = 0;
        if (n < maxf) fields[n] = start;
        n++;
        if (sep != ',') break;
        s++;
    }
    return n;
}

/* A decimal number as a CSV writes one: [+-] digits [. digits] [e|E [+-] digits] (".5" and "5." too).
 * strtod alone would also take C's hexadecimal ("0x10"), "inf", "nan" and "infinity". */
static bool decimal_form(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '+' || *s == '-') s++;
    int digits = 0;
    while (isdigit((unsigned char)*s)) { s++; digits++; }
    if (*s == '.') { s++; while (isdigit((unsigned char)*s)) { s++; digits++; } }
    if (!digits) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!isdigit((unsigned char)*s)) return false;
        while (isdigit((unsigned char)*s)) s++;
    }
    return *s == 0;
}

static bool parse_num(const char *s, double *v) {
    char *end;
    if (!*s || !decimal_form(s)) return false;
    *v = strtod(s, &end);
    return *end == 0 && isfinite(*v);
}

/* Why a field that is no number was refused, for the message ("" when plain). */
static const char *num_hint(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '+' || *s == '-') s++;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        return " (a CSV number is decimal: hexadecimal is not read)";
    if (!strncasecmp(s, "inf", 3) || !strncasecmp(s, "nan", 3))
        return " (a data value must be finite)";
    /* a word: a categorical feature (Keras' StringLookup column, "thal" = "fixed") */
    if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
        return " (only the label column may hold names: give a categorical feature as integer ids, one per "
               "category, and embed or one_hot them in the model)";
    return "";
}

/* A CSV whose labels hold more distinct names than the model has classes: the rarest name is most
 * likely a misspelling (`Setosa` among `setosa`s); name it, its first line, and the closest other name. */
static void too_many_names(RtCtx *c, const char *path, char **labels, const int *rowline, int64_t nrows,
                           char **names, int nc, const char *rarest, int64_t count) {
    int line = 0;
    for (int64_t r = 0; r < nrows && !line; r++) if (!strcmp(labels[r], rarest)) line = rowline[r];
    const char *close = NULL;
    int best = 3;
    for (int i = 0; i < nc; i++) {
        if (names[i] == rarest || !strcmp(names[i], rarest)) continue;
        int dist = strcasecmp(names[i], rarest) ? rt_edit_distance(rarest, strlen(rarest), names[i]) : 0;
        if (dist < best) { best = dist; close = names[i]; }
    }
    char hint[256] = "";
    if (close) snprintf(hint, sizeof hint, " (did you mean '%.200s'?)", close);
    rt_error(c, "%s:%d: label '%s'%s makes %d distinct class names, but the model classifies %d ('%s' appears %lld "
                "time%s)", path, line, rarest, hint, nc, c->desc.nclasses, rarest, (long long)count,
             count == 1 ? "" : "s");
}

/* The column named name among fields[0..nf), or -1; a second column of that name is an error (which
 * of them is the label would be a guess). */
static int find_column(RtCtx *c, const char *path, int line, char **fields, int nf, const char *name, bool *dup) {
    int at = -1;
    *dup = false;
    for (int i = 0; i < nf; i++) {
        if (strcmp(fields[i], name)) continue;
        if (at >= 0) {
            *dup = true;
            return rt_error(c, "%s:%d: the header has two columns named '%s' (columns %d and %d): which one is the "
                               "label is ambiguous", path, line, name, at + 1, i + 1);
        }
        at = i;
    }
    return at;
}

/* feat: the features' tensor; lab: the label's (NULL to skip it). label: the column's name, "" for
 * the last column. */
/* predict_in: the file is predict's INPUT (features only): a column named as the label is dropped
 * only when the file has exactly one column more than the input takes (see docs/cli.md, predict). */
static int load_csv(RtCtx *c, const char *path, const char *label, bool want_label, bool predict_in,
                    int64_t limit, Dest *feat, Dest *lab, RtData *d, int64_t *n_out) {
    if (feat) snprintf(feat->src, feat->srcn, "%s", path);
    if (lab) snprintf(lab->src, lab->srcn, "%s", path);
    FILE *f = rt_open_input(c, path, "", false);
    if (!f) return -1;
    int rc = -1;
    char *text = NULL, **fields = NULL, **labels = NULL, **rows = NULL, *names = NULL;
    int *rowline = NULL, *colrole = NULL;
    /* several label columns (`label = ["y1", "y2"]`, tab-joined): an f32 [B, K] target, one column
     * per value in the order named; colrole[i] is column i's place in it, -1 for a feature */
    bool multi = strchr(label, '\t') != NULL;
    int nlab = 0, nlabcols = 0;
    const char *labname_k[64];
    if (fseek(f, 0, SEEK_END) || ftell(f) < 0) { rt_error(c, "cannot read '%s': %s", path, strerror(errno)); goto done; }
    long size = ftell(f);
    rewind(f);
    text = rt_alloc(c, (size_t)size + 1);
    if (!text) goto done;
    if (fread(text, 1, (size_t)size, f) != (size_t)size) { rt_error(c, "cannot read '%s': %s", path, strerror(errno)); goto done; }
    text[size] = 0;
    /* a NUL would end the text early and drop every later row without a word: refuse the file */
    const char *nul = memchr(text, 0, (size_t)size);
    if (nul) {
        int line = 1;
        for (const char *q = text; q < nul; q++) line += *q == '\n';
        rt_error(c, "%s:%d: the file holds a NUL byte (at byte %ld): a CSV is text", path, line, (long)(nul - text));
        goto done;
    }
    if (size >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) memset(text, ' ', 3);   /* a UTF-8 BOM */
    int64_t nlines = 1;
    for (long i = 0; i < size; i++) nlines += text[i] == '\n';
    if (nlines > INT_MAX) {   /* line numbers are ints */
        rt_error(c, "'%s' has %lld lines, more than the %d a CSV may have", path, (long long)nlines, INT_MAX);
        goto done;
    }
    rows = rt_alloc(c, sizeof(char *) * (size_t)nlines);
    rowline = rt_alloc(c, sizeof(int) * (size_t)nlines);
    if (!rows || !rowline) goto done;
    if (multi) {
        if (!(names = rt_strdup(c, label))) goto done;
        for (char *q = names; q; nlab++) {
            if (nlab == 64) { rt_error(c, "'%s': more than 64 label columns", path); goto done; }
            labname_k[nlab] = q;
            if ((q = strchr(q, '\t'))) *q++ = 0;
        }
        if (want_label && lab && (lab->t->dtype != RT_F32 || rt_numel(lab->t, 1) != nlab)) {
            char want[512];
            per_str(lab->t, want, sizeof want);
            rt_error(c, "'%s': %d label columns make an f32 target of %d values per sample, but target '%s' %s", path,
                     nlab, nlab, lab->t->name, want);
            goto done;
        }
    }
    /* header */
    char *s = text, *next;
    int lineno = 0, nf = 0, labcol = -1;
    int64_t nrows = 0;
    for (; s; s = next) {
        next = strchr(s, '\n');
        if (next) *next++ = 0;
        size_t L = strlen(s);
        if (L && s[L - 1] == '\r') s[--L] = 0;
        lineno++;
        if (!*s) continue;
        if (!fields) {
            int maxf = 1;
            for (const char *q = s; *q; q++) maxf += *q == ',';
            fields = rt_alloc(c, sizeof(char *) * (size_t)maxf);
            if (!fields) goto done;
            nf = split_csv(s, fields, maxf);
            if (multi) {
                if (!(colrole = rt_alloc(c, sizeof(int) * (size_t)nf))) goto done;
                for (int i = 0; i < nf; i++) colrole[i] = -1;
                int found = 0;
                for (int j = 0; j < nlab; j++) {
                    bool dup;
                    int at = find_column(c, path, lineno, fields, nf, labname_k[j], &dup);
                    if (dup) goto done;
                    if (at >= 0 && colrole[at] < 0) colrole[at] = j, found++;
                    else if (want_label) {
                        rt_error(c, "%s:%d: the header has no column '%s'%s", path, lineno, labname_k[j],
                                 at >= 0 ? " (named twice in the label list)" : "");
                        goto done;
                    }
                }
                /* predict's input drops them only when they are all there and exactly extra */
                if (want_label || !predict_in || !feat || (found == nlab && nf == rt_numel(feat->t, 1) + nlab))
                    nlabcols = found;
                else
                    for (int i = 0; i < nf; i++) colrole[i] = -1;
                continue;
            }
            if (want_label) {
                if (*label) {
                    bool dup;
                    labcol = find_column(c, path, lineno, fields, nf, label, &dup);
                    if (dup) goto done;
                    if (labcol < 0) { rt_error(c, "%s:%d: the header has no column '%s'", path, lineno, label); goto done; }
                } else {
                    labcol = nf - 1;
                }
            } else if (predict_in && feat) {
                if (nf == rt_numel(feat->t, 1) + 1) {
                    /* one column too many: drop it if it is the label (data record's, the model's
                     * target's name, or `label`) */
                    int tg = rt_first(&c->desc, RT_TARGET);
                    const char *cand[3] = {label, tg >= 0 ? c->desc.t[tg].name : "", "label"};
                    for (int q = 0; q < 3 && labcol < 0; q++) {
                        bool dup;
                        if (*cand[q]) labcol = find_column(c, path, lineno, fields, nf, cand[q], &dup);
                        if (*cand[q] && dup) goto done;
                    }
                    if (labcol < 0) {
                        char want[512];
                        per_str(feat->t, want, sizeof want);
                        rt_error(c, "'%s' has %d columns, but %s; one extra column is dropped only when its "
                                 "header is the model's label ('%s'), and none is", path, nf, want,
                                 *cand[0] ? cand[0] : *cand[1] ? cand[1] : "label");
                        goto done;
                    }
                    fflush(stdout);
                    fprintf(stderr, "%s: note: '%s': ignoring column %d '%s' (the label); ", c->prog, path, labcol + 1,
                            fields[labcol]);
                    if (nf - 1 == 1) fprintf(stderr, "the other column is the input\n");
                    else fprintf(stderr, "the other %d columns are the input\n", nf - 1);
                }
            } else if (*label) {
                bool dup;
                labcol = find_column(c, path, lineno, fields, nf, label, &dup);   /* dropped */
                if (dup) goto done;
            }
            continue;
        }
        if (limit > 0 && nrows >= limit) continue;
        rows[nrows] = s;
        rowline[nrows++] = lineno;
    }
    if (!fields) { rt_error(c, "'%s' is empty (no header row)", path); goto done; }
    int nfeat = nf - (labcol >= 0 ? 1 : 0) - nlabcols;
    if (feat && nfeat != rt_numel(feat->t, 1)) {
        char want[512];
        per_str(feat->t, want, sizeof want);
        rt_error(c, "'%s' has %d feature columns, but %s", path, nfeat, want);
        goto done;
    }
    if (nrows == 0) { rt_error(c, "'%s' has no data rows", path); goto done; }
    if (feat && alloc_col(c, feat->t, feat->col, nrows, 0)) goto done;
    if (lab && alloc_col(c, lab->t, lab->col, nrows, 0)) goto done;
    labels = rt_calloc(c, sizeof(char *) * (size_t)nrows);
    if (!labels) goto done;
    const char *labname = labcol >= 0 ? fields[labcol] : "";   /* points into text, which stays */
    char **row = fields;        /* the header's fields are no longer needed: reuse the array */
    bool numeric = true;
    for (int64_t r = 0; r < nrows; r++) {
        int got = split_csv(rows[r], row, nf);
        if (got != nf) {
            rt_error(c, "%s:%d: expected %d fields (as in the header), found %d", path, rowline[r], nf, got);
            goto done;
        }
        int64_t k = 0;
        for (int i = 0; i < nf; i++) {
            double v;
            if (colrole && colrole[i] >= 0) {
                if (!parse_num(row[i], &v) || (lab && !store(lab->col, r * nlab + colrole[i], v))) {
                    rt_error(c, "%s:%d: field %d of label column '%s' is '%s', not a finite f32 number (several "
                                "label columns make a regression target)", path, rowline[r], i + 1,
                             labname_k[colrole[i]], row[i]);
                    goto done;
                }
                continue;
            }
            if (i == labcol) {
                labels[r] = row[i];
                if (!parse_num(row[i], &v)) {
                    numeric = false;
                    /* the column's kind follows the target's type: an f32 target takes numbers only */
                    if (lab && lab->t->dtype == RT_F32) {
                        rt_error(c, "%s:%d: field %d of column '%s' is '%s', not a finite number, but target '%s' is "
                                    "f32 (a regression target takes numbers only)", path, rowline[r], i + 1,
                                 labname, row[i], lab->t->name);
                        goto done;
                    }
                }
                continue;
            }
            if (!parse_num(row[i], &v)) {
                rt_error(c, "%s:%d: field %d is not a number: '%s'%s", path, rowline[r], i + 1, row[i], num_hint(row[i]));
                goto done;
            }
            if (feat && !store(feat->col, r * nfeat + k, v)) {
                if (feat->col->dtype == RT_F32)
                    rt_error(c, "%s:%d: field %d ('%s') is not a finite f32 value (f32 ends near 3.4e38), but input "
                                "'%s' takes finite numbers only", path, rowline[r], i + 1, row[i], feat->t->name);
                else
                    rt_error(c, "%s:%d: field %d ('%s') is not an integer in i32's range, but input '%s' is i32", path,
                             rowline[r], i + 1, row[i], feat->t->name);
                goto done;
            }
            k++;
        }
    }
    if (multi) {
        /* the label columns went straight into the target above */
    } else if (lab && lab->t->dtype == RT_I32 && c->class_names) {
        /* weights loaded first (eval, resume) fix the classes: every label is mapped by name, in the
         * checkpoint's order, numeric-looking or not ("1" is the class named "1", not index 1) */
        int nc = c->nclass_names;
        d->classes = rt_calloc(c, sizeof(char *) * (size_t)nc);
        if (!d->classes) goto done;
        d->nclasses = nc;
        for (int i = 0; i < nc; i++)
            if (!(d->classes[i] = rt_strdup(c, c->class_names[i]))) goto done;
        for (int64_t r = 0; r < nrows; r++) {
            int k = -1;
            for (int i = 0; i < nc && k < 0; i++) if (!strcmp(d->classes[i], labels[r])) k = i;
            if (k < 0) {
                char list[512];
                size_t at = 0;
                for (int i = 0; i < nc && at < sizeof list - 8; i++) {
                    int w = snprintf(list + at, sizeof list - at, "%s%s", i ? "," : "", d->classes[i]);
                    at = w < 0 ? at : at + (size_t)w;
                }
                if (at >= sizeof list - 8) snprintf(list + sizeof list - 8, 8, ",...");
                rt_error(c, "%s:%d: label '%s' is not one of the classes the weights were trained on (%s)", path,
                         rowline[r], labels[r], list);
                goto done;
            }
            store(lab->col, r, k);
        }
    } else if (lab && !numeric) {
        /* string labels: class index = rank in sorted order of the distinct names */
        char **sorted = rt_alloc(c, sizeof(char *) * (size_t)nrows);
        if (!sorted) goto done;
        memcpy(sorted, labels, sizeof(char *) * (size_t)nrows);
        qsort(sorted, (size_t)nrows, sizeof(char *), cmp_str);
        int nc = 0;
        int64_t run = 0, rarest_n = INT64_MAX;
        const char *rarest = NULL;
        for (int64_t i = 0; i <= nrows; i++) {
            if (i < nrows && i > 0 && !strcmp(sorted[i], sorted[nc - 1])) { run++; continue; }
            if (nc > 0 && run < rarest_n) { rarest_n = run; rarest = sorted[nc - 1]; }
            if (i < nrows) { sorted[nc++] = sorted[i]; run = 1; }
        }
        if (c->desc.nclasses > 0 && nc > c->desc.nclasses) {
            too_many_names(c, path, labels, rowline, nrows, sorted, nc, rarest, rarest_n);
            rt_free(c, sorted);
            goto done;
        }
        d->classes = rt_calloc(c, sizeof(char *) * (size_t)nc);
        if (!d->classes) { rt_free(c, sorted); goto done; }
        d->nclasses = nc;
        for (int i = 0; i < nc; i++)
            if (!(d->classes[i] = rt_strdup(c, sorted[i]))) { rt_free(c, sorted); goto done; }
        for (int64_t r = 0; r < nrows; r++) {
            char **hit = bsearch(&labels[r], sorted, (size_t)nc, sizeof(char *), cmp_str);
            store(lab->col, r, (double)(hit - sorted));
        }
        rt_free(c, sorted);
    } else if (lab) {
        for (int64_t r = 0; r < nrows; r++) {
            double v = 0;
            parse_num(labels[r], &v);
            if (lab->t->dtype == RT_I32 && v != floor(v)) {
                rt_error(c, "%s:%d: label '%s' is not an integer class index", path, rowline[r], labels[r]);
                goto done;
            }
            if (lab->t->dtype == RT_I32 && c->desc.nclasses > 0 && (v < 0 || v >= c->desc.nclasses)) {
                rt_error(c, "%s:%d: label '%s' is out of range for a classifier of %d classes (class indices are 0 "
                            "to %d)", path, rowline[r], labels[r], c->desc.nclasses, c->desc.nclasses - 1);
                goto done;
            }
            if (!store(lab->col, r, v)) {
                if (lab->t->dtype == RT_F32)
                    rt_error(c, "%s:%d: label '%s' is not a finite f32 value (f32 ends near 3.4e38), but target '%s' "
                                "takes finite numbers only", path, rowline[r], labels[r], lab->t->name);
                else
                    rt_error(c, "%s:%d: label '%s' is out of range (an i32 label lies in [-2147483648, 2147483647])",
                             path, rowline[r], labels[r]);
                goto done;
            }
        }
    }
    *n_out = nrows;
    rc = 0;
done:
    if (rc) {
        if (feat) { rt_free(c, feat->col->data); feat->col->data = NULL; }
        if (lab) { rt_free(c, lab->col->data); lab->col->data = NULL; }
    }
    rt_free(c, labels);
    rt_free(c, fields);
    rt_free(c, colrole);
    rt_free(c, names);
    rt_free(c, rows);
    rt_free(c, rowline);
    rt_free(c, text);
    fclose(f);
    return rc;
}

/* ---- mapping a source onto the model ---- */

void rt_data_free(RtCtx *c, RtData *d) {
    for (int i = 0; i < d->ncol; i++) rt_free(c, d->col[i].data);
    for (int i = 0; i < d->nclasses; i++) rt_free(c, d->classes ? d->classes[i] : NULL);
    rt_free(c, d->classes);
    memset(d, 0, sizeof *d);
}

static int check_n(RtCtx *c, RtData *d, int64_t n, const char *src) {
    if (d->n < 0) d->n = n;
    else if (d->n != n) return rt_error(c, "'%s' holds %lld samples, but the data before it %lld", src, (long long)n, (long long)d->n);
    return 0;
}

/* The folders rt_resolve searches a relative name in, in words. */
static void searched(const RtCtx *c, char *out, size_t n) {
    if (c->exe_dir[0]) snprintf(out, n, "the current folder and the executable's folder '%s'", c->exe_dir);
    else snprintf(out, n, "the current folder");
}

/* Files named in a spec resolve against dir (from --data DIR) when given: by their base name inside
 * dir ("data/iris_train.csv" is dir/iris_train.csv), else the whole relative path joined onto dir
 * when that exists. Without dir, as rt_resolve; a file found nowhere is an error naming the
 * folders searched. */
static int spec_path(RtCtx *c, const char *dir, const char *name, char *out, size_t n) {
    if (dir && name[0] != '/') {
        const char *slash = strrchr(name, '/');
        const char *base = slash ? slash + 1 : name;
        if (snprintf(out, n, "%s/%s", dir, base) >= (int)n)
            return rt_error(c, "the path '%s/%s' is too long (the system's limit is %zu bytes)", dir, base, n - 1);
        if (base != name && access(out, F_OK)) {
            char joined[PATH_MAX];
            if (snprintf(joined, sizeof joined, "%s/%s", dir, name) < (int)sizeof joined && access(joined, F_OK) == 0)
                snprintf(out, n, "%s", joined);
        }
        return 0;
    }
    if (rt_resolve(c, name, out, n)) return -1;
    if (name[0] != '/' && access(out, F_OK)) {
        char where[4200];
        searched(c, where, sizeof where);
        return rt_error(c, "cannot open '%s': data file not found (searched %s)", name, where);
    }
    return 0;
}

/* The files of a --data list are of one kind, the first's (its extension: .csv, .npy, .txt, IDX
 * otherwise), and a CSV or a text is one file: a second file would be ignored, so it is an error
 * naming it. */
static int list_kinds(RtCtx *c, const char *override, const Spec *o) {
    static const char *const ext[] = {".csv", ".npy", ".txt"};
    static const char *const kind[] = {"a CSV file", "an NPY file", "a text file", "an IDX file"};
    int k0 = 3;
    for (int k = 0; k < 3; k++)
        if (ends_with(o->file[0], ext[k])) k0 = k;
    if (o->nfile > 1 && k0 == 0)
        return rt_error(c, "--data '%s': a CSV holds the features and the label column in one file, so '%s' would "
                           "be ignored: give one .csv file", override, o->file[1]);
    for (int i = 1; i < o->nfile && k0 != 2; i++) {
        int k = 3;
        for (int j = 0; j < 3; j++)
            if (ends_with(o->file[i], ext[j])) k = j;
        if (k != k0)
            return rt_error(c, "--data '%s': '%s' is %s, but the list's first file '%s' is %s: the files of one data "
                               "set are of one kind", override, o->file[i], k == 3 ? "not a .npy file" : kind[k],
                            o->file[0], kind[k0]);
    }
    return 0;
}

/* The model's tensors a data source feeds, in words: "input 'x', target 'y'". */
static void dest_names(const RtTensor *const *dest, int ndest, char *out, size_t n) {
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < ndest && i < RT_MAXCOL && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%s '%s'", i ? ", " : "", dest[i]->role == RT_INPUT ? "input" : "target",
                              dest[i]->name);
}

int rt_data_load(RtCtx *c, const char *override, RtSplit split, bool with_targets, int64_t limit, RtData *d) {
    memset(d, 0, sizeof *d);
    d->n = -1;
    Spec sp;
    const char *dir = NULL;
    char pathbuf[PATH_MAX];
    if (!c->desc.data[0] && !override)
        return rt_error(c, "the model names no training data (no `data` in its train block): pass --data");
    /* without a data record, --data DIR means an MNIST-style directory */
    if (parse_spec(c, c->desc.data[0] ? c->desc.data : "fashion_mnist", &sp) && !override) return -1;
    if (override) {
        if (rt_resolve(c, override, pathbuf, sizeof pathbuf)) { spec_free(c, &sp); return -1; }
        bool named = (!strcmp(override, "fashion_mnist") || !strcmp(override, "mnist")) && access(pathbuf, F_OK);
        if (strchr(override, '(') || named) {
            spec_free(c, &sp);
            if (parse_spec(c, override, &sp)) return -1;
        } else if (is_dir(pathbuf) || ((!strcmp(sp.kind, "fashion_mnist") || !strcmp(sp.kind, "mnist")) &&
                                       !strchr(override, ',') && access(pathbuf, F_OK))) {
            /* a directory, or (for an MNIST-style model) a name that is no file: the directory the
             * error message will say is missing */
            dir = pathbuf;
        } else {
            /* one file, or a comma-separated list of files: the kind comes from the extension */
            Spec o;
            memset(&o, 0, sizeof o);
            o.label = "";
            /* every item of the list counts: an empty one (two commas in a row, a comma at either
             * end) or one more than a source takes is an error, never skipped */
            int nitems = 1;
            for (const char *q = override; *q; q++) nitems += *q == ',';
            if (nitems > RT_MAXCOL) {
                spec_free(c, &sp);
                return rt_error(c, "--data '%s' names %d files, but a data source takes at most %d", override,
                                nitems, RT_MAXCOL);
            }
            if (!(o.buf = rt_strdup(c, override))) { spec_free(c, &sp); return -1; }
            for (char *q = o.buf; q;) {
                o.file[o.nfile++] = q;
                if ((q = strchr(q, ','))) *q++ = 0;
                if (!o.file[o.nfile - 1][0]) {
                    rt_error(c, "--data '%s': file %d of the list is empty (a comma at the start or the end, or two "
                                "in a row)", override, o.nfile);
                    spec_free(c, &sp);
                    spec_free(c, &o);
                    return -1;
                }
            }
            if (ends_with(o.file[0], ".csv")) {
                snprintf(o.kind, sizeof o.kind, "csv");
                /* the model's label column: copied, since sp's text goes */
                if (!strcmp(sp.kind, "csv") && sp.has_label) {
                    size_t nb = strlen(override) + 1, nl = strlen(sp.label) + 1;
                    char *buf = rt_realloc(c, o.buf, nb + nl);
                    if (!buf) { spec_free(c, &sp); spec_free(c, &o); return -1; }
                    for (int i = 0; i < o.nfile; i++) o.file[i] = buf + (o.file[i] - o.buf);
                    o.buf = buf;
                    memcpy(buf + nb, sp.label, nl);
                    o.label = buf + nb;
                    o.has_label = true;
                }
            } else if (ends_with(o.file[0], ".npy")) {
                snprintf(o.kind, sizeof o.kind, "npy");
            } else if (ends_with(o.file[0], ".txt") || !strcmp(sp.kind, "text")) {
                /* a text file: the model's seq and stride stay */
                snprintf(o.kind, sizeof o.kind, "text");
                if (!strcmp(sp.kind, "text")) o.seq = sp.seq, o.stride = sp.stride;
                if (o.nfile > 1) {
                    rt_error(c, "--data '%s' names %d files, but a text data set is one file (the ids and the next "
                                "ids are both read from it)", override, o.nfile);
                    spec_free(c, &sp);
                    spec_free(c, &o);
                    return -1;
                }
            } else {
                snprintf(o.kind, sizeof o.kind, "idx");
            }
            /* say a missing file is missing, before the kind guessed from its name says more */
            for (int i = 0; i < o.nfile; i++) {
                char p[PATH_MAX];
                int r = rt_resolve(c, o.file[i], p, sizeof p);
                if (r || access(p, F_OK)) {
                    char where[4200];
                    searched(c, where, sizeof where);
                    if (!r && o.file[i][0] == '/') rt_error(c, "data file '%s' not found", o.file[i]);
                    else if (!r) rt_error(c, "data file '%s' not found (searched %s)", o.file[i], where);
                    spec_free(c, &sp);
                    spec_free(c, &o);
                    return -1;
                }
            }
            if (list_kinds(c, override, &o)) { spec_free(c, &sp); spec_free(c, &o); return -1; }
            spec_free(c, &sp);
            sp = o;
        }
    }
    /* the tensors the source feeds, in descriptor order (a source yields at most RT_MAXCOL arrays) */
    const RtTensor *dest[RT_MAXCOL];
    int ndest = 0, nsrc = 0;
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role == RT_INPUT || (with_targets && t->role == RT_TARGET)) {
            if (ndest < RT_MAXCOL) dest[ndest] = t;
            ndest++;
        }
    }
    if (ndest == 0) { spec_free(c, &sp); return rt_error(c, "the model has no input tensors"); }
    char srcs[RT_MAXCOL][PATH_MAX];
    Dest dd[RT_MAXCOL];
    for (int i = 0; i < ndest && i < RT_MAXCOL; i++) dd[i] = (Dest){dest[i], &d->col[i], srcs[i], sizeof srcs[i]};
    d->ncol = ndest < RT_MAXCOL ? ndest : RT_MAXCOL;
    int64_t n = 0;
    if (!strcmp(sp.kind, "fashion_mnist") || !strcmp(sp.kind, "mnist")) {
        const char *base = dir ? dir : !strcmp(sp.kind, "mnist") ? DEFAULT_MNIST_DIR : DEFAULT_FASHION_DIR;
        const char *pre = split == RT_SPLIT_TRAIN ? "train" : "t10k";
        nsrc = 2;
        if (ndest > nsrc) goto too_few;
        for (int i = 0; i < ndest; i++) {
            char p[PATH_MAX + 64];
            snprintf(p, sizeof p, "%s/%s-%s-idx%d-ubyte.gz", base, pre, i == 0 ? "images" : "labels", i == 0 ? 3 : 1);
            if (!dir && !is_dir(base))
            {
                if (!strcmp(sp.kind, "mnist"))
                    rt_error(c, "data set directory '%s' not found (put MNIST's four IDX .gz files there, "
                                "or pass --data DIR)", base);
                else
                    rt_error(c, "data set directory '%s' not found (install dataset-fashion-mnist or pass --data DIR)", base);
                goto fail;
            }
            if (load_idx(c, p, limit, &dd[i], &n) || check_n(c, d, n, p)) goto fail;
        }
    } else if (!strcmp(sp.kind, "text")) {
        nsrc = 2;
        if (ndest > nsrc) goto too_few;
        char p[PATH_MAX];
        if (sp.nfile && spec_path(c, dir, sp.file[0], p, sizeof p)) goto fail;
        snprintf(srcs[0], sizeof srcs[0], "%s", sp.nfile ? p : "fortunes-es");
        if (rt_text_load(c, sp.nfile ? p : NULL, sp.seq, sp.stride, limit, split == RT_SPLIT_TRAIN, dest, ndest, d))
            goto fail;
    } else if (!strcmp(sp.kind, "idx") || !strcmp(sp.kind, "npy")) {
        nsrc = sp.nfile;
        if (ndest > nsrc) goto too_few;
        if (nsrc > ndest) {
            /* a file no tensor takes was named on purpose: never ignored without a word */
            char names[512];
            dest_names(dest, ndest, names, sizeof names);
            rt_error(c, "the data names %d files, but the model takes %d array%s (%s), so '%s' would be ignored: "
                        "name %s", nsrc, ndest, ndest == 1 ? "" : "s", names, sp.file[ndest],
                     ndest == 1 ? "one file" : "one file per array, in this order");
            goto fail;
        }
        for (int i = 0; i < ndest; i++) {
            char p[PATH_MAX];
            if (spec_path(c, dir, sp.file[i], p, sizeof p)) goto fail;
            int r = sp.kind[0] == 'i' ? load_idx(c, p, limit, &dd[i], &n) : load_npy(c, p, limit, &dd[i], &n);
            if (r || check_n(c, d, n, p)) goto fail;
            if (n == 0) { rt_error(c, "'%s' holds no samples", p); goto fail; }
        }
    } else {
        nsrc = 2;
        if (ndest > nsrc) goto too_few;
        char p[PATH_MAX];
        if (spec_path(c, dir, sp.file[0], p, sizeof p)) goto fail;
        if (load_csv(c, p, sp.label, ndest > 1, false, limit, &dd[0], ndest > 1 ? &dd[1] : NULL, d, &n)) goto fail;
        d->n = n;
    }
    /* labels of a classifier */
    int tg = rt_first(&c->desc, RT_TARGET);
    if (c->desc.nclasses > 0 && with_targets && tg >= 0) {
        for (int k = 0; k < ndest; k++) {
            if (dest[k]->index != tg) continue;
            const int32_t *lab = d->col[k].data;
            for (int64_t i = 0; i < d->n; i++)
                if (lab[i] < 0 || lab[i] >= c->desc.nclasses) {
                    rt_error(c, "'%s': label %d of sample %lld is out of range for a classifier of %d classes",
                             srcs[k], lab[i], (long long)i, c->desc.nclasses);
                    goto fail;
                }
        }
    }
    if (d->n <= 0) { rt_error(c, "the data set is empty"); goto fail; }
    spec_free(c, &sp);
    return 0;
too_few: {
    char names[512];
    dest_names(dest, ndest, names, sizeof names);
    if ((!strcmp(sp.kind, "idx") || !strcmp(sp.kind, "npy")) && nsrc == 1)
        rt_error(c, "the data names one file ('%s'), but the model takes %d arrays (%s): name one file per array, "
                    "in this order (%s(\"x.%s\", \"y.%s\"), --data x.%s,y.%s)", sp.file[0], ndest, names, sp.kind, sp.kind,
                 sp.kind, sp.kind, sp.kind);
    else
        rt_error(c, "the data source '%s' yields %d array%s, but the model takes %d (%s)", sp.kind, nsrc,
                 nsrc == 1 ? "" : "s", ndest, names);
}
fail:
    spec_free(c, &sp);
    rt_data_free(c, d);
    return -1;
}

/* predict's data: the inputs, and a target the outputs are computed from (a conditional GAN's
 * label: the descriptor's `conditions`), read from PATH as --data reads a data set (x.npy,y.npy;
 * a CSV with its label column). */
int rt_data_load_predict(RtCtx *c, const char *path, RtData *d) {
    const RtTensor *cond = NULL;
    for (int i = 0; i < c->desc.nt && !cond; i++)
        if (c->desc.t[i].role == RT_TARGET && c->desc.t[i].conditions) cond = &c->desc.t[i];
    if (!cond) return rt_data_load_inputs(c, path, d);
    if (rt_data_load(c, path, RT_SPLIT_TEST, true, 0, d)) {
        fprintf(stderr, "%s: note: the model's outputs are computed from target '%s' too (it conditions them), so "
                "predict reads it beside the inputs, as training does: 'x.npy,y.npy', or a CSV with its label column\n",
                c->prog, cond->name);
        return -1;
    }
    return 0;
}

int rt_data_load_inputs(RtCtx *c, const char *path, RtData *d) {
    memset(d, 0, sizeof *d);
    int in = rt_first(&c->desc, RT_INPUT);
    if (in < 0) return rt_error(c, "the model has no input tensor");
    int ninputs = 0;
    for (int i = 0; i < c->desc.nt; i++) ninputs += c->desc.t[i].role == RT_INPUT;
    if (ninputs != 1) return rt_error(c, "predict reads one input file, but the model has %d inputs", ninputs);
    char p[PATH_MAX], src[PATH_MAX];
    if (rt_resolve(c, path, p, sizeof p)) return -1;
    if (is_dir(p)) return rt_error(c, "predict's input '%s' is a directory: pass a .csv, .npy or IDX[.gz] file", path);
    if (ends_with(path, ".txt"))
        return rt_error(c, "predict reads .csv, .npy or IDX[.gz] files, not text ('%s'): a model trained on text "
                           "continues a prompt with `generate --prompt TEXT`, and `eval FILE.txt` gives its loss", path);
    Dest dst = {&c->desc.t[in], &d->col[0], src, sizeof src};
    d->ncol = 1;
    int64_t n = 0;
    int r;
    if (ends_with(path, ".csv")) {
        Spec sp = {.buf = NULL};
        const char *label = "";
        if (c->desc.data[0] && !parse_spec(c, c->desc.data, &sp) && !strcmp(sp.kind, "csv")) label = sp.label;
        r = load_csv(c, p, label, false, true, 0, &dst, NULL, d, &n);
        spec_free(c, &sp);
    } else if (ends_with(path, ".npy")) {
        r = load_npy(c, p, 0, &dst, &n);
    } else {
        r = load_idx(c, p, 0, &dst, &n);
    }
    if (r) { d->ncol = 0; return -1; }
    d->n = n;
    if (n <= 0) { rt_data_free(c, d); return rt_error(c, "'%s' holds no samples", path); }
    return 0;
}
