/* fake_cublas.c - libcublas.so.13 for tests/cuda/emu: cublasSgemm_v2 and cublasSgemmStridedBatched
 * (column-major, as cuBLAS)
 * through OpenBLAS's cblas_sgemm, so the emulated run checks runtime/cuda.c's row-major mapping.
 * cublasGemmEx and cublasGemmStridedBatchedEx take f32 data only (CUDA_R_32F) and the compute types
 * CUBLAS_COMPUTE_32F and CUBLAS_COMPUTE_32F_FAST_16BF; the latter rounds A and B to bfloat16 (to
 * nearest even, as a tensor core's input) before the f32 product (fake_bf16.h). */
#include <cblas.h>
#include <stdlib.h>

#include "fake_bf16.h"

int cublasCreate_v2(void **h) { *h = (void *)1; return 0; }
int cublasSetStream_v2(void *h, void *s) { (void)h; return s ? 0 : 7; }
const char *cublasGetStatusName(int s) { return s ? "CUBLAS_STATUS_EMULATED_ERROR" : "CUBLAS_STATUS_SUCCESS"; }
int cublasSgemm_v2(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
                   const float *b, int ldb, const float *beta, float *c, int ldc) {
    (void)h;
    if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m)
        return 7;               /* CUBLAS_STATUS_INVALID_VALUE */
    cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, *alpha, a, lda,
                b, ldb, *beta, c, ldc);
    return 0;
}

/* cublasSgemmStridedBatched: batchCount column-major products, matrix p at p*stride of each. */
int cublasSgemmStridedBatched(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a,
                              int lda, long long sa, const float *b, int ldb, long long sb, const float *beta,
                              float *c, int ldc, long long sc, int count) {
    (void)h;
    if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m || count < 0)
        return 7;               /* CUBLAS_STATUS_INVALID_VALUE */
    for (int p = 0; p < count; p++)
        cblas_sgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, *alpha,
                    a + p * sa, lda, b + p * sb, ldb, *beta, c + p * sc, ldc);
    return 0;
}

/* cublasGemmEx: f32 A, B, C (type 0), compute 68 (f32) or 75 (f32, bf16 inputs), the default algo */
int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int at, int lda,
                 const float *b, int bt, int ldb, const float *beta, float *c, int ct, int ldc, int compute, int algo) {
    if (at || bt || ct || (compute != 68 && compute != 75) || algo != -1)
        return 15;              /* CUBLAS_STATUS_NOT_SUPPORTED */
    if (compute == 68)
        return cublasSgemm_v2(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    float *ra = bf16_copy(a, ta ? k : m, ta ? m : k, lda), *rb = bf16_copy(b, tb ? n : k, tb ? k : n, ldb);
    int rc = ra && rb ? cublasSgemm_v2(h, ta, tb, m, n, k, alpha, ra, lda, rb, ldb, beta, c, ldc) : 3;
    free(ra);
    free(rb);
    return rc;
}

int cublasGemmStridedBatchedEx(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int at,
                               int lda, long long sa, const float *b, int bt, int ldb, long long sb, const float *beta,
                               float *c, int ct, int ldc, long long sc, int count, int compute, int algo) {
    for (int p = 0; p < count; p++) {
        int rc = cublasGemmEx(h, ta, tb, m, n, k, alpha, a + p * sa, at, lda, b + p * sb, bt, ldb, beta, c + p * sc, ct,
                              ldc, compute, algo);
        if (rc)
            return rc;
    }
    return 0;
}
