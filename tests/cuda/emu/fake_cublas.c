/* fake_cublas.c - libcublas.so.13 for tests/cuda/emu: cublasSgemm_v2 and cublasSgemmStridedBatched
 * (column-major, as cuBLAS)
 * through OpenBLAS's cblas_sgemm, so the emulated run checks runtime/cuda.c's row-major mapping.
 * cublasGemmEx and cublasGemmStridedBatchedEx take f32 data only (CUDA_R_32F) and the compute types
 * CUBLAS_COMPUTE_32F and CUBLAS_COMPUTE_32F_FAST_16BF; the latter rounds A and B to bfloat16 (to
 * nearest even, as a tensor core's input) before the f32 product (fake_bf16.h). Each product
 * runs on the handle's stream through the fake driver (fake_enqueue.h), so a CUDA graph's capture
 * records it and its replay computes it again. cublasSetWorkspace_v2 takes a device buffer (the
 * runtime gives one before capturing, as cuBLAS asks). NNC_EMU_BLAS_NO_CAPTURE=1: a product asked
 * for during a capture fails (CUBLAS_STATUS_NOT_SUPPORTED), for the runtime's fallback. */
#include <cblas.h>
#include <stdlib.h>

#include "fake_bf16.h"
#include "fake_enqueue.h"

static void *stream;            /* the handle's (one handle) */
int cublasCreate_v2(void **h) { *h = (void *)1; return 0; }
int cublasSetStream_v2(void *h, void *s) { (void)h; stream = s; return s ? 0 : 7; }
int cublasSetWorkspace_v2(void *h, void *ws, size_t n) { (void)h; return ws && n >= 4096 ? 0 : 7; }

/* one column-major product, possibly bf16-rounded operands, p of them at strides sa, sb, sc */
typedef struct Gemm {
    int ta, tb, m, n, k, lda, ldb, ldc, bf16, count;
    float alpha, beta;
    const float *a, *b;
    float *c;
    long long sa, sb, sc;
} Gemm;
static void run_gemm(void *ctx) {
    const Gemm *g = ctx;
    for (int p = 0; p < g->count; p++) {
        const float *a = g->a + p * g->sa, *b = g->b + p * g->sb;
        float *ra = NULL, *rb = NULL;
        if (g->bf16) {
            ra = bf16_copy(a, g->ta ? g->k : g->m, g->ta ? g->m : g->k, g->lda);
            rb = bf16_copy(b, g->tb ? g->n : g->k, g->tb ? g->k : g->n, g->ldb);
            if (!ra || !rb)
                abort();
            a = ra, b = rb;
        }
        cblas_sgemm(CblasColMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, g->m, g->n,
                    g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, g->c + p * g->sc, g->ldc);
        free(ra);
        free(rb);
    }
}
static int gemm(int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda, long long sa,
                const float *b, int ldb, long long sb, const float *beta, float *c, int ldc, long long sc, int count,
                int bf16) {
    if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m || count < 0)
        return 7;               /* CUBLAS_STATUS_INVALID_VALUE */
    if (getenv("NNC_EMU_BLAS_NO_CAPTURE") && capturing(stream))
        return 15;              /* CUBLAS_STATUS_NOT_SUPPORTED: a cuBLAS that cannot be captured */
    Gemm g = {ta, tb, m, n, k, lda, ldb, ldc, bf16, count, *alpha, *beta, a, b, c, sa, sb, sc};
    return enqueue(stream, run_gemm, &g, sizeof g);
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
int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int at, int lda,
                 const float *b, int bt, int ldb, const float *beta, float *c, int ct, int ldc, int compute, int algo) {
    (void)h;
    if (at || bt || ct || (compute != 68 && compute != 75) || algo != -1)
        return 15;              /* CUBLAS_STATUS_NOT_SUPPORTED */
    return gemm(ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1, compute == 75);
}

int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int at,
                               int lda, long long sa, const float *b, int bt, int ldb, long long sb, const float *beta,
                               float *c, int ct, int ldc, long long sc, int count, int compute, int algo) {
    (void)h;
    if (at || bt || ct || (compute != 68 && compute != 75) || algo != -1)
        return 15;
    return gemm(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, count, compute == 75);
}
