/* conv_dnnl.h - oneDNN's convolutions for runtime/conv.c (runtime/conv_dnnl.c). */
#ifndef NNC_CONV_DNNL_H
#define NNC_CONV_DNNL_H

#include <stdbool.h>
#include <stdint.h>

#include "nnc_abi.h"

enum { NNC_CONV_OP_FWD, NNC_CONV_OP_DATA, NNC_CONV_OP_FILTER };

/* Runs one pass with oneDNN where it was chosen for this pass and geometry and can run here
 * (libdnnl.so.2 present, a jit kernel, its buffers fit col's col_floats); false: nothing done,
 * the caller runs its im2col path. a, b, out: fwd x, w, y; data dy, w, dx; filter x, dy, dw. */
/* A forward pass's epilogue (nnc_conv_forward_ep): y = act(scale[f] * conv + shift[f]). */
typedef struct NncConvEpi {
    const float *scale, *shift; /* F floats each, or NULL */
    int act;                    /* NNC_ACT_* */
    float alpha;
} NncConvEpi;

/* epi: NULL, or the forward's epilogue (op NNC_CONV_OP_FWD), applied when true is returned. */
bool nnc_conv_dnnl(int op, const int64_t *geo, const float *a, const float *b, float *out, float *col,
                   int64_t col_floats, const NncConvEpi *epi, NncPool *pool);

/* C[p] = op(A[p]) op(B[p]) for p in [0, P) through oneDNN's matmul (runtime/bmm.c's
 * nnc_sgemm_batched asks first; its arguments); false: nothing usable was done (no libdnnl.so.2,
 * $NNC_BMM=openblas, or oneDNN refused), the caller computes all of C. */
bool nnc_dnnl_sgemm_batched(int ta, int tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                            const float *B, float *C, NncPool *pool);

/* One product of each batch index p of nnc_dnnl_sgemm_batched_blocks: op(A + p sa + a) op(B + p sb + b)
 * into C + p sc + c (M x N, leading dimension ldc), cblas_sgemm's row-major arguments (alpha 1,
 * beta 0). runtime/bmm.c's nnc_sgemm_batched_causal makes several per index: blocks of rows. */
typedef struct NncGemmBlock {
    int ta, tb;
    int64_t M, N, K, lda, ldb, ldc, a, b, c;
} NncGemmBlock;
#define NNC_GEMM_BLOCKS 64

/* The blocks blk[0..nb) of every p in [0, P), split across the pool by p (each p's blocks in order
 * on one thread); false as nnc_dnnl_sgemm_batched (also for a block with M, N or K <= 0). */
bool nnc_dnnl_sgemm_batched_blocks(int nb, const NncGemmBlock *blk, int64_t P, const float *A, int64_t sa,
                                   const float *B, int64_t sb, float *C, int64_t sc, NncPool *pool);

/* The same with the batch index p = g H + h (H divides P) at operand offsets g sa + h sa2 (and so for
 * B and C): products read in place from a tensor whose batch dims are not adjacent (a [B, T, H, D]
 * tensor's heads, runtime/bmm.c nnc_sgemm_batched_view); H = 1 is nnc_dnnl_sgemm_batched_blocks. */
bool nnc_dnnl_sgemm_batched_grouped(int nb, const NncGemmBlock *blk, int64_t P, int64_t H, const float *A, int64_t sa,
                                    int64_t sa2, const float *B, int64_t sb, int64_t sb2, float *C, int64_t sc,
                                    int64_t sc2, NncPool *pool);

/* C = op(A) op(B) (cblas_sgemm's row-major arguments, alpha 1, beta 0) through oneDNN's matmul on this
 * thread (runtime/bmm.c's nnc_sgemm asks first for the products it chose); false: nothing usable
 * was done (no libdnnl.so.2, $NNC_GEMM=openblas, or oneDNN refused), the caller computes all of C. */
bool nnc_dnnl_sgemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                    int ldc);

/* C = op(A) op(B) + beta C (row-major, alpha 1) through oneDNN's dnnl_sgemm at one thread (runtime/bmm.c
 * nnc_sgemm asks for the small products it measured faster there); false: nothing done (no
 * libdnnl.so.2, $NNC_GEMM=openblas, or oneDNN refused), the caller runs cblas_sgemm. */
bool nnc_dnnl_gemm_available(void);
bool nnc_dnnl_small_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                          const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

#endif
