/* conv.c - bench/: nnc's convolution (runtime/conv.c, im2col + OpenBLAS) against oneDNN's, on the
 * same channels-last tensors (NHWC data, HWIO weights: the layout nnc compiles to, so oneDNN gets
 * no reorders), forward, backward-data and backward-filter, for the layers of the issue's `cnn`
 * workload. The PyTorch side of the same table is bench/conv_torch.py.
 *
 *     cc -O2 -DHAVE_DNNL bench/conv.c build/release/libnnc_rt.a -Iruntime -lopenblas -ldnnl -lz -lm -lpthread
 *     OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 ./a.out [ROUNDS]
 *
 * Prints per layer and pass the median over ROUNDS (default 20) of one call, in ms, for nnc and
 * (with HAVE_DNNL) oneDNN, and checks that the two agree (max relative difference).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnc_abi.h"
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

typedef void (*Pass)(void *ctx);
static double median_ms(Pass f, void *ctx, int rounds) {
    double *t = malloc(sizeof(double) * (size_t)rounds);
    f(ctx);     /* warm */
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        f(ctx);
        t[r] = (now() - t0) * 1e3;
    }
    qsort(t, (size_t)rounds, sizeof(double), cmp_double);
    double m = t[rounds / 2];
    free(t);
    return m;
}

typedef struct Bufs { float *x, *w, *y, *dx, *dw, *dy, *col; int64_t geo[NNC_CONV__COUNT]; } Bufs;
static void nnc_fwd(void *c) { Bufs *b = c; nnc_conv_forward(b->x, b->w, b->y, b->col, b->geo, NULL); }
static void nnc_data(void *c) { Bufs *b = c; nnc_conv_backward_data(b->dy, b->w, b->dx, b->col, b->geo, NULL); }
static void nnc_filter(void *c) { Bufs *b = c; nnc_conv_backward_filter(b->x, b->dy, b->dw, b->col, b->geo, NULL); }

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

int main(int argc, char **argv) {
    nnc_blas_check(argv);     /* OpenBLAS on the kernels made for this CPU, as the runtime runs it */
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    static const Layer layers[] = {{"conv 32 3x3 on 28x28x1", 64, 28, 28, 1, 32, 3},
                                   {"conv 64 3x3 on 26x26x32", 64, 26, 26, 32, 64, 3}};
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
        const Layer *L = &layers[l];
        int64_t OH = L->H - L->K + 1, OW = L->W - L->K + 1;
        int64_t nx = L->N * L->H * L->W * L->C, nw = L->K * L->K * L->C * L->F, ny = L->N * OH * OW * L->F;
        int64_t per = OH * OW * L->K * L->K * L->C, chunk = ((int64_t)8 << 20) / (per * 4);
        chunk = chunk < 1 ? 1 : chunk > L->N ? L->N : chunk;
        Bufs b = {randbuf((size_t)nx), randbuf((size_t)nw), randbuf((size_t)ny), randbuf((size_t)nx),
                  randbuf((size_t)nw), randbuf((size_t)ny), randbuf((size_t)(chunk * per)),
                  {L->N, L->H, L->W, L->C, OH, OW, L->F, L->K, L->K, 1, 1, 1, 1, 1, 0, 0, chunk}};
        double f = median_ms(nnc_fwd, &b, rounds), d = median_ms(nnc_data, &b, rounds);
        double w = median_ms(nnc_filter, &b, rounds);
        double gf = 2.0 * (double)ny * (double)(L->K * L->K * L->C) * 1e-9;   /* GFLOP per pass */
        printf("%s, B=%lld: nnc im2col+sgemm  fwd %.3f ms  bwd-data %.3f ms  bwd-filter %.3f ms  "
               "(fwd %.1f GFLOP/s)\n", L->name, (long long)L->N, f, d, w, gf / (f * 1e-3));
#ifdef HAVE_DNNL
        Dn dn = {0};
        DN(dnnl_engine_create(&dn.eng, dnnl_cpu, 0));
        DN(dnnl_stream_create(&dn.st, dn.eng, dnnl_stream_default_flags));
        dnnl_memory_desc_t src, wei, dst;
        dnnl_dims_t sd = {L->N, L->C, L->H, L->W}, wd = {L->F, L->C, L->K, L->K}, dd = {L->N, L->F, OH, OW};
        DN(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nhwc));
        DN(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_hwio));
        DN(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nhwc));
        dnnl_dims_t strides = {1, 1}, pad = {0, 0};
        dnnl_convolution_desc_t fdesc, ddesc, wdesc;
        DN(dnnl_convolution_forward_desc_init(&fdesc, dnnl_forward_training, dnnl_convolution_direct, &src, &wei,
                                              NULL, &dst, strides, pad, pad));
        dnnl_primitive_desc_t fpd, dpd, wpd;
        DN(dnnl_primitive_desc_create(&fpd, &fdesc, NULL, dn.eng, NULL));
        DN(dnnl_convolution_backward_data_desc_init(&ddesc, dnnl_convolution_direct, &src, &wei, &dst, strides, pad,
                                                    pad));
        DN(dnnl_primitive_desc_create(&dpd, &ddesc, NULL, dn.eng, fpd));
        DN(dnnl_convolution_backward_weights_desc_init(&wdesc, dnnl_convolution_direct, &src, &wei, NULL, &dst,
                                                       strides, pad, pad));
        DN(dnnl_primitive_desc_create(&wpd, &wdesc, NULL, dn.eng, fpd));
        float *y2 = randbuf((size_t)ny), *dx2 = randbuf((size_t)nx), *dw2 = randbuf((size_t)nw);
        double t[3];
        const char *impl[3];
        dnnl_primitive_desc_t pds[3] = {fpd, dpd, wpd};
        for (int k = 0; k < 3; k++) {
            DN(dnnl_primitive_create(&dn.p, pds[k]));
            DN(dnnl_primitive_desc_query(pds[k], dnnl_query_impl_info_str, 0, &impl[k]));
            dn.n = 3;
            if (k == 0) {
                dn.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem(dn.eng, &src, b.x)};
                dn.args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dn.eng, &wei, b.w)};
                dn.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, mem(dn.eng, &dst, y2)};
            } else if (k == 1) {
                dn.args[0] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, mem(dn.eng, &dst, b.dy)};
                dn.args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, mem(dn.eng, &wei, b.w)};
                dn.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_SRC, mem(dn.eng, &src, dx2)};
            } else {
                dn.args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mem(dn.eng, &src, b.x)};
                dn.args[1] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_DST, mem(dn.eng, &dst, b.dy)};
                dn.args[2] = (dnnl_exec_arg_t){DNNL_ARG_DIFF_WEIGHTS, mem(dn.eng, &wei, dw2)};
            }
            t[k] = median_ms(dn_run, &dn, rounds);
        }
        printf("%s, B=%lld: oneDNN NHWC/HWIO  fwd %.3f ms  bwd-data %.3f ms  bwd-filter %.3f ms  (%s / %s / %s)\n",
               L->name, (long long)L->N, t[0], t[1], t[2], impl[0], impl[1], impl[2]);
        /* oneDNN's own choice of layouts (format any: its blocked formats), reorders not counted:
         * the best it does when the whole network lives in its layouts */
        dnnl_memory_desc_t asrc, awei, adst;
        DN(dnnl_memory_desc_init_by_tag(&asrc, 4, sd, dnnl_f32, dnnl_format_tag_any));
        DN(dnnl_memory_desc_init_by_tag(&awei, 4, wd, dnnl_f32, dnnl_format_tag_any));
        DN(dnnl_memory_desc_init_by_tag(&adst, 4, dd, dnnl_f32, dnnl_format_tag_any));
        DN(dnnl_convolution_forward_desc_init(&fdesc, dnnl_forward_training, dnnl_convolution_direct, &asrc, &awei,
                                              NULL, &adst, strides, pad, pad));
        DN(dnnl_primitive_desc_create(&pds[0], &fdesc, NULL, dn.eng, NULL));
        DN(dnnl_convolution_backward_data_desc_init(&ddesc, dnnl_convolution_direct, &asrc, &awei, &adst, strides,
                                                    pad, pad));
        DN(dnnl_primitive_desc_create(&pds[1], &ddesc, NULL, dn.eng, pds[0]));
        DN(dnnl_convolution_backward_weights_desc_init(&wdesc, dnnl_convolution_direct, &asrc, &awei, NULL, &adst,
                                                       strides, pad, pad));
        DN(dnnl_primitive_desc_create(&pds[2], &wdesc, NULL, dn.eng, pds[0]));
        static const dnnl_query_t q[3][3] = {{dnnl_query_src_md, dnnl_query_weights_md, dnnl_query_dst_md},
                                             {dnnl_query_diff_dst_md, dnnl_query_weights_md, dnnl_query_diff_src_md},
                                             {dnnl_query_src_md, dnnl_query_diff_dst_md, dnnl_query_diff_weights_md}};
        static const int an[3][3] = {{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
                                     {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
                                     {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS}};
        for (int k = 0; k < 3; k++) {
            DN(dnnl_primitive_create(&dn.p, pds[k]));
            DN(dnnl_primitive_desc_query(pds[k], dnnl_query_impl_info_str, 0, &impl[k]));
            for (int a = 0; a < 3; a++) {
                const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pds[k], q[k][a], 0);
                dn.args[a] = (dnnl_exec_arg_t){an[k][a], mem(dn.eng, md, randbuf(dnnl_memory_desc_get_size(md) / 4 + 16))};
            }
            t[k] = median_ms(dn_run, &dn, rounds);
        }
        printf("%s, B=%lld: oneDNN own layout fwd %.3f ms  bwd-data %.3f ms  bwd-filter %.3f ms  (%s / %s / %s)\n",
               L->name, (long long)L->N, t[0], t[1], t[2], impl[0], impl[1], impl[2]);
        nnc_fwd(&b), nnc_data(&b), nnc_filter(&b);
        printf("  agreement (max |diff| / rms): fwd %.1e  bwd-data %.1e  bwd-filter %.1e\n", maxrel(b.y, y2, ny),
               maxrel(b.dx, dx2, nx), maxrel(b.dw, dw2, nw));
#endif
    }
    return 0;
}
