/* predict.c - bench/: batch-1 forward latency through the `nnc -c` embedding, beside the memory
 * bound, in one process.
 *
 * Built by bench.py against a model compiled with `nnc -c MODEL --prefix bm` (bm.h, bm.o) and
 * libnnc_rt.a. Every tensor is allocated at B = 1 from the descriptor; parameters get small uniform
 * values, the input values in [0, 1). One round times `calls` forward calls back to back (process
 * start, allocation and the first calls excluded), then `calls` passes that read every parameter
 * once (the memory bound: the least time a forward that reads its weights once can take, from the
 * same cache level the forward finds them in). Rounds alternate the two; the medians are printed:
 *
 *     predict ROUNDS CALLS [THREADS]  ->  predict_us=X bound_us=Y param_bytes=Z
 *
 * One thread by default: OpenBLAS is set to 1 and the model gets no pool, as PyTorch gets
 * torch.set_num_threads(1) on its side. THREADS > 1 gives the forward a pool of that many threads
 * (the runtime's, as `predict --threads` gets): a batch-1 convolution then runs in bands of output
 * rows, one per thread (runtime/conv_dnnl.c), against PyTorch at as many threads.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bm.h"
#include "rt.h"

static void *pool_alloc(void *ud, void *ptr, size_t n) { /* rt.h's allocator hook */
    (void)ud;
    if (n == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, n);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void *alloc64(size_t n) {
    void *p = aligned_alloc(64, (n + 63) / 64 * 64 + 64);
    if (!p) { fprintf(stderr, "predict: out of memory\n"); exit(1); }
    memset(p, 0, (n + 63) / 64 * 64 + 64);
    return p;
}

/* The parameters, for the bound: pointers and float counts. */
static float *pbuf[bm_NTENSORS];
static size_t pcount[bm_NTENSORS];
static int nparam;

/* Reads every parameter once, one vector register a load into 8 independent vector sums, so the
 * loads, not the adds, set the pace (built with -O2 -march=native: the widest loads the CPU has, as
 * the forward's own loads: 512-bit with AVX-512, else 256-bit with AVX; a 512-bit vector type on an
 * AVX2-only CPU is returned through memory and made this loop, not the memory, the limit). */
#if defined(__AVX512F__)
#define VLANES 16
#elif defined(__AVX__)
#define VLANES 8
#else
#define VLANES 4
#endif
typedef float Vec __attribute__((vector_size(VLANES * 4)));

static inline Vec load(const float *p) {
    Vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static float stream_params(void) {
    Vec a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    float tail = 0;
    for (int t = 0; t < nparam; t++) {
        const float *p = pbuf[t];
        size_t n = pcount[t], i = 0;
        for (; i + 8 * VLANES <= n; i += 8 * VLANES) {
            a0 += load(p + i), a1 += load(p + i + VLANES), a2 += load(p + i + 2 * VLANES);
            a3 += load(p + i + 3 * VLANES), a4 += load(p + i + 4 * VLANES), a5 += load(p + i + 5 * VLANES);
            a6 += load(p + i + 6 * VLANES), a7 += load(p + i + 7 * VLANES);
        }
        for (; i < n; i++) tail += p[i];
    }
    a0 += a1 + a2 + a3 + a4 + a5 + a6 + a7;
    for (int k = 0; k < VLANES; k++) tail += a0[k];
    return tail;
}

int main(int argc, char **argv) {
    nnc_blas_check(argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 21, calls = argc > 2 ? atoi(argv[2]) : 2000;
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    if (rounds < 1 || calls < 1 || threads < 1) { fprintf(stderr, "usage: predict [ROUNDS [CALLS [THREADS]]]\n"); return 2; }
    openblas_set_num_threads(1);
    void *bufs[bm_NTENSORS] = {0};
    size_t param_bytes = 0;
    uint64_t r = 0x9e3779b97f4a7c15ull;
    /* descriptor records: "tensor ROLE INDEX NAME DTYPE RANK DIM..." */
    for (const char *line = bm_desc; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char role[16], name[256], dtype[8];
        int index, rank, off;
        if (sscanf(line, "tensor %15s %d %255s %7s %d%n", role, &index, name, dtype, &rank, &off) != 5) continue;
        size_t numel = 1;
        const char *p = line + off;
        for (int i = 0; i < rank; i++) {
            char dim[32];
            int k;
            if (sscanf(p, " %31s%n", dim, &k) != 1) { fprintf(stderr, "predict: bad descriptor line\n"); return 1; }
            p += k;
            numel *= strcmp(dim, "B") ? (size_t)atoll(dim) : 1;
        }
        if (index < 0 || index >= bm_NTENSORS) { fprintf(stderr, "predict: bad tensor index\n"); return 1; }
        size_t bytes = numel * (strcmp(dtype, "bool") ? 4 : 1);
        bufs[index] = alloc64(bytes);
        bool param = !strcmp(role, "param"), input = !strcmp(role, "input");
        if (strcmp(dtype, "f32") || !(param || input)) continue;
        float *f = bufs[index];
        for (size_t i = 0; i < numel; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            float u = (float)(r >> 40) / 16777216.0f;
            f[i] = param ? (u - 0.5f) * 0.1f : u;
        }
        if (param) {
            pbuf[nparam] = f;
            pcount[nparam++] = numel;
            param_bytes += bytes;
        }
    }
    void *ws = alloc64((size_t)bm_workspace_size(1));
    RtCtx ctx = {.alloc = pool_alloc, .prog = "predict"};
    NncPool *pool = threads > 1 ? rt_pool_new(&ctx, threads) : NULL;
    if (threads > 1 && !pool) { fprintf(stderr, "predict: no thread pool\n"); return 1; }
    NncArgs a = {.B = 1, .bufs = bufs, .workspace = ws, .pool = pool};
    NncModelDef def = bm_model_def();
    for (int i = 0; i < calls; i++) def.forward(&a); /* warm caches, pages and branch predictors */
    volatile float sink = 0;
    for (int i = 0; i < calls; i++) sink += stream_params();
    double *tf = malloc(sizeof(double) * (size_t)rounds), *tb = malloc(sizeof(double) * (size_t)rounds);
    if (!tf || !tb) return 1;
    for (int k = 0; k < rounds; k++) {
        double t0 = now();
        for (int i = 0; i < calls; i++) def.forward(&a);
        double t1 = now();
        for (int i = 0; i < calls; i++) sink += stream_params();
        double t2 = now();
        tf[k] = (t1 - t0) / calls;
        tb[k] = (t2 - t1) / calls;
    }
    printf("predict_us=%.3f bound_us=%.3f param_bytes=%zu\n", 1e6 * median(tf, rounds), 1e6 * median(tb, rounds),
           param_bytes);
    free(tf);
    free(tb);
    free(ws);
    if (pool) rt_pool_free(&ctx, pool);
    for (int i = 0; i < bm_NTENSORS; i++) free(bufs[i]);
    return sink == 12345.678f ? 3 : 0;
}
