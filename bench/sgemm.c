/* sgemm.c - bench/: OpenBLAS's own single-precision GEMM speed on a list of shapes, the practical
 * limit of a GEMM-bound training step.
 *
 *     sgemm THREADS ROUNDS SHAPE...    SHAPE = TA,TB,M,N,K (TA, TB: n or t; row-major, as nnc calls it)
 *
 * One round runs the whole list (one training step's GEMMs, in the order the step calls them) as
 * many times as fill about 50 ms; prints the median over rounds of the list's total flops
 * (2 M N K per GEMM) per second: `gflops=X flops_per_list=Y`. Operands are uniform in [-1, 1)
 * (no denormals); every GEMM has its own buffers, as in the step.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnc_abi.h"

typedef struct Gemm { int ta, tb, M, N, K; float *a, *b, *c; } Gemm;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *randbuf(size_t n, uint64_t *r) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) { fprintf(stderr, "sgemm: out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) {
        *r = *r * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)(*r >> 40) / 8388608.0f - 1.0f;
    }
    return p;
}

static void run(const Gemm *g, int n) {
    for (int i = 0; i < n; i++)
        cblas_sgemm(CblasRowMajor, g[i].ta ? CblasTrans : CblasNoTrans, g[i].tb ? CblasTrans : CblasNoTrans, g[i].M,
                    g[i].N, g[i].K, 1.0f, g[i].a, g[i].ta ? g[i].M : g[i].K, g[i].b, g[i].tb ? g[i].K : g[i].N, 0.0f,
                    g[i].c, g[i].N);
}

int main(int argc, char **argv) {
    nnc_blas_check(argv);
    if (argc < 4) { fprintf(stderr, "usage: sgemm THREADS ROUNDS TA,TB,M,N,K...\n"); return 2; }
    int threads = atoi(argv[1]), rounds = atoi(argv[2]), n = argc - 3;
    if (threads < 1 || rounds < 1) { fprintf(stderr, "sgemm: bad THREADS or ROUNDS\n"); return 2; }
    openblas_set_num_threads(threads);
    Gemm *g = calloc((size_t)n, sizeof *g);
    uint64_t r = 42;
    double flops = 0;
    for (int i = 0; i < n; i++) {
        char ta, tb;
        if (!g || sscanf(argv[3 + i], "%c,%c,%d,%d,%d", &ta, &tb, &g[i].M, &g[i].N, &g[i].K) != 5 || g[i].M < 1 ||
            g[i].N < 1 || g[i].K < 1 || !strchr("nt", ta) || !strchr("nt", tb)) {
            fprintf(stderr, "sgemm: bad shape '%s' (want TA,TB,M,N,K)\n", argv[3 + i]);
            return 2;
        }
        g[i].ta = ta == 't';
        g[i].tb = tb == 't';
        g[i].a = randbuf((size_t)g[i].M * (size_t)g[i].K, &r);
        g[i].b = randbuf((size_t)g[i].K * (size_t)g[i].N, &r);
        g[i].c = randbuf((size_t)g[i].M * (size_t)g[i].N, &r);
        flops += 2.0 * g[i].M * g[i].N * g[i].K;
    }
    run(g, n); /* warm: pages, OpenBLAS's buffers and threads */
    double t0 = now();
    run(g, n);
    int reps = (int)(0.05 / (now() - t0 + 1e-9)) + 1;
    double *rate = malloc(sizeof(double) * (size_t)rounds);
    if (!rate) return 1;
    for (int k = 0; k < rounds; k++) {
        t0 = now();
        for (int j = 0; j < reps; j++) run(g, n);
        rate[k] = flops * reps / (now() - t0) / 1e9;
    }
    qsort(rate, (size_t)rounds, sizeof *rate, cmp_double);
    printf("gflops=%.2f flops_per_list=%.0f\n", rate[rounds / 2], flops);
    for (int i = 0; i < n; i++) {
        free(g[i].a);
        free(g[i].b);
        free(g[i].c);
    }
    free(g);
    free(rate);
    return 0;
}
