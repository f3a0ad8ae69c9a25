/* conv_dnnl.c - oneDNN's convolutions for runtime/conv.c, where they were measured to beat im2col +
 * SGEMM (docs/backend-llvm.md "Convolution": the choice per pass and shape, and the figures).
 *
 * oneDNN (Debian's libdnnl2) is opened with dlopen the first time a convolution asks for it, never
 * linked: an executable without convolutions does not load its 40 MB, a --portable executable
 * still needs nothing but glibc (and uses oneDNN where the machine has it), and without it every
 * convolution runs the im2col path (conv.c). $NNC_CONV chooses: `auto` (default) the measured
 * choice below, `im2col` never oneDNN, `dnnl` oneDNN for every pass it has a jit kernel for (for
 * side-by-side measurement, bench/conv.c).
 *
 * Layouts: the activations stay nnc's channels-last (nhwc) and oneDNN is asked for its jit kernels
 * on them with the weights in the layout it chooses (format `any`: blocked by 8 output channels on
 * AVX2). Each call reorders the HWIO weights into that layout (forward, backward-data) or the
 * weight gradient back out of it (backward-filter), a few microseconds for the cnn workload's
 * kernels; asking for HWIO weights instead makes oneDNN fall back to its gemm implementation, 2-5x
 * slower in the backward passes (the measurements).
 *
 * Threads: as the im2col path (conv.c `sliced`), per-thread slices of the images. Every primitive
 * is made and run with one OpenMP thread (oneDNN's threading here is libgomp's), so thread t of
 * nnc's pool runs oneDNN's single-threaded jit kernel on images [N*t/T, N*(t+1)/T), no OpenMP team
 * waits on another, and no thread spins. backward-filter: each thread sums into its own weight
 * gradient, added in thread order afterwards (the sums' order depends on T, as the im2col path's).
 * A batch-1 forward on a pool of T threads runs in bands of output rows instead (fwd_rows).
 *
 * Epilogues (nnc_conv_forward_ep): a forward's y = act(scale[f] conv + shift[f]) is one primitive:
 * the scale folded into the weights (scaled HWIO copy in the scratch, then the usual reorder), the
 * shift the convolution's bias, act an eltwise post-op (docs/backend-llvm.md "Convolution
 * epilogues").
 *
 * Memory: no step allocates. The reordered weights, oneDNN's scratchpad (user mode) and the
 * per-thread weight gradients live in the convolution's scratch (the im2col buffer fuse sized);
 * when they do not fit, the im2col path runs. Primitives are made once per (pass, geometry, images
 * per slice) and kept for the process (oneDNN primitives may run on several threads at once).
 */
#include "conv_dnnl.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef NNC_HAVE_DNNL
#include <dlfcn.h>
#include <dnnl.h>
#include <pthread.h>
#include <stdatomic.h>

/* the functions used, from libdnnl.so.2, and libgomp's thread count (oneDNN's runtime) */
static struct {
    int mode; /* 0 auto, 1 im2col, 2 dnnl */
    bool bmm; /* $NNC_BMM is not `openblas`: batched matmuls through oneDNN (nnc_dnnl_sgemm_batched) */
    bool gemm; /* $NNC_GEMM is not `openblas`: chosen 2-D products through oneDNN (nnc_dnnl_sgemm) */
    bool ok;
    dnnl_engine_t eng;
    int (*omp_get)(void);
    void (*omp_set)(int);
#define F(name) __typeof__(name) *name
    F(dnnl_engine_create);
    F(dnnl_stream_create);
    F(dnnl_memory_desc_init_by_tag);
    F(dnnl_memory_desc_get_size);
    F(dnnl_memory_desc_equal);
    F(dnnl_memory_create);
    F(dnnl_memory_destroy);
    F(dnnl_primitive_attr_create);
    F(dnnl_primitive_attr_destroy);
    F(dnnl_primitive_attr_set_scratchpad_mode);
    F(dnnl_primitive_attr_set_post_ops);
    F(dnnl_post_ops_create);
    F(dnnl_post_ops_destroy);
    F(dnnl_post_ops_append_eltwise);
    F(dnnl_dilated_convolution_forward_desc_init);
    F(dnnl_dilated_convolution_backward_data_desc_init);
    F(dnnl_dilated_convolution_backward_weights_desc_init);
    F(dnnl_primitive_desc_create);
    F(dnnl_primitive_desc_destroy);
    F(dnnl_primitive_desc_query);
    F(dnnl_primitive_desc_query_md);
    F(dnnl_reorder_primitive_desc_create);
    F(dnnl_primitive_create);
    F(dnnl_primitive_execute);
    F(dnnl_memory_desc_init_by_strides);   /* the batched matmul's (nnc_dnnl_sgemm_batched) */
    F(dnnl_matmul_desc_init);
    F(dnnl_memory_set_data_handle);
    F(dnnl_sgemm);      /* the small 2-D products (nnc_dnnl_small_sgemm); NULL: OpenBLAS for them */
#undef F
    bool sgemm_ok;      /* dnnl_sgemm present, $NNC_GEMM not `openblas`, and its first call worked */
} dn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static void open_dnnl(void) {
    const char *m = getenv("NNC_CONV"), *bm = getenv("NNC_BMM"), *gm = getenv("NNC_GEMM");
    dn.mode = m && !strcmp(m, "im2col") ? 1 : m && !strcmp(m, "dnnl") ? 2 : 0;
    dn.bmm = !(bm && !strcmp(bm, "openblas"));
    dn.gemm = !(gm && !strcmp(gm, "openblas"));
    if (dn.mode == 1 && !dn.bmm && !dn.gemm)
        return;
    void *lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return; /* no oneDNN on this machine: the im2col path */
    bool all = true;
#define GET(name) all = all && (*(void **)&dn.name = dlsym(lib, #name)) != NULL
    GET(dnnl_engine_create);
    GET(dnnl_stream_create);
    GET(dnnl_memory_desc_init_by_tag);
    GET(dnnl_memory_desc_get_size);
    GET(dnnl_memory_desc_equal);
    GET(dnnl_memory_create);
    GET(dnnl_memory_destroy);
    GET(dnnl_primitive_attr_create);
    GET(dnnl_primitive_attr_destroy);
    GET(dnnl_primitive_attr_set_scratchpad_mode);
    GET(dnnl_primitive_attr_set_post_ops);
    GET(dnnl_post_ops_create);
    GET(dnnl_post_ops_destroy);
    GET(dnnl_post_ops_append_eltwise);
    GET(dnnl_dilated_convolution_forward_desc_init);
    GET(dnnl_dilated_convolution_backward_data_desc_init);
    GET(dnnl_dilated_convolution_backward_weights_desc_init);
    GET(dnnl_primitive_desc_create);
    GET(dnnl_primitive_desc_destroy);
    GET(dnnl_primitive_desc_query);
    GET(dnnl_primitive_desc_query_md);
    GET(dnnl_reorder_primitive_desc_create);
    GET(dnnl_primitive_create);
    GET(dnnl_primitive_execute);
    GET(dnnl_memory_desc_init_by_strides);
    GET(dnnl_matmul_desc_init);
    GET(dnnl_memory_set_data_handle);
#undef GET
    *(void **)&dn.omp_get = dlsym(lib, "omp_get_max_threads");
    *(void **)&dn.omp_set = dlsym(lib, "omp_set_num_threads");
    if (!all || !dn.omp_get || !dn.omp_set || dn.dnnl_engine_create(&dn.eng, dnnl_cpu, 0) != dnnl_success) {
        dlclose(lib);
        return;
    }
    dn.ok = true;
    /* oneDNN's first sgemm initialises it (CPU detection, its jit kernels): ~15 ms of CPU, the same
     * for any shape. An 8 x 8 x 8 product takes it here, where the runtime asks for the loader
     * before training starts (train.c), not inside the first step. */
    *(void **)&dn.dnnl_sgemm = dlsym(lib, "dnnl_sgemm");
    if (dn.gemm && dn.dnnl_sgemm) {
        float a[64] = {0}, c[64];
        int t = dn.omp_get();
        dn.omp_set(1);
        dn.sgemm_ok = dn.dnnl_sgemm('N', 'N', 8, 8, 8, 1.0f, a, 8, a, 8, 0.0f, c, 8) == dnnl_success;
        dn.omp_set(t);
    }
}

/* A forward's fused epilogue as the primitive sees it: a bias or not, the eltwise post-op
 * (NNC_ACT_NONE: none) and its alpha. The scale is folded into the weights before the reorder and
 * is no part of the primitive. */
typedef struct Epi {
    bool bias;
    int act;
    float alpha;
} Epi;

/* One pass on one geometry, images per slice and epilogue: the primitive, the weights' layout and
 * the reorder between it and HWIO; ok = false: oneDNN has no jit kernel for it (the im2col path). */
typedef struct Entry {
    int op;
    int64_t key[NNC_CONV__COUNT];
    Epi epi;
    bool ok;
    dnnl_primitive_t conv, reo;
    dnnl_memory_desc_t x, y, w, hwio, bias; /* x, y: the slice's nhwc data; w: oneDNN's weights */
    int64_t wfloats, pad_floats;            /* the blocked weights; the conv's and reorder's scratchpad */
} Entry;

/* oneDNN's eltwise algorithm (and its alpha, beta) for act: what the activations of
 * stdlib/nn.nn compute (docs/backend-llvm.md "Convolution epilogues"). */
static bool eltwise_of(int act, float alpha, dnnl_alg_kind_t *alg, float *a, float *b) {
    static const dnnl_alg_kind_t algs[NNC_ACT__COUNT] = {
        [NNC_ACT_RELU] = dnnl_eltwise_relu,       [NNC_ACT_TANH] = dnnl_eltwise_tanh,
        [NNC_ACT_SIGMOID] = dnnl_eltwise_logistic, [NNC_ACT_ELU] = dnnl_eltwise_elu,
        [NNC_ACT_GELU_ERF] = dnnl_eltwise_gelu_erf, [NNC_ACT_GELU_TANH] = dnnl_eltwise_gelu_tanh,
        [NNC_ACT_SWISH] = dnnl_eltwise_swish,
    };
    if (act <= NNC_ACT_NONE || act >= NNC_ACT__COUNT)
        return false;
    *alg = algs[act];
    *a = act == NNC_ACT_RELU || act == NNC_ACT_ELU ? alpha : act == NNC_ACT_SWISH ? 1.0f : 0.0f;
    *b = 0.0f;
    return true;
}

#define MAX_ENTRIES 128
static Entry cache[MAX_ENTRIES];
static int ncache;

static int64_t floats(size_t bytes) { return (int64_t)((bytes + 63) / 64 * 16); } /* 64-byte units */

/* Makes e's primitives with one OpenMP thread (jit kernels fix their thread split when made). */
static void make_entry(Entry *e, const int64_t *g, int64_t n) {
    dnnl_dims_t xd = {n, g[NNC_CONV_C], g[NNC_CONV_H], g[NNC_CONV_W]};
    dnnl_dims_t yd = {n, g[NNC_CONV_F], g[NNC_CONV_OH], g[NNC_CONV_OW]};
    dnnl_dims_t wd = {g[NNC_CONV_F], g[NNC_CONV_C], g[NNC_CONV_KH], g[NNC_CONV_KW]};
    dnnl_dims_t st = {g[NNC_CONV_SH], g[NNC_CONV_SW]}, dl = {g[NNC_CONV_DH] - 1, g[NNC_CONV_DW] - 1};
    dnnl_dims_t pl = {g[NNC_CONV_PH], g[NNC_CONV_PW]}, pr;
    for (int a = 0; a < 2; a++) { /* the high side's padding: what the output size leaves over */
        int64_t in = g[a ? NNC_CONV_W : NNC_CONV_H], out = g[a ? NNC_CONV_OW : NNC_CONV_OH];
        int64_t k = g[a ? NNC_CONV_KW : NNC_CONV_KH], s = st[a], d = dl[a] + 1;
        pr[a] = (out - 1) * s + (k - 1) * d + 1 - in - pl[a];
    }
    dnnl_memory_desc_t wany;
    bool ok = dn.dnnl_memory_desc_init_by_tag(&e->x, 4, xd, dnnl_f32, dnnl_nhwc) == dnnl_success &&
              dn.dnnl_memory_desc_init_by_tag(&e->y, 4, yd, dnnl_f32, dnnl_nhwc) == dnnl_success &&
              dn.dnnl_memory_desc_init_by_tag(&e->hwio, 4, wd, dnnl_f32, dnnl_hwio) == dnnl_success &&
              dn.dnnl_memory_desc_init_by_tag(&wany, 4, wd, dnnl_f32, dnnl_format_tag_any) == dnnl_success;
    dnnl_dims_t bd_ = {g[NNC_CONV_F]};
    ok = ok && dn.dnnl_memory_desc_init_by_tag(&e->bias, 1, bd_, dnnl_f32, dnnl_a) == dnnl_success;
    dnnl_primitive_attr_t attr = NULL, fattr = NULL;
    ok = ok && dn.dnnl_primitive_attr_create(&attr) == dnnl_success &&
         dn.dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success;
    /* the forward's own attributes: the eltwise post-op of its epilogue */
    ok = ok && dn.dnnl_primitive_attr_create(&fattr) == dnnl_success &&
         dn.dnnl_primitive_attr_set_scratchpad_mode(fattr, dnnl_scratchpad_mode_user) == dnnl_success;
    dnnl_alg_kind_t alg;
    float ea, eb;
    if (ok && e->op == NNC_CONV_OP_FWD && eltwise_of(e->epi.act, e->epi.alpha, &alg, &ea, &eb)) {
        dnnl_post_ops_t po = NULL;
        ok = dn.dnnl_post_ops_create(&po) == dnnl_success &&
             dn.dnnl_post_ops_append_eltwise(po, 1.0f, alg, ea, eb) == dnnl_success &&
             dn.dnnl_primitive_attr_set_post_ops(fattr, po) == dnnl_success;
        if (po)
            dn.dnnl_post_ops_destroy(po);
    }
    dnnl_convolution_desc_t fd, bd;
    dnnl_primitive_desc_t hint = NULL, pd = NULL, rpd = NULL;
    bool fbias = e->op == NNC_CONV_OP_FWD && e->epi.bias;
    ok = ok && dn.dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &e->x,
                                                     &wany, fbias ? &e->bias : NULL, &e->y, st, dl, pl,
                                                     pr) == dnnl_success &&
         dn.dnnl_primitive_desc_create(&hint, &fd, e->op == NNC_CONV_OP_FWD ? fattr : attr, dn.eng, NULL) ==
             dnnl_success;
    if (ok && e->op == NNC_CONV_OP_FWD) {
        pd = hint, hint = NULL;
    } else if (ok && e->op == NNC_CONV_OP_DATA) {
        ok = dn.dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &e->x, &wany, &e->y, st, dl,
                                                         pl, pr) == dnnl_success &&
             dn.dnnl_primitive_desc_create(&pd, &bd, attr, dn.eng, hint) == dnnl_success;
    } else if (ok) {
        ok = dn.dnnl_dilated_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &e->x, &wany, NULL, &e->y,
                                                            st, dl, pl, pr) == dnnl_success &&
             dn.dnnl_primitive_desc_create(&pd, &bd, attr, dn.eng, hint) == dnnl_success;
    }
    const char *impl = NULL;
    ok = ok && dn.dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl &&
         !strncmp(impl, "jit", 3); /* not gemm:jit or ref: the im2col path beats those */
    if (ok) {
        dnnl_query_t q = e->op == NNC_CONV_OP_FILTER ? dnnl_query_diff_weights_md : dnnl_query_weights_md;
        e->w = *dn.dnnl_primitive_desc_query_md(pd, q, 0);
        const dnnl_memory_desc_t *pad = dn.dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        e->pad_floats = floats(pad ? dn.dnnl_memory_desc_get_size(pad) : 0);
        e->wfloats = floats(dn.dnnl_memory_desc_get_size(&e->w));
        if (e->op == NNC_CONV_OP_FILTER)
            ok = dn.dnnl_reorder_primitive_desc_create(&rpd, &e->w, dn.eng, &e->hwio, dn.eng, attr) == dnnl_success;
        else
            ok = dn.dnnl_reorder_primitive_desc_create(&rpd, &e->hwio, dn.eng, &e->w, dn.eng, attr) == dnnl_success;
    }
    if (ok) {
        const dnnl_memory_desc_t *pad = dn.dnnl_primitive_desc_query_md(rpd, dnnl_query_scratchpad_md, 0);
        int64_t rp = floats(pad ? dn.dnnl_memory_desc_get_size(pad) : 0);
        e->pad_floats = rp > e->pad_floats ? rp : e->pad_floats;
        ok = dn.dnnl_primitive_create(&e->conv, pd) == dnnl_success &&
             dn.dnnl_primitive_create(&e->reo, rpd) == dnnl_success;
    }
    e->ok = ok;
    if (pd)
        dn.dnnl_primitive_desc_destroy(pd);
    if (hint)
        dn.dnnl_primitive_desc_destroy(hint);
    if (rpd)
        dn.dnnl_primitive_desc_destroy(rpd);
    if (attr)
        dn.dnnl_primitive_attr_destroy(attr);
    if (fattr)
        dn.dnnl_primitive_attr_destroy(fattr);
}

/* The entry for (op, geometry, n images per slice, epilogue), made on first use; NULL when full. */
static const Entry *entry(int op, const int64_t *g, int64_t n, Epi epi) {
    int64_t key[NNC_CONV__COUNT];
    memcpy(key, g, sizeof key);
    key[NNC_CONV_N] = n;
    key[NNC_CONV_CHUNK] = 0;
    pthread_mutex_lock(&cache_mu);
    Entry *e = NULL;
    for (int i = 0; i < ncache && !e; i++)
        if (cache[i].op == op && !memcmp(cache[i].key, key, sizeof key) && cache[i].epi.bias == epi.bias &&
            cache[i].epi.act == epi.act && cache[i].epi.alpha == epi.alpha)
            e = &cache[i];
    if (!e && ncache < MAX_ENTRIES) {
        e = &cache[ncache++];
        e->op = op;
        e->epi = epi;
        memcpy(e->key, key, sizeof key);
        int t = dn.omp_get();
        dn.omp_set(1);
        make_entry(e, g, n);
        dn.omp_set(t);
    }
    pthread_mutex_unlock(&cache_mu);
    return e;
}

/* One stream per thread that runs a primitive, kept in `streams` too: a pool's threads end with
 * their pool, and the streams stay reachable (reused by no one, a few bytes each). */
static _Thread_local dnnl_stream_t stream;
#define MAX_STREAMS 1024
static dnnl_stream_t streams[MAX_STREAMS];
static int nstreams;

static bool this_stream(void) {
    if (stream)
        return true;
    pthread_mutex_lock(&cache_mu);
    bool ok = nstreams < MAX_STREAMS && dn.dnnl_stream_create(&stream, dn.eng, dnnl_stream_default_flags) == dnnl_success;
    if (ok)
        streams[nstreams++] = stream;
    pthread_mutex_unlock(&cache_mu);
    return ok;
}

/* Runs p with args on this thread, one OpenMP thread; false when oneDNN refused. */
static bool exec(dnnl_primitive_t p, int n, const dnnl_memory_desc_t *const *md, const int *arg, void *const *ptr) {
    if (!this_stream())
        return false;
    dnnl_exec_arg_t a[5];
    bool ok = true;
    int made = 0;
    for (; made < n && ok; made++) {
        a[made].arg = arg[made];
        ok = dn.dnnl_memory_create(&a[made].memory, md[made], dn.eng, ptr[made]) == dnnl_success;
    }
    if (!ok)
        made--;
    int t = dn.omp_get();
    dn.omp_set(1);
    ok = ok && dn.dnnl_primitive_execute(p, stream, n, a) == dnnl_success; /* CPU streams run in order */
    dn.omp_set(t);
    for (int i = 0; i < made; i++)
        dn.dnnl_memory_destroy(a[i].memory);
    return ok;
}

#define MAX_SLICES 64

/* One call's slices: slice t runs entry e[t] on the x-shaped data at element xo[t] and the
 * y-shaped data at yo[t]: images [N*t/T, N*(t+1)/T), or a batch-1 forward's output rows
 * [OH*t/T, OH*(t+1)/T) (fwd_rows). */
typedef struct Job {
    int op;
    const float *a, *b;
    float *out, *wblk, *dws, *pads; /* dws: T weight gradients (filter); pads: T scratchpads */
    const float *bias;              /* the forward's bias (its epilogue's shift), or NULL */
    const Entry *e[MAX_SLICES];
    int64_t xo[MAX_SLICES], yo[MAX_SLICES];
    dnnl_memory_desc_t padmd;       /* one scratchpad, bytes */
    int64_t T, per_pad, per_dw;
    atomic_bool failed; /* set by any slice whose call oneDNN refused */
} Job;

static void slice(void *ctx, int64_t lo, int64_t hi) {
    Job *j = ctx;
    for (int64_t t = lo; t < hi; t++) {
        const Entry *e = j->e[t];
        const dnnl_memory_desc_t *padmd = &j->padmd;
        float *sp = j->pads + t * j->per_pad;
        int64_t xo = j->xo[t], yo = j->yo[t];
        bool ok;
        if (j->op == NNC_CONV_OP_FWD && j->bias)
            ok = exec(e->conv, 5, (const dnnl_memory_desc_t *[]){&e->x, &e->w, &e->bias, &e->y, padmd},
                      (int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD},
                      (void *[]){(void *)(j->a + xo), j->wblk, (void *)j->bias, j->out + yo, sp});
        else if (j->op == NNC_CONV_OP_FWD)
            ok = exec(e->conv, 4, (const dnnl_memory_desc_t *[]){&e->x, &e->w, &e->y, padmd},
                      (int[]){DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD},
                      (void *[]){(void *)(j->a + xo), j->wblk, j->out + yo, sp});
        else if (j->op == NNC_CONV_OP_DATA)
            ok = exec(e->conv, 4, (const dnnl_memory_desc_t *[]){&e->y, &e->w, &e->x, padmd},
                      (int[]){DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC, DNNL_ARG_SCRATCHPAD},
                      (void *[]){(void *)(j->a + yo), j->wblk, j->out + xo, sp});
        else
            ok = exec(e->conv, 4, (const dnnl_memory_desc_t *[]){&e->x, &e->y, &e->w, padmd},
                      (int[]){DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_SCRATCHPAD},
                      (void *[]){(void *)(j->a + xo), (void *)(j->b + yo), j->dws + t * j->per_dw, sp});
        if (!ok)
            atomic_store(&j->failed, true);
    }
}

/* The measured choice (docs/backend-llvm.md "Convolution"): oneDNN's jit kernels for every
 * forward; backward-data where the input has more than one channel (at C = 1 the im2col path was
 * 2x faster; LeNet's C = 6 layer ran 15% faster in oneDNN); backward-filter where the im2col GEMM
 * [K, F] += col^T dy is thin: K = KH*KW*C < 64 (the first layer's K = 9), or F/G < 64 output
 * channels (a ResNet's 16- and 32-channel 3x3 layers, an autoencoder's 16 and 1: OpenBLAS's
 * transposed copy of the tall col and its kernel on a 16-wide N were ~10-20% of those models'
 * CPU; at the cnn workload's K = 288, F = 64 OpenBLAS used ~20% less CPU and keeps it). */
static bool chosen(int op, const int64_t *g) {
    if (dn.mode == 2)
        return true;
    int64_t K = g[NNC_CONV_KH] * g[NNC_CONV_KW] * g[NNC_CONV_C], Fg = g[NNC_CONV_F] / g[NNC_CONV_G];
    return op == NNC_CONV_OP_FWD || (op == NNC_CONV_OP_DATA && g[NNC_CONV_C] >= 2) ||
           (op == NNC_CONV_OP_FILTER && (K < 64 || Fg < 64));
}

/* A batch-1 forward on a pool of T threads: thread t computes output rows [OH*t/T, OH*(t+1)/T)
 * from the input rows they need (a band of x: NHWC keeps both bands contiguous), each band a
 * convolution of its own geometry (the top band keeps the top padding, the bottom one the bottom
 * padding). False (j untouched) when a band would need no input row. */
static bool fwd_rows(Job *j, const int64_t *g, int64_t T, Epi ep) {
    int64_t OH = g[NNC_CONV_OH], H = g[NNC_CONV_H], sh = g[NNC_CONV_SH], dh = g[NNC_CONV_DH], ph = g[NNC_CONV_PH];
    int64_t WC = g[NNC_CONV_W] * g[NNC_CONV_C], OWF = g[NNC_CONV_OW] * g[NNC_CONV_F];
    int64_t band[MAX_SLICES][NNC_CONV__COUNT];
    for (int64_t t = 0; t < T; t++) {
        int64_t o0 = OH * t / T, o1 = OH * (t + 1) / T;
        int64_t i0 = o0 * sh - ph, i1 = (o1 - 1) * sh - ph + (g[NNC_CONV_KH] - 1) * dh + 1; /* rows [i0, i1) */
        int64_t c0 = i0 < 0 ? 0 : i0, c1 = i1 > H ? H : i1;
        if (c1 <= c0 || o1 <= o0)
            return false;
        memcpy(band[t], g, sizeof band[t]);
        band[t][NNC_CONV_H] = c1 - c0, band[t][NNC_CONV_OH] = o1 - o0, band[t][NNC_CONV_PH] = c0 - i0;
        j->xo[t] = c0 * WC, j->yo[t] = o0 * OWF;
    }
    for (int64_t t = 0; t < T; t++)
        j->e[t] = entry(NNC_CONV_OP_FWD, band[t], 1, ep);
    return true;
}

bool nnc_conv_dnnl(int op, const int64_t *g, const float *a, const float *b, float *out, float *col,
                   int64_t col_floats, const NncConvEpi *epi, NncPool *pool) {
    pthread_once(&once, open_dnnl);
    if (!dn.ok || dn.mode == 1 || g[NNC_CONV_G] != 1 || !col || !chosen(op, g))
        return false;
    Epi ep = {0};
    if (epi) {
        dnnl_alg_kind_t alg;
        float ea, eb;
        if (op != NNC_CONV_OP_FWD || (epi->act != NNC_ACT_NONE && !eltwise_of(epi->act, epi->alpha, &alg, &ea, &eb)))
            return false;
        ep = (Epi){.bias = epi->shift != NULL, .act = epi->act, .alpha = epi->act == NNC_ACT_NONE ? 0 : epi->alpha};
    }
    int64_t N = g[NNC_CONV_N], P = nnc_pool_threads(pool), T = P > MAX_SLICES ? MAX_SLICES : P < 1 ? 1 : P;
    Job j = {.op = op, .a = a, .b = b, .out = out, .bias = epi ? epi->shift : NULL};
    bool rows = false;  /* batch 1 on a pool: bands of output rows, one per thread (fwd_rows) */
    if (op == NNC_CONV_OP_FWD && N == 1 && T > 1 && g[NNC_CONV_OH] > 1) {
        T = T > g[NNC_CONV_OH] ? g[NNC_CONV_OH] : T;
        rows = fwd_rows(&j, g, T, ep);
    }
    T = rows ? T : T > N ? N : T;
    j.T = T;
    if (!rows) {
        int64_t HWC = g[NNC_CONV_H] * g[NNC_CONV_W] * g[NNC_CONV_C];
        int64_t PF = g[NNC_CONV_OH] * g[NNC_CONV_OW] * g[NNC_CONV_F];
        for (int64_t t = 0; t < T; t++) {
            int64_t n0 = N * t / T, n1 = N * (t + 1) / T;
            j.e[t] = entry(op, g, n1 - n0, ep);
            j.xo[t] = n0 * HWC, j.yo[t] = n0 * PF;
        }
    }
    /* every slice a jit kernel, all of one weights' layout (one reorder serves them all) */
    for (int64_t t = 0; t < T; t++)
        if (!j.e[t] || !j.e[t]->ok || !dn.dnnl_memory_desc_equal(&j.e[0]->w, &j.e[t]->w))
            return false;
    const Entry *e0 = j.e[0];
    for (int64_t t = 0; t < T; t++)
        if (j.e[t]->pad_floats > j.per_pad)
            j.per_pad = j.e[t]->pad_floats;
    j.per_pad = j.per_pad < 16 ? 16 : j.per_pad; /* floats */
    j.per_dw = e0->wfloats;
    /* the scratch: blocked weights (fwd, data) or T weight gradients (filter), T scratchpads;
     * with an epilogue's scale, the scaled HWIO weights before them */
    int64_t wn = g[NNC_CONV_KH] * g[NNC_CONV_KW] * g[NNC_CONV_C] * g[NNC_CONV_F], F = g[NNC_CONV_F];
    int64_t scaled = epi && epi->scale ? (wn + 15) / 16 * 16 : 0;
    int64_t need = scaled + (op == NNC_CONV_OP_FILTER ? T : 1) * e0->wfloats + T * j.per_pad;
    if (need > col_floats)
        return false;
    float *p = col;
    if (scaled) { /* the scale folded into the weights: w[kh, kw, c, f] * scale[f] (HWIO: f innermost) */
        float *restrict ws = p;
        const float *restrict w = b, *restrict s = epi->scale;
        for (int64_t i = 0; i < wn; i += F)
            for (int64_t f = 0; f < F; f++)
                ws[i + f] = w[i + f] * s[f];
        b = ws;
        p += scaled;
    }
    if (op == NNC_CONV_OP_FILTER)
        j.dws = p, p += T * e0->wfloats;
    else
        j.wblk = p, p += e0->wfloats;
    j.pads = p;
    dnnl_dims_t pdim = {j.per_pad * 4}; /* the scratchpad's descriptor counts bytes */
    if (dn.dnnl_memory_desc_init_by_tag(&j.padmd, 1, pdim, dnnl_u8, dnnl_a) != dnnl_success)
        return false;
    if (op != NNC_CONV_OP_FILTER && !exec(e0->reo, 3, (const dnnl_memory_desc_t *[]){&e0->hwio, &e0->w, &j.padmd},
                                          (int[]){DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_SCRATCHPAD},
                                          (void *[]){(void *)b, j.wblk, j.pads}))
        return false;
    nnc_parallel_for(pool, T, slice, &j);
    if (atomic_load(&j.failed))
        return false; /* nothing was written that the im2col path does not overwrite */
    if (op == NNC_CONV_OP_FILTER) {
        for (int64_t t = 1; t < T; t++) {
            const float *restrict s = j.dws + t * j.per_dw;
            float *restrict d = j.dws;
            for (int64_t i = 0; i < e0->wfloats; i++)
                d[i] += s[i];
        }
        if (!exec(e0->reo, 3, (const dnnl_memory_desc_t *[]){&e0->w, &e0->hwio, &j.padmd},
                  (int[]){DNNL_ARG_FROM, DNNL_ARG_TO, DNNL_ARG_SCRATCHPAD}, (void *[]){j.dws, out, j.pads}))
            return false;
    }
    return true;
}

/* ---- batched matmul: runtime/bmm.c's nnc_sgemm_batched (attention's products) ----
 *
 * C[p] = op(A[p]) op(B[p]), p in [0, P), each a small product (T x d by d x T per head and
 * sample). oneDNN's matmul (its gemm:jit kernel on AVX2) ran these shapes 25-50% faster than a
 * cblas_sgemm each (tiny_transformer's 128 x 128 x 32 products, 1 thread: 70-82 GFLOP/s against
 * 50-59; docs/backend-llvm.md "Batched matmul"): OpenBLAS packs both operands and scales C by
 * beta = 0 for every call, a large part of a product this small. One primitive per (ta, tb, M, N,
 * K) computes one product (batch 1), made with one OpenMP thread and run by each thread of the
 * pool on its products, so each product's bits are the same whatever the thread count. It needs no
 * scratchpad (asked for in user mode, checked to be 0 bytes: no step allocates); each thread keeps
 * its memory objects per primitive and points them at the operands of each product. Separate from
 * the convolutions above but for the shared loader, engine, streams and lock. */
typedef struct BmmEntry {
    int ta, tb;
    int64_t M, N, K, lda, ldb, ldc; /* leading dimensions as cblas_sgemm's (dense: ta ? M : K, ...) */
    int64_t Q, sa, sb, sc;          /* Q > 1: Q products at once, the operands sa, sb, sc floats apart */
    int64_t Q2, sa2, sb2, sc2;      /* Q2 > 1: Q x Q2 products at once (batch dims [Q, Q2]), the inner
                                       ones sa2, sb2, sc2 floats apart (nnc_dnnl_sgemm_batched_grouped) */
    bool ok;
    dnnl_primitive_t mm;
    dnnl_memory_desc_t a, b, c;
} BmmEntry;

#define MAX_BMM 256
static BmmEntry bmm_cache[MAX_BMM];
static int nbmm;

static void make_bmm(BmmEntry *e) {
    int o = e->Q2 > 1 ? 2 : e->Q > 1 ? 1 : 0, r = 2 + o;   /* leading batch dims: [Q] or [Q, Q2] */
    dnnl_dims_t ad = {e->M, e->K}, bd = {e->K, e->N}, cd = {e->M, e->N};
    dnnl_dims_t as = {e->ta ? 1 : e->lda, e->ta ? e->lda : 1}, bs = {e->tb ? 1 : e->ldb, e->tb ? e->ldb : 1};
    dnnl_dims_t cs = {e->ldc, 1};
    if (o) {
        dnnl_dims_t *d[3] = {&ad, &bd, &cd}, *st[3] = {&as, &bs, &cs};
        int64_t sq[3] = {e->sa, e->sb, e->sc}, sq2[3] = {e->sa2, e->sb2, e->sc2};
        for (int q = 0; q < 3; q++) {
            memmove(&(*d[q])[o], &(*d[q])[0], 2 * sizeof(dnnl_dim_t));
            memmove(&(*st[q])[o], &(*st[q])[0], 2 * sizeof(dnnl_dim_t));
            (*d[q])[0] = e->Q;
            (*st[q])[0] = sq[q];
            if (o == 2)
                (*d[q])[1] = e->Q2, (*st[q])[1] = sq2[q];
        }
    }
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    bool ok = dn.dnnl_memory_desc_init_by_strides(&e->a, r, ad, dnnl_f32, as) == dnnl_success &&
              dn.dnnl_memory_desc_init_by_strides(&e->b, r, bd, dnnl_f32, bs) == dnnl_success &&
              dn.dnnl_memory_desc_init_by_strides(&e->c, r, cd, dnnl_f32, cs) == dnnl_success &&
              dn.dnnl_matmul_desc_init(&md, &e->a, &e->b, NULL, &e->c) == dnnl_success &&
              dn.dnnl_primitive_attr_create(&attr) == dnnl_success &&
              dn.dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success &&
              dn.dnnl_primitive_desc_create(&pd, &md, attr, dn.eng, NULL) == dnnl_success;
    if (ok) {
        const dnnl_memory_desc_t *sp = dn.dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        ok = (!sp || dn.dnnl_memory_desc_get_size(sp) == 0) && dn.dnnl_primitive_create(&e->mm, pd) == dnnl_success;
    }
    if (pd)
        dn.dnnl_primitive_desc_destroy(pd);
    if (attr)
        dn.dnnl_primitive_attr_destroy(attr);
    e->ok = ok;
}

static const BmmEntry *bmm_entry_q2(int ta, int tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb,
                                    int64_t ldc, int64_t Q, int64_t sa, int64_t sb, int64_t sc, int64_t Q2, int64_t sa2,
                                    int64_t sb2, int64_t sc2) {
    if (Q2 <= 1)
        Q2 = 1, sa2 = sb2 = sc2 = 0;
    if (Q <= 1 && Q2 <= 1)
        Q = 1, sa = sb = sc = 0;
    pthread_mutex_lock(&cache_mu);
    BmmEntry *e = NULL;
    for (int i = 0; i < nbmm && !e; i++)
        if (bmm_cache[i].ta == ta && bmm_cache[i].tb == tb && bmm_cache[i].M == M && bmm_cache[i].N == N &&
            bmm_cache[i].K == K && bmm_cache[i].lda == lda && bmm_cache[i].ldb == ldb && bmm_cache[i].ldc == ldc &&
            bmm_cache[i].Q == Q && bmm_cache[i].sa == sa && bmm_cache[i].sb == sb && bmm_cache[i].sc == sc &&
            bmm_cache[i].Q2 == Q2 && bmm_cache[i].sa2 == sa2 && bmm_cache[i].sb2 == sb2 && bmm_cache[i].sc2 == sc2)
            e = &bmm_cache[i];
    if (!e && nbmm < MAX_BMM) {
        e = &bmm_cache[nbmm++];
        *e = (BmmEntry){.ta = ta, .tb = tb, .M = M, .N = N, .K = K, .lda = lda, .ldb = ldb, .ldc = ldc,
                        .Q = Q, .sa = sa, .sb = sb, .sc = sc, .Q2 = Q2, .sa2 = sa2, .sb2 = sb2, .sc2 = sc2};
        int t = dn.omp_get();
        dn.omp_set(1);
        make_bmm(e);
        dn.omp_set(t);
    }
    pthread_mutex_unlock(&cache_mu);
    return e && e->ok ? e : NULL;
}

static const BmmEntry *bmm_entry_q(int ta, int tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb,
                                   int64_t ldc, int64_t Q, int64_t sa, int64_t sb, int64_t sc) {
    return bmm_entry_q2(ta, tb, M, N, K, lda, ldb, ldc, Q, sa, sb, sc, 1, 0, 0, 0);
}

static const BmmEntry *bmm_entry(int ta, int tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb,
                                 int64_t ldc) {
    return bmm_entry_q(ta, tb, M, N, K, lda, ldb, ldc, 1, 0, 0, 0);
}

/* This thread's memory objects for e's operands (a few slots, the oldest replaced; like the
 * streams, those of a pool's ended threads stay allocated, a few hundred bytes each). */
#define BMM_SLOTS 32
static _Thread_local struct { const BmmEntry *e; dnnl_memory_t m[3]; } bmm_mem[BMM_SLOTS];
static _Thread_local int bmm_next;

static dnnl_memory_t *bmm_memories(const BmmEntry *e) {
    for (int i = 0; i < BMM_SLOTS; i++)
        if (bmm_mem[i].e == e)
            return bmm_mem[i].m;
    int i = bmm_next;
    bmm_next = (bmm_next + 1) % BMM_SLOTS;
    for (int k = 0; k < 3 && bmm_mem[i].e; k++)
        dn.dnnl_memory_destroy(bmm_mem[i].m[k]);
    bmm_mem[i].e = NULL;
    const dnnl_memory_desc_t *md[3] = {&e->a, &e->b, &e->c};
    int made = 0;
    for (; made < 3; made++)
        if (dn.dnnl_memory_create(&bmm_mem[i].m[made], md[made], dn.eng, DNNL_MEMORY_NONE) != dnnl_success)
            break;
    if (made < 3) {
        for (int k = 0; k < made; k++)
            dn.dnnl_memory_destroy(bmm_mem[i].m[k]);
        return NULL;
    }
    bmm_mem[i].e = e;
    return bmm_mem[i].m;
}

#define BMM_Q 8
typedef struct BmmDJob {
    int nb;
    const BmmEntry *e[NNC_GEMM_BLOCKS], *eq[NNC_GEMM_BLOCKS];    /* one product; BMM_Q at once (or NULL) */
    const NncGemmBlock *blk;
    const float *A, *B;
    float *C;
    int64_t sa, sb, sc;
    int64_t H, sa2, sb2, sc2;   /* product p = g H + h at g s + h s2 (H = 1: p s) */
    int64_t qw;                 /* products per call of eq: BMM_Q, or H when H does not divide it */
    atomic_bool failed;
} BmmDJob;

/* products [lo, hi): each product's blocks in order (its operands stay in cache across them) */
static void bmm_slice(void *ctx, int64_t lo, int64_t hi) {
    BmmDJob *j = ctx;
    bool ok = this_stream();
    int t = dn.omp_get();
    dn.omp_set(1);
    for (int64_t p = lo, w; p < hi && ok; p += w) {
        w = hi - p >= j->qw && j->eq[0] && p % j->H == 0 ? j->qw : 1;
        int64_t g = p / j->H, h = p % j->H;
        int64_t oa = g * j->sa + h * j->sa2, ob = g * j->sb + h * j->sb2, oc = g * j->sc + h * j->sc2;
        for (int q = 0; q < j->nb && ok; q++) {
            /* looked up per product: one block's lookup may replace another's slot */
            const BmmEntry *e = w > 1 ? j->eq[q] : j->e[q];
            dnnl_memory_t *m = bmm_memories(e);
            const NncGemmBlock *b = &j->blk[q];
            if (!(ok = m != NULL))
                break;
            dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]}};
            ok = dn.dnnl_memory_set_data_handle(m[0], (void *)(j->A + oa + b->a)) == dnnl_success &&
                 dn.dnnl_memory_set_data_handle(m[1], (void *)(j->B + ob + b->b)) == dnnl_success &&
                 dn.dnnl_memory_set_data_handle(m[2], j->C + oc + b->c) == dnnl_success &&
                 dn.dnnl_primitive_execute(e->mm, stream, 3, a) == dnnl_success;
        }
    }
    dn.omp_set(t);
    if (!ok)
        atomic_store(&j->failed, true);
}

bool nnc_dnnl_sgemm_batched_grouped(int nb, const NncGemmBlock *blk, int64_t P, int64_t H, const float *A, int64_t sa,
                                    int64_t sa2, const float *B, int64_t sb, int64_t sb2, float *C, int64_t sc,
                                    int64_t sc2, NncPool *pool) {
    pthread_once(&once, open_dnnl);
    if (!dn.ok || !dn.bmm || P <= 0 || H < 1 || P % H || nb < 1 || nb > NNC_GEMM_BLOCKS)
        return false;
    BmmDJob j = {.nb = nb, .blk = blk, .A = A, .B = B, .C = C, .sa = sa, .sb = sb, .sc = sc,
                 .H = H, .sa2 = sa2, .sb2 = sb2, .sc2 = sc2, .qw = H == 1 || BMM_Q % H == 0 ? BMM_Q : H};
    for (int q = 0; q < nb; q++) {
        const NncGemmBlock *b = &blk[q];
        if (b->M <= 0 || b->N <= 0 || b->K <= 0)
            return false;
        if (!(j.e[q] = bmm_entry(b->ta, b->tb, b->M, b->N, b->K, b->lda, b->ldb, b->ldc)))
            return false;
        /* BMM_Q products at once: [BMM_Q] one stride apart (H = 1), or [BMM_Q / H, H] (H divides
         * BMM_Q); else the H products of one group, one inner stride apart */
        if (P >= BMM_Q && H == 1)
            j.eq[q] = bmm_entry_q(b->ta, b->tb, b->M, b->N, b->K, b->lda, b->ldb, b->ldc, BMM_Q, sa, sb, sc);
        else if (P >= BMM_Q && BMM_Q % H == 0)
            j.eq[q] = bmm_entry_q2(b->ta, b->tb, b->M, b->N, b->K, b->lda, b->ldb, b->ldc, BMM_Q / H, sa, sb, sc, H, sa2,
                                   sb2, sc2);
        else if (H > 1 && H <= 64)
            j.eq[q] = bmm_entry_q(b->ta, b->tb, b->M, b->N, b->K, b->lda, b->ldb, b->ldc, H, sa2, sb2, sc2);
    }
    for (int q = 0; q < nb; q++)    /* all blocks batched, or none */
        if (!j.eq[q])
            j.eq[0] = NULL;
    nnc_parallel_for(pool, P, bmm_slice, &j);
    return !atomic_load(&j.failed);    /* false: the caller's OpenBLAS path overwrites all of C */
}

bool nnc_dnnl_sgemm_batched_blocks(int nb, const NncGemmBlock *blk, int64_t P, const float *A, int64_t sa,
                                   const float *B, int64_t sb, float *C, int64_t sc, NncPool *pool) {
    return nnc_dnnl_sgemm_batched_grouped(nb, blk, P, 1, A, sa, 0, B, sb, 0, C, sc, 0, pool);
}

bool nnc_dnnl_sgemm_batched(int ta, int tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                            const float *B, float *C, NncPool *pool) {
    if (M <= 0 || N <= 0 || K <= 0)
        return false;
    NncGemmBlock b = {ta, tb, M, N, K, ta ? M : K, tb ? K : N, N, 0, 0, 0};
    return nnc_dnnl_sgemm_batched_blocks(1, &b, P, A, M * K, B, K * N, C, M * N, pool);
}

/* ---- 2-D matmul: one block of runtime/bmm.c's nnc_sgemm, on the calling thread ----
 *
 * C = op(A) op(B) (beta = 0), row-major with cblas_sgemm's leading dimensions: the same batch-1
 * primitive as the batched products above, keyed on the leading dimensions too, run on this thread
 * with one OpenMP thread (nnc_sgemm has split the product across the pool already). No pass that
 * scales C by beta = 0 first and oneDNN's own packing: 6-19% faster than OpenBLAS on the products
 * bmm.c sends here (tiny_transformer's forward and input-gradient products, K <= 512, 1 thread,
 * CPU time), slower on a transposed A (the weight gradients) and on a large op(B) (mlp_wide's
 * 784 x 1024), which stay with OpenBLAS (docs/backend-llvm.md "Matmul"). */
bool nnc_dnnl_sgemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                    int ldc) {
    pthread_once(&once, open_dnnl);
    if (!dn.ok || !dn.gemm || M <= 0 || N <= 0 || K <= 0)
        return false;
    const BmmEntry *e = bmm_entry(ta, tb, M, N, K, lda, ldb, ldc);
    dnnl_memory_t *m = e && this_stream() ? bmm_memories(e) : NULL;
    if (!m)
        return false;
    dnnl_exec_arg_t a[3] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]}};
    int t = dn.omp_get();
    dn.omp_set(1);
    bool ok = dn.dnnl_memory_set_data_handle(m[0], (void *)A) == dnnl_success &&
              dn.dnnl_memory_set_data_handle(m[1], (void *)B) == dnnl_success &&
              dn.dnnl_memory_set_data_handle(m[2], C) == dnnl_success &&
              dn.dnnl_primitive_execute(e->mm, stream, 3, a) == dnnl_success;
    dn.omp_set(t);
    return ok;  /* false: the caller's OpenBLAS call overwrites all of C */
}

/* ---- oneDNN's sgemm for the small 2-D products (runtime/bmm.c nnc_sgemm asks first) ----
 *
 * dnnl_sgemm (row-major, like cblas_sgemm less the layout), looked up by open_dnnl with the rest;
 * NNC_GEMM=openblas turns it off. It runs at one OpenMP thread (libgomp's per-thread setting,
 * restored after the call, as above): the pool splits a product across threads, never oneDNN. */
bool nnc_dnnl_gemm_available(void) {
    pthread_once(&once, open_dnnl);
    return dn.sgemm_ok;
}

bool nnc_dnnl_small_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                          const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (!nnc_dnnl_gemm_available())
        return false;
    int t = dn.omp_get();
    if (t != 1)
        dn.omp_set(1);
    bool ok = dn.dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc) ==
              dnnl_success;
    if (t != 1)
        dn.omp_set(t);
    return ok;
}

#else

bool nnc_conv_dnnl(int op, const int64_t *g, const float *a, const float *b, float *out, float *col,
                   int64_t col_floats, const NncConvEpi *epi, NncPool *pool) {
    (void)op, (void)g, (void)a, (void)b, (void)out, (void)col, (void)col_floats, (void)epi, (void)pool;
    return false;
}

bool nnc_dnnl_sgemm_batched(int ta, int tb, int64_t P, int64_t M, int64_t N, int64_t K, const float *A,
                            const float *B, float *C, NncPool *pool) {
    (void)ta, (void)tb, (void)P, (void)M, (void)N, (void)K, (void)A, (void)B, (void)C, (void)pool;
    return false;
}

bool nnc_dnnl_sgemm_batched_blocks(int nb, const NncGemmBlock *blk, int64_t P, const float *A, int64_t sa,
                                   const float *B, int64_t sb, float *C, int64_t sc, NncPool *pool) {
    (void)nb, (void)blk, (void)P, (void)A, (void)sa, (void)B, (void)sb, (void)C, (void)sc, (void)pool;
    return false;
}

bool nnc_dnnl_sgemm_batched_grouped(int nb, const NncGemmBlock *blk, int64_t P, int64_t H, const float *A, int64_t sa,
                                    int64_t sa2, const float *B, int64_t sb, int64_t sb2, float *C, int64_t sc,
                                    int64_t sc2, NncPool *pool) {
    (void)nb, (void)blk, (void)P, (void)H, (void)A, (void)sa, (void)sa2, (void)B, (void)sb, (void)sb2, (void)C, (void)sc,
        (void)sc2, (void)pool;
    return false;
}

bool nnc_dnnl_sgemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C,
                    int ldc) {
    (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)C, (void)ldc;
    return false;
}

bool nnc_dnnl_gemm_available(void) { return false; }

bool nnc_dnnl_small_sgemm(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                          const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)B, (void)ldb, (void)beta, (void)C,
        (void)ldc;
    return false;
}

#endif
