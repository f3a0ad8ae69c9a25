/* conv.c - convolution for generated code: forward, backward-data and
 * backward-filter, channels-last (nnc_abi.h states the layout and the geometry
 * array; docs/backend-llvm.md "Convolution").
 *
 * im2col + SGEMM: a block of CHUNK images is unrolled into col [rows, KH*KW*C]
 * (rows = images * OH*OW, a row holds each group's KH*KW*C/G taps with the
 * channels innermost, zeros where a tap falls in the padding), so that with the
 * HWIO weights seen as [KH*KW*C/G, F] each group is one GEMM writing its F/G
 * columns of the NHWC output directly: forward          y[rows, F/G]      =
 * col[rows, K] w[K, F/G] backward-data    col[rows, K]      = dy[rows, F/G]
 * w^T, then col2im adds col back into dx backward-filter  dw[K, F/G]       +=
 * col^T dy[rows, F/G]   (summed over the chunks) The compiler sizes col at plan
 * time (a workspace temporary), so no step allocates. A 1x1 convolution with
 * stride 1 and no padding is its own im2col (CHUNK = 0: x is col). Depthwise
 * convolutions (C/G = 1) run as direct loops instead: per group the GEMM would
 * be a [rows, KH*KW] by [KH*KW, F/G] product, too thin for BLAS. With a pool
 * of more than one thread the im2col path runs in per-thread slices (`sliced`
 * below); otherwise OpenBLAS threads the GEMMs as for every matmul, and im2col,
 * col2im and the depthwise loops run on the runtime's pool, as the elementwise
 * loops do.
 */
#include <cblas.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "conv_dnnl.h"
#include "nnc_abi.h"

/* forward epilogues the library call ran (nnc_conv_forward_ep returned 1): tests read it */
_Atomic int64_t nnc_conv_epi_fused;

typedef struct Geo {
    int64_t N, H, W, C, OH, OW, F, KH, KW, G, sh, sw, dh, dw, ph, pw, chunk;
    int64_t Cg, Fg, K, Kt; /* per group: input, output channels, taps; taps of all groups */
} Geo;

static Geo geo_of(const int64_t *g) {
    Geo e = {g[NNC_CONV_N],
             g[NNC_CONV_H],
             g[NNC_CONV_W],
             g[NNC_CONV_C],
             g[NNC_CONV_OH],
             g[NNC_CONV_OW],
             g[NNC_CONV_F],
             g[NNC_CONV_KH],
             g[NNC_CONV_KW],
             g[NNC_CONV_G],
             g[NNC_CONV_SH],
             g[NNC_CONV_SW],
             g[NNC_CONV_DH],
             g[NNC_CONV_DW],
             g[NNC_CONV_PH],
             g[NNC_CONV_PW],
             g[NNC_CONV_CHUNK],
             0,
             0,
             0,
             0};
    e.Cg = e.C / e.G;
    e.Fg = e.F / e.G;
    e.K = e.KH * e.KW * e.Cg;
    e.Kt = e.K * e.G;
    return e;
}

/* n floats: dst = src, dst += src, or dst = 0 (src NULL). Loops, not memcpy:
 * the runs are short (C floats, or KW*C), and a call per run cost more than the
 * copy. */
static inline void run(float *restrict dst, const float *restrict src, int64_t n, int add) {
    if (!src) {
        if (!add)
            for (int64_t i = 0; i < n; i++)
                dst[i] = 0;
    } else if (add) {
        for (int64_t i = 0; i < n; i++)
            dst[i] += src[i];
    } else {
        for (int64_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/* im2col, or col2im when add, for images [n0, n0 + nb): x [N,H,W,C] <-> col
 * [nb*OH*OW, Kt]. With one group a row holds (kh, kw, c) with c innermost, so
 * for each kh the KW taps of an output place are one run of KW*C floats of x
 * when the dilation is 1 and the taps lie inside the row. */
static void im2col_rows(const Geo *e, float *x, float *col, int64_t n0, int64_t lo, int64_t hi, int add) {
    /* the geometry in locals: stores through float pointers do not make the
     * compiler reload them */
    const int64_t C = e->C, Cg = e->Cg, KW = e->KW, KH = e->KH, H = e->H, W = e->W, OH = e->OH, OW = e->OW;
    const int64_t sh = e->sh, sw = e->sw, dh = e->dh, dw = e->dw, ph = e->ph, pw = e->pw, G = e->G;
    const int64_t K = e->K, Kt = e->Kt;
    for (int64_t u = lo; u < hi; u++) { /* u = (image - n0) * OH + oh */
        int64_t n = n0 + u / OH, oh = u % OH;
        for (int64_t ow = 0; ow < OW; ow++) {
            float *row = col + (u * OW + ow) * Kt;
            int64_t iw0 = ow * sw - pw;
            for (int64_t kh = 0; kh < KH; kh++) {
                int64_t ih = oh * sh + kh * dh - ph;
                float *xr = ih >= 0 && ih < H ? x + (n * H + ih) * W * C : NULL;
                if (G == 1) {
                    float *c = row + kh * KW * C;
                    if (!xr) {
                        run(c, NULL, KW * C, add);
                    } else if (dw == 1 && iw0 >= 0 && iw0 + KW <= W) {
                        if (add)
                            run(xr + iw0 * C, c, KW * C, 1);
                        else
                            run(c, xr + iw0 * C, KW * C, 0);
                    } else {
                        for (int64_t kw = 0; kw < KW; kw++) {
                            int64_t iw = iw0 + kw * dw;
                            bool in = iw >= 0 && iw < W;
                            if (add && in)
                                run(xr + iw * C, c + kw * C, C, 1);
                            else if (!add)
                                run(c + kw * C, in ? xr + iw * C : NULL, C, 0);
                        }
                    }
                    continue;
                }
                for (int64_t kw = 0; kw < KW; kw++) { /* groups: (g, kh, kw, c) */
                    int64_t iw = iw0 + kw * dw;
                    bool in = xr && iw >= 0 && iw < W;
                    for (int64_t gr = 0; gr < G; gr++) {
                        float *c = row + gr * K + (kh * KW + kw) * Cg;
                        if (add && in)
                            run(xr + iw * C + gr * Cg, c, Cg, 1);
                        else if (!add)
                            run(c, in ? xr + iw * C + gr * Cg : NULL, Cg, 0);
                    }
                }
            }
        }
    }
}

/* im2col (col2im when add) of images [n0, n0 + nb) on the pool: im2col by
 * output rows; col2im by images, whose rows add into overlapping places of x
 * only within one image. */
typedef struct ColJob {
    const Geo *e;
    float *x, *col;
    int64_t n0;
    int add;
} ColJob;
static void col_chunk(void *ctx, int64_t lo, int64_t hi) {
    const ColJob *j = ctx;
    int64_t per = j->add ? j->e->OH : 1; /* units: images (col2im) or rows (im2col) */
    im2col_rows(j->e, j->x, j->col, j->n0, lo * per, hi * per, j->add);
}
static void im2col(const Geo *e, float *x, float *col, int64_t n0, int64_t nb, int add, NncPool *pool) {
    ColJob j = {e, x, col, n0, add};
    nnc_parallel_for(pool, add ? nb : nb * e->OH, col_chunk, &j);
}

/* Depthwise (C/G = 1, F = G * mult): the three ops as direct loops over output
 * places and taps. */
typedef enum { DW_FWD, DW_DATA, DW_FILTER } DwOp;
static void depthwise_rows(const Geo *e, DwOp op, const float *a, const float *b, float *out, int64_t lo,
                           int64_t hi) {
    const int64_t mult = e->Fg, F = e->F, C = e->C, H = e->H, W = e->W, OH = e->OH, OW = e->OW;
    const int64_t KH = e->KH, KW = e->KW, sh = e->sh, sw = e->sw, dh = e->dh, dw = e->dw, ph = e->ph,
                  pw = e->pw;
    for (int64_t u = lo; u < hi; u++) { /* u = n * OH + oh */
        int64_t n = u / OH, oh = u % OH;
        for (int64_t kh = 0; kh < KH; kh++) {
            int64_t ih = oh * sh + kh * dh - ph;
            if (ih < 0 || ih >= H)
                continue;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t yo = ((n * OH + oh) * OW + ow) * F;
                for (int64_t kw = 0; kw < KW; kw++) {
                    int64_t iw = ow * sw + kw * dw - pw;
                    if (iw < 0 || iw >= W)
                        continue;
                    int64_t xo = ((n * H + ih) * W + iw) * C, wo = (kh * KW + kw) * F;
                    if (op == DW_FWD) { /* a = x, b = w, out = y */
                        const float *restrict xr = a + xo, *restrict wr = b + wo;
                        float *restrict yr = out + yo;
                        if (mult == 1)
                            for (int64_t f = 0; f < F; f++)
                                yr[f] += xr[f] * wr[f];
                        else
                            for (int64_t f = 0; f < F; f++)
                                yr[f] += xr[f / mult] * wr[f];
                    } else if (op == DW_DATA) { /* a = dy, b = w, out = dx */
                        const float *restrict dyr = a + yo, *restrict wr = b + wo;
                        float *restrict dxr = out + xo;
                        if (mult == 1)
                            for (int64_t f = 0; f < F; f++)
                                dxr[f] += dyr[f] * wr[f];
                        else
                            for (int64_t f = 0; f < F; f++)
                                dxr[f / mult] += dyr[f] * wr[f];
                    } else { /* a = x, b = dy, out = dw */
                        const float *restrict xr = a + xo, *restrict dyr = b + yo;
                        float *restrict dwr = out + wo;
                        if (mult == 1)
                            for (int64_t f = 0; f < F; f++)
                                dwr[f] += xr[f] * dyr[f];
                        else
                            for (int64_t f = 0; f < F; f++)
                                dwr[f] += xr[f / mult] * dyr[f];
                    }
                }
            }
        }
    }
}

/* On the pool: forward by output rows (each writes its own row of y),
 * backward-data by images (rows of one image add into overlapping places of
 * dx); backward-filter sums every place into the one dw and stays on the
 * calling thread. */
typedef struct DwJob {
    const Geo *e;
    DwOp op;
    const float *a, *b;
    float *out;
} DwJob;
static void dw_chunk(void *ctx, int64_t lo, int64_t hi) {
    const DwJob *j = ctx;
    int64_t per = j->op == DW_DATA ? j->e->OH : 1;
    depthwise_rows(j->e, j->op, j->a, j->b, j->out, lo * per, hi * per);
}
static void depthwise(const Geo *e, DwOp op, const float *a, const float *b, float *out, NncPool *pool) {
    DwJob j = {e, op, a, b, out};
    if (op == DW_FILTER)
        depthwise_rows(e, op, a, b, out, 0, e->N * e->OH);
    else
        nnc_parallel_for(pool, op == DW_DATA ? e->N : e->N * e->OH, dw_chunk, &j);
}

static int depthwise_geo(const Geo *e) { return e->Cg == 1 && e->G > 1; }

typedef enum { OP_FWD, OP_DATA, OP_FILTER } ConvOp;

/* op on images [n_lo, n_hi) in blocks of `sub`: im2col into col (CHUNK 0: x
 * is col), each group's GEMM, col2im; im2col, col2im and the GEMMs (nnc_sgemm)
 * on the pool (NULL: on this thread). a, b, out: fwd x, w, y; data dy, w, dx; filter x, dy, dw
 * (summed into). */
static void blocks(const Geo *e, ConvOp op, const float *a, const float *b, float *out, float *col,
                   int64_t n_lo, int64_t n_hi, int64_t sub, NncPool *pool) {
    int64_t P = e->OH * e->OW, HWC = e->H * e->W * e->C;
    for (int64_t n0 = n_lo; n0 < n_hi; n0 += sub) {
        int64_t nb = n_hi - n0 < sub ? n_hi - n0 : sub, rows = nb * P;
        const float *x = op == OP_DATA ? NULL : a + n0 * HWC;
        if (op != OP_DATA && e->chunk > 0) {
            im2col(e, (float *)a, col, n0, nb, 0, pool);
            x = col;
        }
        float *c = op != OP_DATA ? NULL : e->chunk > 0 ? col : out + n0 * HWC;
        for (int64_t gr = 0; gr < e->G; gr++) {
            if (op == OP_FWD)
                nnc_sgemm(0, 0, (int)rows, (int)e->Fg, (int)e->K, x + gr * e->K, (int)e->Kt, b + gr * e->Fg,
                          (int)e->F, 0.0f, out + n0 * P * e->F + gr * e->Fg, (int)e->F, pool);
            else if (op == OP_DATA)
                nnc_sgemm(0, 1, (int)rows, (int)e->K, (int)e->Fg, a + n0 * P * e->F + gr * e->Fg, (int)e->F,
                          b + gr * e->Fg, (int)e->F, 0.0f, c + gr * e->K, (int)e->Kt, pool);
            else
                nnc_sgemm(1, 0, (int)e->K, (int)e->Fg, (int)rows, x + gr * e->K, (int)e->Kt,
                          b + n0 * P * e->F + gr * e->Fg, (int)e->F, 1.0f, out + gr * e->Fg, (int)e->F, pool);
        }
        if (op == OP_DATA && e->chunk > 0)
            im2col(e, out, col, n0, nb, 1, pool);
    }
}

/* Per-thread slices: with a pool of T > 1 threads, images [N*t/T, N*(t+1)/T)
 * go to thread t, which runs im2col, its own single-threaded GEMMs and col2im
 * on them in blocks of `sub` images, in its own slice of the scratch. No thread
 * waits for another between im2col and GEMM (OpenBLAS's threads yielded ~17%
 * of the CPU in sched_yield at 2 threads), a slice of col stays in the core's
 * cache between im2col and its GEMM, and the im2col and col2im loops run on
 * both threads. OpenBLAS is set to 1 thread for the call: the two threads'
 * GEMMs run concurrently, as single-threaded BLAS under an OpenMP loop does.
 * backward-filter: thread t > 0 sums into its own [K, F] accumulator, carved
 * from the end of the scratch, added into dw in thread order afterwards (the
 * sums' order depends on T, as OpenBLAS's own threading does). */
#define SLICE_BYTES ((int64_t)1 << 20) /* the im2col block of one GEMM, at least one image */

typedef struct SliceJob {
    const Geo *e;
    ConvOp op;
    const float *a, *b; /* fwd: x, w; data: dy, w; filter: x, dy */
    float *out;         /* y, dx or dw */
    float *col, *acc;   /* T slices of sub images; filter: T - 1 accumulators [K, F] */
    int64_t T, sub;
} SliceJob;

static void slice_run(void *ctx, int64_t lo, int64_t hi) {
    const SliceJob *j = ctx;
    const Geo *e = j->e;
    int64_t P = e->OH * e->OW, HWC = e->H * e->W * e->C;
    for (int64_t t = lo; t < hi; t++) {
        int64_t n_lo = e->N * t / j->T, n_hi = e->N * (t + 1) / j->T;
        float *col = j->col + t * j->sub * P * e->Kt;
        float *out = j->op == OP_FILTER && t > 0 ? j->acc + (t - 1) * e->K * e->F : j->out;
        if (j->op == OP_DATA)
            memset(out + n_lo * HWC, 0, sizeof(float) * (size_t)((n_hi - n_lo) * HWC));
        else if (j->op == OP_FILTER)
            memset(out, 0, sizeof(float) * (size_t)(e->K * e->F));
        blocks(e, j->op, j->a, j->b, out, col, n_lo, n_hi, j->sub, NULL);
    }
}

/* Runs op in per-thread slices; false (nothing done) when there is no pool to
 * split across or the scratch holds no slice per thread. */
static bool sliced(const Geo *e, ConvOp op, const float *a, const float *b, float *out, float *col,
                   NncPool *pool) {
    int64_t T = nnc_pool_threads(pool), P = e->OH * e->OW;
    if (e->chunk <= 0 || T < 2 || e->N < 2)
        return false;
    if (T > e->N)
        T = e->N;
    int64_t avail = e->chunk * P * e->Kt - (op == OP_FILTER ? (T - 1) * e->K * e->F : 0);
    int64_t sub = avail / (T * P * e->Kt), cap = SLICE_BYTES / (4 * P * e->Kt);
    if (sub > (cap < 1 ? 1 : cap))
        sub = cap < 1 ? 1 : cap;
    if (sub < 1)
        return false;
    SliceJob j = {e, op, a, b, out, col, col + T * sub * P * e->Kt, T, sub};
    nnc_parallel_blas(pool, T, slice_run, &j);
    if (op == OP_FILTER)
        for (int64_t t = 1; t < T; t++) {
            const float *restrict acc = j.acc + (t - 1) * e->K * e->F;
            for (int64_t i = 0; i < e->K * e->F; i++)
                out[i] += acc[i];
        }
    return true;
}

/* the floats of the scratch (0: none) */
static int64_t col_floats(const Geo *e) { return e->chunk > 0 ? e->chunk * e->OH * e->OW * e->Kt : 0; }

/* the images of one GEMM block: all of them without im2col, else CHUNK */
static int64_t block(const Geo *e) { return e->chunk > 0 ? e->chunk : e->N; }

void nnc_conv_forward(const float *x, const float *w, float *y, float *col, const int64_t *geo,
                      NncPool *pool) {
    Geo e = geo_of(geo);
    int64_t P = e.OH * e.OW;
    if (nnc_conv_dnnl(NNC_CONV_OP_FWD, geo, x, w, y, col, col_floats(&e), NULL, pool))
        return;
    if (depthwise_geo(&e)) {
        memset(y, 0, sizeof(float) * (size_t)(e.N * P * e.F));
        depthwise(&e, DW_FWD, x, w, y, pool);
        return;
    }
    if (sliced(&e, OP_FWD, x, w, y, col, pool))
        return;
    blocks(&e, OP_FWD, x, w, y, col, 0, e.N, block(&e), pool);
}

int32_t nnc_conv_forward_ep(const float *x, const float *w, float *y, float *col, const int64_t *geo,
                            const float *scale, const float *shift, int32_t act, float alpha, NncPool *pool) {
    Geo e = geo_of(geo);
    NncConvEpi ep = {scale, shift, act, alpha};
    if (act >= 0 && act < NNC_ACT__COUNT &&
        nnc_conv_dnnl(NNC_CONV_OP_FWD, geo, x, w, y, col, col_floats(&e), &ep, pool)) {
        atomic_fetch_add_explicit(&nnc_conv_epi_fused, 1, memory_order_relaxed);
        return 1;
    }
    nnc_conv_forward(x, w, y, col, geo, pool);
    return 0;
}

void nnc_conv_backward_data(const float *dy, const float *w, float *dx, float *col, const int64_t *geo,
                            NncPool *pool) {
    Geo e = geo_of(geo);
    if (nnc_conv_dnnl(NNC_CONV_OP_DATA, geo, dy, w, dx, col, col_floats(&e), NULL, pool))
        return;
    if (!depthwise_geo(&e) && sliced(&e, OP_DATA, dy, w, dx, col, pool))
        return;
    if (e.chunk > 0 || depthwise_geo(&e))
        memset(dx, 0, sizeof(float) * (size_t)(e.N * e.H * e.W * e.C));
    if (depthwise_geo(&e)) {
        depthwise(&e, DW_DATA, dy, w, dx, pool);
        return;
    }
    blocks(&e, OP_DATA, dy, w, dx, col, 0, e.N, block(&e), pool);
}

void nnc_conv_backward_filter(const float *x, const float *dy, float *dw, float *col, const int64_t *geo,
                              NncPool *pool) {
    Geo e = geo_of(geo);
    if (nnc_conv_dnnl(NNC_CONV_OP_FILTER, geo, x, dy, dw, col, col_floats(&e), NULL, pool))
        return;
    if (!depthwise_geo(&e) && sliced(&e, OP_FILTER, x, dy, dw, col, pool))
        return;
    memset(dw, 0, sizeof(float) * (size_t)(e.KH * e.KW * e.Cg * e.F));
    if (depthwise_geo(&e)) {
        depthwise(&e, DW_FILTER, x, dy, dw, pool);
        return;
    }
    blocks(&e, OP_FILTER, x, dy, dw, col, 0, e.N, block(&e), pool);
}
