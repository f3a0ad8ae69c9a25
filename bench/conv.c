/* conv.c - bench/: nnc's convolution (runtime/conv.c: im2col + OpenBLAS, or oneDNN through
 * runtime/conv_dnnl.c, as $NNC_CONV chooses) against oneDNN called directly in three arrangements,
 * on the same channels-last tensors (NHWC data, HWIO weights), forward (with the bias + ReLU that
 * follows each conv in the cnn workload), backward-data and backward-filter, for the layers of
 * the issue's `cnn` workload at batch 64 and 1. The PyTorch side of the table is bench/conv_torch.py.
 *
 *     cc -O2 -DHAVE_DNNL bench/conv.c build/rel/libnnc_rt.a -Iruntime -lopenblas -ldnnl -lz -lm -lpthread -ldl
 *     NNC_CONV=im2col ./a.out [ROUNDS] [THREADS]     nnc's im2col + sgemm path only
 *     NNC_CONV=auto ./a.out [ROUNDS] [THREADS]       the runtime's measured choice per pass (default)
 *     NNC_CONV=dnnl ./a.out [ROUNDS] [THREADS]       the runtime's oneDNN path for every pass
 *
 * nnc's side runs on a pool of THREADS (default 2) threads, as a compiled model does (per-thread
 * slices of the images; OpenBLAS set to THREADS threads where the GEMMs are not sliced). The
 * direct oneDNN variants run with oneDNN's own OpenMP threading (set OMP_NUM_THREADS). Prints per
 * layer and pass the median over ROUNDS (default 20) of one call, in ms, and checks that nnc and
 * oneDNN agree (max difference over the rms).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "nnc_abi.h"
#include "rt.h"
#ifdef HAVE_DNNL
#include <dnnl.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *randbuf(size_t n) {
    float *p = aligned_alloc(64, (n * 4 + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)rand() / (float)RAND_MAX * 2 - 1;
    return p;
}

typedef struct Layer { const char *name; int64_t N, H, W, C, F, K; } Layer;

static double cpu_now(void) { /* the process's CPU time, all threads: what a loaded machine shares out */
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef void (*Pass)(void *ctx);
static double last_cpu_ms; /* the median CPU ms per call of the last median_ms */
static double median_ms(Pass f, void *ctx, int rounds) {
    double *t = malloc(sizeof(double) * (size_t)rounds), *c = malloc(sizeof(double) * (size_t)rounds);
    f(ctx);     /* warm */
    for (int r = 0; r < rounds; r++) {
        double t0 = now(), c0 = cpu_now();
        f(ctx);
        t[r] = (now() - t0) * 1e3;
        c[r] = (cpu_now() - c0) * 1e3;
    }
    qsort(t, (size_t)rounds, sizeof(double), cmp_double);
    qsort(c, (size_t)rounds, sizeof(double), cmp_double);
    double m = t[rounds / 2];
    last_cpu_ms = c[rounds / 2];
    free(t);
    free(c);
    return m;
}

typedef struct Bufs { float *x, *w, *y, *dx, *dw, *dy, *col; int64_t geo[NNC_CONV__COUNT]; NncPool *pool; } Bufs;
static void nnc_data(void *c) { Bufs *b = c; nnc_conv_backward_data(b->dy, b->w, b->dx, b->col, b->geo, b->pool); }
static void nnc_filter(void *c) { Bufs *b = c; nnc_conv_backward_filter(b->x, b->dy, b->dw, b->col, b->geo, b->pool); }

#ifdef HAVE_DNNL
#define DN(call)                                                                                   \
    do {                                                                                           \
        dnnl_status_t s_ = (call);                                                                 \
        if (s_ != dnnl_success) {                                                                  \
            fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #call, (int)s_);         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef struct Dn { dnnl_engine_t eng; dnnl_stream_t st; dnnl_primitive_t p; int n; dnnl_exec_arg_t args[4]; } Dn;
static void dn_run(void *c) {
    Dn *d = c;
    DN(dnnl_primitive_execute(d->p, d->st, d->n, d->args));
    DN(dnnl_stream_wait(d->st));
}
static dnnl_memory_t mem(dnnl_engine_t e, const dnnl_memory_desc_t *md, float *p) {
    dnnl_memory_t m;
    DN(dnnl_memory_create(&m, md, e, p));
    return m;
}
#endif

static double maxrel(const float *a, const float *b, int64_t n) {
    double m = 0, s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)b[i] * b[i];
    s = sqrt(s / (double)n) + 1e-30;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / s;
        m = d > m ? d : m;
    }
    return m;
}

#ifdef HAVE_DNNL
/* One oneDNN arrangement: src/dst and weights in the given tags (dnnl_format_tag_any: oneDNN's
 * choice, its blocked layouts), forward with a fused bias + ReLU post-op when `fused`. Times the
 * three passes (and, when the weights are not in HWIO, the reorder of w into oneDNN's layout and of
 * dw back: what a step would pay), and leaves the results in y2, dx2, dw2 when the tags are nnc's. */
static void dnnl_variant(const char *label, const Layer *L, int64_t OH, int64_t OW, dnnl_format_tag_t act,
                         dnnl_format_tag_t wtag, int fused, const Bufs *b, const float *bias, float *y2,
                         float *dx2, float *dw2, int rounds) {
    Dn dn = {0};
    DN(dnnl_engine_create(&dn.eng, dnnl_cpu, 0));
    DN(dnnl_stream_create(&dn.st, dn.eng, dnnl_stream_default_flags));
    dnnl_memory_desc_t src, wei, dst, bmd, hwio;
    dnnl_dims_t sd = {L->N, L->C, L->H, L->W}, wd = {L->F, L->C, L->K, L->K}, dd = {L->N, L->F, OH, OW};
    dnnl_dims_t bd = {L->F};
    DN(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, act));
    DN(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, wtag));
    DN(dnnl_memory_desc_init_by_tag(&hwio, 4, wd, dnnl_f32, dnnl_hwio));
    DN(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, act));
    DN(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a));
    dnnl_dims_t strides = {1, 1}, pad = {0, 0};
    dnnl_convolution_desc_t fdesc, ddesc, wdesc;
    dnnl_primitive_desc_t pds[3];
    dnnl_primitive_attr_t attr = NULL;
    if (fused) {
        dnnl_post_ops_t po;
        DN(dnnl_post_ops_create(&po));
        DN(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f));
        DN(dnnl_primitive_attr_create(&attr));
        DN(dnnl_primitive_attr_set_post_ops(attr, po));
    }
    DN(dnnl_convolution_forward_desc_init(&fdesc, dnnl_forward_training, dnnl_convolution_direct, &src, &wei,
                                          fused ? &bmd : NULL, &dst, strides, pad, pad));
    DN(dnnl_primitive_desc_create(&pds[0], &fdesc, attr, dn.eng, NULL));
    DN(dnnl_convolution_backward_data_desc_init(&ddesc, dnnl_convolution_direct, &src, &wei, &dst, strides, pad,
                                                pad));
    DN(dnnl_primitive_desc_create(&pds[1], &ddesc, NULL, dn.eng, pds[0]));
    DN(dnnl_convolution_backward_weights_desc_init(&wdesc, dnnl_convolution_direct, &src, &wei, NULL, &dst,
                                                   strides, pad, pad));
    DN(dnnl_primitive_desc_create(&pds[2], &wdesc, NULL, dn.eng, pds[0]));
    static const dnnl_query_t q[3][3] = {{dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md},
                                         {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md},
                                         {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md}};
    static const int an[3][3] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                                 {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                                 {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}};
    /* nnc's buffers where the layout is nnc's, else fresh ones in oneDNN's layout */
    float *own[3][3] = {{b->x, b->w, y2}, {b->dy, b->w, dx2}, {b->x, b->dy, dw2}};
    double t[3];
    const char *impl[3];
    float *wblk = NULL;
    for (int k = 0; k < 3; k++) {
        DN(dnnl_primitive_create(&dn.p, pds[k]));
        DN(dnnl_primitive_desc_query(pds[k], dnnl_query_impl_info_str, 0, &impl[k]));
        for (int a = 0; a < 3; a++) {
            const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pds[k], q[k][a], 0);
            int same = dnnl_memory_desc_equal(md, &hwio) || dnnl_memory_desc_equal(md, &src) ||
                       dnnl_memory_desc_equal(md, &dst);
            float *p = same ? own[k][a] : NULL;
            if (!p && a == 1 && k < 2 && wblk)
                p = wblk;
            if (!p)
                p = randbuf(dnnl_memory_desc_get_size(md) / 4 + 16);
            if (a == 1 && k < 2 && !same)
                wblk = p;
            dn.args[a] = (dnnl_exec_arg_t){an[k][a], mem(dn.eng, md, p)};
        }
        dn.n = 3;
        if (k == 0 && fused)
            dn.args[dn.n++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, mem(dn.eng, &bmd, (float *)bias)};
        t[k] = median_ms(dn_run, &dn, rounds);
        DN(dnnl_primitive_destroy(dn.p));
    }
    double reo = 0;
    if (wblk) { /* w HWIO -> oneDNN's layout, once per step (dw back costs the same) */
        const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pds[0], dnnl_query_weights_md, 0);
        dnnl_primitive_desc_t rpd;
        DN(dnnl_reorder_primitive_desc_create(&rpd, &hwio, dn.eng, md, dn.eng, NULL));
        DN(dnnl_primitive_create(&dn.p, rpd));
        dn.n = 2;
        dn.args[0] = (dnnl_exec_arg_t){DNNL_ARG_FROM, mem(dn.eng, &hwio, b->w)};
        dn.args[1] = (dnnl_exec_arg_t){DNNL_ARG_TO, mem(dn.eng, md, wblk)};
        reo = median_ms(dn_run, &dn, rounds);
        DN(dnnl_primitive_destroy(dn.p));
    }
    printf("%-24s B=%-3lld %-26s fwd%s %8.3f  bwd-data %8.3f  bwd-filter %8.3f ms", L->name, (long long)L->N,
           label, fused ? "+bias+relu" : "", t[0], t[1], t[2]);
    if (wblk)
        printf("  (+ w reorder %.3f)", reo);
    printf("  [%s / %s / %s]\n", impl[0], impl[1], impl[2]);
    for (int k = 0; k < 3; k++)
        DN(dnnl_primitive_desc_destroy(pds[k]));
    if (attr)
        DN(dnnl_primitive_attr_destroy(attr));
    DN(dnnl_stream_destroy(dn.st));
    DN(dnnl_engine_destroy(dn.eng));
}
#endif

static void *bench_alloc(void *ud, void *ptr, size_t n) { /* rt.h's allocator hook */
    (void)ud;
    if (n == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, n);
}

static const float *g_bias;
static int64_t g_F;
static void nnc_fwd(void *c) {
    Bufs *b = c;
    nnc_conv_forward(b->x, b->w, b->y, b->col, b->geo, b->pool);
}
static void epilogue(void *c) { /* the plan's epilogue after a conv: bias + ReLU in place over y */
    Bufs *b = c;
    const int64_t n = b->geo[NNC_CONV_N] * b->geo[NNC_CONV_OH] * b->geo[NNC_CONV_OW], F = g_F;
    const float *restrict bias = g_bias;
    float *restrict y = b->y;
    for (int64_t i = 0; i < n; i++)
        for (int64_t f = 0; f < F; f++) {
            float v = y[i * F + f] + bias[f];
            y[i * F + f] = v > 0 ? v : 0;
        }
}
static void nnc_fwd_fused(void *c) {
    nnc_fwd(c);
    epilogue(c);
}

int main(int argc, char **argv) {
    nnc_blas_check(argv);     /* OpenBLAS on the kernels made for this CPU, as the runtime runs it */
    int rounds = argc > 1 ? atoi(argv[1]) : 20, threads = argc > 2 ? atoi(argv[2]) : 2;
    RtCtx ctx = {0};
    ctx.alloc = bench_alloc;
    NncPool *pool = rt_pool_new(&ctx, threads);
    openblas_set_num_threads(threads);
    const char *mode = getenv("NNC_CONV") ? getenv("NNC_CONV") : "auto";
    char label[64];
    snprintf(label, sizeof label, "nnc NNC_CONV=%s T=%d", mode, threads);
    static const Layer layers[] = {{"conv 32 3x3 on 28x28x1", 64, 28, 28, 1, 32, 3},
                                   {"conv 64 3x3 on 26x26x32", 64, 26, 26, 32, 64, 3},
                                   {"conv 32 3x3 on 28x28x1", 1, 28, 28, 1, 32, 3},
                                   {"conv 64 3x3 on 26x26x32", 1, 26, 26, 32, 64, 3}};
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
        const Layer *L = &layers[l];
        int64_t OH = L->H - L->K + 1, OW = L->W - L->K + 1;
        int64_t nx = L->N * L->H * L->W * L->C, nw = L->K * L->K * L->C * L->F, ny = L->N * OH * OW * L->F;
        int64_t per = OH * OW * L->K * L->K * L->C, chunk = ((int64_t)8 << 20) / (per * 4);
        chunk = chunk < 1 ? 1 : chunk > L->N ? L->N : chunk;
        Bufs b = {randbuf((size_t)nx), randbuf((size_t)nw), randbuf((size_t)ny), randbuf((size_t)nx),
                  randbuf((size_t)nw), randbuf((size_t)ny), randbuf((size_t)(chunk * per)),
                  {L->N, L->H, L->W, L->C, OH, OW, L->F, L->K, L->K, 1, 1, 1, 1, 1, 0, 0, chunk}, pool};
        float *bias = randbuf((size_t)L->F);
        g_bias = bias, g_F = L->F;
        double f = median_ms(nnc_fwd, &b, rounds), fc = last_cpu_ms, d = median_ms(nnc_data, &b, rounds);
        double dc = last_cpu_ms, w = median_ms(nnc_filter, &b, rounds), wc = last_cpu_ms;
        double ep = median_ms(epilogue, &b, rounds);
        double gf = 2.0 * (double)ny * (double)(L->K * L->K * L->C) * 1e-9; /* GFLOP per pass */
        printf("%-24s B=%-3lld %-26s fwd %8.3f  bwd-data %8.3f  bwd-filter %8.3f ms  (CPU ms %.3f %.3f %.3f; "
               "fwd %.1f GFLOP/s; bias+relu after it %.3f ms, 1 thread)\n",
               L->name, (long long)L->N, label, f, d, w, fc, dc, wc, gf / (f * 1e-3), ep);
#ifdef HAVE_DNNL
        float *y2 = randbuf((size_t)ny), *dx2 = randbuf((size_t)nx), *dw2 = randbuf((size_t)nw);
        dnnl_variant("oneDNN nhwc/hwio", L, OH, OW, dnnl_nhwc, dnnl_hwio, 1, &b, bias, y2, dx2, dw2, rounds);
        nnc_fwd_fused(&b), nnc_data(&b), nnc_filter(&b);   /* the same sums as the fused oneDNN call */
        printf("  agreement (max |diff| / rms): fwd %.1e  bwd-data %.1e  bwd-filter %.1e\n", maxrel(b.y, y2, ny),
               maxrel(b.dx, dx2, nx), maxrel(b.dw, dw2, nw));
        dnnl_variant("oneDNN nhwc/any w", L, OH, OW, dnnl_nhwc, dnnl_format_tag_any, 0, &b, bias, y2, dx2, dw2,
                     rounds);
        dnnl_variant("oneDNN nhwc/any w", L, OH, OW, dnnl_nhwc, dnnl_format_tag_any, 1, &b, bias, y2, dx2, dw2,
                     rounds);
        dnnl_variant("oneDNN own layouts", L, OH, OW, dnnl_format_tag_any, dnnl_format_tag_any, 0, &b, bias, y2,
                     dx2, dw2, rounds);
#endif
    }
    return 0;
}
