/* png.c - pictures a person can open: `predict INPUT -o out.png` and `sample -o grid.png`, written as
 * a PNG grid through libpng's simplified write API (png_image_write_to_stdio).
 *
 * Which tensor is a picture (docs/cli.md "Pictures"): a per-sample tensor shaped [B, H, W] (grey),
 * [B, H, W, 1] (grey) or [B, H, W, 3] (RGB); or a flat [B, N] whose N equals the number of values
 * of the model's image-shaped input (a 784-value generator output beside an f32[B, 28, 28] input
 * is a 28x28 picture). Values in [0, 1] become 0..255 (round(255 v), clipped); a picture set (all
 * the outputs; all the inputs) with any value below 0 is taken as [-1, 1] (a tanh output):
 * (v + 1) / 2 first.
 *
 * Layout: tiles of H x W on a mid-grey (128) background, GAP pixels between tiles and around the
 * grid, ceil(sqrt(n)) cells a row. predict pictures the first output of image shape; when it has
 * the input's image shape (an autoencoder's reconstruction) each cell is the input with its
 * output right beside it (no gap between the two).
 *
 * sample runs the model's forward pass once at batch N on all-zero inputs, with the call's seed
 * from --seed, and pictures the output named `sample`: a generator fed by rand_normal, or a
 * decoder applied to rand_normal(...) beside the training path. The same seed gives the same
 * picture; the zero inputs only give the random nodes their shapes.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt.h"

#define GAP 2
#define BACKGROUND 128
#define SEED_SAMPLE 0x53414d504c45ull   /* "SAMPLE": NncArgs.seed of `sample` */
#define MAX_PICTURES 4096

typedef struct Img { int64_t h, w, ch; } Img;

static bool per_sample(const RtTensor *t) { return t->rank >= 1 && t->dim[0] == RT_DIM_B; }

/* A tensor's own picture shape: [B, H, W], [B, H, W, 1|3]. */
static bool own_shape(const RtTensor *t, Img *s) {
    if (!per_sample(t) || t->dtype != RT_F32) return false;
    if (t->rank == 3) { *s = (Img){t->dim[1], t->dim[2], 1}; return true; }
    if (t->rank == 4 && (t->dim[3] == 1 || t->dim[3] == 3)) { *s = (Img){t->dim[1], t->dim[2], t->dim[3]}; return true; }
    return false;
}

/* The first input of picture shape (or -1). */
static int image_input(const RtDesc *d, Img *s) {
    for (int i = 0; i < d->nt; i++)
        if (d->t[i].role == RT_INPUT && own_shape(&d->t[i], s)) return i;
    return -1;
}

/* A tensor's picture shape: its own, or a flat [B, N] with N the image input's size. */
static bool image_shape(const RtDesc *d, const RtTensor *t, Img *s) {
    if (own_shape(t, s)) return true;
    Img in;
    if (t->dtype != RT_F32 || t->rank != 2 || !per_sample(t) || image_input(d, &in) < 0) return false;
    if (t->dim[1] != in.h * in.w * in.ch) return false;
    *s = in;
    return true;
}

static bool own_png(RtCtx *c, FILE *f) {
    (void)c;
    uint8_t sig[8];
    return fread(sig, 1, 8, f) == 8 && !png_sig_cmp(sig, 0, 8);
}

static RtOutput png_output(bool force) {
    return (RtOutput){"-o", "write the picture", "a PNG file", "a PNG file", own_png, force, false, false};
}

static uint8_t to_byte(float v, bool signed_range) {
    if (signed_range) v = (v + 1.0f) * 0.5f;
    if (!(v > 0.0f)) return 0;      /* NaN too */
    if (v >= 1.0f) return 255;
    return (uint8_t)lrintf(v * 255.0f);
}

/* Writes n pictures (each s.h*s.w*s.ch floats of a; of b beside each when b != NULL) as a grid. */
static int write_grid(RtCtx *c, const char *path, bool force, Img s, int64_t n, const float *a, const float *b) {
    int64_t per = s.h * s.w * s.ch, tiles = b ? 2 : 1;
    int64_t cols = (int64_t)ceil(sqrt((double)n));
    if (cols * cols < n) cols++;
    while (cols > 1 && (cols - 1) * (cols - 1) >= n) cols--;
    int64_t rows = (n + cols - 1) / cols;
    int64_t cw = s.w * tiles, W = cols * cw + (cols + 1) * GAP, H = rows * s.h + (rows + 1) * GAP;
    if (W > 1000000 || H > 1000000 || W * H * s.ch > ((int64_t)1 << 31))
        return rt_error(c, "a %lld x %lld picture is too large for '%s' (use --n to picture fewer)", (long long)W,
                        (long long)H, path);
    bool sg[2] = {false, false};    /* the inputs and the outputs judged apart */
    for (int64_t i = 0; i < n * per; i++) {
        sg[0] |= a[i] < 0.0f;
        sg[1] |= b && b[i] < 0.0f;
    }
    uint8_t *pix = rt_alloc(c, (size_t)(W * H * s.ch));
    if (!pix) return -1;
    memset(pix, BACKGROUND, (size_t)(W * H * s.ch));
    for (int64_t k = 0; k < n; k++) {
        int64_t x0 = GAP + (k % cols) * (cw + GAP), y0 = GAP + (k / cols) * (s.h + GAP);
        for (int64_t t = 0; t < tiles; t++) {
            const float *src = (t ? b : a) + k * per;
            for (int64_t y = 0; y < s.h; y++)
                for (int64_t x = 0; x < s.w; x++)
                    for (int64_t ch = 0; ch < s.ch; ch++)
                        pix[((y0 + y) * W + x0 + t * s.w + x) * s.ch + ch] = to_byte(src[(y * s.w + x) * s.ch + ch], sg[t]);
        }
    }
    int rc = -1;
    char *tmp = NULL;
    FILE *f = rt_tmp_open(c, path, &tmp, "write the picture", "");
    if (!f) goto done;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)W;
    img.height = (png_uint_32)H;
    img.format = s.ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_write_to_stdio(&img, f, 0, pix, 0, NULL)) {
        rt_error(c, "cannot write '%s': libpng: %s", path, img.message);
        png_image_free(&img);
        goto done;
    }
    if (fflush(f) || ferror(f) || fsync(fileno(f))) {
        rt_error(c, "cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    FILE *g = f;
    f = NULL;
    if (fclose(g)) { rt_error(c, "cannot write '%s': %s", path, strerror(errno)); goto done; }
    if (rt_tmp_rename(tmp, path)) { rt_error(c, "cannot write '%s': rename failed: %s", path, strerror(errno)); goto done; }
    rt_free(c, tmp);
    tmp = NULL;
    printf("wrote %s: %lld picture%s%s, %lld x %lld pixels\n", path, (long long)n, n == 1 ? "" : "s",
           b ? " beside their inputs" : "", (long long)W, (long long)H);
    rc = 0;
done:
    if (f) fclose(f);
    if (tmp) { rt_tmp_release(tmp); rt_free(c, tmp); }
    rt_free(c, pix);
    return rc;
}

/* ---- one forward call at batch B: buffers of every batched tensor ---- */

typedef struct Call { void **bufs; void *ws; float *losses; } Call;

static void call_free(RtCtx *c, Call *k) {
    for (int i = 0; k->bufs && i < c->desc.nt; i++)
        if (k->bufs[i] && k->bufs[i] != c->bufs[i]) rt_free(c, k->bufs[i]);
    rt_free(c, k->bufs);
    rt_free(c, k->ws);
    rt_free(c, k->losses);
    memset(k, 0, sizeof *k);
}

static int call_new(RtCtx *c, int64_t B, Call *k) {
    memset(k, 0, sizeof *k);
    const RtDesc *d = &c->desc;
    if (!(k->bufs = rt_calloc(c, sizeof(void *) * (size_t)d->nt))) return -1;
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if (t->role == RT_PARAM || t->role == RT_STATE) { k->bufs[i] = c->bufs[i]; continue; }
        if (!(k->bufs[i] = rt_calloc(c, (size_t)rt_numel(t, B) * rt_dsize(t->dtype) + 64))) goto fail;
    }
    int64_t ws = c->def->workspace_size ? c->def->workspace_size(B) : 0;
    if (ws < 0) { rt_error(c, "the model's workspace size is negative"); goto fail; }
    /* 64-byte aligned: aligned_alloc through the hook is not available, so over-allocate */
    void *raw = rt_calloc(c, (size_t)ws + 64);
    if (!raw) goto fail;
    k->ws = raw;
    if (!(k->losses = rt_calloc(c, sizeof(float) * (size_t)(d->nloss + 1)))) goto fail;
    return 0;
fail:
    call_free(c, k);
    return -1;
}

static NncArgs call_args(RtCtx *c, Call *k, int64_t B, uint64_t seed) {
    NncArgs a;
    memset(&a, 0, sizeof a);
    a.B = B;
    a.bufs = k->bufs;
    a.workspace = (void *)(((uintptr_t)k->ws + 63) & ~(uintptr_t)63);
    a.losses = k->losses;
    a.pool = c->pool;
    a.user = c->def->user;
    a.seed = seed;
    a.step = c->step;
    return a;
}

/* ---- sample ---- */

int rt_sample(RtCtx *c, const RtOpts *o) {
    const RtDesc *d = &c->desc;
    if (!c->def->forward) return rt_error(c, "the model has no forward entry point");
    int si = -1;
    for (int i = 0; i < d->nt; i++)
        if (d->t[i].role == RT_OUTPUT && !strcmp(d->t[i].name, "sample")) si = i;
    if (si < 0)
        return rt_error(c, "sample pictures the model's output named 'sample' (a generator's or decoder's output "
                           "on rand_normal noise), and '%s' has none", d->name);
    Img s;
    if (!image_shape(d, &d->t[si], &s)) {
        char sh[256];
        rt_shape_str(&d->t[si], sh, sizeof sh);
        return rt_error(c, "output 'sample' is %s, not a picture (f32[B, H, W], f32[B, H, W, 1 or 3], or f32[B, N] "
                           "with N the values of an image input)", sh);
    }
    if (!o->out || !o->out[0]) return rt_error(c, "sample needs -o FILE.png");
    size_t ol = strlen(o->out);
    if (ol < 4 || strcmp(o->out + ol - 4, ".png"))
        return rt_error(c, "sample writes a PNG picture: -o '%s' should end in .png", o->out);
    RtOutput po = png_output(o->force);
    if (rt_output_check(c, o->out, &po)) return -1;
    if (o->weights && rt_load(c, o->weights, false, false)) return -1;
    if (rt_output_check(c, o->out, &po)) return -1;
    int64_t n = o->n > 0 ? o->n : 64;
    if (n > MAX_PICTURES) return rt_error(c, "--n %lld: sample pictures at most %d", (long long)n, MAX_PICTURES);
    for (int i = 0; i < d->nt; i++)
        if (d->t[i].role == RT_TARGET && d->t[i].conditions)
            fprintf(stderr, "%s: note: target '%s' conditions the outputs, and sample draws every picture with it 0; "
                    "predict INPUT -o FILE.png reads it beside the inputs (x.npy,y.npy) to draw chosen ones\n",
                    c->prog, d->t[i].name);
    Call k;
    if (call_new(c, n, &k)) return -1;
    NncArgs a = call_args(c, &k, n, rt_mix64(c->seed ^ SEED_SAMPLE));
    c->def->forward(&a);
    int rc = write_grid(c, o->out, o->force, s, n, k.bufs[si], NULL);
    call_free(c, &k);
    return rc;
}

/* ---- predict -o FILE.png ---- */

int rt_predict_png(RtCtx *c, const RtOpts *o) {
    const RtDesc *d = &c->desc;
    if (!c->def->forward) return rt_error(c, "the model has no forward entry point");
    int oi = -1;
    Img s = {0};
    for (int i = 0; i < d->nt && oi < 0; i++)
        if (d->t[i].role == RT_OUTPUT && image_shape(d, &d->t[i], &s)) oi = i;
    if (oi < 0)
        return rt_error(c, "-o %s: the model has no output of picture shape (f32[B, H, W], f32[B, H, W, 1 or 3], "
                           "or f32[B, N] with N the values of an image input)", o->out);
    RtOutput po = png_output(o->force);
    if (rt_output_check(c, o->out, &po)) return -1;
    if (o->weights && rt_load(c, o->weights, false, false)) return -1;
    RtData data;
    if (rt_data_load_predict(c, o->input, &data)) return -1;
    int rc = -1;
    float *pa = NULL, *xa = NULL;
    Call k = {0};
    if (rt_output_check(c, o->out, &po)) goto done;
    int in = rt_first(d, RT_INPUT);
    Img si;
    bool beside = image_input(d, &si) == in && si.h == s.h && si.w == s.w && si.ch == s.ch;
    int64_t n = o->n > 0 && o->n < data.n ? o->n : data.n;
    if (n > MAX_PICTURES) {
        rt_error(c, "'%s' holds %lld inputs: a picture of at most %d (pass --n N to picture the first N)", o->input,
                 (long long)data.n, MAX_PICTURES);
        goto done;
    }
    if (d->t[in].dtype != RT_F32) { rt_error(c, "-o FILE.png needs an f32 input"); goto done; }
    int64_t per_in = rt_numel(&d->t[in], 1), per = s.h * s.w * s.ch;
    /* the inputs (as the model sees them) and the outputs of all n, run in batches */
    if (!(xa = rt_alloc(c, sizeof(float) * (size_t)(n * per_in))) || !(pa = rt_alloc(c, sizeof(float) * (size_t)(n * per))))
        goto done;
    const RtColumn *col = &data.col[0];
    for (int64_t j = 0; j < n * per_in; j++)
        xa[j] = col->u8 ? (float)((const uint8_t *)col->data)[j] / col->div : ((const float *)col->data)[j];
    int64_t batch = o->batch > 0 ? o->batch : 256;
    if (batch > n) batch = n;
    if (call_new(c, batch, &k)) goto done;
    for (int64_t at = 0; at < n; at += batch) {
        int64_t B = n - at < batch ? n - at : batch;
        memcpy(k.bufs[in], xa + at * per_in, sizeof(float) * (size_t)(B * per_in));
        NncArgs a = call_args(c, &k, B, c->seed);
        c->def->forward(&a);
        memcpy(pa + at * per, k.bufs[oi], sizeof(float) * (size_t)(B * per));
    }
    rc = beside ? write_grid(c, o->out, o->force, s, n, xa, pa) : write_grid(c, o->out, o->force, s, n, pa, NULL);
done:
    call_free(c, &k);
    rt_free(c, pa);
    rt_free(c, xa);
    rt_data_free(c, &data);
    return rc;
}
