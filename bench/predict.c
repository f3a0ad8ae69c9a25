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
 *     predict ROUNDS CALLS [THREADS]  ->  predict_us=X bound_us=Y param_bytes=Z peak_gflops=P
 *
 * peak_gflops is one core's floating-point limit, measured in the same process: independent
 * chains of the widest fused multiply-add the compiler may use (-march=native: 8 floats with AVX2,
 * 16 with AVX-512), 2 flops each. bench.py divides cnn's one-thread forward flops by it and adds
 * bound_us: the least time its batch-1 forward can take on one core of this machine, compute and
 * weights together.
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

/* One core's single-precision FMA limit in GFLOP/s: NCHAIN independent accumulators (more than
 * the FMA units' latency times their count), each updated acc = acc * m + a; the best of 5 runs of
 * about 20 ms (another process on the core only lowers it). Without a vector FMA (not built
 * with -march=native on an FMA machine) it is not measured and prints 0: a scalar loop's lower
 * "peak" would make the time bound too high, no longer a bound. */
#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 vec;
#define VLEN 16
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VSET(x) _mm512_set1_ps(x)
static float vsum(vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__FMA__) && defined(__AVX__)
#include <immintrin.h>
typedef __m256 vec;
#define VLEN 8
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VSET(x) _mm256_set1_ps(x)
static float vsum(vec v) {
    float f[8];
    _mm256_storeu_ps(f, v);
    return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#endif
#ifdef VLEN
enum { NCHAIN = 12 };

static double peak_gflops(volatile float *sink) {
    double best[5];
    long iters = 1 << 16;
    for (int r = 0; r < 5; r++) {
        double t;
        for (;;) {
            /* twelve named accumulators, so the compiler keeps each in a register */
            vec m = VSET(0.9999999f), a = VSET(1e-7f);
            vec c0 = VSET(0), c1 = VSET(1), c2 = VSET(2), c3 = VSET(3), c4 = VSET(4), c5 = VSET(5);
            vec c6 = VSET(6), c7 = VSET(7), c8 = VSET(8), c9 = VSET(9), c10 = VSET(10), c11 = VSET(11);
            double t0 = now();
            for (long i = 0; i < iters; i++) {
                c0 = VFMA(c0, m, a), c1 = VFMA(c1, m, a), c2 = VFMA(c2, m, a), c3 = VFMA(c3, m, a);
                c4 = VFMA(c4, m, a), c5 = VFMA(c5, m, a), c6 = VFMA(c6, m, a), c7 = VFMA(c7, m, a);
                c8 = VFMA(c8, m, a), c9 = VFMA(c9, m, a), c10 = VFMA(c10, m, a), c11 = VFMA(c11, m, a);
            }
            t = now() - t0;
            *sink += vsum(c0) + vsum(c1) + vsum(c2) + vsum(c3) + vsum(c4) + vsum(c5) + vsum(c6) + vsum(c7) +
                     vsum(c8) + vsum(c9) + vsum(c10) + vsum(c11);
            if (t > 0.02) break;
            iters *= 2;
        }
        best[r] = 2.0 * VLEN * NCHAIN * (double)iters / t / 1e9;
    }
    double b = best[0];
    for (int r = 1; r < 5; r++) b = best[r] > b ? best[r] : b;
    return b;
}
#else
static double peak_gflops(volatile float *sink) { (void)sink; return 0; }
#endif

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
    double peak = peak_gflops(&sink);
    printf("predict_us=%.3f bound_us=%.3f param_bytes=%zu peak_gflops=%.1f\n", 1e6 * median(tf, rounds),
           1e6 * median(tb, rounds), param_bytes, peak);
    free(tf);
    free(tb);
    free(ws);
    if (pool) rt_pool_free(&ctx, pool);
    for (int i = 0; i < bm_NTENSORS; i++) free(bufs[i]);
    return sink == 12345.678f ? 3 : 0;
}
