/* bmm.c - batched matrix products (the IR's 3-D matmul: attention's q k^T and its v products).
 *
 * C[p] = op(A[p]) op(B[p]) for p in [0, P), row-major, each matrix dense. The products are small
 * (T x d by d x T per head and sample), where OpenBLAS runs one thread per call whatever it is set
 * to, so a loop of calls would leave the other cores idle: with a pool of T > 1 threads the P
 * products are split across the pool, OpenBLAS set to 1 thread meanwhile (as runtime/conv.c
 * does for its per-thread slices). Each product is one single-threaded cblas_sgemm either way, so
 * the bits do not depend on the thread count.
 */
#include <cblas.h>
#include <string.h>

#include "nnc_abi.h"

typedef struct BmmJob {
    int ta, tb;
    int64_t M, N, K;
    const float *A, *B;
    float *C;
} BmmJob;

static void bmm_run(void *ctx, int64_t lo, int64_t hi) {
    const BmmJob *j = ctx;
    int lda = (int)(j->ta ? j->M : j->K), ldb = (int)(j->tb ? j->K : j->N);
    for (int64_t p = lo; p < hi; p++)
        cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans, (int)j->M,
                    (int)j->N, (int)j->K, 1.0f, j->A + p * j->M * j->K, lda > 1 ? lda : 1, j->B + p * j->K * j->N,
                    ldb > 1 ? ldb : 1, 0.0f, j->C + p * j->M * j->N, j->N > 1 ? (int)j->N : 1);
}

void nnc_sgemm_batched(int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                       const float *B, float *C, NncPool *pool) {
    if (P <= 0 || M <= 0 || N <= 0)
        return;
    if (K <= 0) {   /* an empty sum: zeros (BLAS is not asked about degenerate sizes) */
        memset(C, 0, sizeof(float) * (size_t)(P * M * N));
        return;
    }
    BmmJob j = {ta, tb, M, N, K, A, B, C};
    if (nnc_pool_threads(pool) < 2 || P < 2) {
        bmm_run(&j, 0, P);
        return;
    }
    int bt = openblas_get_num_threads();
    openblas_set_num_threads(1);
    nnc_parallel_for(pool, P, bmm_run, &j);
    openblas_set_num_threads(bt);
}
