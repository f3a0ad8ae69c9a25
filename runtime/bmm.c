/* bmm.c - matrix products on the runtime's threads: nnc_sgemm (the 2-D matmul kernels) and
 * nnc_sgemm_batched (the IR's 3-D matmul: attention's q k^T and its v products).
 *
 * nnc_sgemm: one thread pool for everything. The executables set OpenBLAS to 1 thread
 * (rt_prepare) and split a large product across the pool themselves: OpenBLAS's own worker
 * threads wait for the next product in a sched_yield loop (about 0.1 s after each product, so
 * always, between a step's GEMMs), which took ~20% of mlp_small's CPU samples at 2 threads and,
 * on a loaded machine, the core from the pool's and the main thread's work. The split: C in T
 * blocks of whole rows when N <= M (each block packs all of op(B) again: K N floats), else of
 * columns, aligned to 16 (each packs all of op(A): M K floats), so the copy repeated is the
 * smaller operand. As with OpenBLAS's own threading, the last bits may depend on T (the blocks'
 * sizes pick OpenBLAS's blocking); the same T repeats a run exactly. A block with beta = 0, A not
 * transposed, op(B) of at most 1 MiB and 2^24 multiply-adds or more (a transformer's forward and
 * input-gradient products) runs on oneDNN's matmul instead where it is present and $NNC_GEMM is
 * not `openblas`: 6-19% faster there, without OpenBLAS's pass that zeroes C for beta = 0
 * (runtime/conv_dnnl.c nnc_dnnl_sgemm).
 *
 * C[p] = op(A[p]) op(B[p]) for p in [0, P), row-major, each matrix dense. The products are small
 * (T x d by d x T per head and sample), where OpenBLAS runs one thread per call whatever it is set
 * to, so a loop of calls would leave the other cores idle: with a pool of T > 1 threads the P
 * products are split across the pool, OpenBLAS set to 1 thread meanwhile (as runtime/conv.c
 * does for its per-thread slices). Each product is one single-threaded cblas_sgemm either way, so
 * the bits do not depend on the thread count. Where oneDNN is present (and $NNC_BMM is not
 * `openblas`) its matmul computes the products instead, one single-threaded product at a time on
 * the same pool (runtime/conv_dnnl.c nnc_dnnl_sgemm_batched): 25-50% faster on attention's
 * 128 x 128 x 32 products (docs/backend-llvm.md "Batched matmul").
 */
#include <cblas.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv_dnnl.h"
#include "nnc_abi.h"


/* ---- $NNC_GEMM_TRACE=1: every product's shape, route and time, summed per shape at exit ----
 *
 * For measuring which library a shape should go to (docs/backend-llvm.md "Matmul"): each call of
 * nnc_sgemm, nnc_sgemm_batched and nnc_sgemm_batched_causal is timed (wall clock of the whole call,
 * all its blocks on the pool included) and summed per (kind, transposes, P, M, N, K, beta, route);
 * at exit one line per row goes to stderr with calls, seconds and GFLOP/s (2 M N K P per call;
 * causal products count the whole product's FLOPs). Off (one getenv) unless set. */
enum { RT_OPENBLAS, RT_DNNL_MATMUL, RT_DNNL_SGEMM, RT_DNNL_BATCHED, RT_CAUSAL };
static const char *const route_name[] = {"openblas", "dnnl-matmul", "dnnl-sgemm", "dnnl-batched", "causal"};
typedef struct TraceRow {
    int kind, ta, tb, route;    /* kind: 0 nnc_sgemm, 1 batched, 2.. causal mode + 1, 5.. view mode + 5 */
    int64_t P, M, N, K;
    float beta;
    int64_t calls;
    double s;
} TraceRow;
#define TRACE_ROWS 256
static TraceRow trace_rows[TRACE_ROWS];
static int trace_n, trace_on = -1;
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *const kind_name[] = {"gemm", "batched", "causal1", "causal2", "causal3", "view", "view1", "view2", "view3"};

static void trace_print(void) {
    fprintf(stderr, "NNC_GEMM_TRACE: kind ta tb P M N K beta route calls seconds GFLOP/s\n");
    double tot = 0;
    for (int i = 0; i < trace_n; i++) {
        const TraceRow *r = &trace_rows[i];
        double fl = 2.0 * (double)r->P * (double)r->M * (double)r->N * (double)r->K * (double)r->calls;
        tot += r->s;
        fprintf(stderr, "NNC_GEMM_TRACE: %s %d %d %lld %lld %lld %lld %g %s %lld %.4f %.1f\n",
                kind_name[r->kind],
                r->ta, r->tb, (long long)r->P, (long long)r->M, (long long)r->N, (long long)r->K, (double)r->beta,
                route_name[r->route], (long long)r->calls, r->s, r->s > 0 ? fl / r->s * 1e-9 : 0.0);
    }
    fprintf(stderr, "NNC_GEMM_TRACE: total %.4f s\n", tot);
}

static bool tracing(void) {
    if (trace_on < 0) {
        pthread_mutex_lock(&trace_mu);
        if (trace_on < 0) {
            const char *e = getenv("NNC_GEMM_TRACE");
            trace_on = e && *e && strcmp(e, "0") != 0;
            if (trace_on)
                atexit(trace_print);
        }
        pthread_mutex_unlock(&trace_mu);
    }
    return trace_on > 0;
}

static double trace_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void trace_add(int kind, int ta, int tb, int64_t P, int64_t M, int64_t N, int64_t K, float beta, int route,
                      double s) {
    pthread_mutex_lock(&trace_mu);
    TraceRow *r = NULL;
    for (int i = 0; i < trace_n && !r; i++) {
        TraceRow *q = &trace_rows[i];
        if (q->kind == kind && q->ta == ta && q->tb == tb && q->P == P && q->M == M && q->N == N && q->K == K &&
            q->beta == beta && q->route == route)
            r = q;
    }
    if (!r && trace_n < TRACE_ROWS) {
        r = &trace_rows[trace_n++];
        *r = (TraceRow){kind, ta, tb, route, P, M, N, K, beta, 0, 0.0};
    }
    if (r)
        r->calls++, r->s += s;
    pthread_mutex_unlock(&trace_mu);
}

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

typedef struct GemmJob {
    int ta, tb, M, N, K, lda, ldb, ldc, parts;
    bool rows;          /* split C by rows, else by columns */
    const float *A, *B;
    float *C, beta;
    bool dnnl;          /* each block through oneDNN's sgemm (small_gemm_dnnl) */
    int route;          /* the route block 0 took (RT_*, $NNC_GEMM_TRACE) */
} GemmJob;

/* returns the route taken (RT_*) */
static int gemm_block(const GemmJob *j, int lo, int hi) {
    const float *A = j->A, *B = j->B;
    float *C = j->C;
    int M = j->M, N = j->N;
    if (j->rows) {      /* rows [lo, hi) of op(A) and C */
        A += j->ta ? lo : (int64_t)lo * j->lda;
        C += (int64_t)lo * j->ldc;
        M = hi - lo;
    } else {            /* columns [lo, hi) of op(B) and C */
        B += j->tb ? (int64_t)lo * j->ldb : lo;
        C += lo;
        N = hi - lo;
    }
    /* oneDNN where it ran faster than OpenBLAS. Small products (small_gemm_dnnl below): its sgemm
     * (runtime/conv_dnnl.c nnc_dnnl_small_sgemm). Large ones (beta = 0, A not transposed, op(B) of at
     * most 1 MiB, at least 2^24 multiply-adds in the block; below that a model's products are too
     * small to pay for opening oneDNN's matmul): its matmul primitive (nnc_dnnl_sgemm) */
    if (j->dnnl && nnc_dnnl_small_sgemm(j->ta, j->tb, M, N, j->K, A, j->lda, B, j->ldb, j->beta, C, j->ldc))
        return RT_DNNL_SGEMM;
    if (!j->dnnl && j->beta == 0.0f && !j->ta && (int64_t)j->K * N <= 262144 && (double)M * N * j->K >= 16777216.0 &&
        nnc_dnnl_sgemm(j->ta, j->tb, M, N, j->K, A, j->lda, B, j->ldb, C, j->ldc))
        return RT_DNNL_MATMUL;
    cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans, M, N, j->K,
                1.0f, A, j->lda, B, j->ldb, j->beta, C, j->ldc);
    return RT_OPENBLAS;
}

/* block t of j->parts: [n t / parts, n (t + 1) / parts) with inner bounds rounded to `align` */
static void gemm_run(void *ctx, int64_t lo, int64_t hi) {
    GemmJob *j = ctx;
    int64_t n = j->rows ? j->M : j->N, align = j->rows ? 8 : 16;
    for (int64_t t = lo; t < hi; t++) {
        int64_t b = t == 0 ? 0 : (n * t / j->parts + align / 2) / align * align;
        int64_t e = t + 1 == j->parts ? n : (n * (t + 1) / j->parts + align / 2) / align * align;
        if (b < e) {
            int r = gemm_block(j, (int)b, (int)e);
            if (t == 0)
                j->route = r;
        }
    }
}

/* fn over [0, n) on the pool's threads, each calling single-threaded OpenBLAS: its own threading is
 * turned off for the call when it is on (an executable runs it at 1 thread already, rt_prepare;
 * an `nnc -c` embedding may not), so the products side by side do not start its workers too. */
void nnc_parallel_blas(NncPool *pool, int64_t n, void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx) {
    int bt = openblas_get_num_threads();
    if (bt != 1)
        openblas_set_num_threads(1);
    nnc_parallel_for(pool, n, fn, ctx);
    if (bt != 1)
        openblas_set_num_threads(bt);
}

/* Whether a product goes to oneDNN's sgemm (runtime/conv_dnnl.c nnc_dnnl_small_sgemm) instead of OpenBLAS's:
 * op(A) not transposed, C overwritten (beta = 0), at most 8 M multiply-adds, and with B not
 * transposed at most 256 columns (768 from 64 rows on). Measured per shape at one thread
 * (docs/backend-llvm.md "Small products"; AMD EPYC Zen 3, OpenBLAS 0.3.21's Zen kernels, oneDNN
 * 2.6.3's jit sgemm): oneDNN takes 0.15-0.94 of OpenBLAS's time on mlp_small's forward (64 x 128 x
 * 784 and its 64-column halves, 64 x 10 x 128), its dh = dy W2^T (64 x 128 x 10), mlp_wide's last
 * layer and dX, im2col-like and attention-like shapes; it is slower on transposed A (the weight
 * gradients dW = x^T dy: 1.06-1.09), on large products (256 x 1024 x 784: 2x) and on wide
 * non-transposed B with few rows (32 x 1024 x 128: 1.56, 32 x 512 x 256: 1.14). The sums' order
 * is oneDNN's: the last bits differ from OpenBLAS's (the tests compare with tolerances); the same
 * thread count repeats a run exactly. $NNC_GEMM=openblas turns it off. */
static bool small_gemm_dnnl(int32_t ta, int32_t tb, int32_t M, int32_t N, int32_t K, float beta) {
    if (ta || beta != 0.0f || (double)M * N * K > 8.0e6)
        return false;
    if (!tb && N > (M >= 64 ? 768 : 256))
        return false;
    return nnc_dnnl_gemm_available();
}

static int sgemm_run(int32_t ta, int32_t tb, int32_t M, int32_t N, int32_t K, const float *A, int32_t lda,
                      const float *B, int32_t ldb, float beta, float *C, int32_t ldc, NncPool *pool) {
    GemmJob j = {ta, tb, M, N, K, lda, ldb, ldc, 1, N <= M, A, B, C, beta, small_gemm_dnnl(ta, tb, M, N, K, beta), RT_OPENBLAS};
    int64_t T = nnc_pool_threads(pool), n = j.rows ? M : N, align = j.rows ? 8 : 16;
    if (T > n / align)
        T = n / align;
    if (T < 2 || (double)M * N * K <= 262144.0)         /* OpenBLAS's own threshold for threads */
        return gemm_block(&j, 0, j.rows ? M : N);
    j.parts = (int)T;
    nnc_parallel_blas(pool, T, gemm_run, &j);
    return j.route;
}

void nnc_sgemm(int32_t ta, int32_t tb, int32_t M, int32_t N, int32_t K, const float *A, int32_t lda,
               const float *B, int32_t ldb, float beta, float *C, int32_t ldc, NncPool *pool) {
    if (!tracing()) {
        sgemm_run(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, pool);
        return;
    }
    double t0 = trace_now();
    int r = sgemm_run(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, pool);
    trace_add(0, ta, tb, 1, M, N, K, beta, r, trace_now() - t0);
}

/* returns the route taken (the trace's) */
static int batched_run(int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                       const float *B, float *C, NncPool *pool) {
    if (P <= 0 || M <= 0 || N <= 0)
        return RT_OPENBLAS;
    if (K <= 0) {   /* an empty sum: zeros (BLAS is not asked about degenerate sizes) */
        memset(C, 0, sizeof(float) * (size_t)(P * M * N));
        return RT_OPENBLAS;
    }
    if (nnc_dnnl_sgemm_batched(ta, tb, P, M, N, K, A, B, C, pool))
        return RT_DNNL_BATCHED;
    BmmJob j = {ta, tb, M, N, K, A, B, C};
    if (nnc_pool_threads(pool) < 2 || P < 2)
        bmm_run(&j, 0, P);
    else
        nnc_parallel_blas(pool, P, bmm_run, &j);
    return RT_OPENBLAS;
}

void nnc_sgemm_batched(int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                       const float *B, float *C, NncPool *pool) {
    if (!tracing()) {
        batched_run(ta, tb, P, M, N, K, A, B, C, pool);
        return;
    }
    double t0 = trace_now();
    int r = batched_run(ta, tb, P, M, N, K, A, B, C, pool);
    trace_add(1, ta, tb, P, M, N, K, 0.0f, r, trace_now() - t0);
}

/* ---- causal attention's products (compiler/passes/causal.c, docs/kernels.md "Causal kernels") ----
 *
 * nnc_sgemm_batched with the triangle above the diagonal of a [T, S] tile skipped, C by blocks of
 * rows [r0, r1) (NNC_CAUSAL_BLOCK = 32 rows each up to 64 blocks, nnc_abi.h: a causal row kernel
 * reads row i's columns up to i rounded up to a multiple of 8, or 16 with an exp, and one marked
 * `band` writes them up to i rounded up to a multiple of 32 only, compiler/backend/llvm/llvm.c
 * row_range), each product's blocks one after another:
 *   mode 1 (C needed at j <= i only): block r0.. computes C's columns j < r1 only; the rest of C is
 *          left as it was (its readers skip it);
 *   mode 2 (A [T, S] is 0 at j > i, not transposed): block r0.. sums over A's columns k < r1 only;
 *   mode 3 (that A transposed, C = A^T op(B)): block r0.. sums over A's rows k >= r0 only (rows
 *          of C with no such k are zeros).
 * The terms skipped are zeros or never read; the sums' grouping differs from one product's, so
 * the last bits may (the tests compare with tolerances); the same thread count repeats a run. */
typedef struct CausalJob {
    int nb;
    const NncGemmBlock *blk;
    const float *A, *B;
    float *C;
    int64_t sa, sb, sc;
    int64_t ah, ash, bh, bsh;   /* ah > 1: product p of A at (p / ah) sa + (p mod ah) ash (views); so for B */
    int64_t ch, csh;            /* and C */
} CausalJob;

static void causal_run(void *ctx, int64_t lo, int64_t hi) {
    const CausalJob *j = ctx;
    for (int64_t p = lo; p < hi; p++)
        for (int q = 0; q < j->nb; q++) {
            const NncGemmBlock *b = &j->blk[q];
            float *C = j->C + (j->ch > 1 ? p / j->ch * j->sc + p % j->ch * j->csh : p * j->sc) + b->c;
            int64_t oa = j->ah > 1 ? p / j->ah * j->sa + p % j->ah * j->ash : p * j->sa;
            int64_t ob = j->bh > 1 ? p / j->bh * j->sb + p % j->bh * j->bsh : p * j->sb;
            if (b->K <= 0) {
                for (int64_t r = 0; r < b->M; r++)
                    memset(C + r * b->ldc, 0, sizeof(float) * (size_t)b->N);
                continue;
            }
            cblas_sgemm(CblasRowMajor, b->ta ? CblasTrans : CblasNoTrans, b->tb ? CblasTrans : CblasNoTrans,
                        (int)b->M, (int)b->N, (int)b->K, 1.0f, j->A + oa + b->a, (int)b->lda,
                        j->B + ob + b->b, (int)b->ldb, 0.0f, C, (int)b->ldc);
        }
}

static int causal_products(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                           const float *A, const float *B, float *C, NncPool *pool);

void nnc_sgemm_batched_causal(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                              const float *A, const float *B, float *C, NncPool *pool) {
    if (!tracing()) {
        causal_products(mode, ta, tb, P, M, N, K, A, B, C, pool);
        return;
    }
    double t0 = trace_now();
    int r = causal_products(mode, ta, tb, P, M, N, K, A, B, C, pool);
    trace_add(1 + mode, ta, tb, P, M, N, K, 0.0f, r, trace_now() - t0);
}

/* The blocks of rows of C for causal mode `mode` (0: one block, the whole product), op(A) and op(B)
 * stored with leading dimensions lda and ldb; *empty: a block sums over nothing (K <= 0) */
static int product_blocks(int32_t mode, int32_t ta, int32_t tb, int64_t M, int64_t N, int64_t K, int64_t lda,
                          int64_t ldb, NncGemmBlock *blk, bool *empty) {
    *empty = false;
    if (mode == 0) {
        blk[0] = (NncGemmBlock){ta, tb, M, N, K, lda, ldb, N, 0, 0, 0};
        *empty = K <= 0;
        return 1;
    }
    int64_t R = NNC_CAUSAL_BLOCK;      /* nnc_abi.h: what the compiler's causal row kernels rely on */
    if (R * NNC_GEMM_BLOCKS < M)
        R = ((M + NNC_GEMM_BLOCKS - 1) / NNC_GEMM_BLOCKS + 31) / 32 * 32;
    int nb = 0;
    for (int64_t r0 = 0; r0 < M; r0 += R) {
        int64_t r1 = r0 + R < M ? r0 + R : M;
        NncGemmBlock b = {ta, tb, r1 - r0, N, K, lda, ldb, N, ta ? r0 : r0 * lda, 0, r0 * N};
        if (mode == 1) {
            b.N = r1 < N ? r1 : N;
        } else if (mode == 2) {
            b.K = r1 < K ? r1 : K;
        } else if (mode == 3) {
            b.K = K - r0;
            b.a = r0 * lda + r0;
            b.b = tb ? r0 : r0 * ldb;
        }
        *empty |= b.K <= 0;
        blk[nb++] = b;
    }
    return nb;
}

/* ---- products read in place from a tensor whose batch dims are not adjacent (compiler/passes/gemm_view.c) ----
 *
 * nnc_sgemm_batched_causal (mode 0: nnc_sgemm_batched) with A, B and C given as views: product p of A
 * is at A + (p / ah) asb + (p mod ah) ash, its op matrix stored with rows lda apart (so for B and C;
 * h = 1: p sb, dense). A [B, T, H, D] tensor's head h of sample b (a transformer's q, k, v before
 * the head split, their slices of the qkv product [B, T, 3 H D], or the heads' outputs before the
 * merge) is h = H, sb = T ld, sh = D, ld = H D (3 H D): the products read and write it where it
 * is instead of through a transposed copy. The same sums in the same order as the dense call. */
static void zero_c(int64_t P, int64_t M, int64_t N, float *C, int64_t ch, int64_t csb, int64_t csh, int64_t ldc) {
    for (int64_t p = 0; p < P; p++)
        for (int64_t r = 0; r < M; r++)
            memset(C + (ch > 1 ? p / ch * csb + p % ch * csh : p * csb) + r * ldc, 0, sizeof(float) * (size_t)N);
}

static int view_products(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                         const float *A, int64_t ah, int64_t asb, int64_t ash, int64_t lda, const float *B, int64_t bh,
                         int64_t bsb, int64_t bsh, int64_t ldb, float *C, int64_t ch, int64_t csb, int64_t csh,
                         int64_t ldc, NncPool *pool) {
    if (P <= 0 || M <= 0 || N <= 0)
        return RT_OPENBLAS;
    if (ah < 1) ah = 1;
    if (bh < 1) bh = 1;
    if (ch < 1) ch = 1;
    if (K <= 0) {
        zero_c(P, M, N, C, ch, csb, csh, ldc);
        return RT_OPENBLAS;
    }
    NncGemmBlock blk[NNC_GEMM_BLOCKS];
    bool empty;
    int nb = product_blocks(mode, ta, tb, M, N, K, lda, ldb, blk, &empty);
    for (int q = 0; q < nb; q++) {     /* C's rows ldc apart: the blocks' offsets in it too */
        blk[q].c = blk[q].c / N * ldc;
        blk[q].ldc = ldc;
    }
    if (mode != 3 && empty) {       /* mode 2 with K = 0 only, excluded above */
        zero_c(P, M, N, C, ch, csb, csh, ldc);
        return RT_OPENBLAS;
    }
    /* one grouping H for all three: a dense operand (h = 1) is any H's, s H and s apart */
    int64_t H = ah > 1 ? ah : bh > 1 ? bh : ch;
    bool common = (ah == 1 || ah == H) && (bh == 1 || bh == H) && (ch == 1 || ch == H) && P % H == 0;
    int64_t sa = ah == 1 ? asb * H : asb, sa2 = ah == 1 ? asb : ash;
    int64_t sb = bh == 1 ? bsb * H : bsb, sb2 = bh == 1 ? bsb : bsh;
    int64_t sc = ch == 1 ? csb * H : csb, sc2 = ch == 1 ? csb : csh;
    if (common && !empty && nnc_dnnl_sgemm_batched_grouped(nb, blk, P, H, A, sa, sa2, B, sb, sb2, C, sc, sc2, pool))
        return RT_DNNL_BATCHED;
    CausalJob j = {nb, blk, A, B, C, asb, bsb, csb, ah, ash, bh, bsh, ch, csh};
    if (nnc_pool_threads(pool) < 2 || P < 2)
        causal_run(&j, 0, P);
    else
        nnc_parallel_blas(pool, P, causal_run, &j);
    return RT_OPENBLAS;
}

/* the dense causal products: views of one group with the dense strides */
static int causal_products(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                           const float *A, const float *B, float *C, NncPool *pool) {
    return view_products(mode, ta, tb, P, M, N, K, A, 1, M * K, 0, ta ? M : K, B, 1, K * N, 0, tb ? K : N, C, 1, M * N,
                         0, N, pool);
}

void nnc_sgemm_batched_view(int32_t mode, int32_t ta, int32_t tb, int64_t P, int64_t M, int64_t N, int64_t K,
                            const float *A, int64_t ah, int64_t asb, int64_t ash, int64_t lda, const float *B,
                            int64_t bh, int64_t bsb, int64_t bsh, int64_t ldb, float *C, int64_t ch, int64_t csb,
                            int64_t csh, int64_t ldc, NncPool *pool) {
    if (!tracing()) {
        view_products(mode, ta, tb, P, M, N, K, A, ah, asb, ash, lda, B, bh, bsb, bsh, ldb, C, ch, csb, csh, ldc, pool);
        return;
    }
    double t0 = trace_now();
    int r = view_products(mode, ta, tb, P, M, N, K, A, ah, asb, ash, lda, B, bh, bsb, bsh, ldb, C, ch, csb, csh, ldc,
                          pool);
    trace_add(5 + mode, ta, tb, P, M, N, K, 0.0f, r, trace_now() - t0);
}
