/* nnc_abi.h - the C ABI between a compiled model and the runtime.
 *
 * Generated code is pure math: it knows shapes, parameters and the update rule, nothing about files,
 * flags or epochs. The runtime (libnnc_rt.a) owns everything else and drives a model through the
 * NncModelDef below. Two providers exist: the llvm backend (an object file that defines the symbols
 * listed under "exported symbols") and the interp backend inside nnc itself (tests use it as the
 * reference), so the runtime cannot tell them apart.
 *
 * Exported symbols of a compiled model with prefix P (P = "nnc_model" for executables, the model's
 * name or --prefix for `nnc -c`):
 *   const char   P_desc[];                       descriptor text, grammar below
 *   int64_t      P_workspace_size(int64_t B);    bytes of scratch one call needs at batch size B
 *   void         P_forward(NncArgs *a);          inputs -> outputs, training = false
 *   void         P_evaluate(NncArgs *a);         inputs + targets -> outputs + losses, training = false
 *   void         P_train_step(NncArgs *a, int32_t step);  one optimizer step of train step #step
 *
 * Descriptor text (one record per line, fields separated by single spaces, names never contain
 * spaces; numbers in C's %.9g / %lld forms; dims are integers or the letter B):
 *   model NAME
 *   tensor ROLE INDEX NAME DTYPE RANK DIM... [init KIND A B FANIN FANOUT] [data N V1 ... VN]
 *       ROLE   input | target | output | param | state
 *       INDEX  position in NncArgs.bufs (all tensors share one numbering, in descriptor order)
 *       DTYPE  f32 | i32 | bool        (bool buffers are uint8_t)
 *       init   for param/state: KIND is zeros|ones|constant|uniform|normal|glorot_uniform|
 *              glorot_normal|he_uniform|he_normal|literal; A, B its arguments (value, lo/hi,
 *              mean/std); FANIN, FANOUT for glorot/he. literal params carry `data`.
 *       param tensors may add `frozen` as the last field when no train step updates them.
 *       target tensors may add `conditions` as the last field when the forward entry point reads
 *       them (a conditional model's label: predict reads its values with the inputs).
 *   loss NAME                        the losses, in NncArgs.losses order
 *   step NAME LOSS OPTIMIZER LR      train steps, in train_step(step) order
 *   schedule STEP NAME A B           the lr schedule of step STEP when it is a stdlib one (constant,
 *                                    step_decay: A gamma B drops, cosine: A min_lr, warmup_cosine:
 *                                    A warmup B min_lr), so the runtime can report the rate the
 *                                    graph applies (optional; after its step)
 *   hyper NAME VALUE                 hyper-parameters a flag may override (lr, batch, epochs, ...)
 *   data SPEC...                     the train block's data source, verbatim tokens
 *   metric NAME                      accuracy | mse | mae | ...
 *   task classify N | regress        what eval reports (N = number of classes)
 *   layer NAME KIND PARAMS SHARED DTYPE RANK DIM...   a row of summary's layer table: an input or a
 *                                    call the model body makes (layer path or bound name, the layer
 *                                    or fn called, parameter elements, 1 for a later call of a shared
 *                                    instance, its result type) (optional)
 *   over STEP PATH...                the parameter paths step STEP trains (optional; none: all)
 *   reg STEP LOSS FN COEF PATH       an l1/l2 term (FN) of loss LOSS, which step STEP minimizes: its
 *                                    literal coefficient (nan when not a literal) and the parameter
 *                                    path its argument names ("?": an expression); LOSS "-" and PATH
 *                                    "*": the step's optimizer call's own l1/l2 argument (optional; summary)
 *   plan CLASS A C [A2]              bytes the compiler planned for a lifetime class (param, state,
 *                                    activation, scratch): A2*B*B + A*B + C; summary prints them (optional)
 *   end
 */
#ifndef NNC_ABI_H
#define NNC_ABI_H

#include <stdint.h>

#define NNC_ABI_VERSION 1

typedef struct NncPool NncPool; /* the runtime's thread pool (runtime/pool.c) */

/* Run fn(ctx, i) for i in [0, n), split across the pool's threads; a NULL pool runs it inline.
 * Generated code outlines parallel loops into such functions. */
void nnc_parallel_for(NncPool *pool, int64_t n, void (*fn)(void *ctx, int64_t lo, int64_t hi),
                      void *ctx);
/* The threads nnc_parallel_for splits across (the caller included): 1 for a NULL pool. */
int nnc_pool_threads(const NncPool *pool);
/* A concat of n operands (generated code): part[i](out, src[i], at[i], B) copies operand i into
 * out; a NULL src[i] is skipped (already in place). Split by operands across the pool when the
 * result holds at least 256 KiB (`bytes`), in order on the calling thread otherwise. */
void nnc_concat_parts(NncPool *pool, int64_t n, int64_t bytes, void **part, void *out, const int64_t *at, void **src,
                      int64_t B);

typedef struct NncArgs {
    int64_t B;          /* batch size of this call */
    void **bufs;        /* one pointer per descriptor tensor, by INDEX; params/state are updated in place */
    void *workspace;    /* workspace_size(B) bytes, 64-byte aligned */
    float *losses;      /* out: one value per `loss` record */
    int64_t step;       /* 1-based count of optimizer steps taken so far, this one included */
    int64_t total_steps;/* steps the whole run will take (cosine schedule) */
    float lr;           /* base learning rate of this step (the `step` record's LR, or --lr); the
                         * schedule is applied inside the graph from step and total_steps */
    uint64_t seed;      /* randomness of this call (dropout); the runtime derives it per step */
    NncPool *pool;      /* may be NULL */
    void *user;         /* NncModelDef.user, copied by the runtime for providers that need it */
} NncArgs;

/* The one random-number function: uniform in [0, 1), a pure function of (seed, stream, i), so the
 * interpreter and generated code (which calls it) draw identical values. stream tells RAND nodes
 * apart, i is the element's flat index. Defined in runtime/rand.c. */
float nnc_rand_uniform(uint64_t seed, uint64_t stream, uint64_t i);

/* A provider whose math runs on another device (runtime/cuda.c: an NVIDIA GPU) and keeps the params
 * and state there between calls, so the host's bufs are not always current. NULL for the CPU's
 * providers (generated code, the interpreter), whose params live in bufs. */
typedef struct NncDevice {
    const char *name;                   /* "CUDA": summary's line */
    /* bring params and state back into bufs: the runtime calls it before it reads them (save) */
    void (*to_host)(void *user);
    /* the runtime wrote params or state in bufs (load, --init-from): the next call uploads them */
    void (*from_host)(void *user);
    /* whether the last train step left param INDEX holding a NaN or infinity: the device checks,
     * instead of the runtime's scan of bufs after every step */
    int (*param_nonfinite)(void *user, int32_t index);
    /* bytes of device memory a call at batch size B needs (summary) */
    int64_t (*memory)(void *user, int64_t B);
    /* defer: the next call may return once its work is queued, before its losses and outputs are
     * in NncArgs (whose bufs and losses arrays must stay as they are until then); wait: they are.
     * The training loop gathers the next batch between the two, while the device runs the step. */
    void (*defer)(void *user);
    void (*wait)(void *user);
    /* between defer's call and wait: the next call's inputs and targets (next->bufs, next->B), which
     * the device may copy while the step runs; the next call must pass the same buffers unchanged */
    void (*prefetch)(void *user, const NncArgs *next);
} NncDevice;

typedef struct NncModelDef {
    const char *desc;
    int64_t (*workspace_size)(int64_t B);
    void (*forward)(NncArgs *a);
    void (*evaluate)(NncArgs *a);
    void (*train_step)(NncArgs *a, int32_t step);
    void *user;         /* provider's own data (the interpreter keeps its graphs here) */
    const NncDevice *device;    /* NULL: params and state live in bufs */
} NncModelDef;

/* Convolution, channels-last (runtime/conv.c): x [N, H, W, C], w [KH, KW, C/G, F], y [N, OH, OW, F]
 * (1-D: H = KH = OH = 1), G groups. geo holds the NNC_CONV_* entries; CHUNK is the number of
 * images whose im2col matrix fits col (CHUNK * OH*OW*KH*KW*C floats, a workspace temporary the
 * compiler sizes at plan time), or 0 for a 1x1 convolution with stride 1 and no padding, which
 * needs no im2col (col is then unused). With a pool of T > 1 threads an im2col convolution runs
 * in per-thread slices of the images, each thread with its own im2col, single-threaded GEMMs and
 * col2im (OpenBLAS is set to 1 thread for the call and restored); otherwise im2col, col2im and
 * the depthwise loops run on pool's threads (NULL: the caller's), the GEMMs on OpenBLAS's.
 * Where measured faster (docs/backend-llvm.md "Convolution") a pass runs oneDNN's jit kernel
 * instead (runtime/conv_dnnl.c, libdnnl.so.2 opened with dlopen; $NNC_CONV = auto | im2col |
 * dnnl), in the same per-thread slices (a batch-1 forward: in bands of output rows, one per
 * thread), its reordered weights and scratchpad in col.
 * Generated code calls these for the conv kernels. */
enum {
    NNC_CONV_N, NNC_CONV_H, NNC_CONV_W, NNC_CONV_C, NNC_CONV_OH, NNC_CONV_OW, NNC_CONV_F,
    NNC_CONV_KH, NNC_CONV_KW, NNC_CONV_G, NNC_CONV_SH, NNC_CONV_SW, NNC_CONV_DH, NNC_CONV_DW,
    NNC_CONV_PH, NNC_CONV_PW, NNC_CONV_CHUNK, NNC_CONV__COUNT
};
void nnc_conv_forward(const float *x, const float *w, float *y, float *col, const int64_t *geo, NncPool *pool);
/* A forward convolution with its epilogue, y = act(scale[f] * conv(x, w) + shift[f]) per output
 * channel f (scale, shift: F floats each, NULL for 1 and 0; act an NNC_ACT_*, alpha its
 * parameter: relu's slope below 0, elu's alpha). Returns 1 when y holds that; 0 when y holds the
 * plain convolution and the caller applies the epilogue (the im2col path, grouped convolutions, no
 * oneDNN). oneDNN runs it as one primitive: scale folded into the weights as it reorders them,
 * shift as the convolution's bias, act as an eltwise post-op (docs/backend-llvm.md "Convolution
 * epilogues"). The generated code calls it for a conv kernel whose epilogue has that form. */
enum {
    NNC_ACT_NONE, NNC_ACT_RELU, NNC_ACT_TANH, NNC_ACT_SIGMOID, NNC_ACT_ELU, NNC_ACT_GELU_ERF,
    NNC_ACT_GELU_TANH, NNC_ACT_SWISH, NNC_ACT__COUNT
};
int32_t nnc_conv_forward_ep(const float *x, const float *w, float *y, float *col, const int64_t *geo,
                            const float *scale, const float *shift, int32_t act, float alpha, NncPool *pool);
void nnc_conv_backward_data(const float *dy, const float *w, float *dx, float *col, const int64_t *geo,
                            NncPool *pool);
void nnc_conv_backward_filter(const float *x, const float *dy, float *dw, float *col, const int64_t *geo,
                              NncPool *pool);

/* runtime/bmm.c: C[p] = op(A[p]) op(B[p]) for p in [0, P) (row-major, dense; ta/tb transpose the
 * [M, K] / [K, N] operands), the P products split across the pool. The batched (3-D) matmul
 * kernels call it. */
void nnc_sgemm_batched(int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                       const float *B, float *C, NncPool *pool);
/* runtime/bmm.c: the same with causal attention's masked triangle skipped (mode: Kernel.causal,
 * compiler/kernel/kernel.h: 1 C needed at j <= i only, 2 A zero at j > i, 3 that A transposed). */
void nnc_sgemm_batched_causal(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                              const float *A, const float *B, float *C, NncPool *pool);
/* runtime/bmm.c: nnc_sgemm_batched_causal (mode 0: no causal mark) with A, B and C in place as
 * views (compiler/passes/gemm_view.c): product p of A at A + (p / ah) asb + (p mod ah) ash, rows lda
 * apart (ah = 1: p asb); so for B and C. */
void nnc_sgemm_batched_view(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                            const float *A, int64_t ah, int64_t asb, int64_t ash, int64_t lda, const float *B,
                            int64_t bh, int64_t bsb, int64_t bsh, int64_t ldb, float *C, int64_t ch, int64_t csb,
                            int64_t csh, int64_t ldc, NncPool *pool);
/* Its blocks of rows: NNC_CAUSAL_BLOCK rows each while M <= NNC_CAUSAL_BLOCK * NNC_CAUSAL_NBLOCKS
 * (the compiler relies on it: a causal row kernel marked `band` leaves its row i's columns from
 * i rounded up to a multiple of NNC_CAUSAL_BLOCK unwritten, and these products never read them). */
#define NNC_CAUSAL_BLOCK 32
#define NNC_CAUSAL_NBLOCKS 64

/* runtime/bmm.c: nnc_parallel_for with OpenBLAS at 1 thread for the call (restored after), for
 * loops whose iterations each call BLAS: the batched products, nnc_sgemm's blocks, conv's slices. */
void nnc_parallel_blas(NncPool *pool, int64_t n, void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx);

/* runtime/bmm.c: C = op(A) op(B) + beta C, row-major with leading dimensions (cblas_sgemm's
 * arguments less alpha = 1): with a pool of T > 1 threads and a product large enough for OpenBLAS
 * to thread it itself (M N K > 262,144), C is cut into T blocks of rows (or of columns, whichever
 * copies less of the operand every block packs again), one single-threaded cblas_sgemm per block
 * on the pool's threads; otherwise one cblas_sgemm. The executables' matmul kernels call it. */
void nnc_sgemm(int32_t ta, int32_t tb, int32_t M, int32_t N, int32_t K, const float *A, int32_t lda,
               const float *B, int32_t ldb, float beta, float *C, int32_t ldc, NncPool *pool);

/* runtime/packed_gemm.c: nnc_sgemm with op(B) (a weight used by several products in a row) packed
 * once by oneDNN and kept, per calling thread, under the key `handle` (the address of a global, one
 * per group of products) for the calls that follow; nnc_packed_begin with repack != 0 marks the
 * packed copy stale (B was written since). Falls back to nnc_sgemm
 * where oneDNN's packed sgemm is missing or NNC_PACKED_GEMM=0. nnc_packed_gemm_available: 1 when
 * the packed path is in use. */
void nnc_packed_begin(void **handle, int32_t repack);
void nnc_sgemm_packed(void **handle, int32_t ta, int32_t tb, int32_t M, int32_t N, int32_t K, const float *A,
                      int32_t lda, const float *B, int32_t ldb, float beta, float *C, int32_t ldc, NncPool *pool);
int nnc_packed_gemm_available(void);

/* runtime/mpi.c: out[j] = the mean over the processes of a data-parallel run of in[j] (count[j]
 * floats), for j in [0, n), as one reduction of the n buffers packed together; in[j] may be out[j].
 * In a run of one process it only copies where in[j] != out[j]. The allreduce kernel of a train
 * step (the step's every gradient, docs/distributed.md) calls it. */
void nnc_allreduce_mean(int32_t n, void *const *in, void *const *out, const int64_t *count);

/* When OpenBLAS picked kernels weaker than the CPU supports (its load-time detection does not
 * know every CPU) and OPENBLAS_CORETYPE is unset: re-executes the program (/proc/self/exe, argv)
 * with OPENBLAS_CORETYPE naming the right kernels; else (or if exec fails) returns. Call it first
 * thing in main, before any output (runtime/blas.c). */
void nnc_blas_check(char **argv);

/* The runtime's entry point: parses argv (train / eval / predict / summary / --help), returns the
 * process exit status. runtime/main.c calls it with the model linked into the executable. */
int nnc_main(const NncModelDef *def, int argc, char **argv);

#endif
