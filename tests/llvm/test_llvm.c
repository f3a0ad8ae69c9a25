/* test_llvm.c - the llvm backend against the reference interpreter.
 *
 * Builds IrModules with the ir.h builders, emits each with llvm_emit (prefix `t`), links the object
 * into a shared library with the system cc (plus libnnc_rt.a for nnc_rand_uniform and OpenBLAS),
 * dlopens it and runs it beside interp_model_def on the same random inputs:
 *   ops        every op of ops.def, one output each, at B = 1, 3, 17, 64
 *   mlp        a hand-built MLP (matmul, bias broadcast, relu, softmax cross-entropy, SGD with lr
 *              from HYPER) trained for several steps, params compared after each; plus a step
 *              that swaps two state tensors (updates must read the values from before the step)
 *   grad       a model using gather, concat, slice, dropout (rand), tanh, sigmoid, softmax whose
 *              train step is autodiff's ad_grad + SGD, trained for several steps
 *   rows       softmax, log-softmax with cross-entropy and a layer norm over rows of 7, 13, 1000
 *              and 1 (row kernels, docs/kernels.md; the train step's merged into row kernels with
 *              several outputs), forward and 5 train steps, at B = 1, 3, 17; non-finite logits
 *   rowbits    row kernels' vector passes for rmax and a kept sum (llvm.c row_max_fast,
 *              row_sum_fast) against the ordered loops they skip: softmax, x - rmax(x) and
 *              x^2 / sum(x^2) over rows built to take each path, the interpreter's bits exactly
 *   colbits    column sums and rmax over kept runs longer than 4096 (walked in pieces) and erf,
 *              exp, tanh loops with the vector loop's remainder, the interpreter's bits exactly
 *   workspace  workspace_size(B) affine in B (up to the 64-byte alignment of pieces), and a call
 *              never writes past workspace_size(B) bytes
 *   vector     textual LLVM IR at O2 holds vector loops (<N x float>)
 *   math       exp, log, tanh, sigmoid, erf (compiler/ir/ir_math.h, emitted inline) over 2^20
 *              f32 bit patterns spread over all of them plus inf, NaN, -0, subnormals: the same
 *              bits as the interpreter's ir_expf ... at O0-O3 and --cpu x86-64; at O2 no call of
 *              expf/tanhf/erff/logf is left and the loops are vectorised
 *   random     24 random train steps (elementwise, broadcasts, reductions, reshapes, values, reuse,
 *              outputs written twice, state updates) at B = 1 and 9
 *   prefix     two models (prefixes model_a, model_b) linked into one library run side by side
 *   layout     the LLVM NncArgs type has the C layout; errors for bad options and paths
 *   parallel   large elementwise loops, pooling kernels and a softmax's row kernel through
 *              nnc_parallel_for with a 4-thread pool agree with the interpreter, above and below
 *              the size where they go parallel
 * Floats must agree within 1e-5 relative (relative to max(|ref|, the rms of the reference tensor):
 * BLAS sums in f32 where the interpreter sums in double); ints and bools exactly.
 */
#include <dlfcn.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "interp/interp.h"
#include "llvm/llvm.h"
#include "passes.h"
#include "rt.h"     /* rt_pool_new: the runtime's thread pool behind nnc_parallel_for */

_Static_assert(offsetof(NncArgs, B) == 0 && offsetof(NncArgs, bufs) == 8 &&
                   offsetof(NncArgs, workspace) == 16 && offsetof(NncArgs, losses) == 24 &&
                   offsetof(NncArgs, step) == 32 && offsetof(NncArgs, total_steps) == 40 &&
                   offsetof(NncArgs, lr) == 48 && offsetof(NncArgs, seed) == 56 &&
                   offsetof(NncArgs, pool) == 64 && offsetof(NncArgs, user) == 72 &&
                   sizeof(NncArgs) == 80,
               "NncArgs layout changed: update the llvm backend's struct type (compiler/llvm/llvm.c)");

static int failures;
static char tmpdir[512];

#define CHECK(cond, ...)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            failures++;                                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                 \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
        }                                                                                        \
    } while (0)

/* ---- building modules ---- */

#define BD ((Dim){1, 0})
#define CD(n) ((Dim){0, (n)})

/* The backend's input: the module fused and planned (what the driver does before llvm_emit). */
static bool accumulate;     /* plan's accumulators, as in an executable (test_accum) */

static int emit_ir(IrModule *m, const LlvmOptions *o, Diag *d) {
    KModule *km = fuse_module(m->arena, m);
    km->accumulate = accumulate;
    if (k_module_verify(km, stderr) || plan_module(km, d) || k_module_verify(km, stderr)) {
        fprintf(stderr, "fuse/plan of %s failed\n", m->name);
        exit(1);
    }
    return llvm_emit(km, o, d);
}

/* Emits m per o (o->output the file) and reads the whole file back: the text (the caller frees
 * it), or NULL after a failed CHECK. A failed emit is a CHECK failure too. */
static char *emit_ir_text(IrModule *m, const LlvmOptions *o) {
    Diag d;
    diag_init(&d, stderr);
    CHECK(emit_ir(m, o, &d) == 0, "llvm_emit%s%s to %s", o->cpu ? " --cpu " : "", o->cpu ? o->cpu : "",
          o->output);
    FILE *f = fopen(o->output, "r");
    CHECK(f != NULL, "cannot open %s", o->output);
    if (!f)
        return NULL;
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    for (size_t n; text && (n = fread(text + len, 1, cap - 1 - len, f)) > 0;) {
        len += n;
        if (len == cap - 1)
            text = realloc(text, cap *= 2);
    }
    fclose(f);
    CHECK(text != NULL, "out of memory reading %s", o->output);
    if (text)
        text[len] = 0;
    return text;
}

/* A compiled descriptor is ir_module_desc's text (the interpreter's) with the plan's
 * `plan CLASS A C` records before its `end`. */
static bool desc_is(const char *compiled, const char *ir) {
    size_t n = strlen(ir), ln = strlen(compiled);
    return n > 4 && !strncmp(compiled, ir, n - 4) && !strncmp(compiled + n - 4, "plan param ", 11) &&
           strstr(compiled, "\nplan scratch ") && ln > 4 && !strcmp(compiled + ln - 4, "end\n");
}

static IrType ty(DType dt, int rank, Dim d0, Dim d1, Dim d2) {
    IrType t = {.dtype = dt, .rank = rank};
    t.dim[0] = d0, t.dim[1] = d1, t.dim[2] = d2;
    return t;
}
#define T0(dt) ty(dt, 0, CD(0), CD(0), CD(0))
#define T1(dt, a) ty(dt, 1, a, CD(0), CD(0))
#define T2(dt, a, b) ty(dt, 2, a, b, CD(0))
#define T3(dt, a, b, c) ty(dt, 3, a, b, c)
static IrType T4(DType dt, Dim a, Dim b, Dim c, Dim d) {
    IrType t = ty(dt, 4, a, b, c);
    t.dim[3] = d;
    return t;
}

/* Random ranges of the test's input/param/state tensors, by bufs index. */
#define MAXT 256 /* tensors of a test module */

typedef struct TestModule {
    IrModule *m;
    double lo[MAXT], hi[MAXT];
} TestModule;

static uint32_t source(TestModule *tm, IrGraph *g, IrRole role, const char *name, IrType t,
                       double lo, double hi) {
    int idx = -1;
    for (int k = 0; k < tm->m->ntensors; k++)
        if (!strcmp(tm->m->tensors[k].name, name))
            idx = k;
    if (idx < 0) {
        if (tm->m->ntensors >= MAXT)
            die("test_llvm: more than %d tensors in a test module", MAXT);
        idx = ir_module_tensor(tm->m, (IrTensor){.name = name, .role = role, .type = t,
                                                 .init = role == ROLE_PARAM || role == ROLE_STATE ? "zeros" : NULL});
        tm->lo[idx] = lo, tm->hi[idx] = hi;
    }
    Op op = role == ROLE_PARAM ? OP_PARAM : role == ROLE_STATE ? OP_STATE : OP_INPUT;
    IrAttr at = {.i = {idx}, .ni = 1, .name = name};
    return ir_op(g, op, NULL, 0, &at, t);
}

static void output(TestModule *tm, IrGraph *g, const char *name, uint32_t node) {
    if (tm->m->ntensors >= MAXT)
        die("test_llvm: more than %d tensors in a test module", MAXT);
    int idx = ir_module_tensor(tm->m, (IrTensor){.name = name, .role = ROLE_OUTPUT,
                                                 .type = g->nodes[node].type});
    ir_result(g, node, RES_OUTPUT, idx);
}

static bool dim_is_c(Dim d, int64_t c) { return d.a == 0 && d.c == c; }

static uint32_t op1(IrGraph *g, Op op, uint32_t x, const IrAttr *at, IrType want) {
    return ir_op(g, op, &x, 1, at, want);
}

/* ---- the compiled side ---- */

typedef struct Lib {
    void *h;
    const char *desc;
    int64_t (*workspace_size)(int64_t B);
    void (*forward)(NncArgs *a);
    void (*evaluate)(NncArgs *a);
    void (*train_step)(NncArgs *a, int32_t step);
} Lib;

static void *sym(void *h, const char *name) {
    void *p = dlsym(h, name);
    if (!p) {
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
        exit(1);
    }
    return p;
}

static void emit_obj(IrModule *m, const char *obj, const char *prefix, int opt) {
    Diag d;
    diag_init(&d, stderr);
    LlvmOptions o = {.output = obj, .kind = LLVM_OUT_OBJ, .prefix = prefix, .opt_level = opt};
    if (emit_ir(m, &o, &d)) {
        fprintf(stderr, "llvm_emit %s failed\n", obj);
        exit(1);
    }
}

/* Links the objects (space-separated paths) into TAG.so and dlopens it. */
static void *link_so(const char *tag, const char *objs) {
    char so[600], cmd[4000];
    snprintf(so, sizeof so, "%s/%s.so", tmpdir, tag);
    snprintf(cmd, sizeof cmd, "cc -shared -o %s %s %s %s -lm", so, objs, NNC_RT_LIB, NNC_BLAS_LIB);
    if (system(cmd) != 0) {
        fprintf(stderr, "link failed: %s\n", cmd);
        exit(1);
    }
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen %s: %s\n", so, dlerror());
        exit(1);
    }
    return h;
}

static Lib lib_syms(void *h, const char *prefix) {
    char n[128];
    Lib l = {.h = h};
#define SYM(field, suffix, type)                                                                 \
    (snprintf(n, sizeof n, "%s_%s", prefix, suffix), l.field = (type)sym(h, n))
    SYM(desc, "desc", const char *);
    SYM(workspace_size, "workspace_size", int64_t (*)(int64_t));
    SYM(forward, "forward", void (*)(NncArgs *));
    SYM(evaluate, "evaluate", void (*)(NncArgs *));
    SYM(train_step, "train_step", void (*)(NncArgs *, int32_t));
#undef SYM
    return l;
}

static Lib build(IrModule *m, const char *tag, int opt) {
    char obj[600];
    snprintf(obj, sizeof obj, "%s/%s.o", tmpdir, tag);
    emit_obj(m, obj, "t", opt);
    return lib_syms(link_so(tag, obj), "t");
}

/* ---- buffers and comparison ---- */

typedef struct Bufs {
    int n;
    void *p[MAXT];
    size_t bytes[MAXT];
} Bufs;

static uint64_t rng_state;
static double urand(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static size_t elsize(DType dt) { return dt == DT_BOOL ? 1 : 4; }

static void bufs_alloc(const TestModule *tm, int64_t B, Bufs *b, uint64_t seed) {
    rng_state = seed;
    b->n = tm->m->ntensors;
    for (int k = 0; k < b->n; k++) {
        const IrTensor *t = &tm->m->tensors[k];
        int64_t n = ir_numel(&t->type, B);
        b->bytes[k] = (size_t)n * elsize(t->type.dtype);
        b->p[k] = malloc(b->bytes[k] ? b->bytes[k] : 1);
        if (t->role == ROLE_OUTPUT) {   /* garbage that a missing write would leave behind */
            memset(b->p[k], 0xA5, b->bytes[k]);
            continue;
        }
        double lo = tm->lo[k], hi = tm->hi[k];
        for (int64_t e = 0; e < n; e++) {
            double v = lo + (hi - lo) * urand();
            if (t->type.dtype == DT_F32)
                ((float *)b->p[k])[e] = (float)v;
            else if (t->type.dtype == DT_I32)
                ((int32_t *)b->p[k])[e] = (int32_t)floor(v);
            else
                ((uint8_t *)b->p[k])[e] = v >= 0.5;
        }
    }
}

static void bufs_copy(Bufs *dst, const Bufs *src) {
    *dst = *src;
    for (int k = 0; k < src->n; k++) {
        dst->p[k] = malloc(src->bytes[k] ? src->bytes[k] : 1);
        memcpy(dst->p[k], src->p[k], src->bytes[k]);
    }
}

static void bufs_free(Bufs *b) {
    for (int k = 0; k < b->n; k++)
        free(b->p[k]);
}

static bool close_f(float x, float r, double scale) {
    if (isnan(r))
        return isnan(x);
    if (isinf(r))
        return x == r;
    return fabs((double)x - (double)r) <= 1e-5 * fmax(fabs((double)r), scale);
}

/* Compares tensor k of got against want; returns the number of mismatches reported. */
static int compare_tensor(const IrTensor *t, const void *got, const void *want, size_t bytes,
                          const char *what, int64_t B) {
    int64_t n = (int64_t)(bytes / elsize(t->type.dtype));
    int bad = 0;
    if (t->type.dtype == DT_F32) {
        const float *x = got, *r = want;
        double ss = 0;
        int64_t cnt = 0;
        for (int64_t e = 0; e < n; e++)
            if (isfinite(r[e]))
                ss += (double)r[e] * r[e], cnt++;
        double rms = cnt ? sqrt(ss / (double)cnt) : 0;
        for (int64_t e = 0; e < n && bad < 3; e++)
            if (!close_f(x[e], r[e], rms)) {
                bad++;
                CHECK(0, "%s: %s[%lld] at B=%lld: llvm %.9g, interp %.9g", what, t->name,
                      (long long)e, (long long)B, x[e], r[e]);
            }
    } else if (t->type.dtype == DT_I32) {
        const int32_t *x = got, *r = want;
        for (int64_t e = 0; e < n && bad < 3; e++)
            if (x[e] != r[e]) {
                bad++;
                CHECK(0, "%s: %s[%lld] at B=%lld: llvm %d, interp %d", what, t->name, (long long)e,
                      (long long)B, x[e], r[e]);
            }
    } else {
        const uint8_t *x = got, *r = want;
        for (int64_t e = 0; e < n && bad < 3; e++)
            if (x[e] != r[e]) {
                bad++;
                CHECK(0, "%s: %s[%lld] at B=%lld: llvm %d, interp %d", what, t->name, (long long)e,
                      (long long)B, x[e], r[e]);
            }
    }
    return bad;
}

static int compare_all(const TestModule *tm, const Bufs *got, const Bufs *want, const char *what,
                       int64_t B) {
    int bad = 0;
    for (int k = 0; k < got->n; k++)
        bad += compare_tensor(&tm->m->tensors[k], got->p[k], want->p[k], got->bytes[k], what, B);
    return bad;
}

/* A workspace of exactly workspace_size(B) bytes followed by a guard that must stay intact. */
typedef struct Ws { unsigned char *p; int64_t size; } Ws;
enum { GUARD = 4096 };

static Ws ws_alloc(const Lib *l, int64_t B) {
    Ws w = {.size = l->workspace_size(B)};
    CHECK(w.size >= 0 && w.size % 64 == 0, "workspace_size(%lld) = %lld", (long long)B, (long long)w.size);
    w.p = aligned_alloc(64, (size_t)((w.size + GUARD + 63) / 64 * 64));
    memset(w.p + w.size, 0x5C, GUARD);
    return w;
}

static void ws_free(Ws *w, const char *what) {
    for (int k = 0; k < GUARD; k++)
        if (w->p[w->size + k] != 0x5C) {
            CHECK(0, "%s wrote past workspace_size (byte %lld)", what, (long long)(w->size + k));
            break;
        }
    free(w->p);
}

static NncArgs args_for(int64_t B, Bufs *b, float *losses, void *user) {
    return (NncArgs){.B = B, .bufs = b->p, .losses = losses, .step = 3, .total_steps = 10,
                     .lr = 0.25f, .seed = 1234567, .user = user};
}

/* ---- test: accumulators (plan.c): weight gradients kept zeroed between calls ---- */

/* The mlp module built with and without accumulators: the same params to the bit after every
 * step, at two batch sizes in turn (the kept buffers do not depend on B), with the workspace
 * filled with NaN before each call and an evaluate call between steps using it (the kept
 * buffers are not in it), against the interpreter too. */
static TestModule mlp_module(Arena *A, int64_t I, int64_t H, int64_t C);

static void test_accum(Arena *A) {
    TestModule tm = mlp_module(A, 12, 32, 5);
    if (ir_module_verify(tm.m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(tm.m);
    /* the plan: dW1 = x^T dpre and dW2 = h^T dlog are acc gemms into kept buffers, each zeroed
     * by the SGD update that reads it; dh = dlog W2^T (B rows) is not */
    KModule *km = fuse_module(tm.m->arena, tm.m);
    km->accumulate = true;
    Diag d;
    diag_init(&d, stderr);
    CHECK(plan_module(km, &d) == 0 && k_module_verify(km, stderr) == 0, "plan with accumulators");
    const KGraph *kg = km->steps[0];
    int acc = 0, kept = 0, zeroing = 0;
    for (int k = 0; k < kg->nkern; k++) {
        acc += kg->kern[k].acc;
        for (int x = 0; x < kg->kern[k].nx; x++)
            zeroing += kg->kern[k].kind == KK_ELEM && kg->bufs[kg->kern[k].xbuf[x]].kind == KB_TEMP &&
                       kg->bufs[kg->kern[k].xbuf[x]].kept;
    }
    for (int b = 0; b < kg->nbufs; b++)
        kept += kg->bufs[b].kind == KB_TEMP && kg->bufs[b].kept;
    CHECK(acc == 2 && kept == 2 && zeroing == 2, "train.main: %d acc gemms, %d kept buffers, %d zeroing updates; want 2 each",
          acc, kept, zeroing);
    CHECK(km->kept.c == 12 * 32 * 4 + 32 * 5 * 4 && km->kept.b == 0,     /* both multiples of 64 */
          "kept bytes %lld*B + %lld", (long long)km->kept.b, (long long)km->kept.c);
    for (int q = 0; q < 2; q++) {   /* forward and evaluate keep nothing */
        const KGraph *fg = q ? km->evaluate : km->forward;
        for (int k = 0; k < fg->nkern; k++)
            CHECK(!fg->kern[k].acc, "%s k%d adds into a kept buffer", fg->name, k);
    }
    /* the verifier: a kept buffer whose last reader does not store zeros, an acc gemm into a
     * workspace buffer */
    FILE *devnull = fopen("/dev/null", "w");
    for (int k = 0; k < kg->nkern; k++) {
        Kernel *kk = &kg->kern[k];
        if (kk->kind == KK_ELEM && kk->nx && kg->bufs[kk->xbuf[kk->nx - 1]].kept) {
            kk->nx--;
            CHECK(k_verify(kg, devnull) != 0, "verifier missed a kept buffer left unzeroed");
            kk->nx++;
        }
        if (kk->acc) {
            KBuf *ob = (KBuf *)&kg->bufs[kk->out];
            ob->kept = false;
            CHECK(k_verify(kg, devnull) != 0, "verifier missed an acc gemm into the workspace");
            ob->kept = true;
        }
    }
    fclose(devnull);
    CHECK(k_verify(kg, stderr) == 0, "the repaired graph verifies");

    Lib plain = build(tm.m, "accum_plain", 2);
    accumulate = true;
    Lib la = build(tm.m, "accum_acc", 2);
    accumulate = false;
    static const int64_t Bs[] = {7, 33, 1};
    Bufs p, q, r;
    bufs_alloc(&tm, 33, &p, 4242);
    for (size_t kb = 0; kb < sizeof Bs / sizeof *Bs; kb++) {
        int64_t B = Bs[kb];
        if (kb == 0) {
            bufs_copy(&q, &p);
            bufs_copy(&r, &p);
        }
        float lp = 0, lq = 0, lr = 0;
        NncArgs ap = args_for(B, &p, &lp, NULL), aq = args_for(B, &q, &lq, NULL), ar = args_for(B, &r, &lr, tm.m);
        Ws wp = ws_alloc(&plain, B), wq = ws_alloc(&la, B);
        ap.workspace = wp.p, aq.workspace = wq.p;
        for (int s = 0; s < 12; s++) {
            ap.step = aq.step = ar.step = (int64_t)kb * 12 + s + 1;
            memset(wp.p, 0xFF, (size_t)wp.size);    /* NaN everywhere */
            memset(wq.p, 0xFF, (size_t)wq.size);
            plain.train_step(&ap, 0);
            la.train_step(&aq, 0);
            ref.train_step(&ar, 0);
            int bad = 0;
            for (int t = 0; t < tm.m->ntensors; t++)
                if (tm.m->tensors[t].role == ROLE_PARAM)
                    bad += memcmp(p.p[t], q.p[t], p.bytes[t]) != 0;
            CHECK(!bad && lp == lq, "accum: B=%lld step %d: %d params differ from the build without accumulators "
                  "(loss %.9g vs %.9g)", (long long)B, s, bad, lq, lp);
            if (bad || compare_all(&tm, &q, &r, "accum train vs interp", B))
                break;
            la.evaluate(&aq);   /* uses the workspace between steps */
            plain.evaluate(&ap);
            ref.evaluate(&ar);
        }
        ws_free(&wp, "accum plain");
        ws_free(&wq, "accum acc");
    }
    bufs_free(&p);
    bufs_free(&q);
    bufs_free(&r);
    dlclose(plain.h);
    dlclose(la.h);
}

/* ---- test: every op ---- */

static TestModule ops_module(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "ops")};
    IrModule *m = tm.m;
    IrGraph *g = m->forward = ir_graph_new(A, "forward");
    IrType f8 = T2(DT_F32, BD, CD(8)), i8 = T2(DT_I32, BD, CD(8)), b8 = T2(DT_BOOL, BD, CD(8));
    uint32_t x = source(&tm, g, ROLE_INPUT, "x", f8, -2, 2);
    uint32_t y = source(&tm, g, ROLE_INPUT, "pos", f8, 0.1, 3);
    uint32_t xi = source(&tm, g, ROLE_INPUT, "xi", i8, -6, 6);
    uint32_t yi = source(&tm, g, ROLE_INPUT, "yi", i8, -3, 3);
    uint32_t mask = source(&tm, g, ROLE_INPUT, "mask", b8, 0, 1);
    uint32_t mask2 = source(&tm, g, ROLE_INPUT, "mask2", b8, 0, 1);
    uint32_t idx = source(&tm, g, ROLE_INPUT, "idx", T1(DT_I32, BD), -1, 7);
    uint32_t table = source(&tm, g, ROLE_PARAM, "table", T2(DT_F32, CD(5), CD(8)), -1, 1);
    uint32_t w = source(&tm, g, ROLE_PARAM, "w", T2(DT_F32, CD(8), CD(6)), -1, 1);
    uint32_t v = source(&tm, g, ROLE_PARAM, "v", T1(DT_F32, CD(8)), -1, 1);

    static const Op un[] = {OP_NEG, OP_EXP, OP_TANH, OP_SIGMOID, OP_ATAN, OP_ABS, OP_SIGN,
                            OP_SIN, OP_COS, OP_STOP_GRAD};
    for (size_t k = 0; k < sizeof un / sizeof *un; k++)
        output(&tm, g, ir_op_name[un[k]], ir_unary(g, un[k], x));
    output(&tm, g, "log", ir_unary(g, OP_LOG, y));
    output(&tm, g, "sqrt", ir_unary(g, OP_SQRT, y));
    output(&tm, g, "sigmoid_big", ir_unary(g, OP_SIGMOID, ir_binary(g, OP_MUL, x, ir_fill(g, f8, 60))));
    static const Op bin[] = {OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN,
                             OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE};
    uint32_t xr = op1(g, OP_CAST, xi, NULL, f8);
    uint32_t xq = op1(g, OP_CAST, op1(g, OP_CAST, x, NULL, i8), NULL, f8);   /* integral floats: ties */
    for (size_t k = 0; k < sizeof bin / sizeof *bin; k++) {
        char *n1 = arena_printf(A, "%s_f32", ir_op_name[bin[k]]);
        char *n2 = arena_printf(A, "%s_i32", ir_op_name[bin[k]]);
        char *n3 = arena_printf(A, "%s_ties", ir_op_name[bin[k]]);
        output(&tm, g, n1, ir_binary(g, bin[k], x, y));
        output(&tm, g, n2, ir_binary(g, bin[k], xi, yi));
        output(&tm, g, n3, ir_binary(g, bin[k], xq, xr));
    }
    /* floor, ceil, round (ties: halves), erf, asin/acos (on [-1, 1]), mod (f32 ties: exact
     * multiples and zero divisors; i32: yi holds 0 and -1, which give 0) */
    uint32_t xh = ir_binary(g, OP_MUL, xq, ir_fill(g, f8, 0.5));
    static const Op steps[] = {OP_FLOOR, OP_CEIL, OP_ROUND};
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        output(&tm, g, ir_op_name[steps[k]], ir_unary(g, steps[k], ir_binary(g, OP_MUL, x, ir_fill(g, f8, 3))));
        output(&tm, g, arena_printf(A, "%s_half", ir_op_name[steps[k]]), ir_unary(g, steps[k], xh));
        output(&tm, g, arena_printf(A, "%s_i32", ir_op_name[steps[k]]), ir_unary(g, steps[k], xi));
    }
    output(&tm, g, "erf", ir_unary(g, OP_ERF, ir_binary(g, OP_MUL, x, ir_fill(g, f8, 2))));
    uint32_t xu = ir_binary(g, OP_MUL, x, ir_fill(g, f8, 0.5));
    output(&tm, g, "asin", ir_unary(g, OP_ASIN, xu));
    output(&tm, g, "acos", ir_unary(g, OP_ACOS, xu));
    output(&tm, g, "mod_f32", ir_binary(g, OP_MOD, ir_binary(g, OP_MUL, x, ir_fill(g, f8, 5)), y));
    output(&tm, g, "mod_neg", ir_binary(g, OP_MOD, y, ir_unary(g, OP_NEG, x)));
    output(&tm, g, "mod_ties", ir_binary(g, OP_MOD, xq, xr));
    output(&tm, g, "mod_i32", ir_binary(g, OP_MOD, xi, yi));
    output(&tm, g, "pow", ir_binary(g, OP_POW, y, x));
    output(&tm, g, "pow_2", ir_binary(g, OP_POW, x, ir_fill(g, f8, 2)));
    output(&tm, g, "neg_i32", ir_unary(g, OP_NEG, xi));
    output(&tm, g, "abs_i32", ir_unary(g, OP_ABS, xi));
    output(&tm, g, "sign_i32", ir_unary(g, OP_SIGN, xi));
    output(&tm, g, "cast_f2i", op1(g, OP_CAST, ir_binary(g, OP_MUL, x, ir_fill(g, f8, 3)), NULL, i8));
    output(&tm, g, "cast_i2f", xr);
    output(&tm, g, "cast_b2f", op1(g, OP_CAST, mask, NULL, f8));
    output(&tm, g, "cast_f2b", op1(g, OP_CAST, xq, NULL, b8));
    output(&tm, g, "cast_i2b", op1(g, OP_CAST, xi, NULL, b8));
    output(&tm, g, "cast_b2i", op1(g, OP_CAST, mask, NULL, i8));
    output(&tm, g, "not", ir_unary(g, OP_NOT, mask));
    output(&tm, g, "and", ir_binary(g, OP_AND, mask, mask2));
    output(&tm, g, "or", ir_binary(g, OP_OR, mask, mask2));
    output(&tm, g, "eq_bool", ir_binary(g, OP_EQ, mask, mask2));
    output(&tm, g, "select", ir_select(g, mask, x, y));
    output(&tm, g, "select_i32", ir_select(g, mask, xi, yi));
    output(&tm, g, "select_bool", ir_select(g, mask, mask2, mask));

    /* shape ops */
    output(&tm, g, "broadcast", ir_broadcast(g, v, f8));
    output(&tm, g, "bias_add", ir_binary(g, OP_ADD, x, v));
    uint32_t col = ir_sum(g, x, 2);    /* [B,1] */
    output(&tm, g, "broadcast_col", ir_broadcast(g, col, f8));
    uint32_t r3 = ir_reshape(g, x, T3(DT_F32, BD, CD(2), CD(4)));
    output(&tm, g, "reshape", r3);
    IrAttr perm = {.i = {2, 0, 1}, .ni = 3};
    uint32_t tr = op1(g, OP_TRANSPOSE, r3, &perm, T3(DT_F32, CD(4), BD, CD(2)));
    output(&tm, g, "transpose", ir_reshape(g, tr, f8));
    IrAttr perm2 = {.i = {1, 0}, .ni = 2};
    uint32_t tr2 = op1(g, OP_TRANSPOSE, x, &perm2, T2(DT_F32, CD(8), BD));
    output(&tm, g, "transpose2", ir_reshape(g, ir_unary(g, OP_EXP, tr2), f8));
    IrAttr sl = {.i = {1, 1, 8, 3}, .ni = 4};
    uint32_t s = op1(g, OP_SLICE, x, &sl, T2(DT_F32, BD, CD(3)));
    output(&tm, g, "slice", s);
    output(&tm, g, "unslice", op1(g, OP_UNSLICE, s, &sl, f8));
    IrAttr sl0 = {.i = {0, 0, 1, 1}, .ni = 4};
    output(&tm, g, "slice_rows", op1(g, OP_SLICE, table, &sl0, T2(DT_F32, CD(1), CD(8))));
    IrAttr ax1 = {.i = {1}, .ni = 1}, ax0 = {.i = {0}, .ni = 1};
    uint32_t cat[2] = {x, y};
    output(&tm, g, "concat1", ir_op(g, OP_CONCAT, cat, 2, &ax1, T2(DT_F32, BD, CD(16))));
    uint32_t cat0[2] = {table, ir_reshape(g, v, T2(DT_F32, CD(1), CD(8)))};
    output(&tm, g, "concat0", ir_op(g, OP_CONCAT, cat0, 2, &ax0, T2(DT_F32, CD(6), CD(8))));
    uint32_t catb[2] = {xi, yi};
    uint32_t c0 = ir_op(g, OP_CONCAT, catb, 2, &ax0, T2(DT_I32, ((Dim){2, 0}), CD(8)));
    output(&tm, g, "concat_batch", ir_reshape(g, c0, T2(DT_I32, BD, CD(16))));

    /* reductions */
    for (int mk = 1; mk <= 3; mk++) {
        output(&tm, g, arena_printf(A, "sum%d", mk), ir_sum(g, x, (uint64_t)mk));
        IrAttr at = {.i = {mk}, .ni = 1};
        output(&tm, g, arena_printf(A, "rmax%d", mk), op1(g, OP_RMAX, x, &at, f8));
        output(&tm, g, arena_printf(A, "sum_i32_%d", mk), ir_sum(g, xi, (uint64_t)mk));
        output(&tm, g, arena_printf(A, "rmax_i32_%d", mk), op1(g, OP_RMAX, xi, &at, i8));
    }
    IrAttr m5 = {.i = {5}, .ni = 1};
    output(&tm, g, "sum_3d", ir_reshape(g, op1(g, OP_SUM, r3, &m5, g->nodes[r3].type), T1(DT_F32, CD(2))));
    /* column reductions with kept axes before and after the reduced block ([B, 2, 4] over axis 1,
     * over axes 0-1), and one over the batch with a fused elementwise prologue */
    IrAttr m2 = {.i = {2}, .ni = 1}, m3 = {.i = {3}, .ni = 1};
    output(&tm, g, "sum_mid", ir_reshape(g, op1(g, OP_SUM, r3, &m2, T3(DT_F32, BD, CD(1), CD(4))), T2(DT_F32, BD, CD(4))));
    output(&tm, g, "rmax_mid", ir_reshape(g, op1(g, OP_RMAX, r3, &m2, T3(DT_F32, BD, CD(1), CD(4))), T2(DT_F32, BD, CD(4))));
    output(&tm, g, "sum_cols", ir_reshape(g, op1(g, OP_SUM, r3, &m3, T3(DT_F32, CD(1), CD(1), CD(4))), T1(DT_F32, CD(4))));
    output(&tm, g, "sum_cols_body", ir_sum(g, ir_binary(g, OP_MUL, x, ir_unary(g, OP_EXP, x)), 1));
    /* reduced axes apart with a kept axis after them ([B, 2, 2, 2] over axes 0 and 2, as nearest
     * upsampling's gradient sums [N, H, 2, W, 2, C]): the column walk with the kept axis between
     * them outside */
    uint32_t r4 = ir_reshape(g, x, T4(DT_F32, BD, CD(2), CD(2), CD(2)));
    output(&tm, g, "sum_apart", ir_reshape(g, op1(g, OP_SUM, r4, &m5, T4(DT_F32, CD(1), CD(2), CD(1), CD(2))),
                                           T1(DT_F32, CD(4))));
    output(&tm, g, "rmax_apart", ir_reshape(g, op1(g, OP_RMAX, r4, &m5, T4(DT_F32, CD(1), CD(2), CD(1), CD(2))),
                                            T1(DT_F32, CD(4))));
    IrAttr m10 = {.i = {10}, .ni = 1};
    output(&tm, g, "sum_apart_batch", ir_reshape(g, op1(g, OP_SUM, r4, &m10, T4(DT_F32, BD, CD(1), CD(2), CD(1))),
                                                 T2(DT_F32, BD, CD(2))));

    /* contractions and indexing */
    output(&tm, g, "matmul", ir_matmul(g, x, w, false, false));
    /* at B = 1 these and `matmul` (6 columns: 4 + 2) are llvm.c's gemv_regs, y in registers in
     * pieces of 8, 4, 2, 1 lanes: 10 = 8 + 2, 13 = 8 + 4 + 1; 17 columns take the 4-row passes */
    static const int ncols[] = {10, 13, 17};
    for (size_t k = 0; k < sizeof ncols / sizeof *ncols; k++) {
        uint32_t wk = source(&tm, g, ROLE_PARAM, arena_printf(A, "w%d", ncols[k]), T2(DT_F32, CD(8), CD(ncols[k])), -1, 1);
        output(&tm, g, arena_printf(A, "matmul_n%d", ncols[k]), ir_matmul(g, x, wk, false, false));
    }
    /* gemv_regs sums row k in chain k mod S and the last K mod S rows in chain 0: 11 rows (10
     * columns, 4 chains: 2 groups and 3 rows after them; 15 columns = 8 + 4 + 2 + 1, 3 chains: 3
     * groups and 2 after) and 3 rows (fewer than the chains: chain 0 alone) */
    static const int kn[][2] = {{11, 10}, {11, 15}, {3, 10}};
    for (size_t k = 0; k < sizeof kn / sizeof *kn; k++) {
        uint32_t xk = source(&tm, g, ROLE_INPUT, arena_printf(A, "x%d", kn[k][0]), T2(DT_F32, BD, CD(kn[k][0])), -2, 2);
        uint32_t wk = source(&tm, g, ROLE_PARAM, arena_printf(A, "w%dx%d", kn[k][0], kn[k][1]),
                             T2(DT_F32, CD(kn[k][0]), CD(kn[k][1])), -1, 1);
        output(&tm, g, arena_printf(A, "matmul_k%d_n%d", kn[k][0], kn[k][1]), ir_matmul(g, xk, wk, false, false));
    }
    output(&tm, g, "matmul_ta", ir_matmul(g, x, x, true, false));
    uint32_t xt = ir_matmul(g, ir_broadcast(g, v, T2(DT_F32, CD(3), CD(8))), x, false, true);  /* [3,B] */
    output(&tm, g, "matmul_tb", ir_reshape(g, xt, T2(DT_F32, BD, CD(3))));
    output(&tm, g, "matmul_tt", ir_matmul(g, x, xt, true, true));    /* [8,3] */
    IrAttr oh = {.i = {6}, .ni = 1};
    output(&tm, g, "one_hot", op1(g, OP_ONE_HOT, idx, &oh, T2(DT_F32, BD, CD(6))));
    uint32_t gs[2] = {table, idx};
    output(&tm, g, "gather", ir_op(g, OP_GATHER, gs, 2, NULL, f8));
    uint32_t ss[2] = {x, idx};
    output(&tm, g, "scatter_add", ir_op(g, OP_SCATTER_ADD, ss, 2, NULL, T2(DT_F32, CD(5), CD(8))));

    /* pooling (channels-last): odd sizes, window 3 stride 2 'same', ties (integral values), 1-D,
     * the adjoints, and relu feeding a max-pool */
    IrType im = {.dtype = DT_F32, .rank = 4, .dim = {BD, CD(5), CD(7), CD(3)}};
    IrType ims = {.dtype = DT_F32, .rank = 4, .dim = {BD, CD(3), CD(4), CD(3)}};
    uint32_t img = source(&tm, g, ROLE_INPUT, "img", im, -2, 2);
    uint32_t dyp = source(&tm, g, ROLE_INPUT, "dy", ims, -1, 1);
    uint32_t v3 = source(&tm, g, ROLE_PARAM, "v3", T1(DT_F32, CD(3)), -1, 1);
    IrAttr p22 = {.i = {2, 2, 2, 2, 0, 0, 0, 0}, .ni = 8}, same = {.i = {3, 3, 2, 2, 1, 1, 1, 1}, .ni = 8};
    IrType imi = im;
    imi.dtype = DT_I32;
    uint32_t imq = op1(g, OP_CAST, op1(g, OP_CAST, img, NULL, imi), NULL, im);
    output(&tm, g, "maxpool", ir_op(g, OP_MAXPOOL, &img, 1, &p22, im));
    output(&tm, g, "maxpool_same", ir_op(g, OP_MAXPOOL, &img, 1, &same, im));
    output(&tm, g, "maxpool_ties", ir_op(g, OP_MAXPOOL, &imq, 1, &same, im));
    output(&tm, g, "avgpool", ir_op(g, OP_AVGPOOL, &img, 1, &p22, im));
    output(&tm, g, "avgpool_same", ir_op(g, OP_AVGPOOL, &img, 1, &same, im));
    uint32_t relu = ir_binary(g, OP_MAX, img, ir_fill(g, im, 0));
    output(&tm, g, "relu_maxpool", ir_op(g, OP_MAXPOOL, &relu, 1, &p22, im));   /* fused: one loop */
    uint32_t th = ir_binary(g, OP_ADD, ir_unary(g, OP_TANH, img), ir_broadcast(g, v3, im));
    output(&tm, g, "chain_avgpool", ir_op(g, OP_AVGPOOL, &th, 1, &p22, im));    /* with a [col] bias */
    uint32_t relu2 = ir_binary(g, OP_MAX, img, ir_fill(g, im, 0.5));
    output(&tm, g, "relu_maxpool_same", ir_op(g, OP_MAXPOOL, &relu2, 1, &same, im)); /* overlapping: not fused */
    uint32_t mb[2] = {imq, dyp};
    output(&tm, g, "maxpool_bwd", ir_op(g, OP_MAXPOOL_BWD, mb, 2, &same, im));
    /* disjoint 2x2 windows that leave x's last row and column uncovered, with ties */
    uint32_t dy22 = source(&tm, g, ROLE_INPUT, "dy22", (IrType){.dtype = DT_F32, .rank = 4, .dim = {BD, CD(2), CD(3), CD(3)}},
                           -1, 1);
    uint32_t mb22[2] = {imq, dy22};
    output(&tm, g, "maxpool_bwd_22", ir_op(g, OP_MAXPOOL_BWD, mb22, 2, &p22, im));
    output(&tm, g, "avgpool_bwd", ir_op(g, OP_AVGPOOL_BWD, &dyp, 1, &same, im));
    IrAttr p1 = {.i = {3, 2, 1, 1}, .ni = 4};
    uint32_t seq = ir_reshape(g, img, T3(DT_F32, BD, CD(35), CD(3)));
    output(&tm, g, "maxpool_1d", ir_op(g, OP_MAXPOOL, &seq, 1, &p1, im));
    output(&tm, g, "avgpool_1d", ir_op(g, OP_AVGPOOL, &seq, 1, &p1, im));
    /* attention's pieces: softmax with a scale and the causal mask (a [tile] read) and its
     * adjoint, one row kernel each; batched matmuls with each transpose flag */
    IrType a4 = {.dtype = DT_F32, .rank = 4, .dim = {BD, CD(3), CD(5), CD(7)}};
    uint32_t sc = ir_reshape(g, img, a4);
    IrAttr cm = {.i = {1}, .ni = 1, .f = 0.5}, nb = {.i = {0}, .ni = 1, .f = 1.0};
    uint32_t sm = ir_op(g, OP_SOFTMAX, &sc, 1, &cm, a4);
    output(&tm, g, "softmax_causal", sm);
    output(&tm, g, "softmax", ir_op(g, OP_SOFTMAX, &sc, 1, &nb, a4));
    uint32_t sb[2] = {sm, ir_unary(g, OP_TANH, sc)};
    IrAttr bf = {.i = {0}, .ni = 1, .f = 0.5};
    output(&tm, g, "softmax_bwd", ir_op(g, OP_SOFTMAX_BWD, sb, 2, &bf, a4));
    IrType a3 = {.dtype = DT_F32, .rank = 3, .dim = {{3, 0}, CD(5), CD(7)}};
    uint32_t mq3 = ir_reshape(g, img, a3);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            const char *nm = ta ? (tb ? "bmatmul_tt" : "bmatmul_ta") : tb ? "bmatmul_tb" : "bmatmul";
            uint32_t pa = ta ? ir_reshape(g, img, (IrType){DT_F32, 3, {{3, 0}, CD(7), CD(5)}}) : mq3;
            uint32_t pb = tb ? mq3 : ir_reshape(g, img, (IrType){DT_F32, 3, {{3, 0}, CD(7), CD(5)}});
            uint32_t pr = ir_matmul(g, pa, pb, ta, tb);
            IrType rt = g->nodes[pr].type;
            output(&tm, g, nm, ir_reshape(g, pr, (IrType){DT_F32, 4, {BD, CD(3), rt.dim[1], rt.dim[2]}}));
        }

    /* sources: rand, hyper, constants; values flowing into kernels */
    IrAttr st3 = {.i = {3}, .ni = 1};
    output(&tm, g, "rand", ir_op(g, OP_RAND, NULL, 0, &st3, f8));
    static const char *hn[] = {"lr", "step", "total_steps", "batch"};
    uint32_t h[4];
    for (int k = 0; k < 4; k++) {
        IrAttr at = {.i = {k}, .ni = 1};
        h[k] = ir_op(g, OP_HYPER, NULL, 0, &at, T0(DT_F32));
        output(&tm, g, hn[k], h[k]);
    }
    /* convolution: each geometry's three ops (library-call kernels of runtime/conv.c). The image
     * is large enough that at B = 64 the 3x3 convolution's im2col takes two blocks (the scratch
     * holds 48 images); 1x1 and depthwise run without im2col. */
    {
        IrType it = {DT_F32, 4, {BD, CD(20), CD(20), CD(12)}};
        uint32_t cimg = source(&tm, g, ROLE_INPUT, "cimg", it, -1, 1);
        uint32_t cseq = ir_reshape(g, cimg, T3(DT_F32, BD, CD(400), CD(12)));
        static const struct { const char *name; int wd[4]; int64_t at[8]; bool seq; } cv[] = {
            {"conv3x3", {3, 3, 12, 4}, {1, 1, 1, 1, 1, 1, 1, 1}, false},
            {"conv_g2", {3, 3, 6, 4}, {2, 2, 2, 2, 2, 2, 1, 1}, false},
            {"conv_dw", {3, 3, 1, 12}, {1, 1, 1, 1, 1, 1, 1, 1}, false},
            {"conv_dw2", {3, 3, 1, 24}, {2, 1, 1, 1, 0, 1, 1, 1}, false},
            {"conv_1x1", {1, 1, 12, 5}, {1, 1, 1, 1, 0, 0, 0, 0}, false},
            {"conv_1x1_g3", {1, 1, 4, 6}, {1, 1, 1, 1, 0, 0, 0, 0}, false},
            {"conv_1x1_s2", {1, 1, 12, 5}, {2, 2, 1, 1, 0, 0, 0, 0}, false},
            {"conv1d", {5, 12, 3, 0}, {3, 1, 2, 2}, true},
        };
        for (size_t c = 0; c < sizeof cv / sizeof *cv; c++) {
            int r = cv[c].seq ? 3 : 4;
            IrType wt = {DT_F32, r, {CD(cv[c].wd[0]), CD(cv[c].wd[1]), CD(cv[c].wd[2]), CD(cv[c].wd[3])}};
            uint32_t wk = source(&tm, g, ROLE_PARAM, arena_printf(A, "%s_w", cv[c].name), wt, -1, 1);
            uint32_t xin = cv[c].seq ? cseq : cimg;
            IrAttr at = {.ni = 4 * (r - 2)};
            for (int k = 0; k < at.ni; k++)
                at.i[k] = cv[c].at[k];
            IrConv geo;
            IrType yt;
            if (ir_conv_geom(&g->nodes[xin].type, &wt, &at, &geo, &yt))
                die("test_llvm: bad conv case %s", cv[c].name);
            uint32_t s2[2] = {xin, wk};
            uint32_t yv = ir_op(g, OP_CONV, s2, 2, &at, yt);
            output(&tm, g, cv[c].name, yv);
            uint32_t sd[2] = {yv, wk}, sf[2] = {xin, yv};
            output(&tm, g, arena_printf(A, "%s_data", cv[c].name),
                   ir_op(g, OP_CONV_BWD_DATA, sd, 2, &at, g->nodes[xin].type));
            output(&tm, g, arena_printf(A, "%s_filter", cv[c].name), ir_op(g, OP_CONV_BWD_FILTER, sf, 2, &at, wt));
        }
    }
    IrAttr hb = {.i = {HY_BATCH}, .ni = 1};
    output(&tm, g, "batch_i32", ir_op(g, OP_HYPER, NULL, 0, &hb, T0(DT_I32)));
    /* (lr * 2 + step) / batch, broadcast: a value computed in the graph function */
    uint32_t sched = ir_binary(g, OP_DIV, ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, h[0], ir_scalar(g, DT_F32, 2)), h[1]), h[3]);
    output(&tm, g, "sched", sched);
    output(&tm, g, "scaled", ir_binary(g, OP_MUL, x, sched));
    output(&tm, g, "splat", ir_fill(g, f8, 2.5));
    output(&tm, g, "splat_i32", ir_fill(g, i8, -7));
    output(&tm, g, "splat_matmul", ir_matmul(g, x, ir_fill(g, T2(DT_F32, CD(8), CD(3)), 0.5), false, false));
    static const float lit[6] = {1, -2, 3.5f, 0.25f, -0.125f, 6};
    IrAttr la = {.i = {6}, .ni = 1, .data = lit};
    uint32_t litn = ir_add(g, OP_CONST, T2(DT_F32, CD(2), CD(3)), NULL, 0, &la, (Loc){0});
    output(&tm, g, "literal", litn);
    output(&tm, g, "literal_exp", ir_unary(g, OP_EXP, litn));
    static const float lit2[6] = {0, 1, -3, 0, 2.7f, -0.5f};
    IrAttr li = {.i = {6}, .ni = 1, .data = lit2};
    uint32_t liti = ir_add(g, OP_CONST, T2(DT_I32, CD(2), CD(3)), NULL, 0, &li, (Loc){0});
    output(&tm, g, "literal_i32", ir_binary(g, OP_MUL, liti, liti));
    uint32_t litb = ir_add(g, OP_CONST, T2(DT_BOOL, CD(2), CD(3)), NULL, 0, &li, (Loc){0});
    output(&tm, g, "literal_bool", ir_unary(g, OP_NOT, litb));
    uint32_t scal = ir_binary(g, OP_ADD, ir_sum(g, x, 3), ir_scalar(g, DT_F32, 1));   /* [1,1] */
    output(&tm, g, "scalar_chain", ir_reshape(g, scal, T0(DT_F32)));
    /* the same node as two outputs: one written in place, one copied */
    uint32_t twice = ir_binary(g, OP_SUB, x, v);
    output(&tm, g, "twice_a", twice);
    output(&tm, g, "twice_b", twice);
    return tm;
}

static NncPool *cmp_pool;   /* run_compare gives the compiled side this pool (NULL: none) */
static void *test_alloc(void *ud, void *ptr, size_t n);

static void run_compare(const TestModule *tm, const Lib *l, NncModelDef *ref, int64_t B,
                        int which, int32_t step, const char *what) {
    Bufs a, b;
    bufs_alloc(tm, B, &a, 42 + (uint64_t)B);
    bufs_copy(&b, &a);
    float la[16], lb[16];
    memset(la, 0xA5, sizeof la);
    memset(lb, 0xA5, sizeof lb);
    NncArgs ia = args_for(B, &a, la, tm->m);
    NncArgs ib = args_for(B, &b, lb, NULL);
    ib.pool = cmp_pool;
    Ws w = ws_alloc(l, B);
    ib.workspace = w.p;
    if (which == 0)
        ref->forward(&ia), l->forward(&ib);
    else if (which == 1)
        ref->evaluate(&ia), l->evaluate(&ib);
    else
        ref->train_step(&ia, step), l->train_step(&ib, step);
    ws_free(&w, what);
    compare_all(tm, &b, &a, what, B);
    for (int k = 0; k < tm->m->nlosses; k++)
        CHECK(close_f(lb[k], la[k], 0), "%s: loss %d at B=%lld: llvm %.9g, interp %.9g", what, k,
              (long long)B, lb[k], la[k]);
    bufs_free(&a);
    bufs_free(&b);
}

static void test_ops(Arena *A) {
    TestModule tm = ops_module(A);
    if (ir_module_verify(tm.m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(tm.m);
    for (int opt = 0; opt <= 2; opt += 2) {
        Lib l = build(tm.m, opt ? "ops_o2" : "ops_o0", opt);
        CHECK(desc_is(l.desc, ref.desc), "t_desc is not ir_module_desc plus the plan records:\n%s", l.desc);
        static const int64_t Bs[] = {1, 3, 17, 64};
        for (size_t k = 0; k < sizeof Bs / sizeof *Bs; k++)
            run_compare(&tm, &l, &ref, Bs[k], 0, 0, opt ? "ops O2" : "ops O0");
        if (opt) {  /* and with a 3-thread pool: parallel loops, im2col, col2im, depthwise */
            RtCtx c = {.alloc = test_alloc, .prog = "test_llvm"};
            cmp_pool = rt_pool_new(&c, 3);
            CHECK(cmp_pool != NULL, "rt_pool_new failed");
            for (size_t k = 2; cmp_pool && k < sizeof Bs / sizeof *Bs; k++)
                run_compare(&tm, &l, &ref, Bs[k], 0, 0, "ops O2 pool");
            if (cmp_pool)
                rt_pool_free(&c, cmp_pool);
            cmp_pool = NULL;
        }
        dlclose(l.h);
    }
}

/* ---- test: convolution epilogues (plan.c makes a forward conv's bias + activation, or an
 * inference batchnorm's scale and shift, the conv kernel's body; llvm.c hands the ones of the form
 * act(a[f] y + b[f]) to nnc_conv_forward_ep, which runs them as oneDNN post-ops, and runs the rest,
 * and the im2col path's, as the epilogue loop) against the interpreter's separate nodes ---- */

enum { CA_NONE, CA_RELU, CA_LEAKY, CA_TANH, CA_SIGMOID, CA_ELU, CA_ELU_HALF, CA_GELU, CA_GELU_TANH, CA_SILU,
       CA_SOFTPLUS, CA__COUNT };
static const char *const ca_name[CA__COUNT] = {"none", "relu", "leaky", "tanh", "sigmoid", "elu", "elu_half",
                                               "gelu", "gelu_tanh", "silu", "softplus"};

/* act(z) written as stdlib/nn.nn writes it (softplus: one oneDNN has no post-op for here) */
static uint32_t conv_act(IrGraph *g, int a, uint32_t z) {
    IrType t = g->nodes[z].type;
#define K(v) ir_fill(g, t, v)
    uint32_t pos = ir_binary(g, OP_GT, z, K(0));
    switch (a) {
    case CA_NONE: return z;
    case CA_RELU: return ir_select(g, pos, z, K(0));
    case CA_LEAKY: return ir_select(g, pos, z, ir_binary(g, OP_MUL, K(0.1), z));
    case CA_TANH: return ir_unary(g, OP_TANH, z);
    case CA_SIGMOID: return ir_unary(g, OP_SIGMOID, z);
    case CA_ELU: case CA_ELU_HALF: {
        uint32_t em1 = ir_binary(g, OP_SUB, ir_unary(g, OP_EXP, ir_select(g, pos, K(0), z)), K(1));
        return ir_select(g, pos, z, a == CA_ELU ? em1 : ir_binary(g, OP_MUL, K(0.5), em1));
    }
    case CA_GELU:
        return ir_binary(g, OP_MUL, ir_binary(g, OP_MUL, K(0.5), z),
                         ir_binary(g, OP_ADD, K(1), ir_unary(g, OP_ERF, ir_binary(g, OP_MUL, z, K(0.7071067811865476)))));
    case CA_GELU_TANH: {
        uint32_t cube = ir_binary(g, OP_MUL, ir_binary(g, OP_MUL, ir_binary(g, OP_MUL, K(0.044715), z), z), z);
        uint32_t in = ir_binary(g, OP_MUL, K(0.7978845608028654), ir_binary(g, OP_ADD, z, cube));
        return ir_binary(g, OP_MUL, ir_binary(g, OP_MUL, K(0.5), z), ir_binary(g, OP_ADD, K(1), ir_unary(g, OP_TANH, in)));
    }
    case CA_SILU: return ir_binary(g, OP_MUL, z, ir_unary(g, OP_SIGMOID, z));
    default: /* softplus: max(z, 0) + log(1 + exp(-|z|)) */
        return ir_binary(g, OP_ADD, ir_binary(g, OP_MAX, z, K(0)),
                         ir_unary(g, OP_LOG, ir_binary(g, OP_ADD, K(1), ir_unary(g, OP_EXP, ir_unary(g, OP_NEG, ir_unary(g, OP_ABS, z))))));
    }
#undef K
}

static TestModule conv_epi_module(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "conv_epi")};
    IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
    IrType it = {DT_F32, 4, {BD, CD(13), CD(11), CD(8)}};
    uint32_t img = source(&tm, g, ROLE_INPUT, "img", it, -1, 1);
    /* geometries: 3x3 "same"; stride 2 with dilation 2 and padding; 2 groups; 1x1 (no im2col);
     * depthwise. at: stride, dilation (h, w), padding (top, left, bottom, right). */
    static const struct { const char *name; int wd[4]; int64_t at[8]; } geo[] = {
        {"same", {3, 3, 8, 16}, {1, 1, 1, 1, 1, 1, 1, 1}},
        {"s2d2", {3, 3, 8, 8}, {2, 2, 2, 2, 2, 1, 2, 1}},
        {"g2", {3, 3, 4, 8}, {1, 1, 1, 1, 0, 0, 0, 0}},
        {"1x1", {1, 1, 8, 12}, {1, 1, 1, 1, 0, 0, 0, 0}},
        {"dw", {3, 3, 1, 8}, {1, 1, 1, 1, 1, 1, 1, 1}},
    };
    /* each case its own weights, so that no two share a conv node */
    static const struct { int geo, act; bool bias, bn; } cs[] = {
        {0, CA_RELU, true, false},   {0, CA_NONE, true, false},     {0, CA_TANH, true, false},
        {0, CA_SIGMOID, true, false}, {0, CA_ELU, true, false},     {0, CA_ELU_HALF, true, false},
        {0, CA_GELU, true, false},   {0, CA_GELU_TANH, true, false}, {0, CA_SILU, true, false},
        {0, CA_LEAKY, true, false},  {0, CA_RELU, false, false},     {0, CA_TANH, false, false},
        {0, CA_SOFTPLUS, true, false}, {0, CA_RELU, true, true},     {0, CA_NONE, false, true},
        {1, CA_RELU, true, false},   {1, CA_GELU, true, true},       {2, CA_RELU, true, false},
        {2, CA_TANH, true, true},    {3, CA_RELU, true, false},      {3, CA_SILU, true, true},
        {4, CA_RELU, true, false},   {4, CA_ELU, true, true},
    };
    for (size_t c = 0; c < sizeof cs / sizeof *cs; c++) {
        const char *nm = arena_printf(A, "c%zu_%s_%s%s%s", c, geo[cs[c].geo].name, ca_name[cs[c].act],
                                      cs[c].bias ? "_bias" : "", cs[c].bn ? "_bn" : "");
        const int *wd = geo[cs[c].geo].wd;
        IrType wt = {DT_F32, 4, {CD(wd[0]), CD(wd[1]), CD(wd[2]), CD(wd[3])}};
        uint32_t w = source(&tm, g, ROLE_PARAM, arena_printf(A, "%s.w", nm), wt, -0.4, 0.4);
        IrAttr at = {.ni = 8};
        for (int k = 0; k < 8; k++)
            at.i[k] = geo[cs[c].geo].at[k];
        IrConv gm;
        IrType yt;
        if (ir_conv_geom(&it, &wt, &at, &gm, &yt))
            die("test_llvm: bad conv_epi case %s", nm);
        uint32_t s2[2] = {img, w};
        uint32_t y = ir_op(g, OP_CONV, s2, 2, &at, yt);
        IrType ft = T1(DT_F32, CD(wd[3]));
        if (cs[c].bias)
            y = ir_binary(g, OP_ADD, y, ir_broadcast(g, source(&tm, g, ROLE_PARAM, arena_printf(A, "%s.b", nm), ft, -0.5, 0.5), yt));
        if (cs[c].bn) {     /* (y - mean) * scale + beta: an inference batchnorm after the bias */
            uint32_t mean = source(&tm, g, ROLE_PARAM, arena_printf(A, "%s.mean", nm), ft, -0.3, 0.3);
            uint32_t scale = source(&tm, g, ROLE_PARAM, arena_printf(A, "%s.scale", nm), ft, 0.5, 2);
            uint32_t beta = source(&tm, g, ROLE_PARAM, arena_printf(A, "%s.beta", nm), ft, -0.5, 0.5);
            y = ir_binary(g, OP_SUB, y, ir_broadcast(g, mean, yt));
            y = ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, y, ir_broadcast(g, scale, yt)), ir_broadcast(g, beta, yt));
        }
        /* odd cases: the result is a graph output (plan has the conv write the output's buffer);
         * even ones: a temporary read by a transpose (H and W swapped) */
        IrAttr perm = {.i = {0, 2, 1, 3}, .ni = 4};
        uint32_t r = conv_act(g, cs[c].act, y);
        output(&tm, g, nm, c % 2 ? r : op1(g, OP_TRANSPOSE, r, &perm, (IrType){DT_F32, 4, {BD, yt.dim[2], yt.dim[1], yt.dim[3]}}));
    }
    return tm;
}

static void test_conv_epi(Arena *A) {
    TestModule tm = conv_epi_module(A);
    if (ir_module_verify(tm.m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(tm.m);
    for (int opt = 0; opt <= 2; opt += 2) {
        Lib l = build(tm.m, opt ? "conv_epi_o2" : "conv_epi_o0", opt);
        static const int64_t Bs[] = {1, 3, 17};
        for (size_t k = 0; k < sizeof Bs / sizeof *Bs; k++)
            run_compare(&tm, &l, &ref, Bs[k], 0, 0, opt ? "conv_epi O2" : "conv_epi O0");
        if (opt) {  /* per-thread slices of the images, oneDNN's and im2col's (B = 1: bands of rows) */
            RtCtx c = {.alloc = test_alloc, .prog = "test_llvm"};
            cmp_pool = rt_pool_new(&c, 2);
            CHECK(cmp_pool != NULL, "rt_pool_new failed");
            for (size_t k = 0; cmp_pool && k < sizeof Bs / sizeof *Bs; k++)
                run_compare(&tm, &l, &ref, Bs[k], 0, 0, "conv_epi O2 pool");
            if (cmp_pool)
                rt_pool_free(&c, cmp_pool);
            cmp_pool = NULL;
        }
        /* the library call ran the epilogues (oneDNN present, not NNC_CONV=im2col), or none did */
        const int64_t *fused = dlsym(l.h, "nnc_conv_epi_fused");
        const char *impl = getenv("NNC_CONV");
        void *dnnl = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
        /* 16 cases are oneDNN's: one group, an im2col scratch (not 1x1), an activation it has */
        long long want = dnnl && !(impl && !strcmp(impl, "im2col")) ? 16 * (opt ? 6 : 3) : 0;
        CHECK(fused && *fused == want, "conv_epi: %lld epilogues ran in the library call, expected %lld",
              fused ? (long long)*fused : -1LL, want);
        /* dnnl stays loaded: unloaded, its static constructors' allocations would belong to no
         * module and escape tests/lsan.supp's libdnnl entry under ASan */
        (void)dnnl;
        printf("conv_epi %s: %lld convolutions ran their epilogue in the library call\n", opt ? "O2" : "O0",
               fused ? (long long)*fused : -1LL);
        dlclose(l.h);
    }
}

/* ---- test: an MLP trained by hand-built SGD ---- */

static TestModule mlp_module(Arena *A, int64_t I, int64_t H, int64_t C) {
    TestModule tm = {.m = ir_module_new(A, "mlp")};
    IrModule *m = tm.m;
    *ARENA_PUSH(A, m->losses, m->nlosses, m->caplosses) = "xent";
    IrGraph *graphs[3];
    for (int gi = 0; gi < 3; gi++) {
        IrGraph *g = graphs[gi] = ir_graph_new(A, gi == 0 ? "forward" : gi == 1 ? "evaluate" : "train.main");
        uint32_t x = source(&tm, g, ROLE_INPUT, "x", T2(DT_F32, BD, CD(I)), -1, 1);
        uint32_t w1 = source(&tm, g, ROLE_PARAM, "l1.W", T2(DT_F32, CD(I), CD(H)), -0.5, 0.5);
        uint32_t b1 = source(&tm, g, ROLE_PARAM, "l1.b", T1(DT_F32, CD(H)), -0.1, 0.1);
        uint32_t w2 = source(&tm, g, ROLE_PARAM, "l2.W", T2(DT_F32, CD(H), CD(C)), -0.5, 0.5);
        uint32_t b2 = source(&tm, g, ROLE_PARAM, "l2.b", T1(DT_F32, CD(C)), -0.1, 0.1);
        uint32_t pre = ir_binary(g, OP_ADD, ir_matmul(g, x, w1, false, false), b1);
        uint32_t zero = ir_fill(g, g->nodes[pre].type, 0);
        uint32_t h = ir_binary(g, OP_MAX, pre, zero);
        uint32_t logits = ir_binary(g, OP_ADD, ir_matmul(g, h, w2, false, false), b2);
        IrAttr ax1 = {.i = {2}, .ni = 1};
        uint32_t mx = op1(g, OP_RMAX, logits, &ax1, g->nodes[logits].type);
        uint32_t z = ir_binary(g, OP_SUB, logits, mx);
        uint32_t ez = ir_unary(g, OP_EXP, z);
        uint32_t se = ir_sum(g, ez, 2);
        uint32_t probs = ir_binary(g, OP_DIV, ez, se);
        if (gi == 0) {
            output(&tm, g, "probs", probs);
            m->forward = g;
            continue;
        }
        uint32_t label = source(&tm, g, ROLE_TARGET, "label", T1(DT_I32, BD), 0, C);
        IrAttr oh = {.i = {C}, .ni = 1};
        uint32_t onehot = op1(g, OP_ONE_HOT, label, &oh, T2(DT_F32, BD, CD(C)));
        uint32_t logp = ir_binary(g, OP_SUB, z, ir_unary(g, OP_LOG, se));
        IrAttr hb = {.i = {HY_BATCH}, .ni = 1}, hl = {.i = {HY_LR}, .ni = 1};
        uint32_t bsz = ir_op(g, OP_HYPER, NULL, 0, &hb, T0(DT_F32));
        uint32_t tot = ir_reshape(g, ir_sum(g, ir_binary(g, OP_MUL, onehot, logp), 3), T0(DT_F32));
        uint32_t loss = ir_unary(g, OP_NEG, ir_binary(g, OP_DIV, tot, bsz));
        ir_result(g, loss, RES_LOSS, 0);
        if (gi == 1) {
            output(&tm, g, "eval_probs", probs);
            m->evaluate = g;
            continue;
        }
        /* gradients by hand */
        uint32_t dlog = ir_binary(g, OP_DIV, ir_binary(g, OP_SUB, probs, onehot), bsz);
        uint32_t dw2 = ir_matmul(g, h, dlog, true, false);
        uint32_t db2 = ir_reshape(g, ir_sum(g, dlog, 1), T1(DT_F32, CD(C)));
        uint32_t dh = ir_matmul(g, dlog, w2, false, true);
        uint32_t dpre = ir_select(g, ir_binary(g, OP_GT, pre, zero), dh, zero);
        uint32_t dw1 = ir_matmul(g, x, dpre, true, false);
        uint32_t db1 = ir_reshape(g, ir_sum(g, dpre, 1), T1(DT_F32, CD(H)));
        uint32_t lr = ir_op(g, OP_HYPER, NULL, 0, &hl, T0(DT_F32));
        uint32_t ps[4] = {w1, b1, w2, b2}, gs[4] = {dw1, db1, dw2, db2};
        for (int k = 0; k < 4; k++) {
            uint32_t upd = ir_binary(g, OP_SUB, ps[k], ir_binary(g, OP_MUL, lr, gs[k]));
            ir_result(g, upd, RES_UPDATE, (int)g->nodes[ps[k]].attr.i[0]);
        }
        *ARENA_PUSH(A, m->steps, m->nsteps, m->capsteps) =
            (IrStep){.name = "main", .loss = "xent", .optimizer = "sgd", .lr = 0.5, .graph = g};
    }
    /* step 1 swaps two state tensors and rotates a param through a reshape: every update must
     * read the values from before the step */
    IrGraph *g = ir_graph_new(A, "train.swap");
    IrType st = T2(DT_F32, CD(4), CD(6));
    uint32_t s1 = source(&tm, g, ROLE_STATE, "s1", st, -1, 1);
    uint32_t s2 = source(&tm, g, ROLE_STATE, "s2", st, -1, 1);
    uint32_t s3 = source(&tm, g, ROLE_STATE, "s3", T1(DT_F32, CD(24)), -1, 1);
    ir_result(g, s2, RES_UPDATE, (int)g->nodes[s1].attr.i[0]);
    ir_result(g, ir_reshape(g, s3, st), RES_UPDATE, (int)g->nodes[s2].attr.i[0]);
    ir_result(g, ir_reshape(g, s1, T1(DT_F32, CD(24))), RES_UPDATE, (int)g->nodes[s3].attr.i[0]);
    *ARENA_PUSH(A, m->steps, m->nsteps, m->capsteps) =
        (IrStep){.name = "swap", .loss = "xent", .optimizer = "sgd", .lr = 0.5, .graph = g};
    return tm;
}

static void test_mlp(Arena *A) {
    TestModule tm = mlp_module(A, 12, 32, 5);
    if (ir_module_verify(tm.m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(tm.m);
    Lib l = build(tm.m, "mlp", 2);
    /* every matmul is a gemm kernel: 2 in forward, 2 in evaluate, 5 in the train step; kernels of
     * one signature share a function, so the module has 6 nnc_sgemm calls (the forward's two
     * shapes, the first with its bias + relu epilogue in forward and evaluate but only the bias in
     * the train step, which keeps relu's mask for the backward pass, and the three of the
     * backward pass) */
    KModule *km = fuse_module(tm.m->arena, tm.m);
    int gemms = 0;
    const KGraph *kgs[3] = {km->forward, km->evaluate, km->steps[0]};
    for (int q = 0; q < 3; q++)
        for (int k = 0; k < kgs[q]->nkern; k++)
            gemms += kgs[q]->kern[k].kind == KK_GEMM;
    CHECK(gemms == 9, "%d gemm kernels, want 9", gemms);
    char path[600];
    snprintf(path, sizeof path, "%s/mlp.ll", tmpdir);
    LlvmOptions o = {.output = path, .kind = LLVM_OUT_IR, .prefix = "t", .opt_level = 2};
    char *text = emit_ir_text(tm.m, &o);
    int calls = 0;
    for (const char *c = text; c && (c = strstr(c, "call void @nnc_sgemm(")); c++)
        calls++;
    free(text);
    CHECK(calls == 6, "%d nnc_sgemm calls in %s, want 6", calls, path);
    static const int64_t Bs[] = {1, 7, 33};
    for (size_t k = 0; k < sizeof Bs / sizeof *Bs; k++) {
        int64_t B = Bs[k];
        run_compare(&tm, &l, &ref, B, 0, 0, "mlp forward");
        run_compare(&tm, &l, &ref, B, 1, 0, "mlp evaluate");
        run_compare(&tm, &l, &ref, B, 2, 1, "swap step");
        /* several SGD steps, the params compared after each */
        Bufs a, b;
        bufs_alloc(&tm, B, &a, 7 + (uint64_t)B);
        bufs_copy(&b, &a);
        float la = 0, lb = 0, first = 0;
        NncArgs ia = args_for(B, &a, &la, tm.m), ib = args_for(B, &b, &lb, NULL);
        Ws w = ws_alloc(&l, B);
        ib.workspace = w.p;
        for (int s = 0; s < 20; s++) {
            ia.step = ib.step = s + 1;
            ref.train_step(&ia, 0);
            l.train_step(&ib, 0);
            if (s == 0)
                first = lb;
            CHECK(close_f(lb, la, 0), "mlp step %d at B=%lld: loss llvm %.9g, interp %.9g", s,
                  (long long)B, lb, la);
            if (compare_all(&tm, &b, &a, "mlp train", B))
                break;
        }
        CHECK(lb < first, "mlp at B=%lld: loss did not fall (%g -> %g)", (long long)B, first, lb);
        ws_free(&w, "mlp train");
        bufs_free(&a);
        bufs_free(&b);
    }
    /* the swap step really swaps (not only agrees with the interpreter) */
    Bufs a;
    bufs_alloc(&tm, 2, &a, 99);
    int i1 = -1, i2 = -1, i3 = -1;
    for (int k = 0; k < tm.m->ntensors; k++) {
        const char *n = tm.m->tensors[k].name;
        if (!strcmp(n, "s1")) i1 = k;
        if (!strcmp(n, "s2")) i2 = k;
        if (!strcmp(n, "s3")) i3 = k;
    }
    float o1[24], o2[24], o3[24];
    memcpy(o1, a.p[i1], sizeof o1), memcpy(o2, a.p[i2], sizeof o2), memcpy(o3, a.p[i3], sizeof o3);
    NncArgs ib = args_for(2, &a, NULL, NULL);
    Ws w = ws_alloc(&l, 2);
    ib.workspace = w.p;
    l.train_step(&ib, 1);
    ws_free(&w, "swap");
    CHECK(!memcmp(a.p[i1], o2, sizeof o2) && !memcmp(a.p[i2], o3, sizeof o3) && !memcmp(a.p[i3], o1, sizeof o1),
          "swap step: s1 <- s2, s2 <- s3, s3 <- s1 did not happen");
    /* an unknown step number does nothing */
    Bufs before;
    bufs_copy(&before, &a);
    w = ws_alloc(&l, 2);
    ib.workspace = w.p;
    l.train_step(&ib, 7);
    l.train_step(&ib, -1);
    ws_free(&w, "step 7");
    for (int k = 0; k < a.n; k++)
        CHECK(!memcmp(a.p[k], before.p[k], a.bytes[k]), "train_step(7) changed %s", tm.m->tensors[k].name);
    bufs_free(&before);
    bufs_free(&a);
    dlclose(l.h);
}

/* ---- test: a train step made by autodiff ---- */

static TestModule grad_module(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "grad")};
    IrModule *m = tm.m;
    *ARENA_PUSH(A, m->losses, m->nlosses, m->caplosses) = "xent";
    IrGraph *g = ir_graph_new(A, "train.main");
    uint32_t tok = source(&tm, g, ROLE_INPUT, "tok", T2(DT_I32, BD, CD(3)), -1, 10);
    uint32_t x = source(&tm, g, ROLE_INPUT, "x", T2(DT_F32, BD, CD(6)), -1, 1);
    uint32_t label = source(&tm, g, ROLE_TARGET, "label", T1(DT_I32, BD), 0, 3);
    uint32_t emb = source(&tm, g, ROLE_PARAM, "emb", T2(DT_F32, CD(10), CD(4)), -1, 1);
    uint32_t w = source(&tm, g, ROLE_PARAM, "W", T2(DT_F32, CD(18), CD(8)), -0.5, 0.5);
    uint32_t b = source(&tm, g, ROLE_PARAM, "b", T1(DT_F32, CD(8)), -0.1, 0.1);
    uint32_t v = source(&tm, g, ROLE_PARAM, "V", T2(DT_F32, CD(4), CD(3)), -0.5, 0.5);
    uint32_t u = source(&tm, g, ROLE_PARAM, "U", T2(DT_F32, CD(6), CD(3)), -0.5, 0.5);
    uint32_t gs[2] = {emb, tok};
    uint32_t e = ir_op(g, OP_GATHER, gs, 2, NULL, T3(DT_F32, BD, CD(3), CD(4)));
    IrAttr ax1 = {.i = {1}, .ni = 1};
    uint32_t cs[2] = {ir_reshape(g, e, T2(DT_F32, BD, CD(12))), x};
    uint32_t cat = ir_op(g, OP_CONCAT, cs, 2, &ax1, T2(DT_F32, BD, CD(18)));
    uint32_t h = ir_unary(g, OP_TANH, ir_binary(g, OP_ADD, ir_matmul(g, cat, w, false, false), b));
    IrAttr st = {.i = {7}, .ni = 1};
    uint32_t r = ir_op(g, OP_RAND, NULL, 0, &st, g->nodes[h].type);
    uint32_t keep = ir_binary(g, OP_GE, r, ir_fill(g, g->nodes[h].type, 0.2));
    uint32_t drop = ir_select(g, keep, ir_binary(g, OP_DIV, h, ir_scalar(g, DT_F32, 0.8)),
                              ir_fill(g, g->nodes[h].type, 0));
    IrAttr sl = {.i = {1, 0, 8, 2}, .ni = 4};
    uint32_t s = op1(g, OP_SLICE, drop, &sl, T2(DT_F32, BD, CD(4)));
    uint32_t logits = ir_binary(g, OP_ADD, ir_matmul(g, s, v, false, false),
                                ir_unary(g, OP_SIGMOID, ir_matmul(g, x, u, false, false)));
    IrAttr m2 = {.i = {2}, .ni = 1};
    uint32_t z = ir_binary(g, OP_SUB, logits, op1(g, OP_RMAX, logits, &m2, g->nodes[logits].type));
    uint32_t logp = ir_binary(g, OP_SUB, z, ir_unary(g, OP_LOG, ir_sum(g, ir_unary(g, OP_EXP, z), 2)));
    IrAttr oh = {.i = {3}, .ni = 1};
    uint32_t onehot = op1(g, OP_ONE_HOT, label, &oh, T2(DT_F32, BD, CD(3)));
    IrAttr hb = {.i = {HY_BATCH}, .ni = 1}, hl = {.i = {HY_LR}, .ni = 1};
    uint32_t tot = ir_reshape(g, ir_sum(g, ir_binary(g, OP_MUL, onehot, logp), 3), T0(DT_F32));
    uint32_t loss = ir_unary(g, OP_NEG, ir_binary(g, OP_DIV, tot, ir_op(g, OP_HYPER, NULL, 0, &hb, T0(DT_F32))));
    /* a concat along the batch axis: its gradient slices at a start that depends on B */
    IrAttr ax0 = {.i = {0}, .ni = 1};
    uint32_t xu = ir_matmul(g, x, u, false, false);
    uint32_t cb[2] = {xu, ir_unary(g, OP_TANH, xu)};
    uint32_t cat0 = ir_op(g, OP_CONCAT, cb, 2, &ax0, T2(DT_F32, ((Dim){2, 0}), CD(3)));
    uint32_t sq = ir_reshape(g, ir_sum(g, ir_binary(g, OP_MUL, cat0, cat0), 3), T0(DT_F32));
    loss = ir_binary(g, OP_ADD, loss, ir_binary(g, OP_MUL, sq, ir_scalar(g, DT_F32, 0.01)));
    uint32_t ps[5] = {emb, w, b, v, u}, grads[5];
    ad_grad(g, loss, ps, 5, grads);
    ir_result(g, loss, RES_LOSS, 0);
    uint32_t lr = ir_op(g, OP_HYPER, NULL, 0, &hl, T0(DT_F32));
    for (int k = 0; k < 5; k++)
        ir_result(g, ir_binary(g, OP_SUB, ps[k], ir_binary(g, OP_MUL, lr, grads[k])), RES_UPDATE,
                  (int)g->nodes[ps[k]].attr.i[0]);
    *ARENA_PUSH(A, m->steps, m->nsteps, m->capsteps) =
        (IrStep){.name = "main", .loss = "xent", .optimizer = "sgd", .lr = 0.5, .graph = g};
    return tm;
}

static void test_grad(Arena *A) {
    TestModule tm = grad_module(A);
    if (ir_module_verify(tm.m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(tm.m);
    Lib l = build(tm.m, "grad", 2);
    static const int64_t Bs[] = {1, 5, 19};
    for (size_t k = 0; k < sizeof Bs / sizeof *Bs; k++) {
        int64_t B = Bs[k];
        Bufs a, b;
        bufs_alloc(&tm, B, &a, 11 + (uint64_t)B);
        bufs_copy(&b, &a);
        float la = 0, lb = 0;
        NncArgs ia = args_for(B, &a, &la, tm.m), ib = args_for(B, &b, &lb, NULL);
        Ws w = ws_alloc(&l, B);
        ib.workspace = w.p;
        for (int s = 0; s < 10; s++) {
            ia.step = ib.step = s + 1;
            ia.seed = ib.seed = 1000 + (uint64_t)s;
            ref.train_step(&ia, 0);
            l.train_step(&ib, 0);
            CHECK(close_f(lb, la, 0), "grad step %d at B=%lld: loss llvm %.9g, interp %.9g", s,
                  (long long)B, lb, la);
            if (compare_all(&tm, &b, &a, "grad train", B))
                break;
        }
        ws_free(&w, "grad train");
        bufs_free(&a);
        bufs_free(&b);
    }
    dlclose(l.h);
}

/* ---- test: row kernels (softmax, log-softmax + cross-entropy, normalisation statistics) ---- */

/* Over rows of n: softmax, log-softmax, the cross-entropy term of each row and a layer norm
 * (mean, variance, normalise) as outputs; a train step whose loss is the mean cross-entropy plus
 * a term of the normalised values, with SGD on a bias and a scale, so the row kernels of the
 * backward pass run too. */
static TestModule rows_module(Arena *A, int64_t n) {
    TestModule tm = {.m = ir_module_new(A, "rows")};
    IrModule *m = tm.m;
    *ARENA_PUSH(A, m->losses, m->nlosses, m->caplosses) = "xent";
    IrType t = T2(DT_F32, BD, CD(n));
    IrAttr last = {.i = {2}, .ni = 1}, oh = {.i = {n}, .ni = 1}, hb = {.i = {HY_BATCH}, .ni = 1};
    IrAttr hl = {.i = {HY_LR}, .ni = 1};
    for (int gi = 0; gi < 2; gi++) {
        IrGraph *g = ir_graph_new(A, gi ? "train.main" : "forward");
        uint32_t x = source(&tm, g, ROLE_INPUT, "x", t, -4, 4);
        uint32_t label = source(&tm, g, ROLE_TARGET, "label", T1(DT_I32, BD), 0, (double)n - 0.01);
        uint32_t bias = source(&tm, g, ROLE_PARAM, "bias", T1(DT_F32, CD(n)), -1, 1);
        uint32_t scale = source(&tm, g, ROLE_PARAM, "scale", T1(DT_F32, CD(n)), 0.5, 1.5);
        uint32_t logits = ir_binary(g, OP_ADD, x, bias);
        uint32_t mx = ir_unary(g, OP_STOP_GRAD, op1(g, OP_RMAX, logits, &last, T2(DT_F32, BD, CD(1))));
        uint32_t z = ir_binary(g, OP_SUB, logits, mx);
        uint32_t e = ir_unary(g, OP_EXP, z);
        uint32_t soft = ir_binary(g, OP_DIV, e, ir_sum(g, e, 2));
        /* log-softmax of other logits: kernels that share nothing with the softmax */
        uint32_t logits2 = ir_binary(g, OP_SUB, x, bias);
        uint32_t z2 = ir_binary(g, OP_SUB, logits2,
                                ir_unary(g, OP_STOP_GRAD, op1(g, OP_RMAX, logits2, &last, T2(DT_F32, BD, CD(1)))));
        uint32_t logp = ir_binary(g, OP_SUB, z2, ir_unary(g, OP_LOG, ir_sum(g, ir_unary(g, OP_EXP, z2), 2)));
        uint32_t onehot = op1(g, OP_ONE_HOT, label, &oh, t);
        uint32_t ce = ir_sum(g, ir_binary(g, OP_MUL, onehot, logp), 2);
        uint32_t inv_n = ir_scalar(g, DT_F32, 1.0 / (double)n);
        uint32_t mean = ir_binary(g, OP_MUL, ir_sum(g, x, 2), inv_n);
        uint32_t d = ir_binary(g, OP_SUB, x, mean);
        uint32_t var = ir_binary(g, OP_MUL, ir_sum(g, ir_binary(g, OP_MUL, d, d), 2), inv_n);
        uint32_t norm = ir_binary(g, OP_MUL, ir_binary(g, OP_DIV, d, ir_unary(g, OP_SQRT, ir_binary(g, OP_ADD, var, ir_scalar(g, DT_F32, 1e-5)))), scale);
        if (!gi) {
            m->forward = g;
            output(&tm, g, "softmax", soft);
            output(&tm, g, "log_softmax", logp);
            output(&tm, g, "ce", ce);
            output(&tm, g, "norm", norm);
            continue;
        }
        uint32_t batch = ir_op(g, OP_HYPER, NULL, 0, &hb, T0(DT_F32));
        uint32_t xent = ir_unary(g, OP_NEG, ir_binary(g, OP_DIV, ir_reshape(g, ir_sum(g, ce, 3), T0(DT_F32)), batch));
        uint32_t nt = ir_reshape(g, ir_sum(g, ir_binary(g, OP_MUL, norm, ir_binary(g, OP_MUL, soft, soft)), 3), T0(DT_F32));
        uint32_t loss = ir_binary(g, OP_ADD, xent, ir_binary(g, OP_DIV, nt, batch));
        uint32_t ps[2] = {bias, scale}, grads[2];
        ad_grad(g, loss, ps, 2, grads);
        ir_result(g, loss, RES_LOSS, 0);
        uint32_t lr = ir_op(g, OP_HYPER, NULL, 0, &hl, T0(DT_F32));
        for (int k = 0; k < 2; k++)
            ir_result(g, ir_binary(g, OP_SUB, ps[k], ir_binary(g, OP_MUL, lr, grads[k])), RES_UPDATE,
                      (int)g->nodes[ps[k]].attr.i[0]);
        *ARENA_PUSH(A, m->steps, m->nsteps, m->capsteps) =
            (IrStep){.name = "main", .loss = "xent", .optimizer = "sgd", .lr = 0.5, .graph = g};
    }
    return tm;
}

static void test_rows(Arena *A) {
    static const int64_t Ns[] = {7, 13, 1000, 1};
    for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
        TestModule tm = rows_module(A, Ns[ni]);
        if (ir_module_verify(tm.m, stderr))
            exit(1);
        /* the forward pass is row kernels: softmax one, log-softmax with the cross-entropy term
         * one, the layer norm one (for n = 1 a row is one element: they fuse in other ways) */
        KModule *km = fuse_module(A, tm.m);
        int rows = 0;
        for (int k = 0; k < km->forward->nkern; k++)
            rows += km->forward->kern[k].kind == KK_ROW;
        CHECK(Ns[ni] == 1 || rows >= 3, "rows n=%lld: %d row kernels in the forward pass, want >= 3",
              (long long)Ns[ni], rows);
        if (Ns[ni] != 1 && rows < 3)
            k_graph_print(stderr, km->forward);
        /* the train step: fuse's merge_rows made a row kernel with several outputs, one of them
         * per row (the cross-entropy term of each row, which the batch's loss reads) */
        int merged = 0;
        for (int k = 0; k < km->steps[0]->nkern; k++) {
            const Kernel *rk = &km->steps[0]->kern[k];
            for (int x = 0; rk->kind == KK_ROW && rk->xrow && x < rk->nx; x++)
                merged += rk->xrow[x] != 0;
        }
        CHECK(Ns[ni] == 1 || merged >= 1, "rows n=%lld: no row kernel with a per-row output in the train step",
              (long long)Ns[ni]);
        if (Ns[ni] != 1 && merged < 1)
            k_graph_print(stderr, km->steps[0]);
        NncModelDef ref = interp_model_def(tm.m);
        char tag[32];
        snprintf(tag, sizeof tag, "rows%lld", (long long)Ns[ni]);
        Lib l = build(tm.m, tag, 2);
        static const int64_t Bs[] = {1, 3, 17};
        for (size_t k = 0; k < sizeof Bs / sizeof *Bs; k++) {
            run_compare(&tm, &l, &ref, Bs[k], 0, 0, "rows forward");
            int64_t B = Bs[k];
            Bufs a, b;
            bufs_alloc(&tm, B, &a, 5 + (uint64_t)B);
            bufs_copy(&b, &a);
            float la = 0, lb = 0;
            NncArgs ia = args_for(B, &a, &la, tm.m), ib = args_for(B, &b, &lb, NULL);
            Ws w = ws_alloc(&l, B);
            ib.workspace = w.p;
            for (int s = 0; s < 5; s++) {
                ia.step = ib.step = s + 1;
                ref.train_step(&ia, 0);
                l.train_step(&ib, 0);
                CHECK(close_f(lb, la, 0), "rows n=%lld step %d at B=%lld: loss llvm %.9g, interp %.9g",
                      (long long)Ns[ni], s, (long long)B, lb, la);
                if (compare_all(&tm, &b, &a, "rows train", B))
                    break;
            }
            ws_free(&w, "rows train");
            bufs_free(&a);
            bufs_free(&b);
        }
        /* non-finite logits, as the interpreter treats them: row 0 holds a -inf (exp gives 0),
         * row 1 a NaN, row 2 a +inf (inf - inf: NaN), row 3 is all -inf; the other rows are
         * finite. The forward pass and one train step (the NaN rows make the bias gradient NaN) */
        for (int pass = 0; pass < 2; pass++) {
            int64_t B = 17, n = Ns[ni];
            Bufs a, b;
            bufs_alloc(&tm, B, &a, 77);
            int xi = -1;
            for (int k = 0; k < tm.m->ntensors; k++)
                if (!strcmp(tm.m->tensors[k].name, "x"))
                    xi = k;
            float *x = a.p[xi];
            x[0 * n + (n > 1)] = -INFINITY;
            x[1 * n] = NAN;
            x[2 * n + n - 1] = INFINITY;
            for (int64_t c = 0; c < n; c++)
                x[3 * n + c] = -INFINITY;
            bufs_copy(&b, &a);
            float la = 0, lb = 0;
            NncArgs ia = args_for(B, &a, &la, tm.m), ib = args_for(B, &b, &lb, NULL);
            Ws w = ws_alloc(&l, B);
            ib.workspace = w.p;
            ia.step = ib.step = 1;
            if (pass == 0) {
                ref.forward(&ia);
                l.forward(&ib);
            } else {
                ref.train_step(&ia, 0);
                l.train_step(&ib, 0);
                CHECK(close_f(lb, la, 0), "rows n=%lld non-finite: loss llvm %.9g, interp %.9g", (long long)n, lb, la);
            }
            compare_all(&tm, &b, &a, pass ? "rows non-finite train" : "rows non-finite forward", B);
            ws_free(&w, "rows non-finite");
            bufs_free(&a);
            bufs_free(&b);
        }
        dlclose(l.h);
    }
}

/* ---- test: row reductions' fast passes (llvm.c row_max_fast, row_sum_fast) ---- */

/* Softmax, x - rmax(x), x² / sum(x²) (the operand kept in the output) and x / sum(x²) (staged in a
 * buffer on the stack) over rows of n, whose rows are built to take each path:
 * the vector pass where it is exact, the ordered loop where another order could change a bit (a
 * maximum of ±0, a NaN, a sum whose partial sums round). Row 9's squares are 1, 2^-24 and the
 * rest 2^-54: in order each 2^-54 is lost (under half of 1 + 2^-24's ulp) and the f32 sum is the
 * tie 1 + 2^-24, rounded to 1; summed in any vector order they add up first and it rounds up (the
 * check that sends such a row to the ordered loop, removed, fails here; so does the ±0 check for
 * row 2). The results must be the interpreter's bits (NaN:
 * any NaN), at -O2, and at -O0 and with NNC_ROW_ORDERED=1 (the ordered loops alone). */
static void rowbits_fill(float *x, int64_t n, int64_t r) {
    for (int64_t c = 0; c < n; c++) {
        double u = urand();
        switch (r % 10) {
        case 0: x[c] = (float)(8 * u - 4); break;             /* both fast */
        case 1: x[c] = (float)(-120 * u); break;              /* exp down to subnormals: ordered sum */
        case 2: x[c] = (float)(-1 - u); break;                /* max -0 before +0: ordered max */
        case 3: x[c] = (float)(-1 - u); break;                /* max -0 alone */
        case 4: x[c] = (float)(4 * u); break;                 /* a NaN */
        case 5: x[c] = (float)(4 * u); break;                 /* a negative NaN */
        case 6: x[c] = -INFINITY; break;                      /* all -inf */
        case 7: x[c] = (float)(4 * u); break;                 /* +inf */
        case 8: x[c] = (float)(-14 - 8 * u); break;           /* probabilities near 2^-22 */
        default: x[c] = 0x1p-27f; break;                      /* sqnorm: 1 + 2^-24 + k 2^-54 */
        }
    }
    uint32_t nneg = 0xffc00123u;
    switch (r % 10) {
    case 2: x[n / 3] = -0.0f; x[n - 1] = 0.0f; break;
    case 3: x[n / 2] = -0.0f; break;
    case 4: x[n / 2] = NAN; break;
    case 5: memcpy(&x[n / 2], &nneg, 4); break;
    case 7: x[n - 1] = INFINITY; break;
    case 8: x[0] = 0.0f; break;
    case 9: x[0] = 1.0f; x[1] = 0x1p-12f; break;
    default: break;
    }
}

static int rowbits_compare(const float *got, const float *want, int64_t n, const char *what, int64_t n0) {
    int bad = 0;
    for (int64_t e = 0; e < n && bad < 3; e++) {
        uint32_t a, b;
        memcpy(&a, &got[e], 4);
        memcpy(&b, &want[e], 4);
        if (a != b && !(isnan(got[e]) && isnan(want[e]))) {
            bad++;
            CHECK(0, "rowbits n=%lld %s[%lld] (row %lld): llvm %.9g (0x%08x), interp %.9g (0x%08x)", (long long)n0,
                  what, (long long)e, (long long)(e / n0), got[e], a, want[e], b);
        }
    }
    return bad;
}

static void test_rowbits(Arena *A) {
    static const int64_t Ns[] = {13, 128, 1000};
    for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
        int64_t n = Ns[ni], B = 30;
        TestModule tm = {.m = ir_module_new(A, "rowbits")};
        IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
        IrType t = T2(DT_F32, BD, CD(n));
        uint32_t x = source(&tm, g, ROLE_INPUT, "x", t, 0, 1);
        IrAttr last = {.i = {2}, .ni = 1}, sm = {.i = {0}, .ni = 1, .f = 0.7};
        output(&tm, g, "softmax", ir_op(g, OP_SOFTMAX, &x, 1, &sm, t));
        output(&tm, g, "shift", ir_binary(g, OP_SUB, x, op1(g, OP_RMAX, x, &last, T2(DT_F32, BD, CD(1)))));
        uint32_t sq = ir_binary(g, OP_MUL, x, x);
        output(&tm, g, "sqnorm", ir_binary(g, OP_DIV, sq, ir_sum(g, sq, 2)));
        uint32_t sq2 = ir_binary(g, OP_MUL, x, x);   /* the sum's operand staged on the stack */
        output(&tm, g, "xnorm", ir_binary(g, OP_DIV, x, ir_sum(g, sq2, 2)));
        if (ir_module_verify(tm.m, stderr))
            exit(1);
        NncModelDef ref = interp_model_def(tm.m);
        for (int pass = 0; pass < 3; pass++) {   /* -O2, -O0, -O2 ordered */
            if (pass == 2)
                setenv("NNC_ROW_ORDERED", "1", 1);
            char tag[48];
            snprintf(tag, sizeof tag, "rowbits%lld_%d", (long long)n, pass);
            Lib l = build(tm.m, tag, pass == 1 ? 0 : 2);
            unsetenv("NNC_ROW_ORDERED");
            Bufs a, b;
            bufs_alloc(&tm, B, &a, 7 + (uint64_t)n);
            for (int k = 0; k < tm.m->ntensors; k++)
                if (!strcmp(tm.m->tensors[k].name, "x"))
                    for (int64_t r = 0; r < B; r++)
                        rowbits_fill((float *)a.p[k] + r * n, n, r);
            bufs_copy(&b, &a);
            float la = 0, lb = 0;
            NncArgs ia = args_for(B, &a, &la, tm.m), ib = args_for(B, &b, &lb, NULL);
            Ws w = ws_alloc(&l, B);
            ib.workspace = w.p;
            ref.forward(&ia);
            l.forward(&ib);
            ws_free(&w, "rowbits");
            for (int k = 0; k < tm.m->ntensors; k++)
                if (tm.m->tensors[k].role == ROLE_OUTPUT)
                    rowbits_compare(b.p[k], a.p[k], B * n, tm.m->tensors[k].name, n);
            bufs_free(&a);
            bufs_free(&b);
            dlclose(l.h);
        }
    }
}

/* ---- test: long column runs and interleaved math loops, bit for bit ---- */

/* Column reductions whose kept run is longer than llvm.c's COL_MAX_INNER (4096 accumulators), so
 * walked in pieces: sums over the batch of [B, 2, 4100] (pieces of 4096, 4096 and 8) and of
 * [B, 2, 4096] (two whole pieces), over axes 0 and 1 of [B, 3, 4100], of b * c over the batch (a
 * fused prologue), and rmax over the batch; their inputs spread over 2^-40 .. 2^40 with either
 * sign, so adding a column's operands in another order changes bits. Then erf, exp and tanh
 * loops (llvm.c ELEM_MATH_INTERLEAVE: 4 vectors an iteration) over rows of 37 and 1029 elements
 * with a column broadcast, and flat over B x 37, so the vector loop's remainder runs. The
 * interpreter's bits exactly at -O0, at -O2, and at -O2 with a pool of 2 and 3 threads (the math
 * loops in chunks across it); the -O0 IR (before any pass) carries the interleave hint. */
static void test_colbits(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "colbits")};
    IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
    uint32_t a = source(&tm, g, ROLE_INPUT, "wa", T3(DT_F32, BD, CD(2), CD(4100)), -1, 1);
    uint32_t b = source(&tm, g, ROLE_INPUT, "wb", T2(DT_F32, BD, CD(4100)), -1, 1);
    uint32_t c = source(&tm, g, ROLE_INPUT, "wc", T2(DT_F32, BD, CD(4100)), -1, 1);
    uint32_t d = source(&tm, g, ROLE_INPUT, "wd", T3(DT_F32, BD, CD(3), CD(4100)), -1, 1);
    uint32_t e = source(&tm, g, ROLE_INPUT, "we", T3(DT_F32, BD, CD(2), CD(4096)), -1, 1);
    output(&tm, g, "sum_a", ir_sum(g, a, 1));
    output(&tm, g, "sum_bc", ir_sum(g, ir_binary(g, OP_MUL, b, c), 1));
    output(&tm, g, "sum_d", ir_sum(g, d, 3));
    output(&tm, g, "sum_e", ir_sum(g, e, 1));
    IrAttr m1 = {.i = {1}, .ni = 1};
    output(&tm, g, "rmax_b", op1(g, OP_RMAX, b, &m1, T2(DT_F32, CD(1), CD(4100))));
    static const int ns[] = {37, 1029};
    for (int k = 0; k < 2; k++) {
        int n = ns[k];
        uint32_t x = source(&tm, g, ROLE_INPUT, arena_printf(A, "x%d", n), T2(DT_F32, BD, CD(n)), -3, 3);
        uint32_t v = source(&tm, g, ROLE_PARAM, arena_printf(A, "v%d", n), T1(DT_F32, CD(n)), -1, 1);
        uint32_t h = ir_binary(g, OP_ADD, x, v);
        output(&tm, g, arena_printf(A, "gelu%d", n),
               ir_binary(g, OP_MUL, h, ir_unary(g, OP_ERF, ir_binary(g, OP_MUL, h, ir_fill(g, g->nodes[h].type, 0.7)))));
        output(&tm, g, arena_printf(A, "exp%d", n), ir_unary(g, OP_EXP, ir_unary(g, OP_NEG, ir_binary(g, OP_MUL, h, h))));
        output(&tm, g, arena_printf(A, "tanh%d", n), ir_unary(g, OP_TANH, x));
    }
    if (ir_module_verify(tm.m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(tm.m);
    static const int64_t Bs[] = {37, 5};
    RtCtx rc = {.alloc = test_alloc, .prog = "test_llvm"};
    for (int run = 0; run < 4; run++) {    /* O0; O2 inline; O2 with a pool of 2 and of 3 threads */
        int opt = run ? 2 : 0, nth = run < 2 ? 0 : run;
        Lib l = build(tm.m, opt ? "colbits_o2" : "colbits_o0", opt);
        NncPool *pool = nth ? rt_pool_new(&rc, nth) : NULL;
        CHECK(!nth || pool, "rt_pool_new(%d) failed", nth);
        for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++) {
            int64_t B = Bs[bi];
            Bufs p, q;
            bufs_alloc(&tm, B, &p, 11 + (uint64_t)B);
            for (int k = 0; k < tm.m->ntensors; k++)
                if (tm.m->tensors[k].name[0] == 'w') {  /* wide magnitudes, either sign */
                    float *f = p.p[k];
                    for (int64_t i = 0; i < (int64_t)(p.bytes[k] / 4); i++)
                        f[i] = (float)ldexp(2 * urand() - 1, (int)(urand() * 81) - 40);
                }
            bufs_copy(&q, &p);
            float lp = 0, lq = 0;
            NncArgs ap = args_for(B, &p, &lp, tm.m), aq = args_for(B, &q, &lq, NULL);
            Ws w = ws_alloc(&l, B);
            aq.workspace = w.p;
            aq.pool = pool;
            ref.forward(&ap);
            l.forward(&aq);
            ws_free(&w, "colbits");
            for (int k = 0; k < tm.m->ntensors; k++)
                if (tm.m->tensors[k].role == ROLE_OUTPUT) {
                    int64_t n = (int64_t)(p.bytes[k] / 4);
                    rowbits_compare(q.p[k], p.p[k], n, arena_printf(A, "colbits O%d %d threads B=%lld %s", opt, nth,
                                                                    (long long)B, tm.m->tensors[k].name), n);
                }
            bufs_free(&p);
            bufs_free(&q);
        }
        if (pool)
            rt_pool_free(&rc, pool);
        dlclose(l.h);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/colbits.O0.ll", tmpdir);
    LlvmOptions o = {.output = path, .kind = LLVM_OUT_IR, .prefix = "t", .opt_level = 0};
    char *text = emit_ir_text(tm.m, &o);
    if (text)
        CHECK(strstr(text, "!{!\"llvm.loop.interleave.count\", i32 4}"),
              "colbits: no interleave hint of 4 on the math loops (%s)", path);
    free(text);
}

/* ---- test: workspace size ---- */

static void test_workspace(Arena *A) {
    TestModule tm = mlp_module(A, 12, 32, 5);
    Lib l = build(tm.m, "ws", 2);
    int64_t w1 = l.workspace_size(1000), w2 = l.workspace_size(2000), w3 = l.workspace_size(3000);
    int64_t slope = (w3 - w1) / 2000;
    /* the pieces of the largest graph are at most a few hundred: alignment slack per piece <= 64 */
    CHECK(llabs((w2 - w1) - (w3 - w2)) <= 64 * 200, "workspace_size not affine: %lld %lld %lld",
          (long long)w1, (long long)w2, (long long)w3);
    /* per batch row the train step keeps at least pre, h, logits, probs... (> 32+32+5 floats) */
    CHECK(slope >= 4 * (32 + 32 + 5), "workspace slope %lld bytes per row is too small", (long long)slope);
    int64_t prev = 0;
    for (int64_t B = 1; B <= 70; B++) {
        int64_t s = l.workspace_size(B);
        CHECK(s >= prev && s % 64 == 0, "workspace_size(%lld) = %lld after %lld", (long long)B,
              (long long)s, (long long)prev);
        prev = s;
    }
    dlclose(l.h);

    /* a [B, B] temporary (x x^T, then times x): the plan's offsets get a B^2 term, the workspace
     * covers it at every B and the results equal the interpreter's */
    TestModule tq = {.m = ir_module_new(A, "quad")};
    IrGraph *g = tq.m->forward = ir_graph_new(A, "forward");
    uint32_t x = source(&tq, g, ROLE_INPUT, "x", T2(DT_F32, BD, CD(3)), -1, 1);
    uint32_t gram = ir_matmul(g, x, x, false, true);
    output(&tq, g, "y", ir_unary(g, OP_TANH, ir_matmul(g, gram, x, false, false)));
    Lib lq = build(tq.m, "quad", 2);
    NncModelDef rq = interp_model_def(tq.m);
    for (int64_t B = 1; B <= 40; B += 13) {
        CHECK(lq.workspace_size(B) >= 4 * B * B, "workspace_size(%lld) = %lld < the [B,B] temporary",
              (long long)B, (long long)lq.workspace_size(B));
        run_compare(&tq, &lq, &rq, B, 0, 0, "quad forward");
    }
    dlclose(lq.h);
}

/* ---- test: vector loops in the IR text ---- */

static void test_vector(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "vec")};
    IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
    IrType t = T2(DT_F32, BD, CD(256));
    uint32_t x = source(&tm, g, ROLE_INPUT, "x", t, -1, 1);
    uint32_t y = source(&tm, g, ROLE_INPUT, "y", t, -1, 1);
    output(&tm, g, "z", ir_binary(g, OP_ADD, ir_binary(g, OP_MUL, x, y), x));
    char path[600];
    snprintf(path, sizeof path, "%s/vec.ll", tmpdir);
    LlvmOptions o = {.output = path, .kind = LLVM_OUT_IR, .prefix = "t", .opt_level = 2};
    char *text = emit_ir_text(tm.m, &o);
    if (!text)
        return;
    bool vec = strstr(text, "<4 x float>") || strstr(text, "<8 x float>") || strstr(text, "<16 x float>");
    CHECK(vec, "no <N x float> vector loop in the O2 IR (%s)", path);
    CHECK(strstr(text, "define void @t_forward") != NULL, "no t_forward in the IR text");
    CHECK(strstr(text, "@nnc_parallel_for(") != NULL, "no nnc_parallel_for call in the IR text");
    CHECK(strstr(text, "@t_desc") != NULL, "no t_desc in the IR text");
    /* noalias did its job: no runtime overlap check before the vector loop */
    CHECK(!strstr(text, "vector.memcheck"), "the vectoriser needed runtime alias checks");

    /* --cpu x86-64 (SSE2 only): 4-wide vectors, nothing wider */
    o.cpu = "x86-64";
    free(text);
    text = emit_ir_text(tm.m, &o);
    if (!text)
        return;
    CHECK(strstr(text, "<4 x float>") && !strstr(text, "<8 x float>") && !strstr(text, "<16 x float>"),
          "--cpu x86-64: want <4 x float> vectors only (%s)", path);
    CHECK(strstr(text, "\"target-cpu\"=\"x86-64\"") || !strstr(text, "target-cpu"),
          "--cpu x86-64: another target-cpu attribute in the IR");
    free(text);
}

/* ---- test: the math functions, inline IR against ir_expf ... bit for bit ---- */

static void test_math(Arena *A) {
    enum { NF = 5, COLS = 4096, ROWS = 256 };   /* 2^20 inputs */
    static const Op ops[NF] = {OP_EXP, OP_LOG, OP_TANH, OP_SIGMOID, OP_ERF};
    float (*const ref[NF])(float) = {ir_expf, ir_logf, ir_tanhf, ir_sigmoidf, ir_erff};
    TestModule tm = {.m = ir_module_new(A, "math")};
    IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
    uint32_t x = source(&tm, g, ROLE_INPUT, "x", T2(DT_F32, BD, CD(COLS)), -1, 1);
    for (int f = 0; f < NF; f++)
        output(&tm, g, ir_op_name[ops[f]], ir_unary(g, ops[f], x));
    size_t n = (size_t)COLS * ROWS;
    float *in = malloc(n * sizeof *in), *out[NF];
    static const float special[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f, 1.4e-45f, -1.4e-45f,
                                    1e-38f, 88.72283f, 88.73f, 89.0f, -87.5f, -103.9f, -104.0f, 0.625f,
                                    -0.625f, 1.0f, -1.0f, 4.0f, 3.40282347e38f, -3.40282347e38f};
    for (size_t i = 0; i < n; i++) {   /* every 4096th bit pattern, the specials first */
        uint32_t u = (uint32_t)(i * 4096u + 1234u);
        memcpy(&in[i], &u, sizeof u);
        if (i < sizeof special / sizeof *special)
            in[i] = special[i];
    }
    for (int f = 0; f < NF; f++)
        out[f] = malloc(n * sizeof(float));
    void *bufs[1 + NF] = {in, out[0], out[1], out[2], out[3], out[4]};
    struct { const char *cpu; int opt; } runs[] = {{NULL, 0}, {NULL, 1}, {NULL, 2}, {NULL, 3}, {"x86-64", 2}};
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        char tag[64], obj[600];
        snprintf(tag, sizeof tag, "math_O%d%s", runs[r].opt, runs[r].cpu ? "_x86-64" : "");
        snprintf(obj, sizeof obj, "%s/%s.o", tmpdir, tag);
        Diag d;
        diag_init(&d, stderr);
        LlvmOptions o = {.output = obj, .kind = LLVM_OUT_OBJ, .prefix = "t", .opt_level = runs[r].opt,
                         .cpu = runs[r].cpu};
        if (emit_ir(tm.m, &o, &d)) {
            CHECK(0, "llvm_emit %s", tag);
            continue;
        }
        Lib l = lib_syms(link_so(tag, obj), "t");
        NncArgs a = {.B = ROWS, .bufs = bufs};
        for (int f = 0; f < NF; f++)
            memset(out[f], 0xA5, n * sizeof(float));
        l.forward(&a);
        for (int f = 0; f < NF; f++) {
            int shown = 0;
            for (size_t i = 0; i < n; i++) {
                float want = ref[f](in[i]);
                uint32_t gb, wb;
                memcpy(&gb, &out[f][i], sizeof gb);
                memcpy(&wb, &want, sizeof wb);
                bool ok = isnan(want) ? isnan(out[f][i]) : gb == wb;
                if (!ok && shown++ < 3)
                    CHECK(0, "%s: %s(%a) = %a, the interpreter's %a", tag, ir_op_name[ops[f]], in[i],
                          out[f][i], want);
            }
        }
        dlclose(l.h);
    }
    /* O2: no library call left, and vector code */
    char path[600];
    snprintf(path, sizeof path, "%s/math.ll", tmpdir);
    LlvmOptions o = {.output = path, .kind = LLVM_OUT_IR, .prefix = "t", .opt_level = 2};
    char *text = emit_ir_text(tm.m, &o);
    if (text) {
        static const char *const calls[] = {"@expf", "@logf", "@tanhf", "@erff", "@llvm.exp.", "@llvm.log."};
        for (size_t c = 0; c < sizeof calls / sizeof *calls; c++)
            CHECK(!strstr(text, calls[c]), "O2 IR still calls %s (%s)", calls[c], path);
        CHECK(strstr(text, "fdiv <") && strstr(text, "bitcast <"), "O2 IR: the math is not vectorised (%s)", path);
    }
    free(text);
    for (int f = 0; f < NF; f++)
        free(out[f]);
    free(in);
}

/* ---- not a test: `test_llvm bench` times a 784-256-10 MLP train step, llvm vs interpreter ---- */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench(Arena *A) {
    TestModule tm = mlp_module(A, 784, 256, 10);
    NncModelDef ref = interp_model_def(tm.m);
    double t0 = now();
    Lib l = build(tm.m, "bench", 2);
    printf("emit + link: %.3f s\n", now() - t0);
    char path[600];
    snprintf(path, sizeof path, "%s/bench.o", tmpdir);
    Diag d;
    diag_init(&d, stderr);
    for (int opt = 0; opt <= 2; opt += 2) {
        LlvmOptions o = {.output = path, .kind = LLVM_OUT_OBJ, .prefix = "t", .opt_level = opt};
        t0 = now();
        CHECK(emit_ir(tm.m, &o, &d) == 0, "llvm_emit %s", path);
        printf("llvm_emit -O%d: %.3f s\n", opt, now() - t0);
    }
    static const int64_t Bs[] = {64, 256};
    for (size_t k = 0; k < sizeof Bs / sizeof *Bs; k++) {
        int64_t B = Bs[k];
        Bufs a;
        bufs_alloc(&tm, B, &a, 1);
        float loss;
        NncArgs ia = args_for(B, &a, &loss, tm.m);
        ia.lr = 0.01f;
        Ws w = ws_alloc(&l, B);
        ia.workspace = w.p;
        int n = 200;
        t0 = now();
        for (int s = 0; s < n; s++)
            l.train_step(&ia, 0);
        double tl = (now() - t0) / n;
        int ni = 5;
        t0 = now();
        for (int s = 0; s < ni; s++)
            ref.train_step(&ia, 0);
        double ti = (now() - t0) / ni;
        printf("B=%lld train step: llvm %.3f ms, interp %.3f ms (%.0fx); workspace %lld bytes\n",
               (long long)B, 1e3 * tl, 1e3 * ti, ti / tl, (long long)w.size);
        ws_free(&w, "bench");
        bufs_free(&a);
    }
    dlclose(l.h);
}

/* ---- test: parallel elementwise loops ---- */

static void *test_alloc(void *ud, void *ptr, size_t n) { return realloc(ptr, n); }

static void test_parallel(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "par")};
    IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
    IrType t = T2(DT_F32, BD, CD(256));
    uint32_t x = source(&tm, g, ROLE_INPUT, "x", t, -3, 3);
    uint32_t y = source(&tm, g, ROLE_INPUT, "y", t, 0.5, 2);
    uint32_t e = ir_unary(g, OP_EXP, ir_binary(g, OP_DIV, x, y));
    output(&tm, g, "z", ir_binary(g, OP_ADD, ir_unary(g, OP_SIGMOID, e), ir_binary(g, OP_MUL, x, y)));
    output(&tm, g, "m", ir_binary(g, OP_MAX, x, ir_fill(g, t, 0)));
    /* pools split by samples: x as images [B, 8, 8, 4], window 3 stride 2 'same' (overlapping
     * windows: the adjoints add into shared elements) and a fused relu -> 2x2 max-pool */
    IrType im = {.dtype = DT_F32, .rank = 4, .dim = {BD, CD(8), CD(8), CD(4)}};
    IrAttr same = {.i = {3, 3, 2, 2, 0, 0, 1, 1}, .ni = 8}, p22 = {.i = {2, 2, 2, 2, 0, 0, 0, 0}, .ni = 8};
    uint32_t xi = ir_reshape(g, x, im);
    uint32_t dyp = source(&tm, g, ROLE_INPUT, "dy", (IrType){.dtype = DT_F32, .rank = 4, .dim = {BD, CD(4), CD(4), CD(4)}},
                          -1, 1);
    output(&tm, g, "maxpool", ir_op(g, OP_MAXPOOL, &xi, 1, &same, im));
    output(&tm, g, "avgpool", ir_op(g, OP_AVGPOOL, &xi, 1, &same, im));
    uint32_t mb[2] = {xi, dyp};
    output(&tm, g, "maxpool_bwd", ir_op(g, OP_MAXPOOL_BWD, mb, 2, &same, im));
    output(&tm, g, "maxpool_bwd_22", ir_op(g, OP_MAXPOOL_BWD, mb, 2, &p22, im));   /* windows cover x: no zeroing */
    output(&tm, g, "avgpool_bwd", ir_op(g, OP_AVGPOOL_BWD, &dyp, 1, &same, im));
    uint32_t relu = ir_binary(g, OP_MAX, xi, ir_fill(g, im, 0));
    output(&tm, g, "relu_maxpool", ir_op(g, OP_MAXPOOL, &relu, 1, &p22, im));
    /* a softmax of y: a row kernel, its rows split between the threads */
    IrAttr last = {.i = {2}, .ni = 1};
    uint32_t ey = ir_unary(g, OP_EXP, ir_binary(g, OP_SUB, y, op1(g, OP_RMAX, y, &last, T2(DT_F32, BD, CD(1)))));
    output(&tm, g, "soft", ir_binary(g, OP_DIV, ey, ir_sum(g, ey, 2)));
    NncModelDef ref = interp_model_def(tm.m);
    Lib l = build(tm.m, "par", 2);
    /* x / y, exp, sigmoid and x * y have one use each: fused into the loops of z, no buffers */
    CHECK(l.workspace_size(1000) == 0, "fused chains still use %lld bytes of workspace",
          (long long)l.workspace_size(1000));
    RtCtx c = {.alloc = test_alloc, .prog = "test_llvm"};
    NncPool *pool = rt_pool_new(&c, 4);
    CHECK(pool != NULL, "rt_pool_new failed");
    static const int64_t Bs[] = {3, 127, 128, 300};     /* 128 * 256 = the parallel threshold */
    for (size_t k = 0; pool && k < sizeof Bs / sizeof *Bs; k++) {
        int64_t B = Bs[k];
        Bufs a, b;
        bufs_alloc(&tm, B, &a, 5 + (uint64_t)B);
        bufs_copy(&b, &a);
        NncArgs ia = args_for(B, &a, NULL, tm.m), ib = args_for(B, &b, NULL, NULL);
        ib.pool = pool;
        Ws w = ws_alloc(&l, B);
        ib.workspace = w.p;
        ref.forward(&ia);
        l.forward(&ib);
        ws_free(&w, "parallel");
        compare_all(&tm, &b, &a, "parallel", B);
        bufs_free(&a);
        bufs_free(&b);
    }
    if (pool)
        rt_pool_free(&c, pool);
    /* no evaluate graph, no steps: those entry points do nothing */
    Bufs a;
    bufs_alloc(&tm, 4, &a, 3);
    Bufs before;
    bufs_copy(&before, &a);
    NncArgs ia = args_for(4, &a, NULL, NULL);
    l.evaluate(&ia);
    l.train_step(&ia, 0);
    for (int k = 0; k < a.n; k++)
        CHECK(!memcmp(a.p[k], before.p[k], a.bytes[k]), "evaluate/train_step of a forward-only model changed %s",
              tm.m->tensors[k].name);
    bufs_free(&a);
    bufs_free(&before);
    dlclose(l.h);
}

/* ---- test: random graphs (values, fusion, aliases, broadcasts, reuse, updates) ---- */

static uint32_t rnd_pick(IrGraph *g, uint32_t *pool, int n) { return pool[(int)(urand() * n) % n]; }

/* One train step of random elementwise / broadcast / reduce / reshape ops over f32 tensors of
 * shapes [B,6], [B,1], [6], [1,6] and [], with a few outputs, a loss and updates of two states. */
static IrGraph *random_graph(TestModule *tm, Arena *A, int k) {
    IrGraph *g = ir_graph_new(A, arena_printf(A, "train.r%d", k));
    uint32_t pool[256];
    int n = 0;
    pool[n++] = source(tm, g, ROLE_INPUT, "x0", T2(DT_F32, BD, CD(6)), -2, 2);
    pool[n++] = source(tm, g, ROLE_INPUT, "x1", T2(DT_F32, BD, CD(6)), -2, 2);
    pool[n++] = source(tm, g, ROLE_INPUT, "c", T2(DT_F32, BD, CD(1)), -1, 1);
    uint32_t st1 = source(tm, g, ROLE_STATE, "st1", T1(DT_F32, CD(6)), -1, 1);
    uint32_t st2 = source(tm, g, ROLE_STATE, "st2", T1(DT_F32, CD(6)), -1, 1);
    pool[n++] = st1, pool[n++] = st2;
    IrAttr hl = {.i = {HY_LR}, .ni = 1};
    pool[n++] = ir_op(g, OP_HYPER, NULL, 0, &hl, T0(DT_F32));
    pool[n++] = ir_scalar(g, DT_F32, 0.5 + urand());
    pool[n++] = ir_fill(g, T2(DT_F32, CD(1), CD(6)), urand() - 0.5);
    for (int step = 0; step < 40 && n < 250; step++) {
        uint32_t a = rnd_pick(g, pool, n), b = rnd_pick(g, pool, n), r;
        const IrType *ta = &g->nodes[a].type;
        switch ((int)(urand() * 12)) {
        case 0: r = ir_binary(g, OP_ADD, a, b); break;
        case 1: r = ir_binary(g, OP_SUB, a, b); break;
        case 2: r = ir_unary(g, OP_TANH, ir_binary(g, OP_MUL, a, b)); break;
        case 3: r = ir_binary(g, OP_DIV, a, ir_binary(g, OP_ADD, ir_unary(g, OP_ABS, b), ir_scalar(g, DT_F32, 1))); break;
        case 4: r = ir_binary(g, OP_MAX, a, b); break;
        case 5: r = ir_unary(g, OP_EXP, ir_unary(g, OP_TANH, a)); break;
        case 6: r = ir_unary(g, OP_SIGMOID, a); break;
        case 7: r = ir_select(g, ir_binary(g, OP_GT, a, b), a, ir_unary(g, OP_NEG, b)); break;
        case 8: r = ta->rank ? ir_sum(g, a, (uint64_t)1 << (int)(urand() * ta->rank)) : ir_unary(g, OP_COS, a); break;
        case 9: {
            IrAttr at = {.i = {(int64_t)((1u << ta->rank) - 1)}, .ni = 1};
            r = ta->rank ? op1(g, OP_RMAX, a, &at, *ta) : ir_unary(g, OP_SIN, a);
            break;
        }
        case 10: r = ir_unary(g, OP_STOP_GRAD, ir_unary(g, OP_SQRT, ir_unary(g, OP_ABS, a))); break;
        default: {  /* a reshape between [6] and [1,6], or [B,1] and [B] and back */
            if (ta->rank == 1 && dim_is_c(ta->dim[0], 6))
                r = ir_reshape(g, a, T2(DT_F32, CD(1), CD(6)));
            else if (ta->rank == 2 && dim_is_c(ta->dim[0], 1) && dim_is_c(ta->dim[1], 6))
                r = ir_reshape(g, a, T1(DT_F32, CD(6)));
            else
                r = ir_binary(g, OP_MIN, a, b);
            break;
        }
        }
        pool[n++] = r;
    }
    /* results: the last few nodes as outputs (one of them twice), a loss, two state updates */
    for (int o = 0; o < 4; o++) {
        uint32_t x = pool[n - 1 - o * 3];
        output(tm, g, arena_printf(A, "r%d.out%d", k, o), x);
        if (o == 0)
            output(tm, g, arena_printf(A, "r%d.again", k), x);
    }
    uint32_t all = rnd_pick(g, pool, n);
    IrAttr m = {.i = {(int64_t)((1u << g->nodes[all].type.rank) - 1)}, .ni = 1};
    uint32_t loss = g->nodes[all].type.rank ? ir_reshape(g, op1(g, OP_SUM, all, &m, g->nodes[all].type), T0(DT_F32)) : all;
    ir_result(g, loss, RES_LOSS, 0);
    IrType v6 = T1(DT_F32, CD(6));
    uint32_t u1 = ir_binary(g, OP_ADD, st1, ir_reshape(g, ir_sum(g, ir_broadcast(g, rnd_pick(g, pool, n), T2(DT_F32, BD, CD(6))), 1), v6));
    ir_result(g, u1, RES_UPDATE, (int)g->nodes[st1].attr.i[0]);
    ir_result(g, urand() < 0.5 ? st1 : ir_broadcast(g, pool[3 + (int)(urand() * 4) % 4], v6), RES_UPDATE,
              (int)g->nodes[st2].attr.i[0]);
    return g;
}

static void test_random(Arena *A) {
    TestModule tm = {.m = ir_module_new(A, "random")};
    IrModule *m = tm.m;
    *ARENA_PUSH(A, m->losses, m->nlosses, m->caplosses) = "l";
    rng_state = 2024;
    enum { NG = 24 };
    for (int k = 0; k < NG; k++) {
        uint64_t keep = rng_state;
        IrGraph *g = random_graph(&tm, A, k);
        rng_state = keep * 31 + 7;
        *ARENA_PUSH(A, m->steps, m->nsteps, m->capsteps) =
            (IrStep){.name = g->name + 6, .loss = "l", .optimizer = "sgd", .lr = 0.1, .graph = g};
    }
    if (ir_module_verify(m, stderr))
        exit(1);
    NncModelDef ref = interp_model_def(m);
    Lib l = build(m, "random", 2);
    for (int k = 0; k < NG; k++)
        for (int64_t B = 1; B <= 9; B += 8)
            run_compare(&tm, &l, &ref, B, 2, k, arena_printf(A, "random graph %d", k));
    dlclose(l.h);
}

/* ---- test: two models in one program, told apart by their prefixes ---- */

static void test_prefix(Arena *A) {
    TestModule t1 = ops_module(A), t2 = mlp_module(A, 12, 32, 5);
    char o1[600], o2[600], objs[1300];
    snprintf(o1, sizeof o1, "%s/ops_a.o", tmpdir);
    snprintf(o2, sizeof o2, "%s/mlp_b.o", tmpdir);
    emit_obj(t1.m, o1, "model_a", 2);
    emit_obj(t2.m, o2, "model_b", 2);
    snprintf(objs, sizeof objs, "%s %s", o1, o2);
    void *h = link_so("two", objs);
    Lib la = lib_syms(h, "model_a"), lb = lib_syms(h, "model_b");
    NncModelDef r1 = interp_model_def(t1.m), r2 = interp_model_def(t2.m);
    CHECK(desc_is(la.desc, r1.desc) && desc_is(lb.desc, r2.desc), "descriptors of two models mixed up");
    run_compare(&t1, &la, &r1, 5, 0, 0, "model_a forward");
    run_compare(&t2, &lb, &r2, 5, 2, 0, "model_b train step");
    dlclose(h);
}

/* ---- test: layout and errors ---- */

static void test_errors(Arena *A) {
    CHECK(llvm_check_args_layout(stderr) == 0, "LLVM NncArgs layout differs from C");
    TestModule tm = {.m = ir_module_new(A, "err")};
    IrGraph *g = tm.m->forward = ir_graph_new(A, "forward");
    uint32_t x = source(&tm, g, ROLE_INPUT, "x", T1(DT_F32, BD), -1, 1);
    output(&tm, g, "y", ir_unary(g, OP_EXP, x));
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    Diag d;
    diag_init(&d, mem);
    LlvmOptions o = {.output = "/nonexistent-dir/x.o", .kind = LLVM_OUT_OBJ, .prefix = "t", .opt_level = 2};
    CHECK(emit_ir(tm.m, &o, &d) != 0, "writing into a missing directory succeeded");
    o.kind = LLVM_OUT_IR;
    CHECK(emit_ir(tm.m, &o, &d) != 0, "writing IR into a missing directory succeeded");
    o.opt_level = 7;
    CHECK(emit_ir(tm.m, &o, &d) != 0, "opt level 7 accepted");
    o.opt_level = 2;
    o.prefix = "2bad-name";
    CHECK(emit_ir(tm.m, &o, &d) != 0, "prefix '2bad-name' accepted");
    o.prefix = "t";
    o.cpu = "bogus-cpu";
    CHECK(emit_ir(tm.m, &o, &d) != 0, "--cpu bogus-cpu accepted");
    fclose(mem);
    CHECK(buf && strstr(buf, "unknown CPU 'bogus-cpu'"), "no error naming the CPU: %s", buf ? buf : "");
    CHECK(buf && strstr(buf, "/nonexistent-dir/x.o") && strstr(buf, "error"), "no error message naming the path: %s", buf ? buf : "");
    CHECK(buf && strstr(buf, "2bad-name"), "no error message naming the prefix: %s", buf ? buf : "");
    CHECK(d.nerrors == 5, "expected 5 errors, got %d", d.nerrors);
    /* a known CPU passes the check */
    char path[600];
    snprintf(path, sizeof path, "%s/err.o", tmpdir);
    Diag d2;
    diag_init(&d2, stderr);
    LlvmOptions ok = {.output = path, .kind = LLVM_OUT_OBJ, .prefix = "t", .opt_level = 1, .cpu = "skylake"};
    CHECK(emit_ir(tm.m, &ok, &d2) == 0 && d2.nerrors == 0, "--cpu skylake rejected");
    free(buf);
}

int main(int argc, char **argv) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/nnc-llvm-test-XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *only = argc > 1 ? argv[1] : NULL;
    static const char *const parts[] = {"layout", "vector", "math", "ops", "mlp", "grad", "rows",
                                        "rowbits", "colbits", "workspace", "parallel", "prefix", "random", "conv_epi",
                                        "accum", "bench"};
    bool known = !only;
    for (size_t k = 0; k < sizeof parts / sizeof *parts; k++)
        known = known || !strcmp(only, parts[k]);
    if (!known) {
        fprintf(stderr, "test_llvm: no test part '%s'\n", only);
        return 2;
    }
    Arena A = {0};
    if (!only || !strcmp(only, "layout"))
        test_errors(&A);
    if (!only || !strcmp(only, "vector"))
        test_vector(&A);
    if (!only || !strcmp(only, "math"))
        test_math(&A);
    if (!only || !strcmp(only, "ops"))
        test_ops(&A);
    if (!only || !strcmp(only, "mlp"))
        test_mlp(&A);
    if (!only || !strcmp(only, "grad"))
        test_grad(&A);
    if (!only || !strcmp(only, "rows"))
        test_rows(&A);
    if (!only || !strcmp(only, "rowbits"))
        test_rowbits(&A);
    if (!only || !strcmp(only, "colbits"))
        test_colbits(&A);
    if (!only || !strcmp(only, "workspace"))
        test_workspace(&A);
    if (!only || !strcmp(only, "parallel"))
        test_parallel(&A);
    if (!only || !strcmp(only, "prefix"))
        test_prefix(&A);
    if (!only || !strcmp(only, "random"))
        test_random(&A);
    if (!only || !strcmp(only, "conv_epi"))
        test_conv_epi(&A);
    if (!only || !strcmp(only, "accum"))
        test_accum(&A);
    if (only && !strcmp(only, "bench"))
        bench(&A);
    arena_free(&A);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    bool keep = getenv("NNC_LLVM_TEST_KEEP") != NULL;    /* to look at the .o / .ll files */
    if (failures == 0 && !keep && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    if (failures || keep)
        fprintf(stderr, "%d failure(s); files kept in %s\n", failures, tmpdir);
    else
        printf("llvm %s: ok\n", only ? only : "all");
    return failures != 0;
}
