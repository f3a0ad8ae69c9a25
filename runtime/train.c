/* train.c - what the commands do once flags are parsed: the training loop, evaluation with its
 * metrics, prediction and the summary table.
 *
 * The model is driven only through its NncModelDef (generated code or the interpreter alike):
 * batches are gathered into buffers sized for the largest batch, one workspace of the largest
 * workspace_size(B) needed, and every call gets a fresh NncArgs. Shuffles come from the ctx's
 * splitmix64 generator, whose state is checkpointed, so a resumed run continues exactly.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conv_dnnl.h"
#include "rt.h"

#define ALIGN 64
#define SEED_SHUFFLE 0x53485546464c45ull   /* "SHUFFLE": the shuffle stream of a run's seed */
#define SEED_VALID 0x56414c4944ull         /* "VALID": the train/validation split */
#define SEED_STEP 0x53544550ull            /* "STEP": NncArgs.seed of each step */

static const uint32_t SENTINEL = 0x7fc5a5a5u; /* a quiet NaN no arithmetic produces */

/* ---- batch buffers: inputs, targets, outputs at the largest B, plus the workspace ---- */

typedef struct Batch {
    void *raw;
    void **bufs;                /* [nt]: params/state from the ctx, the rest into raw */
    void *workspace;
    float *losses;              /* [nloss] */
    int64_t bmax;
    size_t bytes, ws_bytes;
} Batch;

static size_t align_up(size_t n) { return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static bool batched(const RtTensor *t) { return t->role == RT_INPUT || t->role == RT_TARGET || t->role == RT_OUTPUT; }

/* Bytes of batch buffers at B (for the summary too). */
static size_t batch_bytes(const RtDesc *d, int64_t B) {
    size_t n = 0;
    for (int i = 0; i < d->nt; i++)
        if (batched(&d->t[i])) n += align_up((size_t)rt_numel(&d->t[i], B) * rt_dsize(d->t[i].dtype));
    return n;
}

static void batch_free(RtCtx *c, Batch *b) {
    rt_free(c, b->raw);
    rt_free(c, b->bufs);
    b->raw = NULL;
    b->bufs = NULL;
}

/* A second set of batch buffers (inputs, targets, outputs) beside b's, sharing b's workspace and
 * losses: the next batch gathered while b's step's results are still read (scan_and_gather). */
static int batch_new_buffers(RtCtx *c, const Batch *b, Batch *bn) {
    memset(bn, 0, sizeof *bn);
    bn->bmax = b->bmax;
    bn->bytes = batch_bytes(&c->desc, b->bmax);
    char what[80], parts[64], h[32];
    rt_human((double)bn->bytes, h, sizeof h);
    snprintf(what, sizeof what, "gathering the next batch ahead at batch %lld", (long long)b->bmax);
    snprintf(parts, sizeof parts, "batch buffers %s", h);
    if (rt_mem_plan(c, what, (double)(bn->bytes + ALIGN), parts)) return -1;
    bn->raw = rt_alloc(c, bn->bytes + ALIGN);
    bn->bufs = rt_calloc(c, sizeof(void *) * (size_t)c->desc.nt);
    if (!bn->raw || !bn->bufs) {
        batch_free(c, bn);
        return -1;
    }
    memset(bn->raw, 0, bn->bytes + ALIGN);
    uint8_t *p = (uint8_t *)(((uintptr_t)bn->raw + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!batched(t)) { bn->bufs[i] = c->bufs[i]; continue; }
        bn->bufs[i] = p;
        p += align_up((size_t)rt_numel(t, b->bmax) * rt_dsize(t->dtype));
    }
    bn->workspace = b->workspace;
    bn->ws_bytes = b->ws_bytes;
    bn->losses = b->losses;
    return 0;
}

static int batch_new(RtCtx *c, int64_t bmax, int64_t bmin, Batch *b) {
    memset(b, 0, sizeof *b);
    b->bmax = bmax;
    int64_t ws = 0;
    for (int64_t B = bmin; B <= bmax; B = B == bmax ? bmax + 1 : bmax) {
        int64_t w = c->def->workspace_size ? c->def->workspace_size(B) : 0;
        if (w < 0) return rt_error(c, "the model's workspace_size(%lld) is negative", (long long)B);
        if (w > ws) ws = w;
    }
    b->ws_bytes = align_up((size_t)ws);
    b->bytes = batch_bytes(&c->desc, bmax) + b->ws_bytes + align_up(sizeof(float) * (size_t)(c->desc.nloss + 1));
    char what[64], parts[160], h1[32], h2[32];
    rt_human((double)batch_bytes(&c->desc, bmax), h1, sizeof h1);
    rt_human((double)b->ws_bytes, h2, sizeof h2);
    snprintf(what, sizeof what, "running the model at batch %lld", (long long)bmax);
    snprintf(parts, sizeof parts, "batch buffers %s + workspace %s", h1, h2);
    if (rt_mem_plan(c, what, (double)(b->bytes + ALIGN), parts)) return -1;
    b->raw = rt_alloc(c, b->bytes + ALIGN);
    b->bufs = rt_calloc(c, sizeof(void *) * (size_t)c->desc.nt);
    if (!b->raw || !b->bufs) {
        batch_free(c, b);
        return -1;
    }
    rt_huge_pages(b->raw, b->bytes + ALIGN);  /* before the first touch: 2 MiB pages where THP allows */
    memset(b->raw, 0, b->bytes + ALIGN);
    uint8_t *p = (uint8_t *)(((uintptr_t)b->raw + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (!batched(t)) { b->bufs[i] = c->bufs[i]; continue; }
        b->bufs[i] = p;
        p += align_up((size_t)rt_numel(t, bmax) * rt_dsize(t->dtype));
    }
    b->workspace = p;
    p += b->ws_bytes;
    b->losses = (float *)p;
    return 0;
}


/* One sample of a u8 column into f32 (value / div): one pass, no intermediate copy, 16 values a
 * step in vector registers (each lane's division is the scalar one, so the values are exact). The
 * runtime is built for the baseline x86-64 (SSE2); the AVX2 clone, picked at load time on CPUs that
 * have it, converts and divides 8 lanes per instruction instead of converting lane by lane (the
 * division stays a division: the same values either way). */
typedef uint8_t U8x16 __attribute__((vector_size(16)));
typedef uint32_t U32x4 __attribute__((vector_size(16)));
typedef float F32x16 __attribute__((vector_size(64)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static void convert_u8(float *restrict out, const uint8_t *restrict in, int64_t n, float div) {
    int64_t k = 0;
    F32x16 d = (F32x16){0} + div;
    for (; k + 16 <= n; k += 16) {
        U8x16 v;
        memcpy(&v, in + k, sizeof v);
        F32x16 f = __builtin_convertvector(v, F32x16) / d;
        memcpy(out + k, &f, sizeof f);
    }
    for (; k < n; k++) out[k] = (float)in[k] / div;
}

/* The same conversion as value * r in double, rounded to float, where recip_exact(div) holds
 * (r = 1 / div): 8 bytes a step widened to i32 (vpmovzxbd), to double (vcvtdq2pd), multiplied and
 * rounded (vcvtpd2ps), no division: convert_u8's vdivps made it ~5% of mlp_small's step under
 * perf (bench/README.md). AVX2 only (picked at run time); GCC widens u8 vectors to
 * double lane by lane, so these are intrinsics. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_RECIP_AVX2 1
__attribute__((target("avx2"))) static void convert_u8_recip_avx2(float *restrict out, const uint8_t *restrict in,
                                                                 int64_t n, double r) {
    __m256d rv = _mm256_set1_pd(r);
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(in + k));
        __m256i w = _mm256_cvtepu8_epi32(b);
        __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(w)), rv));
        __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(w, 1)), rv));
        _mm256_storeu_ps(out + k, _mm256_set_m128(hi, lo));
    }
    for (; k < n; k++) out[k] = (float)((double)in[k] * r);
}

/* Whether value * (1 / div) in double, rounded to float, is value / div in float for all 256
 * values (it is for 255 and 1): then gather may use convert_u8_recip_avx2. Checked once per div
 * and thread. */
static bool recip_exact(float div) {
    static _Thread_local float last = -1;
    static _Thread_local bool ok;
    if (div == last)
        return ok;
    double r = 1.0 / (double)div;
    ok = true;
    for (int v = 0; v < 256 && ok; v++)
        ok = (float)((double)v * r) == (float)v / div;
    last = div;
    return ok;
}

/* The same conversion in float, where fma_exact(div) holds (r = 1 / div rounded to float): q = v r,
 * then one correction step q + (v - q div) r with fused multiply-adds, which gives the correctly
 * rounded v / div for every byte value checked (all 256 for 255 and 1). 8 values a step: widen,
 * vcvtdq2ps, vmulps, two FMAs, no double: 3.1x faster than convert_u8_recip_avx2 on a batch in
 * cache (64 x 784 bytes: 4.3 us against 13.2, Zen 3; its vcvtpd2ps pairs are the cost). AVX2 +
 * FMA (picked at run time). */
__attribute__((target("avx2,fma"))) static void convert_u8_fma(float *restrict out, const uint8_t *restrict in,
                                                              int64_t n, float r, float div) {
    __m256 rv = _mm256_set1_ps(r), dv = _mm256_set1_ps(div);
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(in + k));
        __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
        __m256 q = _mm256_mul_ps(v, rv);
        _mm256_storeu_ps(out + k, _mm256_fmadd_ps(_mm256_fnmadd_ps(q, dv, v), rv, q));
    }
    for (; k < n; k++) {
        float v = (float)in[k], q = v * r;
        out[k] = fmaf(fmaf(-q, div, v), r, q);
    }
}

/* Whether convert_u8_fma's steps give value / div in float for all 256 values; checked once per
 * div and thread, with fmaf (the same single rounding as the vector FMA). */
static bool fma_exact(float div) {
    static _Thread_local float last = -1;
    static _Thread_local bool ok;
    if (div == last)
        return ok;
    float r = 1.0f / div;
    ok = true;
    for (int v = 0; v < 256 && ok; v++) {
        float q = (float)v * r;
        ok = fmaf(fmaf(-q, div, (float)v), r, q) == (float)v / div;
    }
    last = div;
    return ok;
}
#endif

typedef struct GatherJob {
    const RtColumn *col;
    void *dst;
    const int64_t *idx;
    int64_t n;
    bool recip;                 /* u8: convert_u8_recip_avx2 (recip_exact, and the CPU has AVX2) */
    bool fma;                   /* u8: convert_u8_fma instead (fma_exact, and the CPU has FMA too) */
    const int64_t *ahead;       /* the batch after this one's samples (ahead[0..nahead)), fetched toward */
    int64_t nahead;             /* the cache meanwhile (scan_and_gather), or none */
} GatherJob;

/* Samples [lo, hi) of one column (a chunk of nnc_parallel_for: each sample is written by one
 * thread, so the batch is the same however it is cut). */
static void gather_rows(void *ctx, int64_t lo, int64_t hi) {
    const GatherJob *g = ctx;
    const RtColumn *col = g->col;
    if (col->u8) {
        const uint8_t *src = col->data;
        for (int64_t j = lo; j < hi; j++) {
            /* samples come in shuffled order: fetch the one two ahead while this one converts */
            if (j + 2 < hi)
                for (int64_t q = 0; q < col->per; q += 64) __builtin_prefetch(src + g->idx[j + 2] * col->per + q);
            /* and sample j of the batch after, into L2, so that its gather after the next step finds
             * it in the cache instead of memory (the data set is read in random order) */
            if (j < g->nahead)
                for (int64_t q = 0; q < col->per; q += 64) __builtin_prefetch(src + g->ahead[j] * col->per + q, 0, 2);
#ifdef HAVE_RECIP_AVX2
            if (g->fma) {
                convert_u8_fma((float *)g->dst + j * col->per, src + g->idx[j] * col->per, col->per, 1.0f / col->div,
                               col->div);
                continue;
            }
            if (g->recip) {
                convert_u8_recip_avx2((float *)g->dst + j * col->per, src + g->idx[j] * col->per, col->per,
                                      1.0 / (double)col->div);
                continue;
            }
#endif
            convert_u8((float *)g->dst + j * col->per, src + g->idx[j] * col->per, col->per, col->div);
        }
        return;
    }
    size_t row = (size_t)col->per * rt_dsize(col->dtype);
    for (int64_t j = lo; j < hi; j++)
        memcpy((uint8_t *)g->dst + (size_t)j * row, (const uint8_t *)col->data + (size_t)g->idx[j] * row, row);
}

/* Copies samples idx[0..n) of the data set into the batch's input/target buffers, converting u8
 * columns (rt.h) on the way. A column of at least GATHER_PAR_BYTES per batch is split over the
 * run's threads (mlp_small's 64 images are 200 KB of f32: one thread spent ~8% of a step on them). */
#define GATHER_PAR_BYTES (64 * 1024)

/* The jobs gathering samples idx[0..n) into b's buffers, one per data column (at most RT_MAXCOL). */
static int gather_jobs(RtCtx *c, const RtData *d, Batch *b, const int64_t *idx, int64_t n, GatherJob *jobs) {
    int k = 0;
    for (int i = 0; i < c->desc.nt && k < d->ncol; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role != RT_INPUT && t->role != RT_TARGET) continue;
        const RtColumn *col = &d->col[k];
#ifdef HAVE_RECIP_AVX2
        bool recip = col->u8 && __builtin_cpu_supports("avx2") && recip_exact(col->div);
        bool fma = col->u8 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && fma_exact(col->div);
#else
        bool recip = false, fma = false;
#endif
        jobs[k++] = (GatherJob){col, b->bufs[i], idx, n, recip, fma, NULL, 0};
    }
    return k;
}

static void gather(RtCtx *c, const RtData *d, Batch *b, const int64_t *idx, int64_t n) {
    GatherJob jobs[RT_MAXCOL];
    int nj = gather_jobs(c, d, b, idx, n, jobs);
    for (int k = 0; k < nj; k++) {
        const RtColumn *col = jobs[k].col;
        size_t bytes = (size_t)n * (size_t)col->per * (col->u8 ? sizeof(float) : rt_dsize(col->dtype));
        if (bytes >= GATHER_PAR_BYTES)
            nnc_parallel_for(c->pool, n, gather_rows, &jobs[k]);
        else
            gather_rows(&jobs[k], 0, n);
    }
}

static NncArgs make_args(RtCtx *c, Batch *b, int64_t B) {
    NncArgs a;
    memset(&a, 0, sizeof a);
    a.B = B;
    a.bufs = b->bufs;
    a.workspace = b->workspace;
    a.losses = b->losses;
    a.pool = c->pool;
    a.user = c->def->user;
    a.seed = c->seed;
    return a;
}

/* ---- metrics over the first output vs the first target ---- */

typedef struct Metrics {
    double *loss_sum;           /* [nloss], the caller's (metrics_reset) */
    int64_t n;                  /* samples */
    int64_t correct;
    double se, ae;              /* sum of squared / absolute errors */
    int64_t nvals;              /* elements behind se/ae */
    int64_t *confusion;         /* [N, N] true x predicted, or NULL */
    bool have_outputs;
} Metrics;

/* Outputs whose first dim is B hold one row per sample: those are what metrics and predict see. */
static bool per_sample_output(const RtTensor *t) {
    return t->role == RT_OUTPUT && t->rank > 0 && t->dim[0] == RT_DIM_B;
}

static int first_output(const RtDesc *d) {
    for (int i = 0; i < d->nt; i++)
        if (per_sample_output(&d->t[i])) return i;
    return -1;
}

/* Whether the call just made left the first output as mark_outputs filled it. */
static bool outputs_unwritten(RtCtx *c, Batch *b, int64_t B) {
    int o = first_output(&c->desc);
    if (o < 0 || c->desc.t[o].dtype != RT_F32) return false;
    const float *out = b->bufs[o];
    uint32_t first, last;
    memcpy(&first, out, 4);
    memcpy(&last, out + B * rt_numel(&c->desc.t[o], 1) - 1, 4);
    return first == SENTINEL && last == SENTINEL;
}

static bool has_metric(const RtDesc *d, const char *name);

/* A binary classifier that is not a `classify` task: an f32 0/1 target with one value per sample
 * ([B] or [B, 1]) and a first output of the same size, the probability of class 1, in a model that
 * asks for `metrics accuracy` (logistic regression). Its accuracy counts (p >= 0.5) == (y >= 0.5),
 * and eval gives it the 2-class confusion matrix. */
static bool binary_prob(const RtDesc *d) {
    int o = first_output(d), tg = rt_first(d, RT_TARGET);
    if (d->nclasses > 0 || o < 0 || tg < 0) return false;
    const RtTensor *to = &d->t[o], *tt = &d->t[tg];
    return to->dtype == RT_F32 && tt->dtype == RT_F32 && to->rank <= 2 && tt->rank <= 2 &&
           rt_numel(to, 1) == 1 && rt_numel(tt, 1) == 1 && has_metric(d, "accuracy");
}

/* A classifier trained on one-hot (or probability) targets, as Keras' categorical_accuracy: an f32
 * [B, N] target (N > 1) beside an f32 [B, N] first output, in a model that asks for `metrics
 * accuracy`. The class of a row is its argmax (the first of the largest) for both; eval gives it the
 * N-class confusion matrix (N <= 1024, so that the matrix stays small). Returns N, else 0. */
static int onehot_classes(const RtDesc *d) {
    int o = first_output(d), tg = rt_first(d, RT_TARGET);
    if (d->nclasses > 0 || o < 0 || tg < 0) return 0;
    const RtTensor *to = &d->t[o], *tt = &d->t[tg];
    int64_t n = rt_numel(to, 1);
    bool fits = to->dtype == RT_F32 && tt->dtype == RT_F32 && to->rank == 2 && tt->rank == 2 && n > 1 &&
                n <= 1024 && rt_numel(tt, 1) == n && has_metric(d, "accuracy");
    return fits ? (int)n : 0;
}

static const char *row_sum_text(double sum) {
    static char buf[64];
    snprintf(buf, sizeof buf, "sums to %g, not 1", sum);
    return buf;
}

/* `metrics accuracy` on f32 [B, N] targets compares each row's argmax (one-hot classes, Keras'
 * categorical_accuracy): targets whose rows are no distribution (per-step or multi-label 0/1
 * labels: several 1s, or none) make that number meaningless (a per-step detector 99.9% right
 * printed accuracy 0.32), so such data is refused, naming the sample, with the metric fn to
 * write instead. */
static int check_onehot_rows(RtCtx *c, const RtData *data, const char *what) {
    int K = onehot_classes(&c->desc), tg = rt_first(&c->desc, RT_TARGET);
    if (!K || tg < 0) return 0;
    int k = 0;
    for (int i = 0; i < tg; i++) k += c->desc.t[i].role == RT_INPUT || c->desc.t[i].role == RT_TARGET;
    if (k >= data->ncol || !data->col[k].data) return 0;
    const RtColumn *col = &data->col[k];
    for (int64_t r = 0; r < data->n; r++) {
        double sum = 0, low = 0;
        for (int j = 0; j < K; j++) {
            double v = col->u8 ? ((const uint8_t *)col->data)[r * K + j] / (double)col->div
                               : ((const float *)col->data)[r * K + j];
            sum += v;
            low = v < low ? v : low;
        }
        if (low < -1e-6 || fabs(sum - 1.0) > 1e-3)
            return rt_error(c, "metrics accuracy compares the argmax of each row of target '%s' (one-hot classes, as "
                               "Keras' categorical_accuracy), but in the %s data sample %lld's row %s: for several 0/1 "
                               "labels per sample (per step, multi-label) name a metric fn instead, as fn "
                               "binary_accuracy(p: f32[B, N], y: f32[B, N]) -> f32 { mean(f32((p > 0.5) == (y > 0.5))) }",
                            c->desc.t[tg].name, what, (long long)r,
                            low < -1e-6 ? "holds a negative value" : row_sum_text(sum));
    }
    return 0;
}

static bool metrics_wanted(RtCtx *c) {
    int o = first_output(&c->desc), tg = rt_first(&c->desc, RT_TARGET);
    return o >= 0 && tg >= 0 && c->desc.t[o].dtype == RT_F32;
}

static void metrics_reset(Metrics *m, double *loss_sum, int nloss) {
    memset(m, 0, sizeof *m);
    m->loss_sum = loss_sum;
    for (int l = 0; l < nloss; l++) loss_sum[l] = 0;
}

/* The class a row of scores predicts: the first of the largest. */
static int argmax(const float *row, int n) {
    int best = 0;
    for (int k = 1; k < n; k++) if (row[k] > row[best]) best = k;
    return best;
}

static void accumulate(RtCtx *c, Batch *b, int64_t B, Metrics *m) {
    int o = first_output(&c->desc), tg = rt_first(&c->desc, RT_TARGET);
    m->n += B;
    if (!metrics_wanted(c) || outputs_unwritten(c, b, B)) return;
    const float *out = b->bufs[o];
    int64_t per = rt_numel(&c->desc.t[o], 1);
    m->have_outputs = true;
    int N = c->desc.nclasses;
    if (N > 0) {
        const int32_t *lab = b->bufs[tg];
        for (int64_t i = 0; i < B; i++) {
            int best = argmax(out + i * per, N);
            m->correct += best == lab[i];
            if (m->confusion && lab[i] >= 0 && lab[i] < N) m->confusion[(int64_t)lab[i] * N + best]++;
        }
    } else if (c->desc.t[tg].dtype == RT_F32 && rt_numel(&c->desc.t[tg], 1) == per) {
        const float *y = b->bufs[tg];
        for (int64_t i = 0; i < B * per; i++) {
            double e = (double)out[i] - y[i];
            m->se += e * e;
            m->ae += fabs(e);
        }
        m->nvals += B * per;
        int K = onehot_classes(&c->desc);
        for (int64_t i = 0; i < B && K > 0; i++) {
            int t = argmax(y + i * per, K), p = argmax(out + i * per, K);
            m->correct += t == p;
            if (m->confusion) m->confusion[(int64_t)t * K + p]++;
        }
        if (binary_prob(&c->desc)) {
            for (int64_t i = 0; i < B; i++) {
                int t = y[i] >= 0.5f, p = out[i] >= 0.5f;
                m->correct += t == p;
                if (m->confusion) m->confusion[t * 2 + p]++;
            }
        }
    }
}

static void mark_outputs(RtCtx *c, Batch *b, int64_t B) {
    int o = first_output(&c->desc);
    if (o < 0 || c->desc.t[o].dtype != RT_F32) return;
    uint32_t *p = b->bufs[o];
    int64_t n = rt_numel(&c->desc.t[o], B);
    for (int64_t i = 0; i < n; i++) p[i] = SENTINEL;
}

static bool has_metric(const RtDesc *d, const char *name) {
    for (int i = 0; i < d->nmetric; i++) if (!strcmp(d->metric[i], name)) return true;
    if (d->nmetric) return false;
    return d->nclasses > 0 ? !strcmp(name, "accuracy") : d->nclasses == 0 && !strcmp(name, "mse");
}

/* Whether a step names loss l (the loss it reports; the one step of a train block without steps
 * names the first loss and minimizes the sum of all). */
static bool step_loss(const RtDesc *d, int l) {
    for (int s = 0; s < d->nstep; s++)
        if (d->step[s].loss_index == l) return true;
    return false;
}

/* Whether loss l is a metric written as a fn (`metrics r2`): a value the model computes like a loss
 * (compiler/lower.c lower_fn_metrics), reported under its name and never minimized. */
static bool fn_metric(const RtDesc *d, int l) {
    for (int i = 0; i < d->nmetric; i++)
        if (!strcmp(d->metric[i], d->loss[l])) return true;
    return false;
}

/* "accuracy 0.8123, mse ..." for the metrics the model asks for, added to an epoch's row; prefix
 * "val_" for validation. A fn metric is the mean of its per-batch values weighted by the batch sizes. */
static int row_metrics(RtCtx *c, RtRow *r, const Metrics *m, const char *prefix) {
    int rc = 0;
    for (int l = 0; l < c->desc.nloss && m->n; l++)
        if (fn_metric(&c->desc, l)) rc |= rt_row_add(c, r, prefix, c->desc.loss[l], m->loss_sum[l] / (double)m->n, 'g');
    if (!m->have_outputs) return rc;
    if ((c->desc.nclasses > 0 || binary_prob(&c->desc) || onehot_classes(&c->desc)) &&
        has_metric(&c->desc, "accuracy"))
        rc |= rt_row_add(c, r, prefix, "accuracy", m->n ? (double)m->correct / (double)m->n : 0.0, 'a');
    if (m->nvals && has_metric(&c->desc, "mse")) rc |= rt_row_add(c, r, prefix, "mse", m->se / (double)m->nvals, 'g');
    if (m->nvals && has_metric(&c->desc, "mae")) rc |= rt_row_add(c, r, prefix, "mae", m->ae / (double)m->nvals, 'g');
    return rc;
}

/* One epoch's values in the order the epoch line prints them: each step's loss (by its name; a
 * loss two steps share once), the losses no step names, the metrics, then their validation
 * counterparts when nv > 0. *ntrain_vals gets the count of training entries. */
static int epoch_row(RtCtx *c, RtRow *r, const double *loss_sum, int64_t ntrain, const Metrics *m,
                     const Metrics *vm, int64_t nv) {
    const RtDesc *d = &c->desc;
    int rc = 0;
    rt_row_clear(c, r);
    for (int s = 0; s < d->nstep; s++) {
        bool dup = false;
        for (int q = 0; q < s; q++) dup |= d->step[q].loss_index == d->step[s].loss_index;
        if (!dup) rc |= rt_row_add(c, r, "", d->step[s].loss, loss_sum[s] / (double)ntrain, 'l');
    }
    for (int l = 0; l < d->nloss; l++)
        if (!fn_metric(d, l) && !step_loss(d, l)) rc |= rt_row_add(c, r, "", d->loss[l], m->loss_sum[l] / (double)ntrain, 'l');
    rc |= row_metrics(c, r, m, "");
    if (nv > 0) {
        for (int l = 0; l < d->nloss; l++)
            if (!fn_metric(d, l)) rc |= rt_row_add(c, r, "val_", d->loss[l], vm->loss_sum[l] / (double)nv, 'l');
        rc |= row_metrics(c, r, vm, "val_");
    }
    return rc ? -1 : 0;
}

/* Runs evaluate over samples idx[0..n) (or 0..n-1 when idx is NULL). */
static int evaluate_set(RtCtx *c, const RtData *d, const int64_t *idx, int64_t n, Batch *b, Metrics *m) {
    if (!c->def->evaluate) return rt_error(c, "the model has no evaluate entry point");
    int64_t *tmp = rt_alloc(c, sizeof(int64_t) * (size_t)b->bmax);
    if (!tmp) return -1;
    for (int64_t at = 0; at < n; at += b->bmax) {
        int64_t B = n - at < b->bmax ? n - at : b->bmax;
        for (int64_t j = 0; j < B; j++) tmp[j] = idx ? idx[at + j] : at + j;
        gather(c, d, b, tmp, B);
        mark_outputs(c, b, B);
        NncArgs a = make_args(c, b, B);
        a.step = c->step;
        for (int l = 0; l < c->desc.nloss; l++) b->losses[l] = NAN;
        c->def->evaluate(&a);
        for (int l = 0; l < c->desc.nloss; l++) m->loss_sum[l] += (double)b->losses[l] * (double)B;
        accumulate(c, b, B, m);
    }
    rt_free(c, tmp);
    return 0;
}

/* ---- train ---- */

/* Data parallelism (runtime/mpi.c): a Metrics summed over the processes, each of which measured
 * its own share of the samples; every process then holds the whole run's values. */
static int metrics_sum(RtCtx *c, Metrics *m, double *extra, int nextra, int nloss) {
    if (rt_dist_world() <= 1) return 0;
    int n = nloss + nextra + 6;
    double *v = rt_alloc(c, sizeof(double) * (size_t)n);
    if (!v) return -1;
    for (int l = 0; l < nloss; l++) v[l] = m->loss_sum[l];
    for (int e = 0; e < nextra; e++) v[nloss + e] = extra[e];
    double *t = v + nloss + nextra;
    t[0] = (double)m->n, t[1] = (double)m->correct, t[2] = m->se, t[3] = m->ae, t[4] = (double)m->nvals;
    t[5] = m->have_outputs;
    rt_dist_sum_f64(v, n);
    for (int l = 0; l < nloss; l++) m->loss_sum[l] = v[l];
    for (int e = 0; e < nextra; e++) extra[e] = v[nloss + e];
    m->n = (int64_t)t[0], m->correct = (int64_t)t[1], m->se = t[2], m->ae = t[3], m->nvals = (int64_t)t[4];
    m->have_outputs = t[5] > 0;
    rt_free(c, v);
    return 0;
}

/* This process's share of the step whose global batch starts at `at` of the epoch's order: its
 * samples are order[*first, *first + returned count). The step's global batch is the batch (the
 * epoch's last: what is left) cut to a multiple of the processes; 0: no step there. */
static int64_t step_share(int64_t ntrain, int64_t at, int64_t batch, int64_t *first) {
    int64_t w = rt_dist_world(), G = ntrain - at < batch ? ntrain - at : batch;
    int64_t B = (G - G % w) / w;
    *first = at + rt_dist_rank() * B;
    return B;
}

/* This process's share [lo, hi) of n samples: contiguous, sizes differing by at most one. */
static void shard(int64_t n, int64_t *lo, int64_t *hi) {
    int64_t w = rt_dist_world(), r = rt_dist_rank();
    *lo = n * r / w;
    *hi = n * (r + 1) / w;
}

/* The flag's value, else the model's hyper-parameter (at most max: a batch larger than the data is
 * cut to it anyway, and an absurd count stays clear of int64 overflow), else dflt. */
static int64_t hyper_int(const RtDesc *d, const char *name, int64_t flag, int64_t dflt, int64_t max) {
    double v;
    if (flag > 0) return flag;
    if (rt_hyper(d, name, &v) && v >= 1) return v < (double)max ? (int64_t)v : max;
    return dflt;
}

/* Whether w[lo..hi) holds a NaN or infinity: exponent all ones iff exponent + 1 carries into the
 * sign bit, an OR over 4 x 4 lanes in registers (the scalar loop took 3.7% of mlp_wide's time); the
 * AVX2 clone does the same on 8-lane registers. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
static bool nonfinite_range(const uint32_t *w, int64_t lo, int64_t hi) {
    int64_t k = lo;
    U32x4 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, v0, v1, v2, v3;
    for (; k + 16 <= hi; k += 16) {
        memcpy(&v0, w + k, sizeof v0), memcpy(&v1, w + k + 4, sizeof v1);
        memcpy(&v2, w + k + 8, sizeof v2), memcpy(&v3, w + k + 12, sizeof v3);
        a0 |= (v0 & 0x7f800000u) + 0x00800000u, a1 |= (v1 & 0x7f800000u) + 0x00800000u;
        a2 |= (v2 & 0x7f800000u) + 0x00800000u, a3 |= (v3 & 0x7f800000u) + 0x00800000u;
    }
    a0 |= a1 | a2 | a3;
    uint32_t bad = a0[0] | a0[1] | a0[2] | a0[3];
    for (; k < hi; k++) bad |= (w[k] & 0x7f800000u) + 0x00800000u;
    return bad & 0x80000000u;
}

typedef struct ScanJob { const uint32_t *w; atomic_bool bad; } ScanJob;

static void scan_chunk(void *ctx, int64_t lo, int64_t hi) {
    ScanJob *j = ctx;
    if (nonfinite_range(j->w, lo, hi)) atomic_store(&j->bad, true);
}

/* Parameters of at least this many values are scanned on the pool's threads. */
#define SCAN_PAR_ELEMS (64 * 1024)

/* The first parameter holding a NaN or infinity, or NULL: a step that made one stops training as a
 * non-finite loss does (a ReLU's `where` can hide a NaN from the loss while it spreads through the
 * weights). One pass over the parameters per step, against the B passes the step itself makes. */
static const char *nonfinite_param(RtCtx *c) {
    for (int i = 0; i < c->desc.nt; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role != RT_PARAM || t->dtype != RT_F32 || t->frozen) continue;
        if (c->def->device) {   /* the params are on the device, which checked them */
            if (c->def->device->param_nonfinite(c->def->user, i)) return t->name;
            continue;
        }
        int64_t n = rt_numel(t, 1);
        ScanJob j = {.w = c->bufs[i]};
        atomic_init(&j.bad, false);
        if (n >= SCAN_PAR_ELEMS)
            nnc_parallel_for(c->pool, n, scan_chunk, &j);
        else
            scan_chunk(&j, 0, n);
        if (atomic_load(&j.bad)) return t->name;
    }
    return NULL;
}

/* nonfinite_param and the gather of the next batch (samples idx[0..n) into bn) in one dispatch of
 * the pool: after a step both used to wake the sleeping workers on their own (the scan of the
 * large parameters, then the next step's gather), one wake-up a step more than needed. Part t of T
 * scans the t-th T-th of every parameter and gathers the t-th T-th of the samples: the same
 * values land in bn as gather's, and the same parameter is named, the first one (in the
 * descriptor's order) that holds a NaN or infinity. Small parameters are scanned before, on the
 * caller. */
typedef struct ScanGather {
    RtCtx *c;
    GatherJob g[RT_MAXCOL];
    int ng, parts;
    atomic_int first_bad;       /* the least tensor index found bad, c->desc.nt if none */
} ScanGather;

static void scan_gather_part(void *ctx, int64_t lo, int64_t hi) {
    ScanGather *j = ctx;
    RtCtx *c = j->c;
    for (int64_t t = lo; t < hi; t++) {
        for (int i = 0; i < c->desc.nt; i++) {
            const RtTensor *p = &c->desc.t[i];
            if (p->role != RT_PARAM || p->dtype != RT_F32 || p->frozen) continue;
            int64_t n = rt_numel(p, 1);
            if (n < SCAN_PAR_ELEMS || !nonfinite_range(c->bufs[i], n * t / j->parts, n * (t + 1) / j->parts)) continue;
            int cur = atomic_load(&j->first_bad);
            while (i < cur && !atomic_compare_exchange_weak(&j->first_bad, &cur, i)) {}
            break;
        }
        for (int k = 0; k < j->ng; k++)
            gather_rows(&j->g[k], j->g[k].n * t / j->parts, j->g[k].n * (t + 1) / j->parts);
    }
}

static const char *scan_and_gather(RtCtx *c, const RtData *d, Batch *bn, const int64_t *idx, int64_t n,
                                   const int64_t *ahead, int64_t nahead) {
    ScanGather j = {.c = c, .parts = nnc_pool_threads(c->pool)};
    atomic_init(&j.first_bad, c->desc.nt);
    j.ng = gather_jobs(c, d, bn, idx, n, j.g);
    for (int k = 0; k < j.ng; k++)
        if (j.g[k].col->u8)  /* the images: the other columns are a few bytes a sample */
            j.g[k].ahead = ahead, j.g[k].nahead = nahead < n ? nahead : n;
    const char *small = NULL;   /* the first small parameter found bad: named unless a large one precedes it */
    int small_i = c->desc.nt;
    for (int i = 0; i < c->desc.nt && !small; i++) {
        const RtTensor *t = &c->desc.t[i];
        if (t->role != RT_PARAM || t->dtype != RT_F32 || t->frozen || rt_numel(t, 1) >= SCAN_PAR_ELEMS) continue;
        if (nonfinite_range(c->bufs[i], 0, rt_numel(t, 1))) small = t->name, small_i = i;
    }
    nnc_parallel_for(c->pool, j.parts, scan_gather_part, &j);
    int big = atomic_load(&j.first_bad);
    return big < small_i ? c->desc.t[big].name : small;
}

/* The rest of train's first line when resuming: where the run continues and what the schedule sees.
 * Rule: total_steps is always --epochs x batches per epoch of this run, so a run resumed with the
 * --epochs it was started with continues the very schedule it was interrupted in; a different
 * --epochs stretches (or shrinks) the schedule to the new total from the next step on, the steps
 * already taken stay as they were. */
static void resume_note(RtCtx *c, FILE *out, const char *path, int64_t epochs, int64_t steps_per_epoch) {
    fprintf(out, "; resuming '%s' after epoch %lld (step %lld)", path, (long long)c->epoch, (long long)c->step);
    if (c->ckpt_epochs > 0 && c->ckpt_epochs != epochs)
        fprintf(out, "; its run planned %lld epoch%s, this one %lld: from step %lld on, schedules span this run's %lld "
               "steps", (long long)c->ckpt_epochs, c->ckpt_epochs == 1 ? "" : "s", (long long)epochs,
               (long long)c->step + 1, (long long)(epochs * steps_per_epoch));
    else if (c->ckpt_epochs > 0)
        fprintf(out, "; schedules continue over its planned %lld epochs (%lld steps)", (long long)epochs,
               (long long)(epochs * steps_per_epoch));
    else
        fprintf(out, "; schedules span %lld epochs (%lld steps)", (long long)epochs, (long long)(epochs * steps_per_epoch));
}

/* What a run stopped by a NaN leaves: the checkpoint of the last epoch saved, if any. */
static const char *saved_note(const RtOpts *o, int64_t saved_epoch, char *buf, size_t n) {
    if (!o->save || saved_epoch <= 0) return " (try a smaller --lr)";
    snprintf(buf, n, " (the last good epoch's weights are saved: epoch %lld, in '%s')", (long long)saved_epoch, o->save);
    return buf;
}

int rt_train(RtCtx *c, const RtOpts *o0) {
    const RtDesc *d = &c->desc;
    /* data parallelism: rank 0 alone writes files (its stdout is the run's; the others' is /dev/null) */
    int world = rt_dist_world(), rank = rt_dist_rank();
    RtOpts local = *o0;
    if (rank > 0) local.save = local.history = local.plot = local.save_best = NULL;
    const RtOpts *o = &local;
    if (d->nstep == 0 && d->nloss > 0)
        return rt_error(c, "the model has no `train` block (nothing says how to train it): it has a loss, '%s', but "
                           "no optimizer step", d->loss[0]);
    if (d->nstep == 0) return rt_error(c, "the model has no train step (no loss to minimize)");
    if (!c->def->train_step) return rt_error(c, "the model has no train_step entry point");
    int64_t batch = hyper_int(d, "batch", o->batch, 32, RT_MAX_BATCH);
    if (world > 1 && batch % world)
        return rt_error(c, "the batch size %lld%s does not divide by the %d processes: --batch is the global batch, split "
                           "evenly among them (use a multiple of %d)", (long long)batch,
                        o->batch > 0 ? " (--batch)" : " (the model's)", world, world);
    int64_t epochs = hyper_int(d, "epochs", o->epochs, 1, RT_MAX_EPOCHS);
    double val_split = o->val_split, hv;
    if (val_split < 0) val_split = rt_hyper(d, "validation", &hv) || rt_hyper(d, "val_split", &hv) ? hv : 0;
    if (val_split < 0 || val_split >= 1) return rt_error(c, "validation split %g is not in [0, 1)", val_split);
    if (o->save && rt_save_probe(c, o->save, o->force)) return -1;     /* before hours of training, not after */
    c->run_epochs = epochs;

    if (o->resume) {
        if (rt_load(c, o->resume, true, true)) return -1;
        if (c->epoch >= epochs)
            fprintf(stderr, "%s: note: '%s' has already trained %lld epochs (of %lld): nothing to do\n", c->prog,
                    o->resume, (long long)c->epoch, (long long)epochs);
    } else {
        c->rng.s = rt_mix64(c->seed ^ SEED_SHUFFLE);
    }
    if (world > 1) {
        /* every process starts from rank 0's parameters, state, shuffle and counters: the same seed
         * or checkpoint gives the same values anyway; the broadcast makes sure of it */
        rt_dist_bcast((void *)(((uintptr_t)c->slab_raw + 63) & ~(uintptr_t)63), c->slab_bytes);
        int64_t ctr[3] = {(int64_t)c->rng.s, c->step, c->epoch};
        rt_dist_bcast(ctr, sizeof ctr);
        c->rng.s = (uint64_t)ctr[0], c->step = ctr[1], c->epoch = ctr[2];
        /* a device (the GPU) uploads the broadcast values before its first call */
        if (c->def->device && c->def->device->from_host) c->def->device->from_host(c->def->user);
    }

    RtData data, vdata;
    memset(&vdata, 0, sizeof vdata);
    if (rt_data_load(c, o->data, RT_SPLIT_TRAIN, true, o->limit, &data)) return -1;
    if (check_onehot_rows(c, &data, "training")) { rt_data_free(c, &data); return -1; }
    int rc = -1;
    /* bn: the next batch, gathered while a device (the GPU) runs the step on b */
    Batch b = {0}, bn = {0};
    const NncDevice *dev = c->def->device && c->def->device->defer ? c->def->device : NULL;
    bool have_next = false;
    int64_t *perm = NULL, *order = NULL, *vidx = NULL;
    double *dbuf = NULL;
    RtAround ar;
    memset(&ar, 0, sizeof ar);
    RtRow row = {0};
    /* the data files are known now: the checkpoint must not replace one of them (nor the executable) */
    if (o->save && rt_save_probe(c, o->save, o->force)) goto done;
    /* lr and loss sums per step, loss sums per loss for train and validation metrics */
    dbuf = rt_calloc(c, sizeof(double) * (size_t)(3 * d->nstep + 2 * d->nloss + 1));
    if (!dbuf) goto done;
    double *lr = dbuf, *loss_sum = dbuf + d->nstep, *m_loss = loss_sum + d->nstep, *vm_loss = m_loss + d->nloss;
    double *lr_now = vm_loss + d->nloss;       /* [nstep] the rate a schedule gives at the current step */
    for (int s = 0; s < d->nstep; s++) lr[s] = o->have_lr ? o->lr : d->step[s].lr;
    int64_t n = data.n, nval = (int64_t)floor((double)n * val_split), ntrain = n - nval;
    /* --fold I/K: the held-out part is the I-th of K equal parts of the shuffled order (the same
     * order for every I with one seed, so the K runs validate on disjoint parts that cover the data) */
    int64_t fold_lo = 0;
    if (o->folds) {
        if (data.ordered) {
            rt_error(c, "--fold cuts the data into parts of shuffled samples, but these are windows of one text "
                        "(validation holds out the end of the text: use --val-split F)");
            goto done;
        }
        if (n < o->folds) {
            rt_error(c, "--fold %lld/%lld: %lld samples cannot be cut into %lld parts", (long long)o->fold,
                     (long long)o->folds, (long long)n, (long long)o->folds);
            goto done;
        }
        fold_lo = (o->fold - 1) * n / o->folds;
        nval = o->fold * n / o->folds - fold_lo;
        ntrain = n - nval;
    }
    int64_t gap = nval > 0 && data.ordered ? data.gap : 0;   /* [text.split] ordered data: the end held out */
    ntrain -= gap;
    if (ntrain <= 0) { rt_error(c, "no training samples left after the validation split"); goto done; }
    if (val_split > 0 && nval == 0 && !o->folds && rt_dist_rank() == 0)
        /* a split asked for that holds out nothing would report no validation without a word */
        fprintf(stderr, "%s: note: a validation split of %g of %lld samples holds out none: no validation this run\n",
                c->prog, val_split, (long long)n);
    /* [train.validation.data] a validation data source of the model's own (`validation csv(...)`),
     * unless --val-split replaces it: loaded as eval loads its data (the test split of an MNIST
     * set), string class labels numbered by the training data's class names */
    if (o->val_split < 0 && !o->folds && *d->valdata) {
        bool borrow = data.classes && !c->class_names;
        if (borrow) c->class_names = data.classes, c->nclass_names = data.nclasses;
        int vr = rt_data_load(c, d->valdata, RT_SPLIT_TEST, true, o->limit, &vdata);
        if (borrow) c->class_names = NULL, c->nclass_names = 0;
        if (vr || check_onehot_rows(c, &vdata, "validation")) goto done;
    }
    int64_t nv = vdata.n > 0 ? vdata.n : nval;     /* validation samples, from either */
    if (batch > ntrain) batch = ntrain;
    batch -= batch % world;     /* a global batch cut to the data stays a multiple of the processes */
    if (batch <= 0) { rt_error(c, "%lld training samples cannot be split among %d processes", (long long)ntrain, world); goto done; }
    perm = rt_alloc(c, sizeof(int64_t) * (size_t)n);
    order = rt_alloc(c, sizeof(int64_t) * (size_t)ntrain);
    if (!perm || !order) goto done;
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    if (nval > 0 && !data.ordered) {
        RtPrng vr = {rt_mix64(c->seed ^ SEED_VALID)};
        for (int64_t i = n - 1; i > 0; i--) {
            int64_t j = (int64_t)rt_prng_below(&vr, (uint64_t)i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        /* --fold: part I moves to the end, where the held-out samples are */
        if (o->folds) {
            int64_t *tmp = rt_alloc(c, sizeof(int64_t) * (size_t)nval);
            if (!tmp) goto done;
            memcpy(tmp, perm + fold_lo, sizeof(int64_t) * (size_t)nval);
            memmove(perm + fold_lo, perm + fold_lo + nval, sizeof(int64_t) * (size_t)(n - fold_lo - nval));
            memcpy(perm + ntrain, tmp, sizeof(int64_t) * (size_t)nval);
            rt_free(c, tmp);
        }
    }
    int64_t rem = ntrain % batch, vrem = vdata.n > 0 ? vdata.n % batch : 0;
    if (vrem && (!rem || vrem < rem)) rem = vrem;      /* the smallest batch either set makes */
    /* each process runs the model on its share of a batch: batch / world samples (validation
     * shares may be smaller: the workspace is sized for any B up to that) */
    if (batch_new(c, batch / world, world > 1 ? 1 : rem ? rem : batch, &b)) goto done;
    if (dev && batch_new(c, batch / world, world > 1 ? 1 : rem ? rem : batch, &bn)) goto done;
    /* on the CPU with a pool: the next batch is gathered with the step's parameter scan (scan_and_gather) */
    bool overlap = !c->def->device && nnc_pool_threads(c->pool) > 1;
    if (overlap && batch_new_buffers(c, &b, &bn)) goto done;
    if (world > 1 && vdata.n > 0) {
        if (!(vidx = rt_alloc(c, sizeof(int64_t) * (size_t)vdata.n))) goto done;
        for (int64_t i = 0; i < vdata.n; i++) vidx[i] = i;
    }
    int64_t steps_per_epoch = (ntrain + batch - 1) / batch, total_steps = epochs * steps_per_epoch;
    /* NncArgs.seed of (step, s) hashes step * streams + s: 16 streams (the historical value, so
     * results do not change) unless a model has more train steps than that */
    uint64_t step_streams = d->nstep > 16 ? (uint64_t)d->nstep : 16;
    bool tty = isatty(2) && rank == 0;
    {
        /* the names an epoch reports, for --monitor to be checked before training (around.c) */
        Metrics dm;
        metrics_reset(&dm, m_loss, d->nloss);
        dm.have_outputs = true;
        dm.n = dm.nvals = 1;
        if (epoch_row(c, &row, loss_sum, 1, &dm, &dm, nv) || rt_around_begin(c, o, &ar, &row, nv)) goto done;
        for (int s = 0; s < d->nstep; s++) ar.scheduled |= d->step[s].schedule && strcmp(d->step[s].schedule, "constant");
    }
    fprintf(ar.info, "training %s on %lld samples (%lld validation), batch %lld, %lld epoch%s, %d thread%s", d->name,
            (long long)ntrain, (long long)nv, (long long)batch, (long long)epochs, epochs == 1 ? "" : "s", c->threads,
            c->threads == 1 ? "" : "s");
    if (o->folds) fprintf(ar.info, "; validating on part %lld of %lld (--fold)", (long long)o->fold, (long long)o->folds);
    if (o->resume) resume_note(c, ar.info, o->resume, epochs, steps_per_epoch);
    if (world > 1)
        fprintf(ar.info, "; data-parallel over %d processes (MPI), %lld samples each per step", world,
                (long long)(batch / world));
    fprintf(ar.info, "\n");
    fflush(ar.info);
    /* oneDNN's sgemm (runtime/bmm.c's small products) initialises itself at its first call: here,
     * before the clock starts, rather than in the first step */
    if (!c->def->device) (void)nnc_dnnl_gemm_available();
    double run_t0 = rt_now();
    int64_t run_done = 0, run_total = (epochs - c->epoch) * ntrain;
    /* --save's checkpoint is written after every epoch, unless saving would dominate the run: a
     * save (fsync'ed) costs milliseconds, which 10000 full-batch epochs of a small network (Andrew
     * Ng's course: num_iterations = 10000) would pay 10000 times, minutes for a second's training.
     * So a save is skipped while less than 10 times the last save's time has passed since it ended
     * (at most a tenth of the run goes to saving, and at most that much training is lost to a
     * crash); the last epoch, and the one early stopping ends on, are always saved. --save-every N
     * replaces the timing with every N-th epoch. */
    double save_cost = 0.0, save_end = 0.0;
    int64_t saved_epoch = 0;
    char note[4200];
    for (int64_t epoch = c->epoch + 1; epoch <= epochs; epoch++) {
        double t0 = rt_now(), last_draw = 0;
        for (int64_t i = 0; i < ntrain; i++) order[i] = perm[i];
        for (int64_t i = ntrain - 1; i > 0; i--) {     /* Fisher-Yates */
            int64_t j = (int64_t)rt_prng_below(&c->rng, (uint64_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        Metrics m;
        metrics_reset(&m, m_loss, d->nloss);
        for (int s = 0; s < d->nstep; s++) loss_sum[s] = 0;
        int64_t nused = 0;      /* samples trained on: a last batch is cut to a multiple of the processes */
        for (int64_t at = 0, sidx = 0; at < ntrain; at += batch, sidx++) {
            int64_t first, B = step_share(ntrain, at, batch, &first);
            if (B == 0) break;
            nused += B * world;
            if (have_next) {
                Batch t = b;
                b = bn, bn = t, have_next = false;
            } else {
                gather(c, &data, &b, order + first, B);
            }
            mark_outputs(c, &b, B);
            c->step++;
            for (int s = 0; s < d->nstep; s++) {
                NncArgs a = make_args(c, &b, B);
                a.step = c->step;
                a.total_steps = total_steps;
                a.lr = (float)lr[s];
                a.seed = rt_mix64(c->seed ^ rt_mix64(SEED_STEP ^ ((uint64_t)c->step * step_streams + (uint64_t)s)));
                if (world > 1) a.seed = rt_mix64(a.seed ^ (uint64_t)rank);   /* each process its own dropout */
                int li = d->step[s].loss_index;
                b.losses[li] = NAN;
                bool ahead = dev && s == d->nstep - 1;
                if (ahead) dev->defer(c->def->user);
                c->def->train_step(&a, s);
                if (ahead) {
                    /* the device runs the step: the next batch of the epoch is gathered meanwhile */
                    int64_t nfirst, Bn = at + batch < ntrain ? step_share(ntrain, at + batch, batch, &nfirst) : 0;
                    if (Bn > 0) {   /* this process's share of the next step's batch */
                        gather(c, &data, &bn, order + nfirst, Bn);
                        have_next = true;
                        if (dev->prefetch) {    /* and copied to the device meanwhile */
                            NncArgs an = make_args(c, &bn, Bn);
                            dev->prefetch(c->def->user, &an);
                        }
                    }
                    dev->wait(c->def->user);
                }
                float L = b.losses[li];
                /* a train block without steps minimizes the sum of all losses ([train.loss.sum]):
                 * the losses no step names are part of what this step minimized */
                for (int l = 0; l < d->nloss && isfinite(L); l++)
                    if (l != li && !step_loss(d, l) && !fn_metric(d, l) && !isfinite(b.losses[l])) L = b.losses[l];
                if (!isfinite(L)) {
                    if (tty) fprintf(stderr, "\r\033[K");
                    rt_error(c, "loss became %s at epoch %lld, step %lld%s", isnan(L) ? "NaN" : "Inf",
                             (long long)epoch, (long long)c->step,
                             saved_note(o, saved_epoch, note, sizeof note));
                    goto done;
                }
                loss_sum[s] += (double)L * (double)B;
            }
            if (o->check_sync && c->step % o->check_sync == 0) {
                /* a device's params are hashed as it holds them: brought back first */
                if (world > 1 && c->def->device && c->def->device->to_host) c->def->device->to_host(c->def->user);
                if (rt_dist_check_sync(c, c->step)) goto done;
            }
            int64_t nfirst, Bn = overlap && at + batch < ntrain ? step_share(ntrain, at + batch, batch, &nfirst) : 0;
            const char *bad;
            if (Bn > 0) {
                int64_t afirst = 0, Ba = at + 2 * batch < ntrain ? step_share(ntrain, at + 2 * batch, batch, &afirst) : 0;
                bad = scan_and_gather(c, &data, &bn, order + nfirst, Bn, order + afirst, Ba);
                have_next = true;
            } else {
                bad = nonfinite_param(c);
            }
            if (bad) {
                if (tty) fprintf(stderr, "\r\033[K");
                rt_error(c, "parameter '%s' became NaN or infinite at epoch %lld, step %lld (the loss was finite)%s",
                         bad, (long long)epoch, (long long)c->step, saved_note(o, saved_epoch, note, sizeof note));
                goto done;
            }
            /* Train metrics come from the outputs the train step computed (weights before the
             * update). A provider whose train step writes no outputs gets a forward pass on the
             * batch instead (weights after the update), at the cost of that pass. */
            if (metrics_wanted(c) && c->def->forward && outputs_unwritten(c, &b, B)) {
                NncArgs a = make_args(c, &b, B);
                a.step = c->step;
                c->def->forward(&a);
            }
            accumulate(c, &b, B, &m);
            /* fn metrics, and the losses no step names (a step without steps minimizes the sum of
             * all, [train.loss.sum]): the train steps computed them */
            for (int l = 0; l < d->nloss; l++)
                if (fn_metric(d, l) || !step_loss(d, l)) m.loss_sum[l] += (double)b.losses[l] * (double)B;
            double now = rt_now();
            if (tty && (now - last_draw > 0.1 || at + B == ntrain)) {
                for (int s = 0; s < d->nstep; s++) lr_now[s] = rt_step_lr(d, s, lr[s], c->step, total_steps);
                rt_around_progress(c, &ar, epoch, epochs, at + B, ntrain, loss_sum, lr_now, run_t0,
                                   run_done + at + B, run_total);
                last_draw = now;
            }
            (void)sidx;
        }
        if (metrics_sum(c, &m, loss_sum, d->nstep, d->nloss)) goto done;   /* every process's share */
        double secs = rt_now() - t0;
        run_done += ntrain;
        Metrics vm;
        metrics_reset(&vm, vm_loss, d->nloss);
        int64_t vlo, vhi;       /* each process evaluates its share of the validation samples */
        shard(nval, &vlo, &vhi);
        if (nval > 0 && evaluate_set(c, &data, perm + ntrain + gap + vlo, vhi - vlo, &b, &vm)) goto done;
        shard(vdata.n, &vlo, &vhi);
        if (vdata.n > 0 && evaluate_set(c, &vdata, vidx ? vidx + vlo : NULL, vhi - vlo, &b, &vm)) goto done;
        if (metrics_sum(c, &vm, NULL, 0, d->nloss)) goto done;
        if (tty) fprintf(stderr, "\r\033[K");
        if (epoch_row(c, &row, loss_sum, nused, &m, &vm, nv)) goto done;
        for (int s = 0; s < d->nstep; s++) lr_now[s] = rt_step_lr(d, s, lr[s], c->step, total_steps);
        bool save_due = o->save && (epoch == epochs || (o->save_every > 0 ? epoch % o->save_every == 0
                                                                          : rt_now() - save_end >= 10.0 * save_cost));
        ar.save_due = save_due;
        if (rt_around_epoch(c, &ar, epoch, epochs, &row, secs, secs > 0 ? (double)ntrain / secs : 0.0, lr_now,
                            d->nstep))
            goto done;
        c->epoch = epoch;
        if (save_due) {
            double save_start = rt_now();
            if (rt_save(c, o->save, &data, o->force)) goto done;
            save_end = rt_now();
            save_cost = save_end - save_start;
            saved_epoch = epoch;
        }
        int stop = rt_around_after(c, &ar, &data);
        if (stop < 0) goto done;
        if (stop) {
            if (o->save && saved_epoch != epoch && rt_save(c, o->save, &data, o->force)) goto done;
            break;
        }
    }
    rt_around_end(c, &ar, epochs, ar.last_epoch > 0 ? &row : NULL);
    if (world > 1) {
        double ars;
        int64_t calls, bytes;
        rt_dist_allreduce_stats(&ars, &calls, &bytes);
        double all = rt_now() - run_t0;
        char h[32];
        rt_human(calls ? (double)bytes / (double)calls : 0, h, sizeof h);
        int64_t ncalls, nbytes;     /* a GPU run's allreduces are NCCL's, queued on the device */
        nnc_nccl_stats(&ncalls, &nbytes);
        if (ncalls > 0) {
            rt_human((double)nbytes / (double)ncalls, h, sizeof h);
            fprintf(ar.info, "allreduce: %lld steps through NCCL on the GPUs, %s of f32 gradients a step\n",
                    (long long)ncalls, h);
        } else {
            fprintf(ar.info, "allreduce: %lld steps, %s a step, %.3f s of %.3f s training (%.1f%%) on rank 0\n",
                    (long long)calls, h, ars, all, all > 0 ? 100 * ars / all : 0.0);
        }
    }
    rc = 0;
done:
    rt_free(c, vidx);
    rt_around_free(c, &ar);
    rt_row_free(c, &row);
    batch_free(c, &b);
    batch_free(c, &bn);
    rt_free(c, dbuf);
    rt_free(c, perm);
    rt_free(c, order);
    rt_data_free(c, &vdata);
    rt_data_free(c, &data);
    return rc;
}

/* ---- stats: Keras' Normalization.adapt() ---- */

/* The mean and standard deviation of each feature (the last axis) of the model's first input over
 * the training data (--data, --limit as train reads them), printed as the two nnc list literals a
 * model standardises with: `h = (x - mu) / sigma` (examples/course/basic_regression.nn). The
 * variance is the biased one, as Keras' Normalization layer takes it; a constant feature's sigma
 * is printed as 1 (a note says which), so the division stays finite. */
int rt_stats(RtCtx *c, const RtOpts *o) {
    const RtTensor *in = NULL;
    for (int i = 0; i < c->desc.nt && !in; i++)
        if (c->desc.t[i].role == RT_INPUT) in = &c->desc.t[i];
    if (!in) return rt_error(c, "the model has no input");
    char sh[256];
    rt_shape_str(in, sh, sizeof sh);
    if (in->dtype != RT_F32)
        return rt_error(c, "stats: input '%s' is %s (ids or flags, not measurements): nothing to standardise", in->name, sh);
    int64_t K = in->rank > 1 ? in->dim[in->rank - 1] : 1;
    if (K < 1 || K > 4096)
        return rt_error(c, "stats: input '%s' is %s: its last axis has %lld features (stats prints 1 to 4096)", in->name,
                        sh, (long long)K);
    RtData data;
    if (rt_data_load(c, o->data, RT_SPLIT_TRAIN, true, o->limit, &data)) return -1;
    const RtColumn *col = &data.col[0];
    int rc = -1;
    double *acc = rt_calloc(c, sizeof(double) * (size_t)(2 * K));
    if (!acc) goto done;
    int64_t rows = data.n * (col->per / K);
    /* two passes (mean, then squared deviations) in double: no cancellation for large offsets */
    for (int pass = 0; pass < 2; pass++)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t k = 0; k < K; k++) {
                int64_t at = r * K + k;
                double v = col->u8 ? ((const uint8_t *)col->data)[at] / (double)col->div : ((const float *)col->data)[at];
                if (pass == 0) acc[k] += v;
                else acc[K + k] += (v - acc[k]) * (v - acc[k]);
                if (pass == 0 && r == rows - 1) acc[k] /= (double)rows;
            }
    printf("# input '%s' (%s) over the %lld samples of the training data: mean and standard deviation of each of its %lld "
           "features\n", in->name, sh, (long long)data.n, (long long)K);
    printf("mu    = [");
    for (int64_t k = 0; k < K; k++) printf("%s%.7g", k ? ", " : "", acc[k]);
    printf("]\nsigma = [");
    for (int64_t k = 0; k < K; k++) {
        double sd = sqrt(acc[K + k] / (double)rows);
        if (!(sd > 0)) fprintf(stderr, "%s: note: feature %lld is constant (%.7g): its sigma is printed as 1\n", c->prog,
                               (long long)k, acc[k]);
        printf("%s%.7g", k ? ", " : "", sd > 0 ? sd : 1.0);
    }
    printf("]\n");
    rc = 0;
done:
    rt_free(c, acc);
    rt_data_free(c, &data);
    return rc;
}

/* ---- eval ---- */

int rt_eval(RtCtx *c, const RtOpts *o) {
    const RtDesc *d = &c->desc;
    if (o->weights && rt_load(c, o->weights, false, false)) return -1;   /* else: literal params (cli.c) */
    RtData data;
    if (rt_data_load(c, o->data, RT_SPLIT_TEST, true, o->limit, &data)) return -1;
    if (check_onehot_rows(c, &data, "evaluation")) { rt_data_free(c, &data); return -1; }
    int rc = -1;
    Batch b = {0};
    Metrics m;
    double *loss_sum = rt_alloc(c, sizeof(double) * (size_t)(d->nloss + 1));
    metrics_reset(&m, loss_sum, loss_sum ? d->nloss : 0);
    if (!loss_sum) goto done;
    int N = d->nclasses > 0 ? d->nclasses : binary_prob(d) ? 2 : onehot_classes(d);
    int64_t batch = hyper_int(d, "batch", o->batch, 256, RT_MAX_BATCH);
    if (batch > data.n) batch = data.n;
    if (N > 0 && !(m.confusion = rt_calloc(c, sizeof(int64_t) * (size_t)N * (size_t)N))) goto done;
    if (batch_new(c, batch, data.n % batch ? data.n % batch : batch, &b)) goto done;
    double t0 = rt_now();
    if (evaluate_set(c, &data, NULL, data.n, &b, &m)) goto done;
    double secs = rt_now() - t0;
    {
        /* the report: per-class precision, recall and F1 by class name, the confusion matrix,
         * or JSON (report.c) */
        RtEvalResult r = {.n = data.n, .loss_sum = m.loss_sum, .have_outputs = m.have_outputs, .nclasses = N,
                          .confusion = m.confusion, .correct = m.correct, .se = m.se, .ae = m.ae, .nvals = m.nvals,
                          .secs = secs, .data_classes = data.classes, .ndata_classes = data.nclasses};
        rt_eval_report(c, o, &r);
    }
    rc = 0;
done:
    rt_free(c, m.confusion);
    rt_free(c, loss_sum);
    batch_free(c, &b);
    rt_data_free(c, &data);
    return rc;
}

/* ---- predict ---- */

/* A predicted class as predict prints it: the checkpoint's class name, else the index. A name
 * that CSV would misread (a comma, quote or line break) is quoted as RFC 4180 says. */
static void put_class(RtCtx *c, FILE *out, int k) {
    if (k >= c->nclass_names) { fprintf(out, "%d", k); return; }
    const char *s = c->class_names[k];
    if (!strpbrk(s, ",\"\r\n")) { fputs(s, out); return; }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static bool write_npy(FILE *f, const RtTensor *t, const float *v, int64_t n) {
    char hdr[256], shape[160];
    size_t k = (size_t)snprintf(shape, sizeof shape, "%lld,", (long long)n);
    for (int i = 1; i < t->rank; i++) k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%lld", i > 1 ? "," : "", (long long)t->dim[i]);
    if (t->rank > 1 && k && shape[k - 1] == ',') shape[--k] = 0;
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", shape);
    int total = 10 + hl + 1, pad = (64 - total % 64) % 64;
    uint16_t L = (uint16_t)(hl + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(L & 0xff), (unsigned char)(L >> 8)};
    bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)hl, f) == (size_t)hl;
    for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    size_t cnt = (size_t)(n * rt_numel(t, 1));
    return ok && fwrite(v, sizeof(float), cnt, f) == cnt;
}

/* One CSV line of predict: row j of every per-sample output (name_0, name_1, ... as the header
 * when j < 0), then the predicted class of a classifier. */
static void put_row(RtCtx *c, FILE *out, const Batch *b, int64_t j) {
    const RtDesc *d = &c->desc;
    bool first = true;
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if (!per_sample_output(t)) continue;
        int64_t per = rt_numel(t, 1);
        for (int64_t k = 0; k < per; k++) {
            int64_t q = j * per + k;
            fputs(first ? "" : ",", out);
            first = false;
            if (j < 0 && per == 1) fputs(t->name, out);
            else if (j < 0) fprintf(out, "%s_%lld", t->name, (long long)k);
            else if (t->dtype == RT_F32) fprintf(out, "%.9g", ((float *)b->bufs[i])[q]);
            else if (t->dtype == RT_I32) fprintf(out, "%d", ((int32_t *)b->bufs[i])[q]);
            else fprintf(out, "%d", ((uint8_t *)b->bufs[i])[q]);
        }
    }
    if (d->nclasses > 0 && j < 0) {
        fputs(",class", out);
    } else if (d->nclasses > 0) {
        fputc(',', out);
        put_class(c, out, argmax((const float *)b->bufs[first_output(d)] + j * d->nclasses, d->nclasses));
    }
    fputc('\n', out);
}

/* predict --json: one JSON object per sample (JSON Lines), each per-sample output by name (a
 * number for one value per sample, else an array), then a classifier's "class" (its name when
 * the weights have class names) and "class_index". */
static void put_json_row(RtCtx *c, FILE *out, const Batch *b, int64_t j) {
    const RtDesc *d = &c->desc;
    bool first = true;
    fputc('{', out);
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        if (!per_sample_output(t)) continue;
        int64_t per = rt_numel(t, 1);
        fputs(first ? "" : ", ", out);
        first = false;
        rt_json_str(out, t->name);
        fputs(per == 1 ? ": " : ": [", out);
        for (int64_t k = 0; k < per; k++) {
            int64_t q = j * per + k;
            if (k) fputs(", ", out);
            if (t->dtype == RT_F32) rt_json_num(out, ((float *)b->bufs[i])[q]);
            else if (t->dtype == RT_I32) fprintf(out, "%d", ((int32_t *)b->bufs[i])[q]);
            else fprintf(out, "%s", ((uint8_t *)b->bufs[i])[q] ? "true" : "false");
        }
        if (per != 1) fputc(']', out);
    }
    if (d->nclasses > 0) {
        int k = argmax((const float *)b->bufs[first_output(d)] + j * d->nclasses, d->nclasses);
        const char *nm = rt_class_name(c, k, d->nclasses, NULL, 0);
        fputs(", \"class\": ", out);
        if (nm) rt_json_str(out, nm);
        else fprintf(out, "%d", k);
        fprintf(out, ", \"class_index\": %d", k);
    }
    fputs("}\n", out);
}

/* An existing -o target predict may replace: an f32 NPY array, or a CSV whose first line is the
 * header this model's predictions start with. */
static bool own_predictions(RtCtx *c, FILE *f) {
    char head[256];
    size_t got = fread(head, 1, sizeof head - 1, f);
    head[got] = 0;
    if (got > 10 && !memcmp(head, "\x93NUMPY", 6)) return memmem(head, got, "'descr': '<f4'", 14) != NULL;
    if (got > 2 && head[0] == '{' && head[1] == '"') {
        /* predict --json's: its first key is the first per-sample output's name */
        int oi = first_output(&c->desc);
        size_t n = oi >= 0 ? strlen(c->desc.t[oi].name) : 0;
        return oi >= 0 && got > n + 3 && !memcmp(head + 2, c->desc.t[oi].name, n) && head[2 + n] == '"';
    }
    char *want = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&want, &n);
    if (!m) return false;
    put_row(c, m, NULL, -1);
    bool same = fclose(m) == 0 && got > 0 && !memcmp(head, want, got < n ? got : n);
    /* a header longer than head: compare the rest from the file */
    for (size_t at = got; same && at < n;) {
        char buf[4096];
        size_t k = n - at < sizeof buf ? n - at : sizeof buf;
        same = fread(buf, 1, k, f) == k && !memcmp(buf, want + at, k);
        at += k;
    }
    free(want);   /* open_memstream's buffer comes from malloc, not the ctx's allocator */
    return same;
}

static RtOutput predict_output(bool force) {
    return (RtOutput){"-o", "write predictions", "a predictions file",
                      "a predictions file of this model (a CSV starting with its header, or an f32 NPY array)",
                      own_predictions, force, true, false};
}

int rt_predict(RtCtx *c, const RtOpts *o) {
    const RtDesc *d = &c->desc;
    if (!c->def->forward) return rt_error(c, "the model has no forward entry point");
    RtOutput po = predict_output(o->force);
    if (o->out && rt_output_check(c, o->out, &po)) return -1;            /* before any work */
    if (o->weights && rt_load(c, o->weights, false, false)) return -1;   /* else: literal params (cli.c) */
    RtData data;
    if (rt_data_load_predict(c, o->input, &data)) return -1;
    int rc = -1;
    Batch b = {0};
    float *all = NULL;
    char *tmp = NULL;
    FILE *out = stdout;
    bool npy = o->out && strlen(o->out) > 4 && !strcmp(o->out + strlen(o->out) - 4, ".npy");
    int oi = first_output(d);
    if (oi < 0) { rt_error(c, "the model has no output to predict"); goto done; }
    /* the inputs are known now: -o must not be one of them */
    if (o->out && rt_output_check(c, o->out, &po)) goto done;
    int64_t batch = hyper_int(d, "batch", o->batch, 256, RT_MAX_BATCH);
    if (batch > data.n) batch = data.n;
    if (batch_new(c, batch, data.n % batch ? data.n % batch : batch, &b)) goto done;
    if (npy) {
        if (d->t[oi].dtype != RT_F32) { rt_error(c, "NPY output supports an f32 first output"); goto done; }
        all = rt_alloc(c, sizeof(float) * (size_t)(data.n * rt_numel(&d->t[oi], 1)));
        if (!all) goto done;
    }
    if (o->out) {
        /* a FIFO or device is written to as it is; a file through a temporary renamed over it */
        struct stat st;
        if (stat(o->out, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
            if (!(out = fopen(o->out, "w"))) {
                rt_error(c, "cannot write '%s': %s", o->out, strerror(errno));
                out = stdout;
                goto done;
            }
        } else if (!(out = rt_tmp_open(c, o->out, &tmp, "write predictions", ""))) {
            out = stdout;
            goto done;
        }
    }
    if (npy && o->json) { rt_error(c, "predict --json writes JSON Lines, not an NPY array ('%s')", o->out); goto done; }
    if (!npy && !o->json) put_row(c, out, &b, -1);
    int64_t *idx = rt_alloc(c, sizeof(int64_t) * (size_t)batch);
    if (!idx) goto done;
    for (int64_t at = 0; at < data.n; at += batch) {
        int64_t B = data.n - at < batch ? data.n - at : batch;
        for (int64_t j = 0; j < B; j++) idx[j] = at + j;
        gather(c, &data, &b, idx, B);
        NncArgs a = make_args(c, &b, B);
        a.step = c->step;
        c->def->forward(&a);
        if (npy) {
            int64_t per = rt_numel(&d->t[oi], 1);
            memcpy(all + at * per, b.bufs[oi], sizeof(float) * (size_t)(B * per));
            continue;
        }
        for (int64_t j = 0; j < B; j++) (o->json ? put_json_row : put_row)(c, out, &b, j);
    }
    rt_free(c, idx);
    if (npy && !write_npy(out, &d->t[oi], all, data.n)) {
        rt_error(c, "cannot write '%s': %s", o->out, strerror(errno));
        goto done;
    }
    if (fflush(out) || ferror(out)) {
        rt_error(c, "writing predictions%s%s%s failed: %s", o->out ? " to '" : "", o->out ? o->out : "",
                 o->out ? "'" : "", strerror(errno));
        goto done;
    }
    if (tmp && fsync(fileno(out))) {
        rt_error(c, "cannot write '%s': fsync failed: %s", o->out, strerror(errno));
        goto done;
    }
    if (out != stdout) {
        FILE *f = out;
        out = stdout;
        if (fclose(f)) { rt_error(c, "cannot write '%s': %s", o->out, strerror(errno)); goto done; }
        if (tmp && rt_tmp_rename(tmp, o->out)) {
            rt_error(c, "cannot write '%s': rename failed: %s", o->out, strerror(errno));
            goto done;
        }
        rt_free(c, tmp);
        tmp = NULL;
    }
    rc = 0;
done:
    if (out != stdout) fclose(out);
    if (tmp) {
        rt_tmp_release(tmp);
        rt_free(c, tmp);
    }
    rt_free(c, all);
    batch_free(c, &b);
    rt_data_free(c, &data);
    return rc;
}

/* ---- summary ---- */

/* What eval and the metrics make of the model: a classifier of N classes (i32 labels), a binary
 * classifier written as regression (a probability output, examples/logistic.nn), a one-hot
 * classifier, or regression. */
static void task_str(const RtDesc *d, char *buf, size_t n) {
    int K = onehot_classes(d);
    if (d->nclasses > 0) snprintf(buf, n, "classify %d classes", d->nclasses);
    else if (binary_prob(d)) snprintf(buf, n, "classify 2 classes (binary: the output is the probability of class 1)");
    else if (K) snprintf(buf, n, "classify %d classes (one-hot targets)", K);
    else if (d->nclasses == 0 && rt_first(d, RT_TARGET) < 0) snprintf(buf, n, "no target (the model's losses alone)");
    else if (d->nclasses == 0) snprintf(buf, n, "regress");
    else buf[0] = 0;
}

static void group_digits(int64_t v, char *buf, size_t n) {
    char raw[32];
    snprintf(raw, sizeof raw, "%lld", (long long)v);
    size_t len = strlen(raw), k = 0;
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        if (i && (len - i) % 3 == 0 && raw[0] != '-') buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = 0;
}

static void layer_shape(const RtLayer *y, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "%s[", rt_dtype_name(y->dtype));
    for (int i = 0; i < y->rank && k < n; i++) {
        if (y->dim[i] == RT_DIM_B) k += (size_t)snprintf(buf + k, n - k, "%sB", i ? "," : "");
        else k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)y->dim[i]);
    }
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* The Keras-style table: one row per input and per call the model body makes (the `layer`
 * records the compiler writes), its output shape and parameter count. */
static void summary_layers(RtCtx *c) {
    const RtDesc *d = &c->desc;
    if (!d->nlayer) return;
    int w = 24;
    for (int i = 0; i < d->nlayer; i++) {
        int len = (int)(strlen(d->layer[i].name) + strlen(d->layer[i].kind) + 3);
        if (len > w) w = len > 60 ? 60 : len;
    }
    printf("%-*s %-20s %14s\n", w, "layer (kind)", "output shape", "params");
    int64_t total = 0;
    for (int i = 0; i < d->nlayer; i++) {
        const RtLayer *y = &d->layer[i];
        char lhs[256], sh[128], p[48];
        snprintf(lhs, sizeof lhs, "%s (%s)", y->name, y->kind);
        layer_shape(y, sh, sizeof sh);
        group_digits(y->params, p, sizeof p);
        printf("%-*s %-20s %14s%s\n", w, lhs, sh, p, y->shared ? "  (shared: counted at its first call)" : "");
        total += y->params;
    }
    char t[48];
    group_digits(total, t, sizeof t);
    printf("%-*s %-20s %14s\n\n", w, "total in layers", "", t);
}

/* A step's schedule and parameter paths, after "with OPT (lr X)". */
static void summary_step_extra(const RtDesc *d, int s, FILE *out) {
    const RtStep *st = &d->step[s];
    if (st->schedule && !strcmp(st->schedule, "step_decay"))
        fprintf(out, ", schedule step_decay(gamma = %g, drops = %g)", st->sched_a, st->sched_b);
    else if (st->schedule && !strcmp(st->schedule, "cosine"))
        fprintf(out, ", schedule cosine(min_lr = %g)", st->sched_a);
    else if (st->schedule && !strcmp(st->schedule, "warmup_cosine"))
        fprintf(out, ", schedule warmup_cosine(warmup = %g, min_lr = %g)", st->sched_a, st->sched_b);
    else if (st->schedule)
        fprintf(out, ", schedule %s", st->schedule);
    if (st->nover) {
        fprintf(out, ", over [");
        for (int k = 0; k < st->nover; k++) fprintf(out, "%s%s", k ? ", " : "", d->over[st->over_at + k]);
        fprintf(out, "]");
    } else {
        fprintf(out, ", over every parameter");
    }
}

/* The step's l1/l2 terms, one line each: "            0.001 * l2(h.W) in loss penalty". */
static void summary_step_regs(const RtDesc *d, int s, FILE *out) {
    for (int k = 0; k < d->nreg; k++) {
        const RtReg *r = &d->reg[k];
        if (r->step != s) continue;
        if (!strcmp(r->loss, "-"))
            fprintf(out, "regulariser: %s = %g in %s: adds %g * %s to the gradient of every parameter it trains\n",
                    r->fn, r->coef, d->step[s].optimizer, r->coef, !strcmp(r->fn, "l1") ? "sign(p)" : "p");
        else if (isnan(r->coef)) fprintf(out, "regulariser: ? * %s(%s) in loss %s\n", r->fn, r->path, r->loss);
        else fprintf(out, "regulariser: %g * %s(%s) in loss %s\n", r->coef, r->fn, r->path, r->loss);
    }
}

int rt_summary_json(RtCtx *c, int64_t batch_flag) {
    const RtDesc *d = &c->desc;
    int64_t batch = hyper_int(d, "batch", batch_flag, 32, RT_MAX_BATCH);
    printf("{\"model\": ");
    rt_json_str(stdout, d->name);
    printf(", \"layers\": [");
    for (int i = 0; i < d->nlayer; i++) {
        const RtLayer *y = &d->layer[i];
        char sh[128];
        layer_shape(y, sh, sizeof sh);
        printf("%s{\"name\": ", i ? ", " : "");
        rt_json_str(stdout, y->name);
        printf(", \"kind\": ");
        rt_json_str(stdout, y->kind);
        printf(", \"shape\": ");
        rt_json_str(stdout, sh);
        printf(", \"params\": %lld, \"shared\": %s}", (long long)y->params, y->shared ? "true" : "false");
    }
    printf("], \"tensors\": [");
    int64_t nparam = 0, ntrain = 0, nstate = 0;
    size_t pbytes = 0, sbytes = 0;
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        char sh[256];
        rt_shape_str(t, sh, sizeof sh);
        int64_t n = rt_numel(t, 1);
        printf("%s{\"role\": \"%s\", \"name\": ", i ? ", " : "", rt_role_name(t->role));
        rt_json_str(stdout, t->name);
        printf(", \"dtype\": \"%s\", \"shape\": ", rt_dtype_name(t->dtype));
        rt_json_str(stdout, strchr(sh, '[') ? strchr(sh, '[') : sh);
        printf(", \"elements\": %lld, \"per_sample\": %s, \"frozen\": %s}", (long long)n, batched(t) ? "true" : "false",
               t->frozen ? "true" : "false");
        if (t->role == RT_PARAM) { nparam += n; ntrain += t->frozen ? 0 : n; pbytes += (size_t)n * rt_dsize(t->dtype); }
        if (t->role == RT_STATE) { nstate += n; sbytes += (size_t)n * rt_dsize(t->dtype); }
    }
    printf("], \"parameters\": %lld, \"trainable\": %lld, \"state\": %lld, \"losses\": [", (long long)nparam,
           (long long)ntrain, (long long)nstate);
    for (int l = 0; l < d->nloss; l++) {
        printf("%s", l ? ", " : "");
        rt_json_str(stdout, d->loss[l]);
    }
    printf("], \"steps\": [");
    for (int s = 0; s < d->nstep; s++) {
        const RtStep *st = &d->step[s];
        printf("%s{\"name\": ", s ? ", " : "");
        rt_json_str(stdout, st->name);
        printf(", \"loss\": ");
        rt_json_str(stdout, st->loss);
        printf(", \"optimizer\": ");
        rt_json_str(stdout, st->optimizer);
        printf(", \"lr\": ");
        rt_json_num(stdout, st->lr);
        printf(", \"schedule\": ");
        if (st->schedule) rt_json_str(stdout, st->schedule);
        else printf("null");
        printf(", \"over\": ");
        if (!st->nover) printf("null");
        for (int k = 0; k < st->nover; k++) {
            printf("%s", k ? ", " : "[");
            rt_json_str(stdout, d->over[st->over_at + k]);
        }
        printf("%s, \"regularisers\": [", st->nover ? "]" : "");
        for (int k = 0, n = 0; k < d->nreg; k++) {
            const RtReg *r = &d->reg[k];
            if (r->step != s) continue;
            printf("%s{\"loss\": ", n++ ? ", " : "");
            rt_json_str(stdout, r->loss);
            printf(", \"fn\": ");
            rt_json_str(stdout, r->fn);
            printf(", \"coef\": ");
            if (isnan(r->coef)) printf("null");
            else rt_json_num(stdout, r->coef);
            printf(", \"param\": ");
            rt_json_str(stdout, r->path);
            printf("}");
        }
        printf("]}");
    }
    printf("], \"hyper\": {");
    for (int h = 0; h < d->nhyper; h++) {
        printf("%s", h ? ", " : "");
        rt_json_str(stdout, d->hyper_name[h]);
        printf(": ");
        rt_json_num(stdout, d->hyper_val[h]);
    }
    char task[160];
    task_str(d, task, sizeof task);
    printf("}, \"data\": ");
    rt_json_str(stdout, d->data);
    printf(", \"task\": ");
    rt_json_str(stdout, task);
    int64_t ws = c->def->workspace_size ? c->def->workspace_size(batch) : 0;
    size_t bb = batch_bytes(d, batch);
    printf(", \"memory\": {\"batch\": %lld, \"params\": %zu, \"state\": %zu, \"workspace\": %lld, "
           "\"batch_buffers\": %zu, \"total\": %.0f}", (long long)batch, pbytes, sbytes, (long long)ws, bb,
           (double)pbytes + (double)sbytes + (double)ws + (double)bb);
    if (c->def->device)     /* the device's bytes at that batch size (a --target cuda executable) */
        printf(", \"device_memory\": %lld", (long long)c->def->device->memory(c->def->user, batch));
    printf("}\n");
    return 0;
}

int rt_summary(RtCtx *c, int64_t batch_flag) {
    const RtDesc *d = &c->desc;
    int64_t batch = hyper_int(d, "batch", batch_flag, 32, RT_MAX_BATCH);
    printf("model %s\n\n", d->name);
    summary_layers(c);
    printf("%-7s %-32s %-5s %-20s %12s\n", "role", "name", "dtype", "shape", "elements");
    int64_t nparam = 0, ntrain = 0, nstate = 0;
    size_t pbytes = 0, sbytes = 0;
    for (int i = 0; i < d->nt; i++) {
        const RtTensor *t = &d->t[i];
        char sh[256];
        rt_shape_str(t, sh, sizeof sh);
        const char *br = strchr(sh, '[');
        int64_t n = rt_numel(t, 1);
        char count[64];
        if (batched(t)) snprintf(count, sizeof count, "%lld/sample", (long long)n);
        else snprintf(count, sizeof count, "%lld", (long long)n);
        printf("%-7s %-32s %-5s %-20s %12s%s\n", rt_role_name(t->role), t->name, rt_dtype_name(t->dtype), br, count,
               t->frozen ? "  (frozen)" : "");
        if (t->role == RT_PARAM) { nparam += n; ntrain += t->frozen ? 0 : n; pbytes += (size_t)n * rt_dsize(t->dtype); }
        if (t->role == RT_STATE) { nstate += n; sbytes += (size_t)n * rt_dsize(t->dtype); }
    }
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    rt_human((double)pbytes, h1, sizeof h1);
    rt_human((double)sbytes, h2, sizeof h2);
    printf("\nparameters: %lld (%s), trainable %lld, frozen %lld\n", (long long)nparam, h1, (long long)ntrain,
           (long long)(nparam - ntrain));
    printf("state:      %lld (%s)\n", (long long)nstate, h2);
    for (int l = 0; l < d->nloss; l++) printf("loss:       %s\n", d->loss[l]);
    for (int s = 0; s < d->nstep; s++) {
        /* the one step of a train block without steps minimizes the sum of every loss no step
         * names as well ([train.loss.sum]) */
        printf("step:       %s minimizes %s", d->step[s].name, d->step[s].loss);
        for (int l = 0; l < d->nloss && d->nstep == 1; l++)
            if (l != d->step[s].loss_index && !step_loss(d, l) && !fn_metric(d, l)) printf(" + %s", d->loss[l]);
        printf(" with %s (lr %g)", d->step[s].optimizer, d->step[s].lr);
        summary_step_extra(d, s, stdout);
        printf("\n");
        summary_step_regs(d, s, stdout);
    }
    for (int h = 0; h < d->nhyper; h++) printf("hyper:      %s = %g\n", d->hyper_name[h], d->hyper_val[h]);
    if (d->data[0]) printf("data:       %s\n", d->data);
    char task[160];
    task_str(d, task, sizeof task);
    if (task[0]) printf("task:       %s\n", task);
    int64_t ws = c->def->workspace_size ? c->def->workspace_size(batch) : 0;
    size_t bb = batch_bytes(d, batch);
    rt_human((double)ws, h3, sizeof h3);
    rt_human((double)bb, h4, sizeof h4);
    rt_human((double)pbytes + (double)sbytes + (double)ws + (double)bb, h5, sizeof h5);
    printf("\nmemory for a training step at batch %lld: %s = params %s + state %s + workspace %s + batch "
           "buffers %s\n", (long long)batch, h5, h1, h2, h3, h4);
    if (c->def->device) {
        rt_human((double)c->def->device->memory(c->def->user, batch), h3, sizeof h3);
        printf("%s device memory at batch %lld: %s (params, state, the batch's tensors, the workspace's "
               "slabs, the libraries' workspace)\n", c->def->device->name, (long long)batch, h3);
    }
    if (d->nplan) printf("planned by the compiler at batch %lld:", (long long)batch);
    for (int p = 0; p < d->nplan; p++) {
        rt_human((double)d->plan_a2[p] * (double)batch * (double)batch + (double)(d->plan_a[p] * batch + d->plan_c[p]),
                 h3, sizeof h3);
        printf(" %s %s%s", d->plan_class[p], h3, p + 1 < d->nplan ? "," : "\n");
    }
    return 0;
}
