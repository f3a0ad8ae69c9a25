/* unit.c - unit tests of the runtime's parts that the CLI tests reach only indirectly:
 * nnc_rand_uniform (pinned to its documented formula), the thread pool's partition, descriptor
 * validation (no length limits, a verbatim data record), initialisers, the shuffle generator and
 * the weights reader (a failed load changes nothing), the text loader's UTF-8 and vocabulary,
 * nnc_sgemm (runtime/bmm.c) on strided operands, every transpose flag, beta 0 and 1, inline and on a
 * pool, against a double-precision product: the oneDNN blocks (nnc_dnnl_sgemm) and OpenBLAS's alike
 * (tests/runtime/tests.cmake runs it again with NNC_GEMM=openblas), rt_huge_pages.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "conv_dnnl.h"
#include "rt.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void *sys_alloc(void *ud, void *p, size_t n) {
    (void)ud;
    if (!n) { free(p); return NULL; }
    return realloc(p, n);
}

static RtCtx ctx(void) {
    RtCtx c;
    memset(&c, 0, sizeof c);
    c.alloc = sys_alloc;
    c.prog = "unit";
    return c;
}

/* Values from an independent Python implementation of the formula in runtime/rand.c. */
static void test_rand(void) {
    static const struct { uint64_t s, st, i; uint32_t bits; } golden[] = {
        {0, 0, 0, 2327157}, {1, 2, 3, 12891951}, {42, 7, 123456789, 169072},
        {UINT64_MAX, 5, 1ull << 40, 5969964},
    };
    for (size_t k = 0; k < sizeof golden / sizeof golden[0]; k++) {
        float v = nnc_rand_uniform(golden[k].s, golden[k].st, golden[k].i);
        CHECK(v == (float)golden[k].bits / 16777216.0f, "rand(%llu,%llu,%llu) = %.9g, want %u/2^24",
              (unsigned long long)golden[k].s, (unsigned long long)golden[k].st, (unsigned long long)golden[k].i, v,
              golden[k].bits);
    }
    double sum = 0, sq = 0;
    int same = 0;
    for (int i = 0; i < 200000; i++) {
        float v = nnc_rand_uniform(9, 1, (uint64_t)i);
        CHECK(v >= 0 && v < 1, "out of range %g", v);
        sum += v;
        sq += (double)v * v;
        same += v == nnc_rand_uniform(9, 2, (uint64_t)i);
    }
    double mean = sum / 200000, var = sq / 200000 - mean * mean;
    CHECK(fabs(mean - 0.5) < 0.005, "mean %g", mean);
    CHECK(fabs(var - 1.0 / 12) < 0.002, "variance %g", var);
    CHECK(same < 50, "streams 1 and 2 agree on %d of 200000 draws", same);
}

typedef struct PoolT { atomic_int hits[1000]; int64_t lo[64], hi[64]; atomic_int nchunks; NncPool *pool; atomic_int nested; } PoolT;

static void inner(void *ctx, int64_t lo, int64_t hi) {
    PoolT *t = ctx;
    atomic_fetch_add(&t->nested, (int)(hi - lo));
}

static void body(void *ctx, int64_t lo, int64_t hi) {
    PoolT *t = ctx;
    int k = atomic_fetch_add(&t->nchunks, 1);
    if (k < 64) { t->lo[k] = lo; t->hi[k] = hi; }
    for (int64_t i = lo; i < hi; i++) atomic_fetch_add(&t->hits[i], 1);
    if (lo == 0) nnc_parallel_for(t->pool, 10, inner, t);   /* nested: runs inline */
}

/* spin_us: $NNC_POOL_SPIN_US for the pool ("0": waiting threads sleep at once; "1000000": they
 * poll for a second, so the jobs below find them polling); nap: sleep between jobs, long enough
 * that a 100 us poll has ended and the workers sleep */
static void test_pool_with(const char *spin_us, bool nap) {
    setenv("NNC_POOL_SPIN_US", spin_us, 1);
    RtCtx c = ctx();
    NncPool *p = rt_pool_new(&c, 4);
    unsetenv("NNC_POOL_SPIN_US");
    CHECK(p != NULL, "pool");
    if (!p) return;
    for (int round = 0; round < 50; round++) {
        static PoolT t;
        memset(&t, 0, sizeof t);
        t.pool = p;
        if (nap) {
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
        }
        nnc_parallel_for(p, 1000, body, &t);
        for (int i = 0; i < 1000; i++) CHECK(t.hits[i] == 1, "index %d ran %d times", i, (int)t.hits[i]);
        CHECK(t.nchunks == 4, "%d chunks", (int)t.nchunks);
        CHECK(t.nested == 10, "nested loop covered %d", (int)t.nested);
        /* fixed partition: chunk k = [250k, 250(k+1)) whatever the scheduling */
        for (int k = 0; k < 4 && k < t.nchunks; k++)
            CHECK(t.hi[k] - t.lo[k] == 250 && t.lo[k] % 250 == 0, "chunk [%lld,%lld)", (long long)t.lo[k], (long long)t.hi[k]);
    }
    static PoolT small;
    memset(&small, 0, sizeof small);
    small.pool = p;
    nnc_parallel_for(p, 3, body, &small);
    CHECK(small.hits[0] == 1 && small.hits[1] == 1 && small.hits[2] == 1 && small.nchunks == 3, "n < threads");
    nnc_parallel_for(NULL, 5, inner, &small);
    CHECK(small.nested == 10 + 5, "NULL pool runs inline");
    rt_pool_free(&c, p);     /* joins workers that poll as well as sleeping ones */
}

/* a concat part: src's 4 floats into row `at` of out, counting the calls per row */
static atomic_int part_calls[64];
static void part4(void *out, void *src, int64_t at, int64_t B) {
    memcpy((float *)out + at * 4, src, 4 * sizeof(float));
    atomic_fetch_add(&part_calls[at], (int)B);
}

/* nnc_concat_parts: every non-NULL operand copied once into its place, a NULL one (already in
 * place) left alone, split across the pool (large) or not (small) */
static void test_concat_parts(void) {
    RtCtx c = ctx();
    NncPool *p = rt_pool_new(&c, 3);
    CHECK(p != NULL, "pool");
    static float out[64 * 4], in[64][4];
    void *part[64], *src[64];
    int64_t at[64];
    for (int big = 0; big < 2; big++) {
        memset(part_calls, 0, sizeof part_calls);
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < 4; j++) in[i][j] = (float)(i * 4 + j), out[i * 4 + j] = -1;
            void (*f)(void *, void *, int64_t, int64_t) = part4;
            memcpy(&part[i], &f, sizeof f);
            src[i] = i % 7 == 3 ? NULL : in[i];
            at[i] = i;
        }
        nnc_concat_parts(p, 64, big ? (int64_t)1 << 20 : 1024, part, out, at, src, 1);
        for (int i = 0; i < 64; i++) {
            CHECK(part_calls[i] == (i % 7 == 3 ? 0 : 1), "part %d called %d times", i, (int)part_calls[i]);
            for (int j = 0; j < 4; j++)
                CHECK(out[i * 4 + j] == (i % 7 == 3 ? -1.0f : (float)(i * 4 + j)), "out[%d][%d] = %g", i, j,
                      (double)out[i * 4 + j]);
        }
    }
    rt_pool_free(&c, p);
}

static void test_pool(void) {
    test_concat_parts();
    test_pool_with("0", false);
    test_pool_with("100", true);
    test_pool_with("100", false);
    test_pool_with("1000000", false);
}

/* nnc_sgemm (runtime/bmm.c) against a double-precision product, on the shapes that go to oneDNN's
 * sgemm (op(A) not transposed, beta 0, small: mlp_small's forward and dh) and those that stay with
 * OpenBLAS (A transposed, beta 1, large), with no pool and a pool of 2 (its blocks), C filled with
 * NaN first where beta is 0 (it must be overwritten, as the workspace is not cleared). Where
 * libdnnl.so.2 is present (nnc_dnnl_gemm_available) the small products must have taken it: their
 * bits then differ from cblas_sgemm's somewhere (checked over all of them together). */
static void test_sgemm_small(void) {
    static const struct { int ta, tb, M, N, K; float beta; } sh[] = {
        {0, 0, 64, 128, 784, 0}, {0, 0, 64, 10, 128, 0}, {0, 1, 64, 128, 10, 0}, {0, 1, 33, 70, 300, 0},
        {1, 0, 784, 128, 64, 1}, {1, 0, 128, 10, 64, 1}, {0, 0, 300, 200, 160, 0}, {1, 1, 40, 50, 60, 0},
    };
    RtCtx c = ctx();
    NncPool *p = rt_pool_new(&c, 2);
    CHECK(p != NULL, "pool");
    float *A = malloc(sizeof(float) * 784 * 128), *B = malloc(sizeof(float) * 784 * 128);
    float *C = malloc(sizeof(float) * 784 * 128), *R = malloc(sizeof(float) * 784 * 128);
    double *D = malloc(sizeof(double) * 784 * 128);
    if (!A || !B || !C || !R || !D) { CHECK(0, "out of memory"); return; }
    for (int i = 0; i < 784 * 128; i++) {
        A[i] = (float)(((int64_t)i * 7919 % 2001) - 1000) / 1000.0f;
        B[i] = (float)(((int64_t)i * 104729 % 1999) - 999) / 1000.0f;
    }
    bool differs = false;
    for (size_t s = 0; s < sizeof sh / sizeof *sh; s++) {
        int ta = sh[s].ta, tb = sh[s].tb, M = sh[s].M, N = sh[s].N, K = sh[s].K;
        int lda = ta ? M : K, ldb = tb ? K : N;
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double acc = sh[s].beta ? 0.25 * (m - n) : 0.0, mag = fabs(acc);
                for (int k = 0; k < K; k++) {
                    double a = A[ta ? k * lda + m : m * lda + k], b = B[tb ? n * ldb + k : k * ldb + n];
                    acc += a * b, mag += fabs(a * b);
                }
                D[m * N + n] = acc, R[m * N + n] = (float)mag;
            }
        for (int pooled = 0; pooled < 2; pooled++) {
            for (int i = 0; i < M * N; i++) C[i] = sh[s].beta ? 0.25f * (float)(i / N - i % N) : NAN;
            nnc_sgemm(ta, tb, M, N, K, A, lda, B, ldb, sh[s].beta, C, N, pooled ? p : NULL);
            int bad = 0;
            for (int i = 0; i < M * N; i++)
                bad += !(fabs(C[i] - D[i]) <= 2e-5 * R[i] + 1e-6);
            CHECK(bad == 0, "nnc_sgemm %d %d %dx%dx%d beta %g pool %d: %d of %d values off", ta, tb, M, N, K,
                  sh[s].beta, pooled, bad, M * N);
        }
        if (!ta && sh[s].beta == 0 && (double)M * N * K <= 8e6) {  /* the oneDNN shapes: vs cblas_sgemm */
            for (int i = 0; i < M * N; i++) R[i] = NAN;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda, B, ldb,
                        0.0f, R, N);
            nnc_sgemm(ta, tb, M, N, K, A, lda, B, ldb, 0.0f, C, N, NULL);
            differs = differs || memcmp(C, R, sizeof(float) * (size_t)(M * N)) != 0;
        }
    }
    CHECK(differs == nnc_dnnl_gemm_available(), "oneDNN %s, but the small products %s cblas_sgemm's bits",
          nnc_dnnl_gemm_available() ? "present" : "absent", differs ? "differ from" : "equal");
    free(A), free(B), free(C), free(R), free(D);
    if (p) rt_pool_free(&c, p);
}

static const char *good =
    "model m\n"
    "tensor input 0 x f32 2 B 4\n"
    "tensor target 1 y i32 1 B\n"
    "tensor output 2 p f32 2 B 3\n"
    "tensor param 3 W f32 2 4 3 init literal 0 0 0 0 data 12 1 2 3 4 5 6 7 8 9 10 11 12\n"
    "tensor param 4 b f32 1 3 init constant 0.5 0 0 0 frozen\n"
    "loss loss\n"
    "step main loss sgd 0.1\n"
    "hyper batch 8\n"
    "data csv(\"a.csv\", label = \"y\")\n"
    "metric accuracy\n"
    "task classify 3\n"
    "end\n";

static void test_desc(void) {
    RtCtx c = ctx();
    RtDesc d;
    CHECK(rt_desc_parse(&c, good, &d) == 0, "good descriptor rejected");
    CHECK(d.nt == 5 && d.nloss == 1 && d.nstep == 1 && d.nclasses == 3, "counts");
    CHECK(d.t[0].dim[0] == RT_DIM_B && d.t[0].dim[1] == 4 && d.t[4].frozen && d.t[3].nliteral == 12, "fields");
    CHECK(!strcmp(d.data, "csv(\"a.csv\", label = \"y\")"), "data '%s'", d.data);
    double v;
    CHECK(rt_hyper(&d, "batch", &v) && v == 8, "hyper");
    float w[12], b[3];
    CHECK(rt_init_tensor(&c, &d.t[3], w, 1) == 0 && w[0] == 1 && w[11] == 12, "literal init");
    CHECK(rt_init_tensor(&c, &d.t[4], b, 1) == 0 && b[2] == 0.5f, "constant init");
    rt_desc_free(&c, &d);

    /* each edit makes the descriptor invalid */
    static const char *const bad[][2] = {
        {"model m\n", "modl m\n"},
        {"end\n", ""},
        {"tensor param 4", "tensor param 5"},
        {"f32 2 4 3", "f64 2 4 3"},
        {"2 B 4", "2 4 B"},
        {"step main loss", "step main nosuchloss"},
        {"data 12 1 2", "data 11 1 2"},
        {"task classify 3", "task classify 4"},
        {"init constant 0.5 0 0 0", "init bogus 0.5 0 0 0"},
        {"init constant 0.5 0 0 0", "init constant x 0 0 0"},
        {"hyper batch 8", "hyper batch"},
        {"loss loss\n", "loss loss\nwhat 1\n"},
        {"end\n", "end\nmetric mse\n"},
        {"tensor target 1 y i32 1 B", "tensor target 1 y f32 1 B"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char buf[2048];
        const char *at = strstr(good, bad[k][0]);
        CHECK(at != NULL, "pattern %zu", k);
        if (!at) continue;
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good, bad[k][1], at + strlen(bad[k][0]));
        CHECK(rt_desc_parse(&c, buf, &d) == -1, "bad descriptor %zu accepted: '%s' -> '%s'", k, bad[k][0], bad[k][1]);
    }
}

static void test_init(void) {
    RtCtx c = ctx();
    RtTensor t;
    memset(&t, 0, sizeof t);
    t.role = RT_PARAM;
    t.dtype = RT_F32;
    t.rank = 2;
    t.dim[0] = 300;
    t.dim[1] = 200;
    t.fan_in = 300;
    t.fan_out = 200;
    static float w[60000], w2[60000];
    struct { RtInit init; double lim, std; } cases[] = {
        {INIT_GLOROT_UNIFORM, sqrt(6.0 / 500), sqrt(6.0 / 500) / sqrt(3)},
        {INIT_HE_UNIFORM, sqrt(6.0 / 300), sqrt(6.0 / 300) / sqrt(3)},
        {INIT_GLOROT_NORMAL, 0, sqrt(2.0 / 500)},
        {INIT_HE_NORMAL, 0, sqrt(2.0 / 300)},
    };
    for (size_t k = 0; k < 4; k++) {
        t.init = cases[k].init;
        rt_init_tensor(&c, &t, w, 5);
        rt_init_tensor(&c, &t, w2, 5);
        double s = 0, sq = 0, mx = 0;
        for (int i = 0; i < 60000; i++) { s += w[i]; sq += (double)w[i] * w[i]; mx = fmax(mx, fabs(w[i])); }
        double mean = s / 60000, sd = sqrt(sq / 60000 - mean * mean);
        CHECK(fabs(mean) < 0.01 * cases[k].std * 10, "init %zu mean %g", k, mean);
        CHECK(fabs(sd - cases[k].std) < 0.02 * cases[k].std, "init %zu std %g, want %g", k, sd, cases[k].std);
        if (cases[k].lim > 0) CHECK(mx <= cases[k].lim, "init %zu max %g > %g", k, mx, cases[k].lim);
        CHECK(!memcmp(w, w2, sizeof w), "init %zu not repeatable", k);
    }
    t.init = INIT_NORMAL;
    t.init_a = 3;
    t.init_b = 0.5;
    rt_init_tensor(&c, &t, w, 5);
    double s = 0;
    for (int i = 0; i < 60000; i++) s += w[i];
    CHECK(fabs(s / 60000 - 3) < 0.01, "normal(3, 0.5) mean %g", s / 60000);
    t.init = INIT_UNIFORM;
    t.init_a = -2;
    t.init_b = -1;
    rt_init_tensor(&c, &t, w, 5);
    for (int i = 0; i < 60000; i++) CHECK(w[i] >= -2 && w[i] <= -1, "uniform(-2,-1) gave %g", w[i]);
}

static void test_prng(void) {
    RtPrng r = {123};
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = rt_prng_below(&r, 7);
        CHECK(v < 7, "below 7 gave %llu", (unsigned long long)v);
        if (v < 7) counts[v]++;
    }
    for (int k = 0; k < 7; k++) CHECK(abs(counts[k] - 10000) < 400, "bucket %d has %d", k, counts[k]);
}

/* Save and load every dtype through the safetensors writer/reader, with the progress metadata. */
static void test_weights(void) {
    RtCtx c = ctx();
    const char *text =
        "model w\n"
        "tensor input 0 x f32 2 B 2\n"
        "tensor output 1 y f32 2 B 2\n"
        "tensor param 2 a.W f32 2 2 3 init normal 0 1 0 0\n"
        "tensor param 3 mask bool 1 5 init ones 0 0 0 0 frozen\n"
        "tensor state 4 a.W.count i32 1 3 init constant 7 0 0 0\n"
        "task regress\n"
        "end\n";
    CHECK(rt_desc_parse(&c, text, &c.desc) == 0, "weights descriptor");
    float w[6];
    uint8_t mask[5] = {1, 0, 1, 1, 0};
    int32_t cnt[3] = {-5, 0, 123456789};
    void *bufs[5] = {NULL, NULL, w, mask, cnt};
    c.bufs = bufs;
    rt_init_tensor(&c, &c.desc.t[2], w, 3);
    float w0[6];
    memcpy(w0, w, sizeof w);
    c.step = 1234567890123ll;
    c.epoch = 17;
    c.seed = UINT64_MAX;
    c.rng.s = 0x0123456789abcdefull;
    char path[] = "/tmp/rt_unit_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    unlink(path);   /* an empty file is no checkpoint: --save would not replace it */
    CHECK(rt_save(&c, path, NULL, false) == 0, "save");
    memset(w, 0, sizeof w);
    memset(mask, 9, sizeof mask);
    memset(cnt, 0, sizeof cnt);
    c.step = c.epoch = 0;
    c.seed = c.rng.s = 0;
    CHECK(rt_load(&c, path, true, true) == 0, "load");
    CHECK(!memcmp(w, w0, sizeof w), "f32 values");
    CHECK(mask[0] == 1 && mask[1] == 0 && mask[4] == 0 && mask[3] == 1, "bool values");
    CHECK(cnt[0] == -5 && cnt[2] == 123456789, "i32 values");
    CHECK(c.step == 1234567890123ll && c.epoch == 17 && c.seed == UINT64_MAX && c.rng.s == 0x0123456789abcdefull,
          "metadata: step %lld epoch %lld", (long long)c.step, (long long)c.epoch);
    /* the file is what the format says: header length, JSON, data in descriptor order */
    FILE *f = fopen(path, "rb");
    uint8_t len[8];
    CHECK(f && fread(len, 1, 8, f) == 8, "read back");
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--) n = n << 8 | len[k];
    char *hdr = calloc(1, n + 1);
    CHECK(hdr && fread(hdr, 1, n, f) == n, "header");
    CHECK(n % 8 == 0, "header padded to 8 bytes");
    CHECK(strstr(hdr, "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[5],\"data_offsets\":[24,29]}") != NULL, "header: %s", hdr);
    CHECK(strstr(hdr, "\"a.W.count\":{\"dtype\":\"I32\",\"shape\":[3],\"data_offsets\":[29,41]}") != NULL, "header: %s", hdr);
    free(hdr);
    if (f) fclose(f);
    unlink(path);
    c.bufs = NULL;
    rt_desc_free(&c, &c.desc);
}

/* R4/R8: no record has a length limit (what the compiler accepts, the runtime runs) and the data
 * record survives byte for byte, repeated spaces included. */
static void test_desc_unbounded(void) {
    RtCtx c = ctx();
    size_t cap = 1 << 16, k = 0;
    char *text = malloc(cap), name[5001], path[1301];
    memset(name, 'n', 5000);
    name[5000] = 0;
    memcpy(path, "dir  with   spaces/", 19);
    memset(path + 19, 'p', 1281);
    path[1300] = 0;
    k += (size_t)snprintf(text + k, cap - k, "model %.300s\n", name);
    k += (size_t)snprintf(text + k, cap - k, "tensor input 0 %s f32 2 B 4\n", name);
    k += (size_t)snprintf(text + k, cap - k, "tensor param 1 %.150s f32 1 3\n", name);
    for (int i = 0; i < 20; i++) k += (size_t)snprintf(text + k, cap - k, "loss l%d_%.100s\n", i, name);
    for (int i = 0; i < 20; i++) k += (size_t)snprintf(text + k, cap - k, "step s%d l%d_%.100s adam 0.5\n", i, i, name);
    for (int i = 0; i < 40; i++) k += (size_t)snprintf(text + k, cap - k, "hyper h%d_%.80s %d\n", i, name, i);
    for (int i = 0; i < 20; i++) k += (size_t)snprintf(text + k, cap - k, "metric m%d\n", i);
    k += (size_t)snprintf(text + k, cap - k, "data  csv(\"%s.csv\",  label = \"y  z\")  \nend\n", path);
    RtDesc d;
    CHECK(rt_desc_parse(&c, text, &d) == 0, "a descriptor with long names and many records is rejected");
    if (d.t) {
        CHECK(strlen(d.name) == 300 && d.nt == 2 && !strcmp(d.t[0].name, name) && strlen(d.t[1].name) == 150,
              "names: model %zu bytes", strlen(d.name));
        CHECK(d.nloss == 20 && d.nstep == 20 && d.nhyper == 40 && d.nmetric == 20, "counts %d %d %d %d", d.nloss,
              d.nstep, d.nhyper, d.nmetric);
        CHECK(d.step[19].loss_index == 19 && !strcmp(d.step[19].optimizer, "adam"), "step 19");
        double v;
        char h[128];
        snprintf(h, sizeof h, "h39_%.80s", name);
        CHECK(rt_hyper(&d, h, &v) && v == 39, "hyper 39");
        char want[1500];
        snprintf(want, sizeof want, "csv(\"%s.csv\",  label = \"y  z\")", path);
        CHECK(!strcmp(d.data, want), "data record not verbatim: '%.60s...'", d.data);
    }
    rt_desc_free(&c, &d);
    free(text);
}

/* N1: a load that fails its last check (a weights file used for --resume, no progress metadata)
 * changes nothing: buffers, progress and class names stay as they were. */
static void test_load_commits_last(void) {
    RtCtx c = ctx();
    const char *text =
        "model w\n"
        "tensor input 0 x f32 2 B 2\n"
        "tensor output 1 y f32 2 B 3\n"
        "tensor param 2 W f32 2 2 3\n"
        "end\n";
    CHECK(rt_desc_parse(&c, text, &c.desc) == 0, "descriptor");
    float w[6] = {1, 2, 3, 4, 5, 6};
    void *bufs[3] = {NULL, NULL, w};
    c.bufs = bufs;
    c.step = 5;
    char hdr[] = "{\"W\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
    size_t n = strlen(hdr);
    char path[] = "/tmp/rt_unit_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    CHECK(f != NULL, "mkstemp");
    if (!f) return;
    uint8_t len[8] = {0};
    for (int k = 0; k < 8; k++) len[k] = (uint8_t)((uint64_t)n >> (8 * k));
    float other[6] = {9, 9, 9, 9, 9, 9};
    CHECK(fwrite(len, 1, 8, f) == 8 && fwrite(hdr, 1, n, f) == n && fwrite(other, 4, 6, f) == 6 && !fclose(f), "write");
    CHECK(rt_load(&c, path, false, true) == -1, "a file without progress metadata resumed");
    CHECK(w[0] == 1 && w[5] == 6 && c.step == 5, "a failed load changed the model (W[0] = %g)", w[0]);
    CHECK(rt_load(&c, path, false, false) == 0 && w[0] == 9 && w[5] == 9, "the same file as plain weights");
    unlink(path);
    c.bufs = NULL;
    rt_desc_free(&c, &c.desc);
}

/* text.c: the UTF-8 decoder is strict (what Python's bytes.decode("utf-8") accepts, less NUL),
 * every code point round-trips through the encoder, and vocabulary ids are 1 + the sorted index. */
static void test_utf8(void) {
    RtCtx c = ctx();
    static const struct { const char *bytes; size_t n; int64_t count; uint32_t last; } good[] = {
        {"a\xc3\xb1" "a", 4, 3, 'a'}, {"\xc2\xbf\xc2\xa1", 4, 2, 0xA1}, {"\xf0\x9f\x98\x80", 4, 1, 0x1F600},
        {"\xef\xbb\xbfx", 4, 1, 'x'}, {"\xef\xbf\xbf", 3, 1, 0xFFFF}, {"\xf4\x8f\xbf\xbf", 4, 1, 0x10FFFF},
        {"", 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        uint32_t *cp = NULL;
        int64_t n = -1;
        CHECK(rt_utf8_decode_all(&c, "u", good[k].bytes, good[k].n, &cp, &n) == 0, "good %zu rejected", k);
        CHECK(n == good[k].count && (n == 0 || cp[n - 1] == good[k].last), "good %zu: %lld code points", k, (long long)n);
        free(cp);
    }
    static const struct { const char *bytes; size_t n; } bad[] = {
        {"\xc0\xaf", 2}, {"\xe0\x80\xaf", 3}, {"\xed\xa0\x80", 3}, {"\xf4\x90\x80\x80", 4}, {"a\xc3", 2},
        {"\x80", 1}, {"\xf8\x88\x80\x80\x80", 5}, {"a\0b", 3}, {"\xc3\x28", 2}, {"\xf0\x9f\x98", 3},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint32_t *cp = NULL;
        int64_t n = -1;
        CHECK(rt_utf8_decode_all(&c, "u", bad[k].bytes, bad[k].n, &cp, &n) == -1 && !cp, "bad %zu accepted", k);
    }
    for (uint32_t v = 1; v < 0x110000; v++) {
        if ((v >= 0xD800 && v < 0xE000) || v == 0xFEFF) continue;   /* a leading U+FEFF is a byte-order mark */
        char u[4];
        int len = rt_utf8_encode(v, u);
        uint32_t *cp = NULL;
        int64_t n = 0;
        if (rt_utf8_decode_all(&c, "u", u, (size_t)len, &cp, &n) || n != 1 || cp[0] != v) {
            CHECK(0, "U+%04X does not round-trip", v);
            free(cp);
            break;
        }
        free(cp);
    }
    uint32_t *v = malloc(sizeof(uint32_t) * 3);
    v[0] = '\n', v[1] = 'a', v[2] = 0xF1;
    rt_vocab_set(&c, v, 3);
    CHECK(rt_vocab_id(&c, '\n') == 1 && rt_vocab_id(&c, 'a') == 2 && rt_vocab_id(&c, 0xF1) == 3, "vocab ids");
    CHECK(rt_vocab_id(&c, 'b') == 0 && rt_vocab_id(&c, 0) == 0 && rt_vocab_id(&c, 0x10FFFF) == 0, "unknown ids");
    uint32_t *out = NULL;
    int nout = 0;
    CHECK(rt_vocab_parse(&c, "w", "\n a\xc3\xb1", &out, &nout) == 0 && nout == 4 && out[3] == 0xF1, "vocab parse");
    free(out);
    CHECK(rt_vocab_parse(&c, "w", "ba", &out, &nout) == -1, "unsorted vocab accepted");
    CHECK(rt_vocab_parse(&c, "w", "aa", &out, &nout) == -1, "repeated character accepted");
    CHECK(rt_vocab_parse(&c, "w", "", &out, &nout) == -1, "empty vocab accepted");
    CHECK(rt_vocab_parse(&c, "w", "a\xff", &out, &nout) == -1, "invalid UTF-8 vocab accepted");
    free(c.vocab);
}

/* C = op(A) op(B) + beta C with lda, ldb, ldc wider than the matrices: C must match a double
 * product to float accuracy, and the padding between C's rows (and around A's and B's) must stay
 * as it was: a oneDNN memory descriptor with the wrong strides fails either. */
static void sgemm_case(NncPool *pool, int ta, int tb, int M, int N, int K, float beta) {
    int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 7;
    int64_t na = (int64_t)(ta ? K : M) * lda, nb = (int64_t)(tb ? N : K) * ldb, nc = (int64_t)M * ldc;
    float *A = malloc(sizeof(float) * (size_t)na), *B = malloc(sizeof(float) * (size_t)nb);
    float *C = malloc(sizeof(float) * (size_t)nc), *C0 = malloc(sizeof(float) * (size_t)nc);
    if (!A || !B || !C || !C0) { free(A), free(B), free(C), free(C0); CHECK(0, "alloc"); return; }
    uint32_t r = 12345u + (uint32_t)(M * 7 + N * 13 + K * 17 + ta * 2 + tb);
    for (int64_t i = 0; i < na; i++) A[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int64_t i = 0; i < nb; i++) B[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (int64_t i = 0; i < nc; i++) C0[i] = C[i] = (float)(i % 11) - 5.0f;
    nnc_sgemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc, pool);
    int bad = 0;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < ldc; n++) {
            float got = C[(int64_t)m * ldc + n];
            if (n >= N) {   /* padding: untouched */
                bad += got != C0[(int64_t)m * ldc + n];
                continue;
            }
            double want = beta * (double)C0[(int64_t)m * ldc + n], mag = fabs(want);
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(int64_t)k * lda + m] : A[(int64_t)m * lda + k];
                double b = tb ? B[(int64_t)n * ldb + k] : B[(int64_t)k * ldb + n];
                want += a * b, mag += fabs(a * b);
            }
            bad += !(fabs(got - want) <= 1e-5 * mag + 1e-6);
        }
    CHECK(bad == 0, "nnc_sgemm ta %d tb %d %dx%dx%d beta %g (%d threads): %d wrong elements", ta, tb, M, N, K,
          (double)beta, nnc_pool_threads(pool), bad);
    free(A), free(B), free(C), free(C0);
}

static void test_sgemm(void) {
    RtCtx c = ctx();
    NncPool *p = rt_pool_new(&c, 2);
    CHECK(p != NULL, "pool");
    /* the last two reach oneDNN (2^24 multiply-adds in each of the pool's blocks too): split by rows
     * and by columns (a block of C whose ldc is wider than the block) */
    static const int shapes[][3] = {{1, 1, 1}, {5, 3, 7}, {64, 10, 128}, {40, 300, 33}, {2048, 64, 256}, {512, 1100, 64}};
    for (int s = 0; s < 6; s++)
        for (int f = 0; f < 4; f++)
            for (int b = 0; b < 2; b++) {
                sgemm_case(NULL, f >> 1, f & 1, shapes[s][0], shapes[s][1], shapes[s][2], (float)b);
                if (p) sgemm_case(p, f >> 1, f & 1, shapes[s][0], shapes[s][1], shapes[s][2], (float)b);
            }
    /* where libdnnl.so.2 is installed and NNC_GEMM is unset, the oneDNN blocks do run (the cases
     * above are not OpenBLAS's alone); its result is checked by the cases above */
    const char *g = getenv("NNC_GEMM");
    void *lib = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
#ifdef NNC_HAVE_DNNL
    bool built = true;
#else
    bool built = false;
#endif
    if (lib && built && !g) {
        float a[6] = {1, 2, 3, 4, 5, 6}, bm[6] = {1, 0, 0, 1, 1, 1}, cm[4] = {0};
        CHECK(nnc_dnnl_sgemm(0, 0, 2, 2, 3, a, 3, bm, 2, cm, 2), "oneDNN's matmul not used");
        CHECK(cm[0] == 4 && cm[1] == 5 && cm[2] == 10 && cm[3] == 11, "oneDNN 2x3x2: %g %g %g %g", (double)cm[0],
              (double)cm[1], (double)cm[2], (double)cm[3]);
    }
    if (lib) dlclose(lib);
    if (g && !strcmp(g, "openblas")) {
        float a[1] = {1}, bm[1] = {1}, cm[1] = {0};
        CHECK(!nnc_dnnl_sgemm(0, 0, 1, 1, 1, a, 1, bm, 1, cm, 1), "NNC_GEMM=openblas still used oneDNN");
    }
    if (p) rt_pool_free(&c, p);
}

/* Element (m, n) of an M-row product C = A B (A's row m: a[m lda + k], or a[k lda + m] when ta;
 * B's column n: b[k ldb + n], or b[n ldb + k] when tb), got as the kernel wrote it (C filled with
 * 12345 before): in causal mode 1 the elements beyond the end of row m's 32-row block are untouched
 * (counted in *kept), the others within 2e-5 of the terms' magnitude of a double product.
 * Returns 1 when got is off, else 0. */
static int product_off(int mode, int ta, int tb, int m, int n, int M, int K, const float *a, int64_t lda,
                       const float *b, int64_t ldb, float got, int *kept) {
    int r1 = (m / 32 + 1) * 32 < M ? (m / 32 + 1) * 32 : M;    /* m's block's end */
    if (mode == 1 && n >= r1) {     /* beyond it: untouched */
        *kept += got == 12345.0f;
        return 0;
    }
    double acc = 0, mag = 0;
    for (int k = 0; k < K; k++) {
        double x = a[ta ? k * lda + m : m * lda + k] * (double)b[tb ? n * ldb + k : k * ldb + n];
        acc += x, mag += fabs(x);
    }
    return !(fabs(got - acc) <= 2e-5 * mag + 1e-6);
}

/* nnc_sgemm_batched_causal (causal attention's products, compiler/passes/causal.c) against a double
 * product, for T x S tiles square, wider (S > T: mode 3's last blocks sum over nothing) and
 * taller, inline and on a 2-thread pool. Mode 1: C at j < the end of i's 32-row block (at least
 * j <= i rounded up to 8, what a causal row kernel reads) must equal the full product; the rest is not
 * computed: it must keep what was there. Modes 2 and 3: A is zero at j > i (a causal row
 * kernel's output), C whole. */
static void test_sgemm_causal(void) {
    RtCtx c = ctx();
    NncPool *p = rt_pool_new(&c, 2);
    static const int sh[][3] = {{70, 70, 8}, {40, 100, 16}, {100, 40, 16}, {128, 128, 32}};  /* T, S, E */
    for (int s = 0; s < 4; s++) {
        int T = sh[s][0], S = sh[s][1], E = sh[s][2], P = 5;
        for (int mode = 1; mode <= 3; mode++)
            for (int tb = 0; tb < 2; tb++) {
                /* mode 1: C[T, S] = Q[T, E] op(K); modes 2/3: A = the [T, S] probabilities, C = A V or A^T V */
                int M = mode == 3 ? S : T, N = mode == 1 ? S : E, K = mode == 1 ? E : mode == 2 ? S : T;
                int ta = mode == 3;
                float *A = malloc(sizeof(float) * (size_t)P * M * K), *B = malloc(sizeof(float) * (size_t)P * K * N);
                float *C = malloc(sizeof(float) * (size_t)P * M * N);
                if (!A || !B || !C) { CHECK(0, "out of memory"); return; }
                for (int i = 0; i < P * M * K; i++) {
                    A[i] = (float)(((int64_t)i * 7919 % 2001) - 1000) / 1000.0f;
                    if (mode > 1) {     /* the [T, S] tile's j > i zero: A is stored [P, T, S] either way */
                        int ij = i % (T * S);
                        if (ij % S > ij / S)
                            A[i] = 0;
                    }
                }
                for (int i = 0; i < P * K * N; i++)
                    B[i] = (float)(((int64_t)i * 104729 % 1999) - 999) / 1000.0f;
                int lda = ta ? M : K, ldb = tb ? K : N;
                for (int pooled = 0; pooled < 2; pooled++) {
                    for (int i = 0; i < P * M * N; i++)
                        C[i] = 12345.0f;
                    nnc_sgemm_batched_causal(mode, ta, tb, P, M, N, K, A, B, C, pooled ? p : NULL);
                    int bad = 0, kept = 0;
                    for (int q = 0; q < P; q++)
                        for (int m = 0; m < M; m++)
                            for (int n = 0; n < N; n++) {
                                const float *a = A + (size_t)q * M * K, *b = B + (size_t)q * K * N;
                                float got = C[((size_t)q * M + m) * N + n];
                                bad += product_off(mode, ta, tb, m, n, M, K, a, lda, b, ldb, got, &kept);
                            }
                    CHECK(bad == 0, "causal mode %d tb %d T %d S %d pool %d: %d values off", mode, tb, T, S, pooled, bad);
                    if (mode == 1)
                        CHECK(kept > 0 || S <= 32, "causal mode 1 T %d S %d: nothing skipped", T, S);
                }
                free(A), free(B), free(C);
            }
    }
    if (p)
        rt_pool_free(&c, p);
}

/* nnc_sgemm_batched_view (compiler/passes/gemm_view.c's products): a [Bn, T, 3 H D] tensor (a qkv
 * product) read in place as H heads per sample, its q, k or v slice (ah = H, asb = T 3HD, ash = D,
 * lda = 3HD), against a double product of the same views, each mode: q k^T (0 and causal 1, whose
 * blocks beyond the diagonal must be untouched), q^T k (A transposed), P v (causal 2, A dense
 * with zeros at j > i), P^T v (causal 3); inline and on a 2-thread pool (runtime.unit_bmm_openblas
 * runs the OpenBLAS path). A dense operand (ah = 1) sits beside a viewed one; the products of D
 * columns write C as [Bn, T, H, D] (the heads merged in place). */
static void test_sgemm_view_h(int H);
static void test_sgemm_view(void) {
    test_sgemm_view_h(4);   /* 4 heads: oneDNN's batches of [2, 4] */
    test_sgemm_view_h(3);   /* 3 heads, not dividing 8: batches of the 3 heads of a sample */
}

static void test_sgemm_view_h(int H) {
    RtCtx c = ctx();
    NncPool *pool = rt_pool_new(&c, 2), *pool3 = rt_pool_new(&c, 3);
    int Bn = 3, T = 70, D = 8, P = Bn * H, W = 3 * H * D;
    float *X = malloc(sizeof(float) * (size_t)Bn * T * W), *Pr = malloc(sizeof(float) * (size_t)P * T * T);
    float *C = malloc(sizeof(float) * (size_t)P * T * T);
    if (!X || !Pr || !C) { CHECK(0, "out of memory"); free(X), free(Pr), free(C); return; }
    for (int i = 0; i < Bn * T * W; i++)
        X[i] = (float)(((int64_t)i * 7919 % 2001) - 1000) / 1000.0f;
    for (int i = 0; i < P * T * T; i++) {
        int ij = i % (T * T);
        Pr[i] = ij % T > ij / T ? 0.0f : (float)(((int64_t)i * 104729 % 1999) - 999) / 1000.0f;
    }
    /* case: mode, ta, tb, A viewed (slice) or -1 dense Pr, B's slice; M, N, K follow */
    static const int cases[][5] = {{0, 0, 1, 0, 1}, {1, 0, 1, 0, 1}, {0, 1, 0, 0, 1}, {2, 0, 0, -1, 2}, {3, 1, 0, -1, 2}};
    for (int cs = 0; cs < 5; cs++) {
        int mode = cases[cs][0], ta = cases[cs][1], tb = cases[cs][2], as = cases[cs][3], bs = cases[cs][4];
        int M = as < 0 ? T : ta ? D : T, K = as < 0 ? T : ta ? T : D, N = tb ? T : D;
        const float *A = as < 0 ? Pr : X + as * H * D, *B = X + bs * H * D;
        int64_t ah = as < 0 ? 1 : H, asb = as < 0 ? (int64_t)T * T : (int64_t)T * W, ash = as < 0 ? 0 : D;
        int64_t lda = as < 0 ? T : W;
        for (int pooled = 0; pooled < 2; pooled++) {
            for (int i = 0; i < P * M * N; i++)
                C[i] = 12345.0f;
            /* C: dense, or (cases with N = D) written as [Bn, M, H, D], the heads merged in place */
            bool cview = N == D && cs != 2;
            int64_t ch = cview ? H : 1, csb = cview ? (int64_t)M * H * D : (int64_t)M * N, csh = cview ? D : 0;
            int64_t ldc = cview ? H * D : N;
            nnc_sgemm_batched_view(mode, ta, tb, P, M, N, K, A, ah, asb, ash, lda, B, H, (int64_t)T * W, D, W, C, ch,
                                   csb, csh, ldc, pooled ? pool : NULL);
            int bad = 0, kept = 0;
            for (int q = 0; q < P; q++) {
                const float *a = A + (ah > 1 ? q / ah * asb + q % ah * ash : q * asb);
                const float *b = B + q / H * (int64_t)T * W + q % H * D;
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++) {
                        float got = C[(ch > 1 ? q / ch * csb + q % ch * csh : q * csb) + m * ldc + n];
                        bad += product_off(mode, ta, tb, m, n, M, K, a, lda, b, W, got, &kept);
                    }
            }
            CHECK(bad == 0, "view case %d (mode %d ta %d tb %d, %d heads) pool %d: %d values off", cs, mode, ta, tb, H, pooled,
                  bad);
            /* the bits do not depend on the thread count: a pool of 3 splits the products in three
             * (batches and single products on oneDNN) and gives what one thread gave */
            if (!pooled && pool3) {
                size_t n = (size_t)(ch > 1 ? (P / ch - 1) * csb + (ch - 1) * csh + (M - 1) * ldc + N : (int64_t)P * M * N);
                float *one = malloc(sizeof(float) * n);
                if (one) {
                    memcpy(one, C, sizeof(float) * n);
                    nnc_sgemm_batched_view(mode, ta, tb, P, M, N, K, A, ah, asb, ash, lda, B, H, (int64_t)T * W, D, W, C,
                                           ch, csb, csh, ldc, pool3);
                    CHECK(!memcmp(one, C, sizeof(float) * n), "view case %d, %d heads: 3 threads give other bits than 1", cs, H);
                    free(one);
                }
            }
            if (mode == 1)
                CHECK(kept > 0, "view mode 1: nothing skipped");
        }
    }
    free(X), free(Pr), free(C);
    if (pool)
        rt_pool_free(&c, pool);
    if (pool3)
        rt_pool_free(&c, pool3);
}

/* rt_huge_pages (runtime/memory.c, the training workspace and the params slab): where the kernel
 * offers transparent huge pages on request (`[madvise]` or `[always]`), the 2 MiB-aligned middle
 * of a large buffer must be marked eligible (smaps' THPeligible: 1 for the mapping holding it;
 * without the advice a `madvise`-mode kernel reports 0), its bytes kept; a buffer too small to
 * hold an aligned 2 MiB is left alone. */
static int thp_eligible(uintptr_t addr) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    int in = 0, r = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {     /* a mapping's first line */
            in = addr >= lo && addr < hi;
            continue;
        }
        if (in && !strncmp(line, "THPeligible:", 12)) {
            r = atoi(line + 12);
            break;
        }
    }
    fclose(f);
    return r;
}

static void test_huge_pages(void) {
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(mode, sizeof mode, f)) mode[0] = 0;
        fclose(f);
    }
    size_t n = (size_t)9 << 20;
    uint8_t *big = malloc(n), *small = malloc(4096);
    CHECK(big && small, "malloc");
    if (!big || !small) { free(big); free(small); return; }
    memset(big, 7, n);
    rt_huge_pages(small, 4096);    /* no aligned 2 MiB inside: nothing to do, nothing broken */
    rt_huge_pages(big + 1, n - 1);  /* unaligned ends: the aligned middle only */
    uintptr_t mid = ((uintptr_t)big + ((uintptr_t)4 << 20)) & ~(((uintptr_t)2 << 20) - 1);
    bool kept = true;
    for (size_t i = 0; i < n; i++)
        kept &= big[i] == 7;
    CHECK(kept, "rt_huge_pages changed the buffer's bytes");
    int e = thp_eligible(mid);
    if (strstr(mode, "[madvise]") || strstr(mode, "[always]"))
        CHECK(e == 1 || e == -1, "the 2 MiB-aligned middle of a 9 MiB buffer is not eligible for huge pages (THPeligible %d, THP mode %s)", e, mode);
    else
        printf("huge pages: THP mode '%s', eligibility not checked\n", mode);
    free(big);
    free(small);
}

int main(void) {
    test_huge_pages();
    test_rand();
    test_pool();
    test_desc();
    test_init();
    test_prng();
    test_weights();
    test_desc_unbounded();
    test_load_commits_last();
    test_utf8();
    test_sgemm();
    test_sgemm_small();
    test_sgemm_causal();
    test_sgemm_view();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("runtime unit tests: all passed\n");
    return 0;
}
