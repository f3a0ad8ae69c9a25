/* fake_cudnn.c - libcudnn.so.9 for tests/cuda/emu: the cuDNN calls runtime/cuda_dnn.c makes, on
 * host memory, so the emulated run checks its descriptors, layouts and the filter's transforms.
 * Tensors are 4-D with any strides (cudnnTransformTensor copies between any two of the same
 * dims); a convolution takes NHWC-packed activations and an NHWC (KRSC) filter, cross-correlation,
 * f32, groups, padding, stride and dilation, and computes from the descriptors alone (a wrong
 * dimension, stride or layout gives wrong numbers or CUDNN_STATUS_BAD_PARAM / NOT_SUPPORTED).
 * The sums run in the order of the generated direct kernels (compiler/backend/cuda/cuda.c:
 * forward and data gradient in f32 over kh, kw, then channels; the filter gradient in double over
 * n, oh, ow), so the emulated cuDNN run equals the direct kernels' bit for bit. The heuristic
 * offers an unsupported algorithm first (the runtime must skip it), then algorithm 1, which needs
 * a 1 KiB workspace (it must be passed). Each convolution and transform runs on the handle's stream
 * through the fake driver (fake_enqueue.h): a CUDA graph's capture records it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_enqueue.h"

enum { OK = 0, BAD_PARAM = 2000, NOT_SUPPORTED = 3000, WS = 1024 };
typedef struct T { int n, c, h, w, sn, sc, sh, sw; } T;
typedef struct Fd { int k, c, h, w, fmt; } Fd;
typedef struct Cd { int ph, pw, u, v, dh, dw, mode, groups; } Cd;
typedef struct Perf { int algo, status; float time; size_t memory; int determinism, math, reserved[3]; } Perf;

static void *stream;
size_t cudnnGetVersion(void) { return 90000; }
const char *cudnnGetErrorString(int s) {
    return s == OK ? "CUDNN_STATUS_SUCCESS" : s == BAD_PARAM ? "CUDNN_STATUS_BAD_PARAM" : "CUDNN_STATUS_NOT_SUPPORTED";
}
int cudnnCreate(void **h) { *h = (void *)3; return OK; }
int cudnnSetStream(void *h, void *s) { (void)h; stream = s; return s ? OK : BAD_PARAM; }
int cudnnCreateTensorDescriptor(void **d) { return (*d = calloc(1, sizeof(T))) ? OK : BAD_PARAM; }
int cudnnCreateFilterDescriptor(void **d) { return (*d = calloc(1, sizeof(Fd))) ? OK : BAD_PARAM; }
int cudnnCreateConvolutionDescriptor(void **d) { return (*d = calloc(1, sizeof(Cd))) ? OK : BAD_PARAM; }
int cudnnDestroyTensorDescriptor(void *d) { free(d); return OK; }
int cudnnDestroyFilterDescriptor(void *d) { free(d); return OK; }
int cudnnDestroyConvolutionDescriptor(void *d) { free(d); return OK; }
int cudnnSetTensor4dDescriptorEx(void *d, int type, int n, int c, int h, int w, int sn, int sc, int sh, int sw) {
    if (type != 0 || n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return type ? NOT_SUPPORTED : BAD_PARAM;
    *(T *)d = (T){n, c, h, w, sn, sc, sh, sw};
    return OK;
}
int cudnnSetTensor4dDescriptor(void *d, int fmt, int type, int n, int c, int h, int w) {
    if (fmt == 1)       /* NHWC */
        return cudnnSetTensor4dDescriptorEx(d, type, n, c, h, w, h * w * c, 1, w * c, c);
    if (fmt == 0)       /* NCHW */
        return cudnnSetTensor4dDescriptorEx(d, type, n, c, h, w, c * h * w, h * w, w, 1);
    return NOT_SUPPORTED;
}
int cudnnSetFilter4dDescriptor(void *d, int type, int fmt, int k, int c, int h, int w) {
    if (type != 0 || fmt != 1)
        return NOT_SUPPORTED;   /* only what the runtime uses: f32, NHWC (KRSC) */
    if (k <= 0 || c <= 0 || h <= 0 || w <= 0)
        return BAD_PARAM;
    *(Fd *)d = (Fd){k, c, h, w, fmt};
    return OK;
}
int cudnnSetConvolution2dDescriptor(void *d, int ph, int pw, int u, int v, int dh, int dw, int mode, int type) {
    if (type != 0 || mode != 1)
        return NOT_SUPPORTED;   /* f32 cross-correlation */
    if (ph < 0 || pw < 0 || u <= 0 || v <= 0 || dh <= 0 || dw <= 0)
        return BAD_PARAM;
    *(Cd *)d = (Cd){ph, pw, u, v, dh, dw, mode, 1};
    return OK;
}
int cudnnSetConvolutionGroupCount(void *d, int g) { return g > 0 ? (((Cd *)d)->groups = g, OK) : BAD_PARAM; }
int cudnnSetConvolutionMathType(void *d, int m) { (void)d; return m == 0 || m == 3 ? OK : NOT_SUPPORTED; }

static int nhwc(const T *t) {
    return t->sc == 1 && t->sw == t->c && t->sh == t->w * t->c && t->sn == t->h * t->w * t->c;
}
/* x [N, C, H, W] NHWC, w [F, C/G, KH, KW] KRSC, y [N, F, OH, OW] NHWC: consistent, cuDNN's output size */
static int geom(const T *x, const Fd *w, const Cd *c, const T *y) {
    if (!nhwc(x) || !nhwc(y))
        return NOT_SUPPORTED;
    int oh = (x->h + 2 * c->ph - c->dh * (w->h - 1) - 1) / c->u + 1;
    int ow = (x->w + 2 * c->pw - c->dw * (w->w - 1) - 1) / c->v + 1;
    if (x->c != w->c * c->groups || w->k % c->groups || y->n != x->n || y->c != w->k || y->h != oh || y->w != ow)
        return BAD_PARAM;
    return OK;
}
static int perf(int st, int *got, Perf *p, int want) {
    if (st)
        return st;
    if (want < 2)
        return BAD_PARAM;
    memset(p, 0, 2 * sizeof *p);
    p[0] = (Perf){0, NOT_SUPPORTED, -1, 0, 0, 3, {0}};
    p[1] = (Perf){1, OK, 0.1f, WS, 1, 3, {0}};
    *got = 2;
    return OK;
}
int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *x, void *w, void *c, void *y, int want, int *got, Perf *p) {
    (void)h;
    return perf(geom(x, w, c, y), got, p, want);
}
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, void *w, void *dy, void *c, void *dx, int want, int *got,
                                                Perf *p) {
    (void)h;
    return perf(geom(dx, w, c, dy), got, p, want);
}
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, void *x, void *dy, void *c, void *dw, int want, int *got,
                                                  Perf *p) {
    (void)h;
    return perf(geom(x, dw, c, dy), got, p, want);
}
int cudnnFindConvolutionForwardAlgorithm(void *h, void *x, void *w, void *c, void *y, int want, int *got, Perf *p) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, x, w, c, y, want, got, p);
}
int cudnnFindConvolutionBackwardDataAlgorithm(void *h, void *w, void *dy, void *c, void *dx, int want, int *got, Perf *p) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, w, dy, c, dx, want, got, p);
}
int cudnnFindConvolutionBackwardFilterAlgorithm(void *h, void *x, void *dy, void *c, void *dw, int want, int *got,
                                                Perf *p) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, x, dy, c, dw, want, got, p);
}
static int wsize(int st, int algo, size_t *n) {
    if (st)
        return st;
    if (algo != 1)
        return NOT_SUPPORTED;
    *n = WS;
    return OK;
}
int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *x, void *w, void *c, void *y, int algo, size_t *n) {
    (void)h;
    return wsize(geom(x, w, c, y), algo, n);
}
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, void *w, void *dy, void *c, void *dx, int algo, size_t *n) {
    (void)h;
    return wsize(geom(dx, w, c, dy), algo, n);
}
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, void *x, void *dy, void *c, void *dw, int algo, size_t *n) {
    (void)h;
    return wsize(geom(x, dw, c, dy), algo, n);
}

/* ---- the work, on the stream ---- */
typedef struct Job {
    int kind;                   /* 0 forward, 1 data gradient, 2 filter gradient, 3 transform */
    T x, y;
    Fd w;
    Cd c;
    const float *a, *b;         /* forward: x, w; data: dy, w; filter: x, dy; transform: src */
    float *out;
    float alpha, beta;
} Job;

static void run(void *ctx) {
    const Job *j = ctx;
    if (j->kind == 3) {
        const T *s = &j->x, *d = &j->y;
        for (int n = 0; n < s->n; n++)
            for (int c = 0; c < s->c; c++)
                for (int h = 0; h < s->h; h++)
                    for (int w = 0; w < s->w; w++) {
                        float *o = j->out + (int64_t)n * d->sn + (int64_t)c * d->sc + (int64_t)h * d->sh + (int64_t)w * d->sw;
                        float v = j->alpha * j->a[(int64_t)n * s->sn + (int64_t)c * s->sc + (int64_t)h * s->sh + (int64_t)w * s->sw];
                        *o = j->beta != 0.f ? v + j->beta * *o : v;
                    }
        return;
    }
    const long long N = j->x.n, H = j->x.h, W = j->x.w, C = j->x.c, OH = j->y.h, OW = j->y.w, F = j->y.c;
    const long long KH = j->w.h, KW = j->w.w, G = j->c.groups, SH = j->c.u, SW = j->c.v, DH = j->c.dh, DW = j->c.dw;
    const long long PH = j->c.ph, PW = j->c.pw, CG = C / G, FG = F / G;
#define WK(f, kh, kw, ci) (((f) * KH + (kh)) * KW + (kw)) * CG + (ci)
    if (j->kind == 0) {
        const float *x = j->a, *wk = j->b;
        for (long long o = 0; o < N * OH * OW * F; o++) {
            long long f = o % F, ow = o / F % OW, oh = o / (F * OW) % OH, n = o / (F * OW * OH), g = f / FG;
            float acc = 0.f;
            for (long long kh = 0; kh < KH; kh++) {
                long long h = oh * SH - PH + kh * DH;
                if (h < 0 || h >= H)
                    continue;
                for (long long kw = 0; kw < KW; kw++) {
                    long long w = ow * SW - PW + kw * DW;
                    if (w < 0 || w >= W)
                        continue;
                    for (long long ci = 0; ci < CG; ci++)
                        acc += x[((n * H + h) * W + w) * C + g * CG + ci] * wk[WK(f, kh, kw, ci)];
                }
            }
            j->out[o] = j->alpha * acc;
        }
    } else if (j->kind == 1) {
        const float *dy = j->a, *wk = j->b;
        for (long long e = 0; e < N * H * W * C; e++) {
            long long ch = e % C, w = e / C % W, h = e / (C * W) % H, n = e / (C * W * H), g = ch / CG, ci = ch % CG;
            float acc = 0.f;
            for (long long kh = 0; kh < KH; kh++) {
                long long th = h + PH - kh * DH;
                if (th < 0 || th % SH)
                    continue;
                long long oh = th / SH;
                if (oh >= OH)
                    continue;
                for (long long kw = 0; kw < KW; kw++) {
                    long long tw = w + PW - kw * DW;
                    if (tw < 0 || tw % SW)
                        continue;
                    long long ow = tw / SW;
                    if (ow >= OW)
                        continue;
                    for (long long f = 0; f < FG; f++)
                        acc += dy[((n * OH + oh) * OW + ow) * F + g * FG + f] * wk[WK(g * FG + f, kh, kw, ci)];
                }
            }
            j->out[e] = j->alpha * acc;
        }
    } else {
        const float *x = j->a, *dy = j->b;
        for (long long o = 0; o < KH * KW * CG * F; o++) {      /* nnc's order of the weights */
            long long f = o % F, ci = o / F % CG, kw = o / (F * CG) % KW, kh = o / (F * CG * KW), g = f / FG;
            double acc = 0.0;
            for (long long p = 0; p < N * OH * OW; p++) {
                long long ow = p % OW, oh = p / OW % OH, n = p / (OW * OH);
                long long h = oh * SH - PH + kh * DH, w = ow * SW - PW + kw * DW;
                if (h >= 0 && h < H && w >= 0 && w < W)
                    acc += (double)x[((n * H + h) * W + w) * C + g * CG + ci] * dy[p * F + f];
            }
            j->out[WK(f, kh, kw, ci)] = j->alpha * (float)acc;
        }
    }
#undef WK
}

static int submit(Job *j, const float *alpha, const float *beta) {
    j->alpha = *alpha, j->beta = *beta;
    if (j->kind < 3 && j->beta != 0.f)
        return NOT_SUPPORTED;   /* the runtime overwrites (beta 0) */
    return enqueue(stream, run, j, sizeof *j) ? BAD_PARAM : OK;
}
static int ws_ok(int algo, const void *ws, size_t n) { return algo == 1 && ws && n >= WS; }

int cudnnConvolutionForward(void *h, const float *alpha, void *xd, const float *x, void *wd, const float *w, void *cd,
                            int algo, void *ws, size_t wsn, const float *beta, void *yd, float *y) {
    (void)h;
    int st = geom(xd, wd, cd, yd);
    if (st || !ws_ok(algo, ws, wsn))
        return st ? st : BAD_PARAM;
    Job j = {0, *(T *)xd, *(T *)yd, *(Fd *)wd, *(Cd *)cd, x, w, y, 0, 0};
    return submit(&j, alpha, beta);
}
int cudnnConvolutionBackwardData(void *h, const float *alpha, void *wd, const float *w, void *dyd, const float *dy,
                                 void *cd, int algo, void *ws, size_t wsn, const float *beta, void *dxd, float *dx) {
    (void)h;
    int st = geom(dxd, wd, cd, dyd);
    if (st || !ws_ok(algo, ws, wsn))
        return st ? st : BAD_PARAM;
    Job j = {1, *(T *)dxd, *(T *)dyd, *(Fd *)wd, *(Cd *)cd, dy, w, dx, 0, 0};
    return submit(&j, alpha, beta);
}
int cudnnConvolutionBackwardFilter(void *h, const float *alpha, void *xd, const float *x, void *dyd, const float *dy,
                                   void *cd, int algo, void *ws, size_t wsn, const float *beta, void *dwd, float *dw) {
    (void)h;
    int st = geom(xd, dwd, cd, dyd);
    if (st || !ws_ok(algo, ws, wsn))
        return st ? st : BAD_PARAM;
    Job j = {2, *(T *)xd, *(T *)dyd, *(Fd *)dwd, *(Cd *)cd, x, dy, dw, 0, 0};
    return submit(&j, alpha, beta);
}
int cudnnTransformTensor(void *h, const float *alpha, void *xd, const float *x, const float *beta, void *yd, float *y) {
    (void)h;
    const T *s = xd, *d = yd;
    if (s->n != d->n || s->c != d->c || s->h != d->h || s->w != d->w || (const void *)x == (void *)y)
        return BAD_PARAM;
    Job j = {3, *s, *d, {0}, {0}, x, NULL, y, 0, 0};
    return submit(&j, alpha, beta);
}
