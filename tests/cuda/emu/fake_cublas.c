/* fake_cublas.c - libcublas.so.13 for tests/cuda/emu: cublasSgemm_v2 and cublasSgemmStridedBatched
 * (column-major, as cuBLAS)
 * through OpenBLAS's cblas_sgemm, so the emulated run checks runtime/cuda.c's row-major mapping. */
#include <cblas.h>

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
