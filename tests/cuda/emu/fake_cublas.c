/* fake_cublas.c - libcublas.so.13 for tests/cuda/emu: cublasSgemm_v2 and cublasSgemmStridedBatched
 * (column-major, as cuBLAS)
 * through OpenBLAS's cblas_sgemm, so the emulated run checks runtime/cuda.c's row-major mapping.
 * cublasGemmEx and cublasGemmStridedBatchedEx take f32 A, B, C with the compute types
 * CUBLAS_COMPUTE_32F and CUBLAS_COMPUTE_32F_FAST_16BF (the latter rounds A and B to bfloat16, to
 * nearest even, as a tensor core's input, before the f32 product: fake_bf16.h), or bf16 A and B
 * (CUDA_R_16BF, nnc --precision bf16) with an f32 or bf16 C (the f32 result rounded once). Each product
 * runs on the handle's stream through the fake driver (fake_enqueue.h), so a CUDA graph's capture
 * records it and its replay computes it again. cublasSetWorkspace_v2 takes a device buffer (the
 * runtime gives one before capturing, as cuBLAS asks). NNC_EMU_BLAS_NO_CAPTURE=1: a product asked
 * for during a capture fails (CUBLAS_STATUS_NOT_SUPPORTED), for the runtime's fallback. */
#include <cblas.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_bf16.h"
#include "fake_enqueue.h"

static void *stream;            /* the handle's (one handle) */
int cublasCreate_v2(void **h) { *h = (void *)1; return 0; }
int cublasSetStream_v2(void *h, void *s) { (void)h; stream = s; return s ? 0 : 7; }
int cublasSetWorkspace_v2(void *h, void *ws, size_t n) { (void)h; return ws && n >= 4096 ? 0 : 7; }

/* one column-major product, possibly bf16-rounded operands, p of them at strides sa, sb, sc (in
 * elements); at, bt, ct: the storage (CUDA_R_32F 0, CUDA_R_16BF 14) of A, B and C */
typedef struct Gemm {
    int ta, tb, m, n, k, lda, ldb, ldc, bf16, count, at, bt, ct;
    float alpha, beta;
    const void *a, *b;
    void *c;
    long long sa, sb, sc;
} Gemm;
static size_t span(int rows, int cols, int ld) {
    return cols > 0 && rows > 0 ? (size_t)ld * (size_t)(cols - 1) + (size_t)rows : 1;
}
/* a bf16 matrix as f32 (exact: a bf16 is an f32's upper half) */
static float *from_bf16(const uint16_t *x, size_t n) {
    float *r = malloc(n * sizeof *r);
    if (!r)
        abort();
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)x[i] << 16;
        memcpy(&r[i], &u, 4);
    }
    return r;
}
static void run_gemm(void *ctx) {
    const Gemm *g = ctx;
    int ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k, br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
    for (int p = 0; p < g->count; p++) {
        const float *a, *b;
        float *ra = NULL, *rb = NULL, *rc = NULL;
        if (g->at == 14) {      /* bf16 operands: read exactly, f32 products and sums */
            ra = from_bf16((const uint16_t *)g->a + p * g->sa, span(ar, ac, g->lda));
            rb = from_bf16((const uint16_t *)g->b + p * g->sb, span(br, bc, g->ldb));
        } else {
            a = (const float *)g->a + p * g->sa, b = (const float *)g->b + p * g->sb;
            if (g->bf16) {
                ra = bf16_copy(a, ar, ac, g->lda);
                rb = bf16_copy(b, br, bc, g->ldb);
                if (!ra || !rb)
                    abort();
            }
        }
        a = ra ? ra : (const float *)g->a + p * g->sa;
        b = rb ? rb : (const float *)g->b + p * g->sb;
        float *c = (float *)g->c + p * g->sc;
        size_t nc = span(g->m, g->n, g->ldc);
        if (g->ct == 14)        /* a bf16 result: computed in f32, rounded once when stored */
            c = rc = from_bf16((const uint16_t *)g->c + p * g->sc, nc);
        cblas_sgemm(CblasColMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m, g->n,
                    g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc);
        if (rc) {
            uint16_t *out = (uint16_t *)g->c + p * g->sc;
            for (int j = 0; j < g->n; j++)
                for (int i = 0; i < g->m; i++) {
                    float v = bf16_round(rc[(size_t)j * (size_t)g->ldc + (size_t)i]);
                    uint32_t u;
                    memcpy(&u, &v, 4);
                    out[(size_t)j * (size_t)g->ldc + (size_t)i] = (uint16_t)(u >> 16);
                }
        }
        free(ra);
        free(rb);
        free(rc);
    }
}
static int gemm_t(int ta, int tb, int m, int n, int k, const float *alpha, const void *a, int at, int lda, long long sa,
                  const void *b, int bt, int ldb, long long sb, const float *beta, void *c, int ct, int ldc, long long sc,
                  int count, int bf16) {
    if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m || count < 0)
        return 7;               /* CUBLAS_STATUS_INVALID_VALUE */
    if (getenv("NNC_EMU_BLAS_NO_CAPTURE") && capturing(stream))
        return 15;              /* CUBLAS_STATUS_NOT_SUPPORTED: a cuBLAS that cannot be captured */
    Gemm g = {ta, tb, m, n, k, lda, ldb, ldc, bf16, count, at, bt, ct, *alpha, *beta, a, b, c, sa, sb, sc};
    return enqueue(stream, run_gemm, &g, sizeof g);
}
static int gemm(int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda, long long sa,
                const float *b, int ldb, long long sb, const float *beta, float *c, int ldc, long long sc, int count,
                int bf16) {
    return gemm_t(ta, tb, m, n, k, alpha, a, 0, lda, sa, b, 0, ldb, sb, beta, c, 0, ldc, sc, count, bf16);
}
/* cublasGemmEx's type combinations here (a subset of cuBLAS's table): A, B, C f32 with compute
 * 68 or 75 (bf16 inputs); A, B bf16 (CUDA_R_16BF) with C bf16 or f32, compute 68 (or 75) */
static int types_ok(int at, int bt, int ct, int compute, int algo) {
    if ((compute != 68 && compute != 75) || algo != -1)
        return 0;
    return (at == 0 && bt == 0 && ct == 0) || (at == 14 && bt == 14 && (ct == 0 || ct == 14));
}
const char *cublasGetStatusName(int s) { return s ? "CUBLAS_STATUS_EMULATED_ERROR" : "CUBLAS_STATUS_SUCCESS"; }
int cublasSgemm_v2(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                   const float *b, int ldb, const float *beta, float *c, int ldc) {
    (void)h;
    return gemm(ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1, 0);
}

/* cublasSgemmStridedBatched: batchCount column-major products, matrix p at p*stride of each. */
int cublasSgemmStridedBatched(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a,
                              int lda, long long sa, const float *b, int ldb, long long sb, const float *beta,
                              float *c, int ldc, long long sc, int count) {
    (void)h;
    return gemm(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, count, 0);
}

/* cublasGemmEx: f32 A, B, C (type 0), compute 68 (f32) or 75 (f32, bf16 inputs), the default algo */
int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const void *a, int at, int lda,
                 const void *b, int bt, int ldb, const float *beta, void *c, int ct, int ldc, int compute, int algo) {
    (void)h;
    if (!types_ok(at, bt, ct, compute, algo))
        return 15;              /* CUBLAS_STATUS_NOT_SUPPORTED */
    return gemm_t(ta, tb, m, n, k, alpha, a, at, lda, 0, b, bt, ldb, 0, beta, c, ct, ldc, 0, 1, compute == 75);
}

int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const void *a, int at,
                               int lda, long long sa, const void *b, int bt, int ldb, long long sb, const float *beta,
                               void *c, int ct, int ldc, long long sc, int count, int compute, int algo) {
    (void)h;
    if (!types_ok(at, bt, ct, compute, algo))
        return 15;
    return gemm_t(ta, tb, m, n, k, alpha, a, at, lda, sa, b, bt, ldb, sb, beta, c, ct, ldc, sc, count, compute == 75);
}
