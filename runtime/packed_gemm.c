/* packed_gemm.c - matrix products whose weight operand is packed once and reused: the recurrent
 * products of an unrolled RNN/LSTM/GRU (h W_hh^T forward, dgates W_hh backward: T calls a step
 * on the same weights, docs/backend-llvm.md "Packed weights").
 *
 * OpenBLAS 0.3.21 packs both operands on every call and has no pack-once API; for char_lstm's
 * [32, 256] x [256, 1024] that copy of the whole weight matrix for 32 rows was 11.5% of a step.
 * oneDNN's jit sgemm (Debian's libdnnl2, the library runtime/conv_dnnl.c uses) can pack one operand
 * once and compute against it many times: sgemm_pack_get_size, sgemm_pack and sgemm_compute in
 * namespace dnnl::impl::cpu, the calls its own RNN primitives make. They are exported from
 * libdnnl.so.2 but not declared in its public headers, so they are looked up here by their
 * (Itanium C++ ABI) names with dlsym; where the library or any of them is missing, or
 * NNC_PACKED_GEMM=0 is set, every call is an ordinary nnc_sgemm (runtime/bmm.c) and nothing
 * else changes.
 *
 * The compiler decides which products share a packed operand (llvm.c `pack_groups`): the 2-D
 * matmuls of one graph whose B is the same argument buffer (a parameter), the same transposition
 * and size, used at least PACK_MIN_USES times. Each group has a handle (the address of a global
 * of the executable: the key of the calling thread's packed copy here, so two threads running the
 * same graph never share one), and the first member
 * after any kernel that wrote the buffer (and the first of each call) passes repack = 1: the
 * weights are packed again from the buffer there and reused by the members that follow. The
 * handle also records the buffer's address, sizes, transposition, thread count and rows (M) it
 * was packed for, and packs again when any differs, so a wrong repack flag can only cost time
 * where those change; the flag itself is what keeps the packed copy equal to the buffer.
 *
 * Threads: as nnc_sgemm's column split. C's columns (op(B)'s columns) are cut into T blocks
 * aligned to 16, thread t packs its block of the weights into its own buffer and computes its
 * block of C from it, with oneDNN at one OpenMP thread (libgomp's per-thread setting, restored
 * after the call, as conv_dnnl.c does). The sums' order is oneDNN's, not OpenBLAS's: the bits
 * differ from nnc_sgemm's in the last places (the tests compare with tolerances).
 *
 * Memory: the packed blocks are allocated at the first pack and kept (grown if a later pack needs
 * more); about the weight matrix's size per group and thread.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnc_abi.h"

typedef long dnnl_dim; /* dnnl_dim_t, int64_t on x86-64 Linux: the `l` of the names below */

/* dnnl::impl::cpu::sgemm_pack_get_size / sgemm_pack / sgemm_compute (oneDNN 2.x, gemm_pack.hpp):
 * column-major (BLAS) conventions, every argument by pointer; return dnnl_status_t (0: success). */
typedef int (*PackSizeFn)(const char *id, const char *ta, const char *tb, const dnnl_dim *M, const dnnl_dim *N,
                          const dnnl_dim *K, const dnnl_dim *lda, const dnnl_dim *ldb, size_t *size, bool *pack);
typedef int (*PackFn)(const char *id, const char *ta, const char *tb, const dnnl_dim *M, const dnnl_dim *N,
                      const dnnl_dim *K, const dnnl_dim *lda, const dnnl_dim *ldb, const float *src, float *dst);
typedef int (*ComputeFn)(const char *ta, const char *tb, const dnnl_dim *M, const dnnl_dim *N, const dnnl_dim *K,
                         const float *A, const dnnl_dim *lda, const float *B, const dnnl_dim *ldb, const float *beta,
                         float *C, const dnnl_dim *ldc);

static struct {
    bool ok;
    PackSizeFn size;
    PackFn pack;
    ComputeFn compute;
    int (*omp_get)(void);
    void (*omp_set)(int);
} pk;
static pthread_once_t pk_once = PTHREAD_ONCE_INIT;

static void pk_open(void) {
    const char *e = getenv("NNC_PACKED_GEMM");
    if (e && !strcmp(e, "0"))
        return;
    void *lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return;
    *(void **)&pk.size = dlsym(lib, "_ZN4dnnl4impl3cpu19sgemm_pack_get_sizeEPKcS3_S3_PKlS5_S5_S5_S5_PmPb");
    *(void **)&pk.pack = dlsym(lib, "_ZN4dnnl4impl3cpu10sgemm_packEPKcS3_S3_PKlS5_S5_S5_S5_PKfPf");
    *(void **)&pk.compute = dlsym(lib, "_ZN4dnnl4impl3cpu13sgemm_computeEPKcS3_PKlS5_S5_PKfS5_S7_S5_S7_PfS5_");
    *(void **)&pk.omp_get = dlsym(lib, "omp_get_max_threads");
    *(void **)&pk.omp_set = dlsym(lib, "omp_set_num_threads");
    if (!pk.size || !pk.pack || !pk.compute || !pk.omp_get || !pk.omp_set) {
        dlclose(lib);
        return;
    }
    pk.ok = true; /* the library stays loaded for the process (its jit kernels live in it) */
}

int nnc_packed_gemm_available(void) {
    pthread_once(&pk_once, pk_open);
    return pk.ok;
}

#define PACK_MAX_THREADS 64

typedef struct Packed {
    bool valid;
    const float *B;           /* what the blocks hold: B's address, ... */
    int32_t tb, N, K, ldb, M; /* ... transposition, sizes and the rows they were packed for */
    int parts;
    int32_t col[PACK_MAX_THREADS + 1]; /* block t: C's columns [col[t], col[t + 1]) */
    float *buf[PACK_MAX_THREADS];
    size_t cap[PACK_MAX_THREADS];
    bool failed;              /* a pack failed: this group runs nnc_sgemm from then on */
} Packed;

typedef struct PackJob {
    Packed *p;
    bool pack;                /* pack the blocks before computing */
    int32_t ta, M, N, K, lda, ldc;
    const float *A, *B;
    float *C;
    float beta;
    int err;
} PackJob;

/* C's columns [c0, c1) (rows of the column-major C^T = op(B)^T op(A)^T): op(B)^T's rows c0..c1
 * are the packed "A" operand; op(A)^T the unpacked "B" one. */
static void pack_block(void *ctx, int64_t lo, int64_t hi) {
    PackJob *j = ctx;
    Packed *p = j->p;
    if (pk.omp_get() != 1)
        pk.omp_set(1);
    for (int64_t t = lo; t < hi; t++) {
        int32_t c0 = p->col[t], c1 = p->col[t + 1];
        dnnl_dim m = c1 - c0, n = j->M, k = j->K, lda = p->ldb, ldb = j->lda, ldc = j->ldc;
        const char *tpk = p->tb ? "T" : "N", *tx = j->ta ? "T" : "N";
        if (j->pack) {
            size_t size = 0;
            bool want = true;
            if (pk.size("A", tpk, tx, &m, &n, &k, &lda, &ldb, &size, &want) != 0) {
                __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
                break;
            }
            if (size > p->cap[t]) {
                free(p->buf[t]);
                p->buf[t] = aligned_alloc(64, (size + 63) / 64 * 64);
                p->cap[t] = p->buf[t] ? size : 0;
                if (!p->buf[t]) {
                    __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
                    break;
                }
            }
            const float *src = p->B + (p->tb ? (int64_t)c0 * p->ldb : c0);
            if (pk.pack("A", tpk, tx, &m, &n, &k, &lda, &ldb, src, p->buf[t]) != 0) {
                __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
                break;
            }
        }
        if (pk.compute("P", tx, &m, &n, &k, p->buf[t], &lda, j->A, &ldb, &j->beta, j->C + c0, &ldc) != 0) {
            __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
            break;
        }
    }
}

/* The calling thread's Packed of the group whose key is `key` (the address of a global of the
 * executable, one per group); NULL when it has none and create is false, or out of slots/memory.
 * Per thread, so that two threads running the same graph never share a packed copy. */
#define PACK_MAX_GROUPS 64
static _Thread_local struct {
    void **key;
    Packed *p;
} slots[PACK_MAX_GROUPS];
static _Thread_local int nslots;

static Packed *lookup(void **key, bool create) {
    for (int i = 0; i < nslots; i++)
        if (slots[i].key == key)
            return slots[i].p;
    if (!create || nslots == PACK_MAX_GROUPS)
        return NULL;
    Packed *p = calloc(1, sizeof *p);
    if (p)
        slots[nslots].key = key, slots[nslots++].p = p;
    return p;
}

void nnc_packed_begin(void **handle, int32_t repack) {
    Packed *p = repack ? lookup(handle, false) : NULL;
    if (p)
        p->valid = false;
}

void nnc_sgemm_packed(void **handle, int32_t ta, int32_t tb, int32_t M, int32_t N, int32_t K, const float *A,
                      int32_t lda, const float *B, int32_t ldb, float beta, float *C, int32_t ldc, NncPool *pool) {
    Packed *p = nnc_packed_gemm_available() ? lookup(handle, true) : NULL;
    if (!p || p->failed || beta != 0.0f) {   /* the compiler passes beta = 0 (a failed call is redone whole) */
        nnc_sgemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, pool);
        return;
    }
    int64_t T = nnc_pool_threads(pool);
    if (T > N / 16)
        T = N / 16;
    if (T < 1)
        T = 1;
    if (T > PACK_MAX_THREADS)
        T = PACK_MAX_THREADS;
    bool pack = !p->valid || p->B != B || p->tb != tb || p->N != N || p->K != K || p->ldb != ldb || p->M != M ||
                p->parts != T;
    if (pack) {
        p->valid = false;
        p->B = B, p->tb = tb, p->N = N, p->K = K, p->ldb = ldb, p->M = M, p->parts = (int)T;
        for (int64_t t = 0; t <= T; t++)     /* nnc_sgemm's column blocks (bmm.c gemm_run) */
            p->col[t] = t == 0 ? 0 : t == T ? N : (int32_t)((N * t / T + 8) / 16 * 16);
    }
    PackJob j = {p, pack, ta, M, N, K, lda, ldc, A, B, C, beta, 0};
    if (T > 1)
        nnc_parallel_blas(pool, T, pack_block, &j);
    else
        pack_block(&j, 0, 1);
    if (j.err) {    /* oneDNN refused (no jit kernel for this CPU, no memory): OpenBLAS from now on */
        p->failed = true;
        nnc_sgemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, pool);
        return;
    }
    p->valid = true;
}
