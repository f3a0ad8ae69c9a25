/* cuda.c - runs a `nnc --target cuda` executable's schedule on an NVIDIA GPU.
 *
 * The generated C file (compiler/backend/cuda/cuda.c) holds the descriptor, the PTX for each
 * --gpu-arch and the schedule text; its main() calls nnc_cuda_main. The driver (libcuda.so.1) and
 * cuBLAS are opened with dlopen, never linked, so the executable starts anywhere: --help and
 * summary need no GPU, and train/eval/predict on a machine without a driver stop at once with
 * `no CUDA driver found: ...` and exit 1.
 *
 * Device memory: one allocation per tensor (inputs and outputs grown with the batch size), one
 * for the workspace (the plan's activation | scratch slabs), one for the graph's values. Per call:
 * inputs, targets, params and state are copied in, the values kernel and the schedule's steps run
 * on the default stream, outputs and losses come back, and after a train step the params and state
 * (the host's copy is what `--save` writes). Every driver and cuBLAS call is checked: a failure
 * names the call, the kernel, and the error, and exits 1. docs/backend-cuda.md describes it.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnc_abi.h"
int rt_dist_world(void);    /* runtime/mpi.c: processes of the run (1 without MPI) */

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream;

static struct {
    void *lib, *blas;
    CUresult (*Init)(unsigned);
    CUresult (*DeviceGetCount)(int *);
    CUresult (*DeviceGet)(CUdevice *, int);
    CUresult (*DeviceGetAttribute)(int *, int, CUdevice);
    CUresult (*DeviceGetName)(char *, int, CUdevice);
    CUresult (*PrimaryCtxRetain)(CUcontext *, CUdevice);
    CUresult (*CtxSetCurrent)(CUcontext);
    CUresult (*CtxSynchronize)(void);
    CUresult (*ModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
    CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
    CUresult (*ModuleGetGlobal)(CUdeviceptr *, size_t *, CUmodule, const char *);
    CUresult (*MemAlloc)(CUdeviceptr *, size_t);
    CUresult (*MemFree)(CUdeviceptr);
    CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);
    CUresult (*MemcpyDtoH)(void *, CUdeviceptr, size_t);
    CUresult (*MemcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t);
    CUresult (*MemsetD8)(CUdeviceptr, unsigned char, size_t);
    CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void **, void **);
    CUresult (*GetErrorName)(CUresult, const char **);
    CUresult (*GetErrorString)(CUresult, const char **);
    int (*BlasCreate)(void **);
    int (*Sgemm)(void *, int, int, int, int, int, const float *, const float *, int, const float *, int,
                 const float *, float *, int);
    int (*SgemmBatched)(void *, int, int, int, int, int, const float *, const float *, int, long long, const float *,
                        int, long long, const float *, float *, int, long long, int);
    const char *(*BlasStatusName)(int);
    void *blas_handle;
} cu;

static const char *prog = "model";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: error: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* A driver call's result: on failure, the call (and what it was for) and the error, then exit 1. */
static void check(CUresult rc, const char *call, const char *what) {
    if (rc == 0)
        return;
    const char *name = "?", *desc = "?";
    if (cu.GetErrorName)
        cu.GetErrorName(rc, &name);
    if (cu.GetErrorString)
        cu.GetErrorString(rc, &desc);
    fail("%s(%s): %s: %s", call, what ? what : "", name ? name : "?", desc ? desc : "?");
}

static void *sym(void *lib, const char *libname, const char *name) {
    void *p = dlsym(lib, name);
    if (!p)
        fail("%s has no %s: the CUDA driver or library is too old", libname, name);
    return p;
}

/* ---- the schedule ---- */

typedef struct Poly { long long b2, b, c; } Poly;
static long long at(Poly p, long long B) { return p.b2 * B * B + p.b * B + p.c; }

typedef struct Ref { char kind; int t; Poly off; const char *global; CUdeviceptr g; } Ref;

enum { S_LAUNCH, S_GEMM, S_BGEMM, S_ZERO, S_COPY, S_LOSS, S_ALLREDUCE };

typedef struct Step {
    int kind;
    const char *name;           /* kernel */
    CUfunction fn;
    char mode;                  /* launch: 'e' a thread per element, 'b' a block per item */
    Poly n;                     /* launch: items; zero, copy: bytes */
    int ta, tb;                 /* gemm */
    Poly dim[5];                /* gemm: M, N, K, lda, ldb; bgemm: P, M, N, K (as a*B + c in .b, .c) */
    int loss;                   /* loss: its index; dtype in mode ('f', 'i', 'b') */
    Ref *refs; int nrefs;
} Step;

typedef struct Graph {
    bool present;
    int nvals;
    const char *values;
    CUfunction values_fn;
    Step *steps; int nsteps;
} Graph;

typedef struct Tensor { int role; Poly bytes; CUdeviceptr p; size_t cap; } Tensor;
enum { R_INPUT, R_TARGET, R_OUTPUT, R_PARAM, R_STATE };

static struct {
    bool ready;
    int device;
    const char *sched;
    const char *const *ptx, *const *arch;
    int narch;
    CUmodule mod;
    Tensor *tens; int ntens;
    Poly ws;
    CUdeviceptr wsp, vals;
    size_t wscap, valscap;
    Graph *g; int ng;
} P;

static void *xcalloc(size_t n, size_t s) {
    void *p = calloc(n ? n : 1, s);
    if (!p)
        fail("out of memory");
    return p;
}

static long long num(char **sp, int line) {
    char *t = strtok_r(NULL, " ", sp), *end;
    long long v = t ? strtoll(t, &end, 10) : 0;
    if (!t || *end)
        fail("the embedded CUDA schedule is malformed at line %d (a number expected): rebuild the model", line);
    return v;
}

static Ref parse_ref(const char *t, int line) {
    Ref r = {0};
    r.kind = t ? t[0] : 0;
    if (r.kind == 't')
        r.t = atoi(t + 1);
    else if (r.kind == 'w' && sscanf(t + 1, "%lld,%lld,%lld", &r.off.b2, &r.off.b, &r.off.c) == 3)
        ;
    else if (r.kind == 'g')
        r.global = t + 1;
    else
        fail("the embedded CUDA schedule is malformed at line %d (bad buffer '%s')", line, t ? t : "");
    if (r.kind == 't' && (r.t < 0 || r.t >= P.ntens))
        fail("the embedded CUDA schedule names tensor %d of %d at line %d", r.t, P.ntens, line);
    return r;
}

static void parse(const char *text) {
    char *s = strdup(text), *save = NULL;
    if (!s)
        fail("out of memory");
    int line = 0, cur = -1, cap = 0;
    P.ng = 0;
    for (char *ln = strtok_r(s, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        line++;
        char *sp = NULL, *w = strtok_r(ln, " ", &sp);
        if (!w)
            continue;
        if (!strcmp(w, "nnc-cuda") || !strcmp(w, "done") || !strcmp(w, "end")) {
            if (!strcmp(w, "nnc-cuda") && num(&sp, line) != 1)
                fail("the embedded CUDA schedule has another version: rebuild the model");
            continue;
        }
        if (!strcmp(w, "tensor")) {
            int i = (int)num(&sp, line);
            const char *role = strtok_r(NULL, " ", &sp);
            static const char *const roles[] = {"input", "target", "output", "param", "state"};
            if (i != P.ntens || !role)
                fail("the embedded CUDA schedule is malformed at line %d", line);
            P.tens = realloc(P.tens, sizeof(Tensor) * (size_t)(P.ntens + 1));
            if (!P.tens)
                fail("out of memory");
            Tensor *t = &P.tens[P.ntens++];
            memset(t, 0, sizeof *t);
            t->role = -1;
            for (int k = 0; k < 5; k++)
                if (!strcmp(role, roles[k]))
                    t->role = k;
            t->bytes.b = num(&sp, line);
            t->bytes.c = num(&sp, line);
            continue;
        }
        if (!strcmp(w, "workspace")) {
            P.ws.b2 = num(&sp, line), P.ws.b = num(&sp, line), P.ws.c = num(&sp, line);
            continue;
        }
        if (!strcmp(w, "graph")) {
            cur = (int)num(&sp, line);
            if (cur < 0 || cur > 1 << 20)
                fail("the embedded CUDA schedule is malformed at line %d", line);
            if (cur >= P.ng) {
                P.g = realloc(P.g, sizeof(Graph) * (size_t)(cur + 1));
                if (!P.g)
                    fail("out of memory");
                memset(P.g + P.ng, 0, sizeof(Graph) * (size_t)(cur + 1 - P.ng));
                P.ng = cur + 1;
            }
            strtok_r(NULL, " ", &sp);   /* its name */
            P.g[cur].present = true;
            P.g[cur].nvals = (int)num(&sp, line);
            cap = 0;
            continue;
        }
        if (cur < 0)
            fail("the embedded CUDA schedule is malformed at line %d (a step outside a graph)", line);
        Graph *g = &P.g[cur];
        if (!strcmp(w, "values")) {
            g->values = strtok_r(NULL, " ", &sp);
            continue;
        }
        if (g->nsteps == cap) {
            cap = cap ? 2 * cap : 16;
            g->steps = realloc(g->steps, sizeof(Step) * (size_t)cap);
            if (!g->steps)
                fail("out of memory");
        }
        Step *st = &g->steps[g->nsteps++];
        memset(st, 0, sizeof *st);
        int nref = 0;
        if (!strcmp(w, "launch")) {
            st->kind = S_LAUNCH;
            st->name = strtok_r(NULL, " ", &sp);
            const char *m = strtok_r(NULL, " ", &sp);
            st->mode = m ? m[0] : 0;
            st->n.b2 = num(&sp, line), st->n.b = num(&sp, line), st->n.c = num(&sp, line);
            nref = -1;
        } else if (!strcmp(w, "gemm")) {
            st->kind = S_GEMM;
            st->ta = (int)num(&sp, line), st->tb = (int)num(&sp, line);
            for (int k = 0; k < 5; k++)
                st->dim[k].b = num(&sp, line), st->dim[k].c = num(&sp, line);
            nref = 3;
        } else if (!strcmp(w, "bgemm")) {
            st->kind = S_BGEMM;
            st->ta = (int)num(&sp, line), st->tb = (int)num(&sp, line);
            for (int k = 0; k < 4; k++)
                st->dim[k].b = num(&sp, line), st->dim[k].c = num(&sp, line);
            nref = 3;
        } else if (!strcmp(w, "zero")) {
            st->kind = S_ZERO;
            nref = 1;
        } else if (!strcmp(w, "copy")) {
            st->kind = S_COPY;
            nref = 2;
        } else if (!strcmp(w, "allreduce")) {   /* the step's gradients: `allreduce N`, copies follow */
            st->kind = S_ALLREDUCE;
            st->n.c = num(&sp, line);
            nref = 0;
        } else if (!strcmp(w, "loss")) {
            st->kind = S_LOSS;
            st->loss = (int)num(&sp, line);
            const char *dt = strtok_r(NULL, " ", &sp);
            st->mode = dt ? dt[0] : 0;
            nref = 1;
        } else {
            fail("the embedded CUDA schedule is malformed at line %d (unknown step '%s')", line, w);
        }
        st->refs = xcalloc(64, sizeof(Ref));
        for (int k = 0; nref < 0 || k < nref; k++) {
            char *t = strtok_r(NULL, " ", &sp);
            if (!t && nref < 0)
                break;
            if (k == 64)
                fail("the embedded CUDA schedule has a step with over 64 buffers at line %d", line);
            st->refs[st->nrefs++] = parse_ref(t, line);
        }
        if (st->kind == S_ZERO || st->kind == S_COPY)
            st->n.b2 = num(&sp, line), st->n.b = num(&sp, line), st->n.c = num(&sp, line);
        if (st->kind == S_LAUNCH && (!st->name || (st->mode != 'e' && st->mode != 'b') || st->nrefs < 1))
            fail("the embedded CUDA schedule is malformed at line %d", line);
    }
    /* the names point into s, which lives as long as the process */
}

/* ---- start ---- */

static void open_driver(void) {
    cu.lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!cu.lib)
        fail("no CUDA driver found: %s", dlerror());
#define GET(field, name) *(void **)&cu.field = sym(cu.lib, "libcuda.so.1", name)
    GET(Init, "cuInit");
    GET(DeviceGetCount, "cuDeviceGetCount");
    GET(DeviceGet, "cuDeviceGet");
    GET(DeviceGetAttribute, "cuDeviceGetAttribute");
    GET(DeviceGetName, "cuDeviceGetName");
    GET(PrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    GET(CtxSetCurrent, "cuCtxSetCurrent");
    GET(CtxSynchronize, "cuCtxSynchronize");
    GET(ModuleLoadDataEx, "cuModuleLoadDataEx");
    GET(ModuleGetFunction, "cuModuleGetFunction");
    GET(ModuleGetGlobal, "cuModuleGetGlobal_v2");
    GET(MemAlloc, "cuMemAlloc_v2");
    GET(MemFree, "cuMemFree_v2");
    GET(MemcpyHtoD, "cuMemcpyHtoD_v2");
    GET(MemcpyDtoH, "cuMemcpyDtoH_v2");
    GET(MemcpyDtoD, "cuMemcpyDtoD_v2");
    GET(MemsetD8, "cuMemsetD8_v2");
    GET(LaunchKernel, "cuLaunchKernel");
    GET(GetErrorName, "cuGetErrorName");
    GET(GetErrorString, "cuGetErrorString");
#undef GET
}

/* cuBLAS ($NNC_CUBLAS names the file when it is not on the library path): the matrix products.
 * Without it the executable stops, naming the library, as it does without a driver. */
static void open_cublas(void) {
    const char *env = getenv("NNC_CUBLAS");
    const char *names[] = {env && *env ? env : NULL, "libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    const char *err = NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names && !cu.blas; i++)
        if (names[i] && !(cu.blas = dlopen(names[i], RTLD_NOW | RTLD_LOCAL)) && !err)
            err = dlerror();
    if (!cu.blas)
        fail("no cuBLAS found: %s (install the CUDA toolkit's cuBLAS, or name the file with NNC_CUBLAS)",
             err ? err : "libcublas.so");
    *(void **)&cu.BlasCreate = sym(cu.blas, "libcublas", "cublasCreate_v2");
    *(void **)&cu.Sgemm = sym(cu.blas, "libcublas", "cublasSgemm_v2");
    *(void **)&cu.SgemmBatched = sym(cu.blas, "libcublas", "cublasSgemmStridedBatched");
    *(void **)&cu.BlasStatusName = dlsym(cu.blas, "cublasGetStatusName");
    int rc = cu.BlasCreate(&cu.blas_handle);
    if (rc)
        fail("cublasCreate: %s", cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
}

static void start(void) {
    if (P.ready)
        return;
    open_driver();
    check(cu.Init(0), "cuInit", NULL);
    int count = 0;
    check(cu.DeviceGetCount(&count), "cuDeviceGetCount", NULL);
    if (P.device < 0 || P.device >= count)
        fail("--device %d: this machine has %d CUDA device%s", P.device, count, count == 1 ? "" : "s");
    CUdevice dev;
    check(cu.DeviceGet(&dev, P.device), "cuDeviceGet", NULL);
    int major = 0, minor = 0;
    check(cu.DeviceGetAttribute(&major, 75, dev), "cuDeviceGetAttribute", "compute capability major");
    check(cu.DeviceGetAttribute(&minor, 76, dev), "cuDeviceGetAttribute", "compute capability minor");
    CUcontext ctx;
    check(cu.PrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain", NULL);
    check(cu.CtxSetCurrent(ctx), "cuCtxSetCurrent", NULL);
    /* the PTX of the newest architecture the device runs (PTX is compiled forward by the driver) */
    int have = major * 10 + minor, best = -1, bestv = -1;
    for (int i = 0; i < P.narch; i++) {
        int v = atoi(P.arch[i] + 3);
        if (v <= have && v > bestv)
            best = i, bestv = v;
    }
    if (best < 0)
        fail("the GPU (sm_%d) is older than every architecture this model was built for (%s...): rebuild "
             "with --gpu-arch sm_%d", have, P.arch[0], have);
    char log[8192] = "";
    int opt[2] = {5, 6};        /* CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES */
    void *val[2] = {log, (void *)(uintptr_t)sizeof log};
    CUresult rc = cu.ModuleLoadDataEx(&P.mod, P.ptx[best], 2, opt, val);
    if (rc && log[0])
        fprintf(stderr, "%s: the driver's PTX log: %s\n", prog, log);
    check(rc, "cuModuleLoadData", P.arch[best]);
    open_cublas();
    parse(P.sched);
    for (int gi = 0; gi < P.ng; gi++) {
        Graph *g = &P.g[gi];
        if (g->values)
            check(cu.ModuleGetFunction(&g->values_fn, P.mod, g->values), "cuModuleGetFunction", g->values);
        for (int s = 0; s < g->nsteps; s++) {
            Step *st = &g->steps[s];
            if (st->kind == S_LAUNCH)
                check(cu.ModuleGetFunction(&st->fn, P.mod, st->name), "cuModuleGetFunction", st->name);
            for (int r = 0; r < st->nrefs; r++)
                if (st->refs[r].kind == 'g') {
                    size_t n = 0;
                    check(cu.ModuleGetGlobal(&st->refs[r].g, &n, P.mod, st->refs[r].global), "cuModuleGetGlobal",
                          st->refs[r].global);
                }
        }
    }
    P.ready = true;
}

/* ---- a call ---- */

/* p holds at least `need` bytes (reallocated, contents lost, when it held fewer). */
static void reserve(CUdeviceptr *p, size_t *cap, size_t need, const char *what) {
    if (need < 64)
        need = 64;
    if (*cap >= need)
        return;
    if (*p)
        check(cu.MemFree(*p), "cuMemFree", what);
    *p = 0;
    check(cu.MemAlloc(p, need), "cuMemAlloc", what);
    *cap = need;
}

static CUdeviceptr ptr(const Ref *r, long long B) {
    switch (r->kind) {
    case 't': return P.tens[r->t].p;
    case 'w': return P.wsp + (CUdeviceptr)at(r->off, B);
    default: return r->g;
    }
}

static int dimv(Poly d, long long B) {
    long long v = d.b * B + d.c;
    if (v > 2147483647LL)
        fail("a matrix dimension (%lld) is beyond cuBLAS's int", v);
    return (int)v;
}

static void gemm(const Step *st, long long B) {
    int M = dimv(st->dim[0], B), N = dimv(st->dim[1], B), K = dimv(st->dim[2], B);
    int lda = dimv(st->dim[3], B), ldb = dimv(st->dim[4], B);
    CUdeviceptr a = ptr(&st->refs[0], B), b = ptr(&st->refs[1], B), c = ptr(&st->refs[2], B);
    if ((long long)M * N <= 0)
        return;
    if (K <= 0) {
        check(cu.MemsetD8(c, 0, (size_t)M * (size_t)N * 4), "cuMemsetD8", "an empty product");
        return;
    }
    lda = lda < 1 ? 1 : lda;
    ldb = ldb < 1 ? 1 : ldb;
    /* row-major C[M,N] = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
    const float one = 1.0f, zero = 0.0f;
    int rc = cu.Sgemm(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const float *)(uintptr_t)b, ldb,
                      (const float *)(uintptr_t)a, lda, &zero, (float *)(uintptr_t)c, N);
    if (rc)
        fail("cublasSgemm(%dx%dx%d): %s", M, N, K, cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
}

/* A batched product: C[p] = op(A[p]) op(B[p]) for p < P, each matrix dense and row-major
 * (runtime/bmm.c's nnc_sgemm_batched), one cublasSgemmStridedBatched with gemm's mapping. */
static void bgemm(const Step *st, long long B) {
    int np = dimv(st->dim[0], B), M = dimv(st->dim[1], B), N = dimv(st->dim[2], B), K = dimv(st->dim[3], B);
    CUdeviceptr a = ptr(&st->refs[0], B), b = ptr(&st->refs[1], B), c = ptr(&st->refs[2], B);
    if (np <= 0 || (long long)M * N <= 0)
        return;
    if (K <= 0) {
        check(cu.MemsetD8(c, 0, (size_t)np * (size_t)M * (size_t)N * 4), "cuMemsetD8", "an empty product");
        return;
    }
    int lda = st->ta ? M : K, ldb = st->tb ? K : N;
    const float one = 1.0f, zero = 0.0f;
    int rc = cu.SgemmBatched(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const float *)(uintptr_t)b, ldb,
                             (long long)K * N, (const float *)(uintptr_t)a, lda, (long long)M * K, &zero,
                             (float *)(uintptr_t)c, N, (long long)M * N, np);
    if (rc)
        fail("cublasSgemmStridedBatched(%d of %dx%dx%d): %s", np, M, N, K,
             cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
}

static void launch(CUfunction fn, const char *name, char mode, long long n, void **args) {
    if (n <= 0)
        return;
    long long blocks = mode == 'b' ? n : (n + 255) / 256;
    if (blocks > (1 << 20))
        blocks = 1 << 20;       /* the kernels loop (grid-stride) over the rest */
    check(cu.LaunchKernel(fn, (unsigned)blocks, 1, 1, 256, 1, 1, 0, NULL, args, NULL), "cuLaunchKernel", name);
}

void nnc_cuda_call(const char *sched, const char *const *ptx, const char *const *arch, int narch, int gi, NncArgs *a) {
    if (!P.ready) {
        P.sched = sched, P.ptx = ptx, P.arch = arch, P.narch = narch;
        start();
    }
    if (gi < 0 || gi >= P.ng || !P.g[gi].present)
        fail("the model has no CUDA graph %d", gi);
    const Graph *g = &P.g[gi];
    long long B = a->B;
    for (int t = 0; t < P.ntens; t++) {
        Tensor *tn = &P.tens[t];
        size_t bytes = (size_t)at(tn->bytes, B);
        reserve(&tn->p, &tn->cap, bytes, "a tensor");
        if (a->bufs[t] && bytes && tn->role != R_OUTPUT)
            check(cu.MemcpyHtoD(tn->p, a->bufs[t], bytes), "cuMemcpyHtoD", "a tensor");
    }
    reserve(&P.wsp, &P.wscap, (size_t)at(P.ws, B), "the workspace");
    reserve(&P.vals, &P.valscap, (size_t)g->nvals * 4, "the values");
    unsigned long long seed = a->seed;
    CUdeviceptr V = P.vals;
    if (g->values_fn) {
        float lr = a->lr;
        long long step = a->step, total = a->total_steps;
        void *args[] = {&B, &seed, &V, &lr, &step, &total};
        check(cu.LaunchKernel(g->values_fn, 1, 1, 1, 32, 1, 1, 0, NULL, args, NULL), "cuLaunchKernel", g->values);
    }
    CUdeviceptr p[64];
    void *args[3 + 64];
    for (int s = 0; s < g->nsteps; s++) {
        const Step *st = &g->steps[s];
        switch (st->kind) {
        case S_LAUNCH:
            args[0] = &B, args[1] = &seed, args[2] = &V;
            for (int r = 0; r < 64; r++) {     /* slots past the kernel's own hold a 0: never read */
                p[r] = r < st->nrefs ? ptr(&st->refs[r], B) : 0;
                args[3 + r] = &p[r];
            }
            launch(st->fn, st->name, st->mode, at(st->n, B), args);
            break;
        case S_GEMM: gemm(st, B); break;
        case S_BGEMM: bgemm(st, B); break;
        case S_ZERO: check(cu.MemsetD8(ptr(&st->refs[0], B), 0, (size_t)at(st->n, B)), "cuMemsetD8", "a scatter"); break;
        case S_COPY: {
            CUdeviceptr d = ptr(&st->refs[0], B), src = ptr(&st->refs[1], B);
            if (d != src && at(st->n, B) > 0)
                check(cu.MemcpyDtoD(d, src, (size_t)at(st->n, B)), "cuMemcpyDtoD", "a result");
            break;
        }
        case S_ALLREDUCE:
            if (rt_dist_world() > 1)
                fail("data-parallel training on the GPU needs NCCL, which is not built yet: run one process per "
                     "machine, or train on the CPU (docs/distributed.md)");
            break;
        case S_LOSS: {
            union { float f; int32_t i; unsigned char b; } v = {0};
            size_t n = st->mode == 'b' ? 1 : 4;
            check(cu.MemcpyDtoH(&v, ptr(&st->refs[0], B), n), "cuMemcpyDtoH", "a loss");
            a->losses[st->loss] = st->mode == 'f' ? v.f : st->mode == 'i' ? (float)v.i : (float)v.b;
            break;
        }
        }
    }
    check(cu.CtxSynchronize(), "cuCtxSynchronize", P.g[gi].nsteps ? "the graph's kernels" : NULL);
    for (int t = 0; t < P.ntens; t++) {
        const Tensor *tn = &P.tens[t];
        bool back = tn->role == R_OUTPUT || (gi >= 2 && (tn->role == R_PARAM || tn->role == R_STATE));
        size_t bytes = (size_t)at(tn->bytes, B);
        if (back && a->bufs[t] && bytes)
            check(cu.MemcpyDtoH(a->bufs[t], tn->p, bytes), "cuMemcpyDtoH", "a tensor");
    }
}

/* ---- main ---- */

static const char *desc_;
static void forward(NncArgs *a) { nnc_cuda_call(P.sched, P.ptx, P.arch, P.narch, 0, a); }
static void evaluate(NncArgs *a) { nnc_cuda_call(P.sched, P.ptx, P.arch, P.narch, 1, a); }
static void train_step(NncArgs *a, int32_t s) { nnc_cuda_call(P.sched, P.ptx, P.arch, P.narch, 2 + s, a); }
static int64_t workspace(int64_t B) { (void)B; return 64; }

int nnc_cuda_main(const char *desc, const char *sched, const char *const *ptx, const char *const *arch, int narch,
                  int argc, char **argv) {
    nnc_blas_check(argv);
    if (argc > 0 && argv[0]) {
        const char *s = strrchr(argv[0], '/');
        prog = s ? s + 1 : argv[0];
    }
    desc_ = desc;
    P.sched = sched, P.ptx = ptx, P.arch = arch, P.narch = narch;
    /* --device N (or --device=N) is this file's: taken out before the runtime's command line */
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--device") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--device=", 9))
            v = argv[i] + 9;
        else if (!strcmp(argv[i], "--device"))
            fail("--device needs a number (the GPU's index, from 0)");
        if (!v) {
            argv[n++] = argv[i];
            continue;
        }
        char *end;
        long d = strtol(v, &end, 10);
        if (!*v || *end || d < 0 || d > 1024)
            fail("--device '%s': not a GPU index (0, 1, ...)", v);
        P.device = (int)d;
    }
    argv[n] = NULL;
    /* the commands that run the model open the GPU first: a machine without one fails at once */
    if (n > 1 && (!strcmp(argv[1], "train") || !strcmp(argv[1], "eval") || !strcmp(argv[1], "predict")))
        start();
    NncModelDef def = {desc_, workspace, forward, evaluate, train_step, 0};
    int rc = nnc_main(&def, n, argv);
    if (fclose(stdout) && rc == 0) {
        fprintf(stderr, "%s: error: closing standard output failed\n", prog);
        rc = 1;
    }
    return rc;
}
