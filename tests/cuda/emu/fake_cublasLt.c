/* fake_cublasLt.c - libcublasLt.so.13 for tests/cuda/emu: the cuBLASLt calls runtime/cuda.c makes
 * for a GEMM with a fused epilogue, computed through OpenBLAS's cblas_sgemm (column-major, as
 * cuBLASLt) and then the epilogue as cuBLASLt documents it: BIAS adds bias[row] to every column of
 * D, RELU_BIAS then clamps at 0. Only what runtime/cuda.c uses: f32 data, CUBLAS_COMPUTE_32F, the
 * TRANSA/TRANSB/EPILOGUE/BIAS_POINTER attributes; anything else is CUBLAS_STATUS_NOT_SUPPORTED, so
 * the emulated run checks the runtime's descriptors, its row-major mapping and the bias's layout.
 * A shape with N = 3 has no algorithm (the heuristic returns none), which tests the fallback. */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_bf16.h"
#include "fake_enqueue.h"

enum { OK = 0, INVALID = 7, NOT_SUPPORTED = 15 };
typedef struct Desc { int ta, tb, compute; uint32_t epi; const float *bias; } Desc;
typedef struct Layout { uint64_t rows, cols; int64_t ld; } Layout;

const char *cublasLtGetStatusName(int s) { return s ? "CUBLAS_STATUS_EMULATED_ERROR" : "CUBLAS_STATUS_SUCCESS"; }
int cublasLtCreate(void **h) { *h = (void *)2; return OK; }
int cublasLtMatmulPreferenceCreate(void **p) { *p = calloc(1, 8); return *p ? OK : INVALID; }
int cublasLtMatmulPreferenceSetAttribute(void *p, int attr, const void *buf, size_t n) {
    (void)p, (void)buf;
    return attr == 1 && n == 8 ? OK : NOT_SUPPORTED;
}
int cublasLtMatmulDescCreate(void **d, int compute, int scale) {
    if ((compute != 68 && compute != 75) || scale != 0)   /* CUBLAS_COMPUTE_32F(_FAST_16BF), CUDA_R_32F */
        return NOT_SUPPORTED;
    Desc *x = calloc(1, sizeof *x);
    if (x)
        x->compute = compute;
    x->epi = 1;                         /* CUBLASLT_EPILOGUE_DEFAULT */
    *d = x;
    return x ? OK : INVALID;
}
int cublasLtMatmulDescDestroy(void *d) { free(d); return OK; }
int cublasLtMatmulDescSetAttribute(void *d, int attr, const void *buf, size_t n) {
    Desc *x = d;
    switch (attr) {
    case 3: if (n != 4) return INVALID; memcpy(&x->ta, buf, 4); return OK;
    case 4: if (n != 4) return INVALID; memcpy(&x->tb, buf, 4); return OK;
    case 7:
        if (n != 4) return INVALID;
        memcpy(&x->epi, buf, 4);
        return x->epi == 1 || x->epi == 4 || x->epi == 6 ? OK : NOT_SUPPORTED;
    case 8: if (n != sizeof(void *)) return INVALID; memcpy(&x->bias, buf, n); return OK;
    default: return NOT_SUPPORTED;
    }
}
int cublasLtMatrixLayoutCreate(void **l, int type, uint64_t rows, uint64_t cols, int64_t ld) {
    if (type != 0)
        return NOT_SUPPORTED;
    if (ld < (int64_t)rows || ld < 1)
        return INVALID;
    Layout *x = malloc(sizeof *x);
    x->rows = rows, x->cols = cols, x->ld = ld;
    *l = x;
    return x ? OK : INVALID;
}
int cublasLtMatrixLayoutDestroy(void *l) { free(l); return OK; }

/* the op(A) [m x k], op(B) [k x n], D [m x n] the layouts say, or -1 when they do not fit */
static int shape(const Desc *d, const Layout *a, const Layout *b, const Layout *c, int *m, int *n, int *k) {
    *m = (int)(d->ta ? a->cols : a->rows), *k = (int)(d->ta ? a->rows : a->cols);
    *n = (int)(d->tb ? b->rows : b->cols);
    int kb = (int)(d->tb ? b->cols : b->rows);
    return kb == *k && (int)c->rows == *m && (int)c->cols == *n ? 0 : -1;
}

int cublasLtMatmulAlgoGetHeuristic(void *h, void *desc, void *la, void *lb, void *lc, void *ld, void *pref, int want,
                                   void *res, int *got) {
    (void)h, (void)pref, (void)ld;
    int m, n, k;
    if (want < 1 || shape(desc, la, lb, lc, &m, &n, &k))
        return INVALID;
    memset(res, 0, 96);                 /* cublasLtMatmulHeuristicResult_t */
    *got = m == 3 ? 0 : 1;              /* no algorithm for 3 rows: the runtime's fallback */
    return OK;
}

/* a matmul's work with copies of its descriptor and layouts (their values at the call, as the
 * library takes them), run on the stream through the fake driver (captured into a graph too) */
typedef struct Mm {
    Desc d;
    Layout a, b, c;
    int m, n, k;
    float alpha, beta;
    const float *A, *Bm;
    float *D;
} Mm;
static void run_mm(void *ctx) {
    const Mm *x = ctx;
    const Desc *d = &x->d;
    const float *A = x->A, *Bm = x->Bm;
    float *ra = NULL, *rb = NULL, *D = x->D;
    if (d->compute == 75) {             /* bf16 inputs, f32 accumulation */
        ra = bf16_copy(A, (int)x->a.rows, (int)x->a.cols, (int)x->a.ld);
        rb = bf16_copy(Bm, (int)x->b.rows, (int)x->b.cols, (int)x->b.ld);
        if (!ra || !rb)
            abort();
        A = ra, Bm = rb;
    }
    cblas_sgemm(CblasColMajor, d->ta ? CblasTrans : CblasNoTrans, d->tb ? CblasTrans : CblasNoTrans, x->m, x->n, x->k,
                x->alpha, A, (int)x->a.ld, Bm, (int)x->b.ld, x->beta, D, (int)x->c.ld);
    free(ra);
    free(rb);
    for (int j = 0; j < x->n; j++)
        for (int i = 0; i < x->m; i++) {
            float *v = &D[(int64_t)j * x->c.ld + i];
            if (d->epi & 4)
                *v += d->bias[i];
            if (d->epi & 2)
                *v = *v > 0.f ? *v : 0.f;
        }
}

int cublasLtMatmul(void *h, void *desc, const float *alpha, const float *A, void *la, const float *Bm, void *lb,
                   const float *beta, const float *C, void *lc, float *D, void *ld, const void *algo, void *ws,
                   size_t wsn, void *stream) {
    (void)h, (void)algo, (void)ws, (void)wsn;
    const Desc *d = desc;
    const Layout *a = la, *b = lb, *c = ld;
    int m, n, k;
    if (C != D || lc != ld || shape(d, a, b, c, &m, &n, &k) || !stream)
        return INVALID;
    if ((d->epi & 4) && !d->bias)
        return INVALID;
    Mm x = {*d, *a, *b, *c, m, n, k, *alpha, *beta, A, Bm, D};
    return enqueue(stream, run_mm, &x, sizeof x) ? INVALID : OK;
}
