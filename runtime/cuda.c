/* cuda.c - runs a `nnc --target cuda` executable's schedule on an NVIDIA GPU.
 *
 * The generated C file (compiler/backend/cuda/cuda.c) holds the descriptor, the PTX for each
 * --gpu-arch and the schedule text; its main() calls nnc_cuda_main. The driver (libcuda.so.1) and
 * cuBLAS are opened with dlopen, never linked, so the executable starts anywhere: --help and
 * summary need no GPU, and train/eval/predict on a machine without a driver stop at once with
 * `no CUDA driver found: ...` and exit 1.
 *
 * Device memory (plain cuMemAlloc, never managed): one allocation per tensor, the workspace (the
 * plan's activation | scratch slabs), the graph's values, the finiteness flags, cuBLASLt's
 * workspace, each sized for the largest batch seen. Params and state stay on the device: uploaded
 * by the first call and after the host wrote them (NncDevice.from_host: a load), downloaded only
 * when the host reads them (NncDevice.to_host: a save); their NaN check after each train step is
 * the nnc_nonfinite kernel. A call stages the batch in pinned memory, copies it on the copy stream,
 * runs the values kernel and the schedule's steps on the run stream after the copy's event, and
 * brings losses, outputs and flags back through the pinned buffer; a deferred call (NncDevice.defer,
 * the training loop) returns before that and its results land at NncDevice.wait. GEMMs: cuBLAS,
 * or cuBLASLt with a fused bias / bias + ReLU epilogue (gemmlt steps); --precision bf16 makes them
 * CUBLAS_COMPUTE_32F_FAST_16BF. Every driver, cuBLAS and cuBLASLt call is checked: a failure names
 * the call, what it was for, and the error, and exits 1. docs/backend-cuda.md describes it.
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
bool rt_dist_on(void);      /* runtime/mpi.c: MPI is up (a launcher or --distributed mpi) */
void rt_dist_wait_begin(const char *what);     /* runtime/mpi.c: a wait under --dist-timeout's watchdog */
void rt_dist_wait_end(void);
/* runtime/nccl.c: out[j] = the mean over the ranks of in[j] (count[j] floats, device pointers),
 * queued on stream; NCCL is opened and its communicator made at the first call */
/* runtime/cuda_dnn.c: convolutions through cuDNN (NNC_CUDNN=1) */
typedef struct NncDnnGeom {
    int kind;
    long long N, H, W, C, OH, OW, F, KH, KW, G, SH, SW, DH, DW, PH, PW;
} NncDnnGeom;
void nnc_dnn_open(const char *prog, void *stream, int bf16);
void *nnc_dnn_plan(const NncDnnGeom *g, size_t *ws, size_t *filt);
void nnc_dnn_free(void *plan);
int nnc_dnn_run(void *plan, uint64_t a0, uint64_t a1, uint64_t out, uint64_t scratch);
const char *nnc_dnn_error(int rc);
void nnc_nccl_allreduce_mean(const char *prog, int32_t n, const unsigned long long *in, const unsigned long long *out,
                             const int64_t *count, void *stream);

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream, *CUevent;

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
    CUresult (*MemHostAlloc)(void **, size_t, unsigned);
    CUresult (*MemFreeHost)(void *);
    CUresult (*StreamCreate)(CUstream *, unsigned);
    CUresult (*StreamSynchronize)(CUstream);
    CUresult (*StreamWaitEvent)(CUstream, CUevent, unsigned);
    CUresult (*EventCreate)(CUevent *, unsigned);
    CUresult (*EventRecord)(CUevent, CUstream);
    CUresult (*MemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
    CUresult (*MemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
    CUresult (*MemcpyDtoDAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
    CUresult (*MemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
    CUresult (*MemGetInfo)(size_t *, size_t *);
    CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                             CUstream, void **, void **);
    /* CUDA graphs (optional: NULL in a driver without them, then plain launches) */
    CUresult (*BeginCapture)(CUstream, int);
    CUresult (*EndCapture)(CUstream, void **);
    CUresult (*GraphInstantiate)(void **, void *, unsigned long long);
    CUresult (*GraphLaunch)(void *, CUstream);
    CUresult (*GraphExecDestroy)(void *);
    CUresult (*GraphDestroy)(void *);
    CUresult (*GetErrorName)(CUresult, const char **);
    CUresult (*GetErrorString)(CUresult, const char **);
    int (*BlasCreate)(void **);
    int (*Sgemm)(void *, int, int, int, int, int, const float *, const float *, int, const float *, int,
                 const float *, float *, int);
    int (*SgemmBatched)(void *, int, int, int, int, int, const float *, const float *, int, long long, const float *,
                        int, long long, const float *, float *, int, long long, int);
    const char *(*BlasStatusName)(int);
    int (*BlasSetStream)(void *, CUstream);
    int (*BlasSetWorkspace)(void *, void *, size_t);    /* optional: before a capture, cuBLAS's own buffer */
    int (*GemmEx)(void *, int, int, int, int, int, const void *, const void *, int, int, const void *, int, int,
                  const void *, void *, int, int, int, int);
    int (*GemmBatchedEx)(void *, int, int, int, int, int, const void *, const void *, int, int, long long,
                         const void *, int, int, long long, const void *, void *, int, int, long long, int, int, int);
    void *blas_handle;
    /* cuBLASLt (optional: NULL without it, or with NNC_CUBLASLT=0): GEMMs with a fused epilogue */
    void *lt, *lt_handle, *lt_pref;
    int (*LtCreate)(void **);
    int (*LtDescCreate)(void **, int, int);
    int (*LtDescDestroy)(void *);
    int (*LtDescSet)(void *, int, const void *, size_t);
    int (*LtLayoutCreate)(void **, int, uint64_t, uint64_t, int64_t);
    int (*LtLayoutDestroy)(void *);
    int (*LtPrefCreate)(void **);
    int (*LtPrefSet)(void *, int, const void *, size_t);
    int (*LtHeuristic)(void *, void *, void *, void *, void *, void *, void *, int, void *, int *);
    int (*LtMatmul)(void *, void *, const void *, const void *, void *, const void *, void *, const void *,
                    const void *, void *, void *, void *, const void *, void *, size_t, CUstream);
    const char *(*LtStatusName)(int);
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

/* The run stream is being captured into a CUDA graph (runtime/cuda.c's run_graph): a capture
 * error, an allocation or a library's failure then ends the capture (cap_failed says where)
 * instead of the run, and the steps run again with plain launches. */
static bool cap_on;
static const char *cap_failed;

/* A driver call's result: on failure, the call (and what it was for) and the error, then exit 1. */
static void check(CUresult rc, const char *call, const char *what) {
    if (rc == 0)
        return;
    if (cap_on && rc >= 900 && rc <= 907) {   /* CUDA_ERROR_STREAM_CAPTURE_*: plain launches instead */
        if (!cap_failed)
            cap_failed = call;
        return;
    }
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

enum { COMPUTE_32F = 68, COMPUTE_32F_FAST_16BF = 75 };   /* cublasComputeType_t (cublas_api.h) */
enum { S_LAUNCH, S_GEMM, S_GEMMLT, S_BGEMM, S_ZERO, S_COPY, S_LOSS, S_ALLREDUCE, S_CONV };

/* cublasLtMatmulHeuristicResult_t (cublasLt.h): the algorithm, 64 bytes, then its properties */
typedef struct LtAlgo {
    uint64_t algo[8];
    size_t workspace;
    int state;
    float waves;
    int reserved[4];
} LtAlgo;

/* a gemmlt step's cuBLASLt descriptors, made for the batch size B they were last used at */
typedef struct LtPlan { long long B; void *desc, *la, *lb, *lc; LtAlgo algo; } LtPlan;

typedef struct Step {
    int kind;
    const char *name;           /* kernel */
    CUfunction fn;
    char mode;                  /* launch: 'e' a thread per element, 'b' a block per item */
    Poly n;                     /* launch: items; zero, copy: bytes */
    int ta, tb;                 /* gemm */
    char ty[4];                 /* gemm, gemmlt, bgemm: the storage of A, B, C ('h' bf16, 'f' f32):
                                   `gemm:hfh` (nnc --precision bf16); "fff" when not given */
    bool h16;                   /* some of them bf16: a GEMM on bf16 operands (f32 ones converted) */
    Poly dim[5];                /* gemm: M, N, K, lda, ldb; bgemm: P, M, N, K (as a*B + c in .b, .c) */
    int loss;                   /* loss: its index; dtype in mode ('f', 'i', 'b') */
    int epi;                    /* gemmlt: CUBLASLT_EPILOGUE_BIAS (4) or RELU_BIAS (6) */
    LtPlan *lt;                 /* gemmlt: its descriptors, NULL until first used */
    NncDnnGeom conv;            /* conv: its geometry, N as conv_n (a*B + c) */
    Poly conv_n;
    bool conv_epi;              /* conv: the launch after its fallback kernel is the epilogue after cuDNN */
    void *dnn[2];               /* conv: cuDNN's plans at batch sizes dnn_B (runtime/cuda_dnn.c): two, */
    long long dnn_B[2];         /* for a run's batch size and its last, smaller batch */
    int dnn_last;               /* the slot used last */
    Ref *refs; int nrefs;
} Step;

/* A CUDA graph of a schedule graph's launch sequence at one batch size, for one set of device
 * pointers (key: every tensor's; the inputs' two buffers alternate with the prefetch) and one
 * generation of the other allocations (P.gen). gemms, lt, ltfb: the stats one replay adds. */
typedef struct Exec {
    void *exec;
    long long B;
    unsigned gen;
    CUdeviceptr *key;
    long long gemms, lt, ltfb, convs, h16, cvt;
    unsigned long long used;
} Exec;
#define NEXEC 4

typedef struct Graph {
    bool present;
    int nvals;
    const char *values;
    CUfunction values_fn;
    Step *steps; int nsteps;
    Exec ex[NEXEC];
    /* batch sizes it ran at with plain launches, in generation warm_gen: their plans and buffers exist */
    long long warm_B[NEXEC];
    unsigned warm_gen[NEXEC];
    int warm_next;
} Graph;

typedef struct Pending {
    bool on;
    const struct Graph *g;
    long long B;
    void **bufs;                /* the caller's NncArgs.bufs and .losses */
    float *losses;
    unsigned char *out;         /* the outputs' place in the pinned buffer */
    bool train;
    bool reduced;               /* NCCL reduced its gradients: its end waits for the other ranks */
} Pending;

typedef struct Tensor {
    int role;
    Poly bytes;
    CUdeviceptr p;
    size_t cap;
    void *host;                 /* param, state: the host's buffer (NncArgs.bufs) the device copy is of */
    CUdeviceptr p2;             /* input, target: the second buffer, which a prefetch fills while a */
    size_t cap2;                /* step reads p; the next call swaps them */
    void *pre;                  /* input, target: the host buffer the prefetch copied */
    CUdeviceptr h;              /* param (--precision bf16 build): its bf16 copy for the GEMMs, */
    size_t hcap;                /* made by the first GEMM of a call that needs it (hcall = P.ncalls) */
    unsigned long long hcall;
} Tensor;
enum { R_INPUT, R_TARGET, R_OUTPUT, R_PARAM, R_STATE };

static struct {
    bool ready;
    int device;
    bool device_given;          /* --device; else the local rank's GPU under an MPI launcher */
    const char *sched;
    const char *const *ptx, *const *arch;
    int narch;
    CUmodule mod;
    Tensor *tens; int ntens;
    Poly ws;
    CUdeviceptr wsp, vals;
    size_t wscap, valscap;
    Graph *g; int ng;
    int nloss;                  /* losses the schedule reads back (loss steps' largest index + 1) */
    CUfunction nonfinite;       /* the module's nnc_nonfinite */
    CUdeviceptr flags;          /* [ntens] ints: nnc_nonfinite's results of the last train step */
    size_t flagscap;
    /* Params and state live on the device between calls. on_device: the device holds them (false
     * at start and after the host wrote them: from_host); host_current: the host's buffers equal
     * the device's (false after a train step until to_host copies them back). */
    bool on_device, host_current;
    /* run: every kernel, product and copy of a call; copy: the batch's inputs, from pinned host
     * memory (pin), ordered before the run stream's work by the event copied */
    CUstream run, copy;
    CUevent copied;
    /* data-parallel (MPI up): the gradients' NCCL allreduce runs on comm, after the event grads
     * (the backward kernels, on run) and before reduced (which the update waits for) */
    CUstream comm;
    CUevent grads, reduced;
    unsigned long long *ar_ptr;  /* [2 * ar_cap]: the in and out device pointers of an allreduce */
    int64_t *ar_count;
    int ar_cap;
    bool nccl_one;              /* NNC_NCCL=1: through NCCL in a single process too (a world of one) */
    unsigned char *pin;         /* pinned: [losses, flags, seed | inputs: slot 0 | slot 1 | outputs] */
    size_t pincap, pin_small, pin_in, pin_out;
    int slot;                   /* the slot the last batch copy read */
    bool pre;                   /* a prefetch filled the p2 buffers, for a call at batch size pre_B */
    long long pre_B;
    int *flag_host;             /* in pin: the flags' copy, valid after a train step */
    bool flags_valid;
    /* a call whose results have not been waited for (defer), and whether the next call is one */
    Pending pend;
    bool defer_next;
    /* NNC_CUDA_STATS: what crossed the bus and what was allocated, printed at exit */
    struct { long long allocs, alloc_bytes, up_params, up_param_bytes, down_params, down_param_bytes, batch_copies,
             batch_bytes, out_bytes, calls, gemms, lt_gemms, lt_fallbacks, deferred, prefetched, allreduces, bf16_gemms, bf16_cvts; } st;
    /* the GEMMs' cublasComputeType_t: COMPUTE_32F (f32 products, the default) or, with
     * --precision bf16, COMPUTE_32F_FAST_16BF (f32 data in and out, the products on bf16 tensor
     * cores with f32 accumulation); every other kernel, the params and the state stay f32 */
    int compute;
    /* nnc --precision bf16 (the schedule's `precision bf16`): activations stored in bf16; a GEMM
     * with a bf16 operand or result converts its f32 operands (weights, f32 temporaries) into cvt[0]
     * (A) and cvt[1] (B) with the module's nnc_to_bf16 and runs on bf16 operands */
    bool store16;
    unsigned long long ncalls;  /* run_steps calls: a param's bf16 copy is made once in each */
    CUfunction to_bf16;
    CUdeviceptr cvt[2];
    size_t cvtcap[2];
    CUdeviceptr ltws;           /* cuBLASLt's workspace */
    size_t ltwscap;
    /* CUDA graphs: on unless NNC_CUDA_GRAPHS=0 or the driver lacks them or a capture failed.
     * gen counts the reallocations of anything a captured launch points at (a graph of another
     * generation is stale). */
    bool graphs;
    unsigned gen;
    unsigned long long use;
    CUdeviceptr seedp;          /* the module's nnc_seed, the call's NncArgs.seed */
    CUdeviceptr blasws;         /* cuBLAS's workspace (ltws), given before the first capture */
    struct { long long captured, launched, plain; } gs;
    /* NNC_CUDNN=1: the `conv` steps through cuDNN (runtime/cuda_dnn.c), else the direct kernels;
     * dnnws: the KRSC filter copy then the algorithm's workspace, grown to the largest plan's */
    bool dnn;
    CUdeviceptr dnnws;
    size_t dnnwscap;
    long long dnn_convs;
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
        if (!strcmp(w, "precision")) {
            const char *v = strtok_r(NULL, " ", &sp);
            if (!v || strcmp(v, "bf16"))
                fail("the embedded CUDA schedule is malformed at line %d (precision)", line);
            P.store16 = true;
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
        memcpy(st->ty, "fff", 4);
        char *colon = strchr(w, ':');   /* gemm:XYZ, gemmlt:XYZ, bgemm:XYZ: the operands' storage */
        if (colon) {
            *colon = 0;
            const char *t = colon + 1;
            if (strlen(t) != 3 || strspn(t, "fh") != 3 || (strcmp(w, "gemm") && strcmp(w, "gemmlt") && strcmp(w, "bgemm")))
                fail("the embedded CUDA schedule is malformed at line %d (storage '%s')", line, t);
            memcpy(st->ty, t, 4);
            st->h16 = strchr(t, 'h') != NULL;
            if (!P.store16)
                fail("the embedded CUDA schedule has a bf16 GEMM without `precision bf16` at line %d", line);
        }
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
        } else if (!strcmp(w, "gemmlt")) {
            /* a GEMM with its epilogue fused by cuBLASLt; the launch after it is the fallback */
            st->kind = S_GEMMLT;
            st->epi = (int)num(&sp, line);
            if (st->epi != 4 && st->epi != 6)
                fail("the embedded CUDA schedule is malformed at line %d (epilogue %d)", line, st->epi);
            st->ta = (int)num(&sp, line), st->tb = (int)num(&sp, line);
            for (int k = 0; k < 5; k++)
                st->dim[k].b = num(&sp, line), st->dim[k].c = num(&sp, line);
            nref = 4;
        } else if (!strcmp(w, "bgemm")) {
            st->kind = S_BGEMM;
            st->ta = (int)num(&sp, line), st->tb = (int)num(&sp, line);
            for (int k = 0; k < 4; k++)
                st->dim[k].b = num(&sp, line), st->dim[k].c = num(&sp, line);
            nref = 3;
        } else if (!strcmp(w, "conv")) {
            /* a convolution cuDNN can compute; the launch after it is the direct kernel (run
             * without cuDNN), and with EPI 1 the one after that the epilogue (run after cuDNN) */
            st->kind = S_CONV;
            st->conv.kind = (int)num(&sp, line);
            st->conv_epi = num(&sp, line) != 0;
            st->conv_n.b = num(&sp, line), st->conv_n.c = num(&sp, line);
            long long *f[] = {&st->conv.H, &st->conv.W, &st->conv.C, &st->conv.OH, &st->conv.OW, &st->conv.F,
                              &st->conv.KH, &st->conv.KW, &st->conv.G, &st->conv.SH, &st->conv.SW, &st->conv.DH,
                              &st->conv.DW, &st->conv.PH, &st->conv.PW};
            for (size_t k = 0; k < sizeof f / sizeof *f; k++)
                *f[k] = num(&sp, line);
            if (st->conv.kind < 0 || st->conv.kind > 2 || (st->conv_epi && st->conv.kind))
                fail("the embedded CUDA schedule is malformed at line %d (conv %d)", line, st->conv.kind);
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
            if (st->loss < 0 || st->loss >= 1 << 16)
                fail("the embedded CUDA schedule is malformed at line %d (loss %d)", line, st->loss);
            if (st->loss + 1 > P.nloss)
                P.nloss = st->loss + 1;
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
    for (int gi = 0; gi < P.ng; gi++)    /* a gemmlt step is followed by its fallback epilogue */
        for (int k = 0; k < P.g[gi].nsteps; k++)
            if (P.g[gi].steps[k].kind == S_GEMMLT && (k + 1 == P.g[gi].nsteps || P.g[gi].steps[k + 1].kind != S_LAUNCH))
                fail("the embedded CUDA schedule has a gemmlt step without its epilogue kernel");
    for (int gi = 0; gi < P.ng; gi++)    /* a conv step: its direct kernel (and epilogue) follow */
        for (int k = 0; k < P.g[gi].nsteps; k++) {
            const Step *st = &P.g[gi].steps[k];
            int need = st->kind == S_CONV ? 1 + st->conv_epi : 0;
            for (int j = 1; j <= need; j++)
                if (k + j >= P.g[gi].nsteps || P.g[gi].steps[k + j].kind != S_LAUNCH)
                    fail("the embedded CUDA schedule has a conv step without its kernels");
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
    GET(MemHostAlloc, "cuMemHostAlloc");
    GET(MemFreeHost, "cuMemFreeHost");
    GET(StreamCreate, "cuStreamCreate");
    GET(StreamSynchronize, "cuStreamSynchronize");
    GET(StreamWaitEvent, "cuStreamWaitEvent");
    GET(EventCreate, "cuEventCreate");
    GET(EventRecord, "cuEventRecord");
    GET(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    GET(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
    GET(MemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2");
    GET(MemsetD8Async, "cuMemsetD8Async");
    GET(MemGetInfo, "cuMemGetInfo_v2");
    GET(LaunchKernel, "cuLaunchKernel");
    GET(GetErrorName, "cuGetErrorName");
    *(void **)&cu.BeginCapture = dlsym(cu.lib, "cuStreamBeginCapture_v2");
    *(void **)&cu.EndCapture = dlsym(cu.lib, "cuStreamEndCapture");
    *(void **)&cu.GraphInstantiate = dlsym(cu.lib, "cuGraphInstantiateWithFlags");
    *(void **)&cu.GraphLaunch = dlsym(cu.lib, "cuGraphLaunch");
    *(void **)&cu.GraphExecDestroy = dlsym(cu.lib, "cuGraphExecDestroy");
    *(void **)&cu.GraphDestroy = dlsym(cu.lib, "cuGraphDestroy");
    GET(GetErrorString, "cuGetErrorString");
#undef GET
}

/* A cuBLASLt call's status: on failure the call, what it was for and the status, then exit 1. */
static void lt_check(int rc, const char *call, const char *what) {
    if (rc)
        fail("%s(%s): %s", call, what, cu.LtStatusName ? cu.LtStatusName(rc) : "failed");
}

/* cuBLASLt's workspace: 32 MiB, what NVIDIA recommends for Hopper */
#define LT_WORKSPACE ((size_t)32 << 20)

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
    *(void **)&cu.BlasSetStream = sym(cu.blas, "libcublas", "cublasSetStream_v2");
    *(void **)&cu.GemmEx = sym(cu.blas, "libcublas", "cublasGemmEx");
    *(void **)&cu.GemmBatchedEx = sym(cu.blas, "libcublas", "cublasGemmStridedBatchedEx");
    *(void **)&cu.BlasStatusName = dlsym(cu.blas, "cublasGetStatusName");
    *(void **)&cu.BlasSetWorkspace = dlsym(cu.blas, "cublasSetWorkspace_v2");
    int rc = cu.BlasCreate(&cu.blas_handle);
    if (rc)
        fail("cublasCreate: %s", cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
    rc = cu.BlasSetStream(cu.blas_handle, P.run);   /* the products run in order with the kernels */
    if (rc)
        fail("cublasSetStream: %s", cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
}

/* cuBLASLt ($NNC_CUBLASLT names the file; 0 turns it off): the GEMMs whose epilogue it fuses.
 * Without it those GEMMs are cuBLAS's and their epilogue a kernel, as every other GEMM's. */
static void open_cublaslt(void) {
    const char *env = getenv("NNC_CUBLASLT");
    if (env && !strcmp(env, "0"))
        return;
    const char *names[] = {env && *env ? env : NULL, "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};
    for (size_t i = 0; i < sizeof names / sizeof *names && !cu.lt; i++)
        if (names[i])
            cu.lt = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!cu.lt) {
        if (env && *env)
            fail("NNC_CUBLASLT=%s: %s", env, dlerror());
        return;
    }
#define LT(field, name) *(void **)&cu.field = sym(cu.lt, "libcublasLt", name)
    LT(LtCreate, "cublasLtCreate");
    LT(LtDescCreate, "cublasLtMatmulDescCreate");
    LT(LtDescDestroy, "cublasLtMatmulDescDestroy");
    LT(LtDescSet, "cublasLtMatmulDescSetAttribute");
    LT(LtLayoutCreate, "cublasLtMatrixLayoutCreate");
    LT(LtLayoutDestroy, "cublasLtMatrixLayoutDestroy");
    LT(LtPrefCreate, "cublasLtMatmulPreferenceCreate");
    LT(LtPrefSet, "cublasLtMatmulPreferenceSetAttribute");
    LT(LtHeuristic, "cublasLtMatmulAlgoGetHeuristic");
    LT(LtMatmul, "cublasLtMatmul");
#undef LT
    *(void **)&cu.LtStatusName = dlsym(cu.lt, "cublasLtGetStatusName");
    lt_check(cu.LtCreate(&cu.lt_handle), "cublasLtCreate", "");
    lt_check(cu.LtPrefCreate(&cu.lt_pref), "cublasLtMatmulPreferenceCreate", "");
    uint64_t ws = LT_WORKSPACE;
    lt_check(cu.LtPrefSet(cu.lt_pref, 1, &ws, sizeof ws), "cublasLtMatmulPreferenceSetAttribute",
             "CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES");
}

static void start(void) {
    if (P.ready)
        return;
    open_driver();
    check(cu.Init(0), "cuInit", NULL);
    int count = 0;
    check(cu.DeviceGetCount(&count), "cuDeviceGetCount", NULL);
    /* one process per GPU under an MPI launcher: the process's rank on this machine picks it */
    const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (!lr || !*lr)
        lr = getenv("MPI_LOCALRANKID");
    if (!P.device_given && lr && *lr) {
        P.device = atoi(lr);
        if (P.device >= count)
            fail("local rank %d has no GPU: this machine has %d CUDA device%s (start at most %d processes per "
                 "machine, one per GPU, or choose one with --device)", P.device, count, count == 1 ? "" : "s", count);
    }
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
    check(cu.StreamCreate(&P.run, 1), "cuStreamCreate", "the kernels' stream");   /* CU_STREAM_NON_BLOCKING */
    check(cu.StreamCreate(&P.copy, 1), "cuStreamCreate", "the batches' stream");
    check(cu.EventCreate(&P.copied, 2), "cuEventCreate", "a batch's copy");        /* CU_EVENT_DISABLE_TIMING */
    open_cublas();
    open_cublaslt();
    const char *dn = getenv("NNC_CUDNN");
    P.dnn = dn && !strcmp(dn, "1");
    if (dn && *dn && strcmp(dn, "0") && strcmp(dn, "1"))
        fail("NNC_CUDNN='%s': 1 (convolutions through cuDNN) or 0 (the direct kernels, the default)", dn);
    if (P.dnn)
        nnc_dnn_open(prog, P.run, P.compute != COMPUTE_32F);
    if (!P.ntens)
        parse(P.sched);         /* unless summary's device_memory did */
    check(cu.ModuleGetFunction(&P.nonfinite, P.mod, "nnc_nonfinite"), "cuModuleGetFunction", "nnc_nonfinite");
    if (P.store16)
        check(cu.ModuleGetFunction(&P.to_bf16, P.mod, "nnc_to_bf16"), "cuModuleGetFunction", "nnc_to_bf16");
    size_t seedn = 0;
    check(cu.ModuleGetGlobal(&P.seedp, &seedn, P.mod, "nnc_seed"), "cuModuleGetGlobal", "nnc_seed");
    const char *ge = getenv("NNC_CUDA_GRAPHS");
    P.graphs = !(ge && !strcmp(ge, "0")) && cu.BeginCapture && cu.EndCapture && cu.GraphInstantiate &&
               cu.GraphLaunch && cu.GraphExecDestroy && cu.GraphDestroy;
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
    if (cap_on) {          /* (the plain run before a capture allocates: never here) */
        if (!cap_failed)
            cap_failed = "an allocation during the capture";
        return;
    }
    P.gen++;                    /* a captured graph that points at *p is stale */
    if (*p)
        check(cu.MemFree(*p), "cuMemFree", what);
    *p = 0;
    CUresult rc = cu.MemAlloc(p, need);
    if (rc == 2) {              /* CUDA_ERROR_OUT_OF_MEMORY: say how much there is */
        size_t fr = 0, tot = 0;
        if (!cu.MemGetInfo(&fr, &tot))
            fail("cuMemAlloc(%s): CUDA_ERROR_OUT_OF_MEMORY: %zu bytes asked, %zu of the GPU's %zu free (try a "
                 "smaller --batch)", what, need, fr, tot);
    }
    check(rc, "cuMemAlloc", what);
    *cap = need;
    P.st.allocs++, P.st.alloc_bytes += (long long)need;
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

static void launch(CUfunction fn, const char *name, char mode, long long n, void **args);

/* A bf16 GEMM's operand `which` (0 A, 1 B) of n elements: itself when stored in bf16, else its
 * copy rounded to bf16 in cvt[which] (nnc_to_bf16 on the run stream, before the product). */
static CUdeviceptr as_bf16(const Step *st, int which, CUdeviceptr p, long long n) {
    if (st->ty[which] == 'h' || n <= 0)
        return p;
    CUdeviceptr d;
    const Ref *r = &st->refs[which];
    if (r->kind == 't' && P.tens[r->t].role == R_PARAM) {
        /* a weight: its bf16 copy, converted whole at the first GEMM of the call that reads it
         * and reused by the others (forward and backward), as autocast's weight cache does; the
         * update at the step's end changes the f32 master, and the next call converts again */
        Tensor *tn = &P.tens[r->t];
        if (tn->hcall == P.ncalls && tn->h)
            return tn->h;
        n = at(tn->bytes, 0) / 4;
        reserve(&tn->h, &tn->hcap, (size_t)n * 2, "a weight's bf16 copy");
        tn->hcall = P.ncalls;
        d = tn->h;
    } else {
        reserve(&P.cvt[which], &P.cvtcap[which], (size_t)n * 2, "a GEMM operand's bf16 copy");
        d = P.cvt[which];
    }
    P.st.bf16_cvts++;
    CUdeviceptr V = P.vals, z = 0;
    unsigned long long seed = 0;
    void *args[3 + 64];
    args[0] = &n, args[1] = &seed, args[2] = &V, args[3] = &d, args[4] = &p;
    for (int k = 2; k < 64; k++)
        args[3 + k] = &z;
    launch(P.to_bf16, "nnc_to_bf16", 'e', n, args);
    return d;
}

enum { R_32F = 0, R_16BF = 14 };  /* cudaDataType_t (library_types.h) */

static void gemm(const Step *st, long long B) {
    int M = dimv(st->dim[0], B), N = dimv(st->dim[1], B), K = dimv(st->dim[2], B);
    int lda = dimv(st->dim[3], B), ldb = dimv(st->dim[4], B);
    CUdeviceptr a = ptr(&st->refs[0], B), b = ptr(&st->refs[1], B), c = ptr(&st->refs[2], B);
    if ((long long)M * N <= 0)
        return;
    if (K <= 0) {
        check(cu.MemsetD8Async(c, 0, (size_t)M * (size_t)N * (st->ty[2] == 'h' ? 2 : 4), P.run), "cuMemsetD8Async",
              "an empty product");
        return;
    }
    lda = lda < 1 ? 1 : lda;
    ldb = ldb < 1 ? 1 : ldb;
    P.st.gemms++;
    if (st->h16) {  /* bf16 A and B (f32 ones converted), f32 accumulation, C as stored */
        a = as_bf16(st, 0, a, (long long)(st->ta ? K : M) * lda);
        b = as_bf16(st, 1, b, (long long)(st->tb ? N : K) * ldb);
        const float one = 1.0f, zero = 0.0f;
        int ct = st->ty[2] == 'h' ? R_16BF : R_32F;
        int rc = cu.GemmEx(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const void *)(uintptr_t)b, R_16BF, ldb,
                           (const void *)(uintptr_t)a, R_16BF, lda, &zero, (void *)(uintptr_t)c, ct, N, COMPUTE_32F, -1);
        P.st.bf16_gemms++;
        if (rc && cap_on) {
            cap_failed = cap_failed ? cap_failed : "cuBLAS";
            return;
        }
        if (rc)
            fail("cublasGemmEx(%dx%dx%d, bf16 operands, %s result): %s", M, N, K, ct ? "bf16" : "f32",
                 cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
        return;
    }
    /* row-major C[M,N] = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
    const float one = 1.0f, zero = 0.0f;
    int rc;
    if (P.compute == COMPUTE_32F)
        rc = cu.Sgemm(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const float *)(uintptr_t)b, ldb,
                      (const float *)(uintptr_t)a, lda, &zero, (float *)(uintptr_t)c, N);
    else        /* f32 in and out (CUDA_R_32F, 0), bf16 products: CUBLAS_GEMM_DEFAULT (-1) */
        rc = cu.GemmEx(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const void *)(uintptr_t)b, 0, ldb,
                       (const void *)(uintptr_t)a, 0, lda, &zero, (void *)(uintptr_t)c, 0, N, P.compute, -1);
    if (rc && cap_on) {    /* a library that cannot be captured: plain launches */
        cap_failed = cap_failed ? cap_failed : "cuBLAS";
        return;
    }
    if (rc)
        fail("%s(%dx%dx%d): %s", P.compute == COMPUTE_32F ? "cublasSgemm" : "cublasGemmEx", M, N, K,
             cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
}

/* A gemmlt step through cuBLASLt: D = epilogue(op(A) op(B) + bias) in gemm's column-major mapping
 * (cuBLASLt's A is our B, its B our A; the bias runs along the rows of its column-major D^T, the
 * columns of our C). The descriptors and the heuristic's algorithm are made once per batch size.
 * Returns false when cuBLASLt cannot do it (no algorithm for the shape, an empty product): then
 * the caller runs gemm and the fallback epilogue kernel. */
static bool gemmlt(Step *st, long long B) {
    int M = dimv(st->dim[0], B), N = dimv(st->dim[1], B), K = dimv(st->dim[2], B);
    int lda = dimv(st->dim[3], B), ldb = dimv(st->dim[4], B);
    if ((long long)M * N <= 0 || K <= 0 || st->h16)   /* bf16: gemm and the epilogue kernel */
        return false;
    if (!st->lt && !(st->lt = calloc(1, sizeof *st->lt)))
        fail("out of memory");
    LtPlan *p = st->lt;
    if (p->B != B || !p->desc) {
        if (p->desc) {
            lt_check(cu.LtDescDestroy(p->desc), "cublasLtMatmulDescDestroy", "");
            lt_check(cu.LtLayoutDestroy(p->la), "cublasLtMatrixLayoutDestroy", "");
            lt_check(cu.LtLayoutDestroy(p->lb), "cublasLtMatrixLayoutDestroy", "");
            lt_check(cu.LtLayoutDestroy(p->lc), "cublasLtMatrixLayoutDestroy", "");
            p->desc = NULL;
        }
        p->B = B;
        int ta = st->tb, tb = st->ta;   /* cuBLASLt's A is our B */
        uint32_t epi = (uint32_t)st->epi;
        lt_check(cu.LtDescCreate(&p->desc, P.compute, 0), "cublasLtMatmulDescCreate",
                 P.compute == COMPUTE_32F ? "CUBLAS_COMPUTE_32F" : "CUBLAS_COMPUTE_32F_FAST_16BF");
        lt_check(cu.LtDescSet(p->desc, 3, &ta, sizeof ta), "cublasLtMatmulDescSetAttribute", "TRANSA");
        lt_check(cu.LtDescSet(p->desc, 4, &tb, sizeof tb), "cublasLtMatmulDescSetAttribute", "TRANSB");
        lt_check(cu.LtDescSet(p->desc, 7, &epi, sizeof epi), "cublasLtMatmulDescSetAttribute", "EPILOGUE");
        /* column-major: cuBLASLt's A is op^-1 of N x K, its B of K x M, D is N x M */
        lt_check(cu.LtLayoutCreate(&p->la, 0, (uint64_t)(ta ? K : N), (uint64_t)(ta ? N : K), ldb),
                 "cublasLtMatrixLayoutCreate", "A");
        lt_check(cu.LtLayoutCreate(&p->lb, 0, (uint64_t)(tb ? M : K), (uint64_t)(tb ? K : M), lda),
                 "cublasLtMatrixLayoutCreate", "B");
        lt_check(cu.LtLayoutCreate(&p->lc, 0, (uint64_t)N, (uint64_t)M, N), "cublasLtMatrixLayoutCreate", "D");
        /* the heuristic reads the bias pointer's alignment (every call sets it again below) */
        const void *bias0 = (const void *)(uintptr_t)ptr(&st->refs[3], B);
        lt_check(cu.LtDescSet(p->desc, 8, &bias0, sizeof bias0), "cublasLtMatmulDescSetAttribute", "BIAS_POINTER");
        int found = 0;
        memset(&p->algo, 0, sizeof p->algo);
        lt_check(cu.LtHeuristic(cu.lt_handle, p->desc, p->la, p->lb, p->lc, p->lc, cu.lt_pref, 1, &p->algo, &found),
                 "cublasLtMatmulAlgoGetHeuristic", "");
        if (found < 1 || p->algo.state)
            p->algo.state = -1;         /* none for this shape: cuBLAS and the kernel */
    }
    if (p->algo.state)
        return false;
    reserve(&P.ltws, &P.ltwscap, LT_WORKSPACE, "cuBLASLt's workspace");
    CUdeviceptr a = ptr(&st->refs[0], B), b = ptr(&st->refs[1], B), c = ptr(&st->refs[2], B);
    const void *bias = (const void *)(uintptr_t)ptr(&st->refs[3], B);
    lt_check(cu.LtDescSet(p->desc, 8, &bias, sizeof bias), "cublasLtMatmulDescSetAttribute", "BIAS_POINTER");
    const float one = 1.0f, zero = 0.0f;
    int rc = cu.LtMatmul(cu.lt_handle, p->desc, &one, (const void *)(uintptr_t)b, p->la, (const void *)(uintptr_t)a,
                         p->lb, &zero, (const void *)(uintptr_t)c, p->lc, (void *)(uintptr_t)c, p->lc, p->algo.algo,
                         (void *)(uintptr_t)P.ltws, LT_WORKSPACE, P.run);
    if (rc && cap_on) {
        cap_failed = cap_failed ? cap_failed : "cuBLASLt";
        return true;
    }
    if (rc)
        fail("cublasLtMatmul(%dx%dx%d, epilogue %s): %s", M, N, K, st->epi == 6 ? "RELU_BIAS" : "BIAS",
             cu.LtStatusName ? cu.LtStatusName(rc) : "failed");
    P.st.lt_gemms++;
    return true;
}

/* A batched product: C[p] = op(A[p]) op(B[p]) for p < P, each matrix dense and row-major
 * (runtime/bmm.c's nnc_sgemm_batched), one cublasSgemmStridedBatched with gemm's mapping. */
static void bgemm(const Step *st, long long B) {
    int np = dimv(st->dim[0], B), M = dimv(st->dim[1], B), N = dimv(st->dim[2], B), K = dimv(st->dim[3], B);
    CUdeviceptr a = ptr(&st->refs[0], B), b = ptr(&st->refs[1], B), c = ptr(&st->refs[2], B);
    if (np <= 0 || (long long)M * N <= 0)
        return;
    if (K <= 0) {
        check(cu.MemsetD8Async(c, 0, (size_t)np * (size_t)M * (size_t)N * (st->ty[2] == 'h' ? 2 : 4), P.run),
              "cuMemsetD8Async", "an empty product");
        return;
    }
    int lda = st->ta ? M : K, ldb = st->tb ? K : N;
    const float one = 1.0f, zero = 0.0f;
    int rc;
    if (st->h16) {
        a = as_bf16(st, 0, a, (long long)np * M * K);
        b = as_bf16(st, 1, b, (long long)np * K * N);
        rc = cu.GemmBatchedEx(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const void *)(uintptr_t)b, R_16BF, ldb,
                              (long long)K * N, (const void *)(uintptr_t)a, R_16BF, lda, (long long)M * K, &zero,
                              (void *)(uintptr_t)c, st->ty[2] == 'h' ? R_16BF : R_32F, N, (long long)M * N, np,
                              COMPUTE_32F, -1);
        P.st.bf16_gemms++;
    } else if (P.compute == COMPUTE_32F)
        rc = cu.SgemmBatched(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const float *)(uintptr_t)b, ldb,
                             (long long)K * N, (const float *)(uintptr_t)a, lda, (long long)M * K, &zero,
                             (float *)(uintptr_t)c, N, (long long)M * N, np);
    else
        rc = cu.GemmBatchedEx(cu.blas_handle, st->tb, st->ta, N, M, K, &one, (const void *)(uintptr_t)b, 0, ldb,
                              (long long)K * N, (const void *)(uintptr_t)a, 0, lda, (long long)M * K, &zero,
                              (void *)(uintptr_t)c, 0, N, (long long)M * N, np, P.compute, -1);
    if (rc && cap_on) {
        cap_failed = cap_failed ? cap_failed : "cuBLAS (batched)";
        return;
    }
    if (rc)
        fail("%s(%d of %dx%dx%d): %s", P.compute == COMPUTE_32F && !st->h16 ? "cublasSgemmStridedBatched" : "cublasGemmStridedBatchedEx",
             np, M, N, K, cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
}

static void launch(CUfunction fn, const char *name, char mode, long long n, void **args) {
    if (n <= 0)
        return;
    long long blocks = mode == 'b' ? n : (n + 255) / 256;
    if (blocks > (1 << 20))
        blocks = 1 << 20;       /* the kernels loop (grid-stride) over the rest */
    check(cu.LaunchKernel(fn, (unsigned)blocks, 1, 1, 256, 1, 1, 0, P.run, args, NULL), "cuLaunchKernel", name);
}

/* The pinned staging buffer holds at least `need` bytes (its contents lost when it grows). */
static void pin_reserve(size_t need) {
    need = (need + 63) & ~(size_t)63;
    if (P.pincap >= need)
        return;
    if (P.pin) {                /* a prefetch may still read it */
        check(cu.StreamSynchronize(P.copy), "cuStreamSynchronize", "the batches' stream");
        check(cu.MemFreeHost(P.pin), "cuMemFreeHost", "the staging buffer");
    }
    P.pin = NULL;
    P.gen++;
    check(cu.MemHostAlloc((void **)&P.pin, need, 0), "cuMemHostAlloc", "the staging buffer");
    P.pincap = need;
    P.st.allocs++, P.st.alloc_bytes += (long long)need;
}

/* Param and state tensors to the device (the host's are newer: the first call, a load). */
static void upload_params(NncArgs *a) {
    for (int t = 0; t < P.ntens; t++) {
        Tensor *tn = &P.tens[t];
        if (tn->role != R_PARAM && tn->role != R_STATE)
            continue;
        size_t bytes = (size_t)at(tn->bytes, 0);
        tn->host = a->bufs[t];
        if (tn->host && bytes) {
            check(cu.MemcpyHtoD(tn->p, tn->host, bytes), "cuMemcpyHtoD", "a parameter");
            P.st.up_params++, P.st.up_param_bytes += (long long)bytes;
        }
    }
    /* the copies are on the legacy stream, which the non-blocking run stream does not wait for
     * (and from pageable memory one may return before its DMA is done): finish them here */
    check(cu.CtxSynchronize(), "cuCtxSynchronize", "the parameters' upload");
    P.on_device = P.host_current = true;
}

/* NncDevice.to_host: the device's params and state into the host's buffers (before a save). */
static void finish(void);
static void to_host(void *user) {
    (void)user;
    finish();                   /* the run stream idle: its updates are in the params */
    if (!P.on_device || P.host_current)
        return;
    for (int t = 0; t < P.ntens; t++) {
        Tensor *tn = &P.tens[t];
        size_t bytes = (size_t)at(tn->bytes, 0);
        if ((tn->role == R_PARAM || tn->role == R_STATE) && tn->host && bytes) {
            check(cu.MemcpyDtoH(tn->host, tn->p, bytes), "cuMemcpyDtoH", "a parameter");
            P.st.down_params++, P.st.down_param_bytes += (long long)bytes;
        }
    }
    P.host_current = true;
}

/* NncDevice.from_host: the host wrote params or state (a load): the next call uploads them. */
static void from_host(void *user) {
    (void)user;
    P.on_device = false;
}

/* NncDevice.param_nonfinite: the last train step's nnc_nonfinite flag of tensor i. */
static int param_nonfinite(void *user, int32_t i) {
    (void)user;
    finish();
    return P.flags_valid && i >= 0 && i < P.ntens && P.flag_host[i] != 0;
}

static void finish(void);

/* Step s of g, `allreduce K` followed by its K copy steps (result, gradient), under MPI: each
 * gradient's mean over the ranks into its result, by NCCL (runtime/nccl.c) on the comm stream,
 * which waits for the run stream's work so far (the backward kernels) and which the run stream
 * then waits for (the update). Gradients are f32 whatever --precision says. Returns K: the copies
 * are done. */
static int allreduce(const Graph *g, int s, long long B) {
    int k = (int)g->steps[s].n.c;
    if (k < 0 || s + k >= g->nsteps)
        fail("the embedded CUDA schedule is malformed (an allreduce of %d gradients)", k);
    if (!P.comm) {
        check(cu.StreamCreate(&P.comm, 1), "cuStreamCreate", "the allreduce's stream");
        check(cu.EventCreate(&P.grads, 2), "cuEventCreate", "the gradients");
        check(cu.EventCreate(&P.reduced, 2), "cuEventCreate", "the reduced gradients");
    }
    if (k > P.ar_cap) {
        free(P.ar_ptr);
        free(P.ar_count);
        P.ar_ptr = xcalloc((size_t)k * 2, sizeof *P.ar_ptr);
        P.ar_count = xcalloc((size_t)k, sizeof *P.ar_count);
        P.ar_cap = k;
    }
    for (int j = 0; j < k; j++) {
        const Step *c = &g->steps[s + 1 + j];
        if (c->kind != S_COPY)
            fail("the embedded CUDA schedule is malformed (an allreduce's gradient %d is not a copy step)", j);
        P.ar_ptr[j] = ptr(&c->refs[1], B);          /* the gradient */
        P.ar_ptr[k + j] = ptr(&c->refs[0], B);      /* its mean: the same buffer when in place */
        P.ar_count[j] = at(c->n, B) / 4;
    }
    check(cu.EventRecord(P.grads, P.run), "cuEventRecord", "the gradients");
    check(cu.StreamWaitEvent(P.comm, P.grads, 0), "cuStreamWaitEvent", "the gradients, for the allreduce");
    nnc_nccl_allreduce_mean(prog, k, P.ar_ptr, P.ar_ptr + k, P.ar_count, P.comm);
    check(cu.EventRecord(P.reduced, P.comm), "cuEventRecord", "the reduced gradients");
    check(cu.StreamWaitEvent(P.run, P.reduced, 0), "cuStreamWaitEvent", "the reduced gradients, for the update");
    P.st.allreduces++;
    return k;
}

/* A's inputs and targets through pinned slot P.slot into the device buffers (p, or p2 for a
 * prefetch) on the copy stream, then the event the run stream waits for. */
static void copy_batch(const NncArgs *a, int second) {
    unsigned char *stage = P.pin + P.pin_small + (size_t)P.slot * P.pin_in;
    size_t off = 0;
    for (int t = 0; t < P.ntens; t++) {
        Tensor *tn = &P.tens[t];
        size_t bytes = (size_t)at(tn->bytes, a->B);
        if ((tn->role != R_INPUT && tn->role != R_TARGET) || !a->bufs[t] || !bytes)
            continue;
        memcpy(stage + off, a->bufs[t], bytes);
        check(cu.MemcpyHtoDAsync(second ? tn->p2 : tn->p, stage + off, bytes, P.copy), "cuMemcpyHtoDAsync",
              "a batch");
        P.st.batch_copies++, P.st.batch_bytes += (long long)bytes;
        off += (bytes + 63) & ~(size_t)63;
    }
    check(cu.EventRecord(P.copied, P.copy), "cuEventRecord", "a batch's copy");
}

/* NncDevice.prefetch: while a deferred step runs, the next batch goes to the second buffers (the
 * other pinned slot, the copy stream), so the next call finds it there. Nothing when no step is
 * running, or when the batch would not fit the slot. */
static void prefetch(void *user, const NncArgs *next) {
    (void)user;
    if (!P.ready || !P.pend.on || !P.pin)
        return;
    size_t in = 0;
    for (int t = 0; t < P.ntens; t++)
        if ((P.tens[t].role == R_INPUT || P.tens[t].role == R_TARGET) && next->bufs[t])
            in += ((size_t)at(P.tens[t].bytes, next->B) + 63) & ~(size_t)63;
    if (in > P.pin_in)
        return;
    for (int t = 0; t < P.ntens; t++) {
        Tensor *tn = &P.tens[t];
        if (tn->role == R_INPUT || tn->role == R_TARGET) {
            reserve(&tn->p2, &tn->cap2, (size_t)at(tn->bytes, next->B), "a batch's second buffer");
            tn->pre = next->bufs[t];
        }
    }
    P.slot = 1 - P.slot;        /* the running step's batch came through the other one */
    copy_batch(next, 1);
    P.pre = true, P.pre_B = next->B;
}

/* A launch step: (B, seed, V, its buffers; slots past the kernel's own hold a 0, never read). */
static void launch_step(const Step *st, long long B, CUdeviceptr V) {
    CUdeviceptr p[64];
    void *args[3 + 64];
    unsigned long long seed = 0;      /* (not read: the kernels read nnc_seed) */
    args[0] = &B, args[1] = &seed, args[2] = &V;
    for (int r = 0; r < 64; r++) {
        p[r] = r < st->nrefs ? ptr(&st->refs[r], B) : 0;
        args[3 + r] = &p[r];
    }
    launch(st->fn, st->name, st->mode, at(st->n, B), args);
}

/* A conv step through cuDNN: its plan made at a new batch size (outside a capture: the plain
 * run before one), the scratch grown to the plan's filter copy and workspace. */
static void conv_dnn(Step *st, long long B) {
    int k = st->dnn[0] && st->dnn_B[0] == B ? 0 : st->dnn[1] && st->dnn_B[1] == B ? 1 : -1;
    if (k < 0) {                /* a new batch size: the slot not used last */
        k = 1 - st->dnn_last;
        nnc_dnn_free(st->dnn[k]);
        NncDnnGeom geo = st->conv;
        geo.N = at(st->conv_n, B);
        size_t ws = 0, filt = 0;
        st->dnn[k] = NULL;
        if (cap_on) {
            cap_failed = cap_failed ? cap_failed : "a cuDNN plan during the capture";
            return;
        }
        st->dnn[k] = nnc_dnn_plan(&geo, &ws, &filt);
        st->dnn_B[k] = B;
        reserve(&P.dnnws, &P.dnnwscap, filt + ws, "cuDNN's workspace");
    }
    st->dnn_last = k;
    int rc = nnc_dnn_run(st->dnn[k], ptr(&st->refs[0], B), ptr(&st->refs[1], B), ptr(&st->refs[2], B), P.dnnws);
    if (rc && cap_on) {
        cap_failed = cap_failed ? cap_failed : "cuDNN";
        return;
    }
    if (rc)
        fail("cuDNN's %s (N %lld, %lldx%lldx%lld -> %lldx%lldx%lld, kernel %lldx%lld): %s",
             st->conv.kind == 0 ? "cudnnConvolutionForward" : st->conv.kind == 1 ? "cudnnConvolutionBackwardData"
                                                                                 : "cudnnConvolutionBackwardFilter",
             at(st->conv_n, B), st->conv.H, st->conv.W, st->conv.C, st->conv.OH, st->conv.OW, st->conv.F, st->conv.KH,
             st->conv.KW, nnc_dnn_error(rc));
    P.dnn_convs++;
}

/* The launch sequence of graph g at batch size B (after its values kernel): the steps, then for a
 * train step the params' finiteness checks and their flags' copy to the pinned buffer. */
static void run_steps(Graph *g, long long B, bool train) {
    CUdeviceptr p[64];
    void *args[3 + 64];
    float *loss_host = (float *)P.pin;
    unsigned long long seed = 0;      /* (not read: the kernels read nnc_seed) */
    CUdeviceptr V = P.vals;
    P.ncalls++;                 /* the params' bf16 copies are made again in this call */
    for (int s = 0; s < g->nsteps; s++) {
        Step *st = &g->steps[s];
        switch (st->kind) {
        case S_LAUNCH: launch_step(st, B, V); break;
        case S_GEMM: gemm(st, B); break;
        case S_GEMMLT:
            if (cu.lt && gemmlt(st, B)) {
                s++;                    /* the epilogue is done: skip its fallback kernel */
            } else {
                gemm(st, B);
                P.st.lt_fallbacks += cu.lt != NULL && !st->h16;
            }
            break;
        case S_CONV:
            if (P.dnn) {
                conv_dnn(st, B);
                s += 1;                 /* not the direct kernel; its epilogue (if any) runs next */
            } else {
                launch_step(&g->steps[s + 1], B, V);
                s += 1 + st->conv_epi;  /* the direct kernel, not the epilogue after it */
            }
            break;
        case S_BGEMM: bgemm(st, B); break;
        case S_ZERO:
            check(cu.MemsetD8Async(ptr(&st->refs[0], B), 0, (size_t)at(st->n, B), P.run), "cuMemsetD8Async",
                  "a scatter");
            break;
        case S_COPY: {
            CUdeviceptr d = ptr(&st->refs[0], B), src = ptr(&st->refs[1], B);
            if (d != src && at(st->n, B) > 0)
                check(cu.MemcpyDtoDAsync(d, src, (size_t)at(st->n, B), P.run), "cuMemcpyDtoDAsync", "a result");
            break;
        }
        case S_ALLREDUCE:
            /* `allreduce K`, then K copies (result, gradient): without MPI the copies run (the
             * mean over one process); under MPI, NCCL reduces each gradient into its result */
            if (rt_dist_on() || P.nccl_one)
                s += allreduce(g, s, B);
            break;
        case S_LOSS:    /* the value as it is at this point of the run stream, into its pinned slot */
            check(cu.MemcpyDtoHAsync(loss_host + st->loss, ptr(&st->refs[0], B), st->mode == 'b' ? 1 : 4, P.run),
                  "cuMemcpyDtoHAsync", "a loss");
            break;
        }
    }
    if (train) {
        /* every param checked for NaN and infinity on the device: P.flags come back, not the params */
        check(cu.MemsetD8Async(P.flags, 0, (size_t)P.ntens * 4, P.run), "cuMemsetD8Async", "the finiteness flags");
        for (int t = 0; t < P.ntens; t++) {
            const Tensor *tn = &P.tens[t];
            long long n = at(tn->bytes, 0) / 4;
            if (tn->role != R_PARAM || n <= 0)
                continue;
            args[0] = &n, args[1] = &seed, args[2] = &V;
            for (int r = 0; r < 64; r++)       /* (n, seed, V, w, flag); the rest as for every launch */
                p[r] = r == 0 ? tn->p : r == 1 ? P.flags + (CUdeviceptr)t * 4 : 0, args[3 + r] = &p[r];
            launch(P.nonfinite, "nnc_nonfinite", 'e', n, args);
        }
        check(cu.MemcpyDtoHAsync(P.flag_host, P.flags, (size_t)P.ntens * 4, P.run), "cuMemcpyDtoHAsync",
              "the finiteness flags");
    }
}

/* g's steps through a CUDA graph: replayed when one was captured at this batch size, these
 * pointers and this generation of allocations; captured (then launched) when g already ran with
 * plain launches at B since the last allocation (its cuBLASLt plans and buffers exist, so the
 * capture allocates nothing); else plain launches. A graph whose gradients NCCL reduces runs
 * plain (NCCL's stream and events are not captured). A failed capture turns graphs off, says so,
 * and runs the steps plain: nothing of a capture has run. */
static void run_graph(Graph *g, long long B, bool train) {
    bool nccl = rt_dist_on() || P.nccl_one;
    bool capturable = P.graphs;
    for (int s = 0; s < g->nsteps && capturable; s++)
        if (g->steps[s].kind == S_ALLREDUCE && nccl)
            capturable = false;
    if (!capturable) {
        run_steps(g, B, train);
        P.gs.plain++;
        return;
    }
    Exec *x = NULL, *slot = &g->ex[0];
    for (int i = 0; i < NEXEC; i++) {
        Exec *e = &g->ex[i];
        if (e->exec && e->B == B && e->gen == P.gen) {
            bool same = true;
            for (int t = 0; t < P.ntens && same; t++)
                same = e->key[t] == P.tens[t].p;
            if (same) {
                x = e;
                break;
            }
        }
        if (!e->exec || e->gen != P.gen || (slot->exec && slot->gen == P.gen && e->used < slot->used))
            slot = e;           /* an empty or stale entry, else the least recently used */
    }
    bool warm = false;
    for (int i = 0; i < NEXEC && !warm; i++)
        warm = g->warm_gen[i] == P.gen && g->warm_B[i] == B && B > 0;
    if (!x && !warm) {
        /* cuBLAS under capture wants its workspace given (else it may allocate one): cuBLASLt's,
         * which it can share (one stream orders their use) */
        if (cu.BlasSetWorkspace && !P.blasws) {
            reserve(&P.ltws, &P.ltwscap, LT_WORKSPACE, "the cuBLAS and cuBLASLt workspace");
            P.blasws = P.ltws;
            int rc = cu.BlasSetWorkspace(cu.blas_handle, (void *)(uintptr_t)P.blasws, LT_WORKSPACE);
            if (rc)
                fail("cublasSetWorkspace: %s", cu.BlasStatusName ? cu.BlasStatusName(rc) : "failed");
        }
        run_steps(g, B, train);
        int w = g->warm_next;       /* this B's entry, else the next one round */
        for (int i = 0; i < NEXEC; i++)
            if (g->warm_B[i] == B)
                w = i;
        if (w == g->warm_next)
            g->warm_next = (g->warm_next + 1) % NEXEC;
        g->warm_B[w] = B, g->warm_gen[w] = P.gen;
        P.gs.plain++;
        return;
    }
    if (!x) {
        long long g0 = P.st.gemms, l0 = P.st.lt_gemms, f0 = P.st.lt_fallbacks, c0 = P.dnn_convs, h0 = P.st.bf16_gemms,
                  v0 = P.st.bf16_cvts;
        cap_failed = NULL;
        CUresult rc = cu.BeginCapture(P.run, 1);       /* CU_STREAM_CAPTURE_MODE_THREAD_LOCAL */
        void *graph = NULL, *exec = NULL;
        if (rc) {
            cap_failed = "cuStreamBeginCapture";
        } else {
            cap_on = true;
            run_steps(g, B, train);
            cap_on = false;
            rc = cu.EndCapture(P.run, &graph);
            if (rc && !cap_failed)
                cap_failed = "cuStreamEndCapture";
            if (!cap_failed && cu.GraphInstantiate(&exec, graph, 0))
                cap_failed = "cuGraphInstantiate";
            if (graph)
                cu.GraphDestroy(graph);
        }
        long long dg = P.st.gemms - g0, dl = P.st.lt_gemms - l0, df = P.st.lt_fallbacks - f0, dc = P.dnn_convs - c0,
                  dh = P.st.bf16_gemms - h0, dv = P.st.bf16_cvts - v0;
        P.st.gemms = g0, P.st.lt_gemms = l0, P.st.lt_fallbacks = f0, P.dnn_convs = c0, P.st.bf16_gemms = h0,
        P.st.bf16_cvts = v0;
        if (cap_failed) {
            const char *name = "?";
            if (rc && cu.GetErrorName)
                cu.GetErrorName(rc, &name);
            fprintf(stderr, "%s: note: CUDA graphs off: capturing a step failed (%s%s%s); plain launches from now on\n",
                    prog, cap_failed, rc ? ": " : "", rc ? name : "");
            if (exec)
                cu.GraphExecDestroy(exec);
            P.graphs = false;
            run_steps(g, B, train);
            P.gs.plain++;
            return;
        }
        if (slot->exec)
            check(cu.GraphExecDestroy(slot->exec), "cuGraphExecDestroy", "a stale graph");
        if (!slot->key)
            slot->key = xcalloc((size_t)P.ntens + 1, sizeof *slot->key);
        for (int t = 0; t < P.ntens; t++)
            slot->key[t] = P.tens[t].p;
        slot->exec = exec, slot->B = B, slot->gen = P.gen;
        slot->gemms = dg, slot->lt = dl, slot->ltfb = df, slot->convs = dc, slot->h16 = dh, slot->cvt = dv;
        x = slot;
        P.gs.captured++;
    }
    x->used = ++P.use;
    check(cu.GraphLaunch(x->exec, P.run), "cuGraphLaunch", "a step's graph");
    P.st.gemms += x->gemms, P.st.lt_gemms += x->lt, P.st.lt_fallbacks += x->ltfb, P.dnn_convs += x->convs,
        P.st.bf16_gemms += x->h16, P.st.bf16_cvts += x->cvt;
    P.gs.launched++;
}

void nnc_cuda_call(const char *sched, const char *const *ptx, const char *const *arch, int narch, int gi, NncArgs *a) {
    finish();                   /* a deferred call's results first (the pinned buffer is reused) */
    if (!P.ready) {
        P.sched = sched, P.ptx = ptx, P.arch = arch, P.narch = narch;
        start();
    }
    if (gi < 0 || gi >= P.ng || !P.g[gi].present)
        fail("the model has no CUDA graph %d", gi);
    Graph *g = &P.g[gi];
    long long B = a->B;
    P.st.calls++;
    /* a prefetch of this very batch (same host buffers, same B): its buffers become the inputs */
    bool pre = P.pre && P.pre_B == B;
    for (int t = 0; t < P.ntens && pre; t++)
        if ((P.tens[t].role == R_INPUT || P.tens[t].role == R_TARGET) && P.tens[t].pre != a->bufs[t])
            pre = false;
    P.pre = false;
    for (int t = 0; t < P.ntens && pre; t++) {
        Tensor *tn = &P.tens[t];
        if (tn->role != R_INPUT && tn->role != R_TARGET)
            continue;
        CUdeviceptr x = tn->p;
        size_t c = tn->cap;
        tn->p = tn->p2, tn->cap = tn->cap2;
        tn->p2 = x, tn->cap2 = c;
    }
    /* device memory: params and state once (their size is fixed), the batch's tensors, workspace
     * and values grown to the largest batch seen (the first call's, for training) */
    size_t in_bytes = 0, out_bytes = 0;
    for (int t = 0; t < P.ntens; t++) {
        Tensor *tn = &P.tens[t];
        size_t bytes = (size_t)at(tn->bytes, B);
        reserve(&tn->p, &tn->cap, bytes, tn->role == R_PARAM || tn->role == R_STATE ? "a parameter" : "a tensor");
        if (!a->bufs[t] || !bytes)
            continue;
        if (tn->role == R_INPUT || tn->role == R_TARGET)
            in_bytes += (bytes + 63) & ~(size_t)63;
        else if (tn->role == R_OUTPUT)
            out_bytes += (bytes + 63) & ~(size_t)63;
        else if (tn->host != a->bufs[t])
            P.on_device = false;        /* another buffer than the one the device copy is of */
    }
    reserve(&P.wsp, &P.wscap, (size_t)at(P.ws, B), "the workspace");
    reserve(&P.vals, &P.valscap, (size_t)g->nvals * 4, "the values");
    reserve(&P.flags, &P.flagscap, (size_t)P.ntens * 4, "the finiteness flags");
    P.pin_small = (((size_t)(P.nloss + P.ntens) * 4 + 63) & ~(size_t)63) + 64;    /* + the seed's slot */
    P.pin_in = in_bytes > P.pin_in ? in_bytes : P.pin_in;
    P.pin_out = out_bytes > P.pin_out ? out_bytes : P.pin_out;
    pin_reserve(P.pin_small + 2 * P.pin_in + P.pin_out);
    P.flag_host = (int *)(P.pin + (size_t)P.nloss * 4);
    unsigned char *stage = P.pin + P.pin_small + 2 * P.pin_in;    /* the outputs' */
    if (!P.on_device)
        upload_params(a);
    /* the batch: staged in pinned memory, copied on the copy stream (unless a prefetch did); the
     * run stream waits for it */
    if (pre) {
        P.st.prefetched++;
    } else {
        P.slot = 1 - P.slot;    /* not the slot a prefetch may have used */
        copy_batch(a, 0);
    }
    check(cu.StreamWaitEvent(P.run, P.copied, 0), "cuStreamWaitEvent", "a batch's copy");
    unsigned long long seed = a->seed;
    CUdeviceptr V = P.vals;
    if (g->values_fn) {
        float lr = a->lr;
        long long step = a->step, total = a->total_steps;
        void *args[] = {&B, &seed, &V, &lr, &step, &total};
        check(cu.LaunchKernel(g->values_fn, 1, 1, 1, 32, 1, 1, 0, P.run, args, NULL), "cuLaunchKernel", g->values);
    }
    /* the seed into the module's nnc_seed (the rand kernels read it there, so a graph's replay
     * draws the step's numbers), from its pinned slot */
    unsigned long long *seed_host = (unsigned long long *)(P.pin + P.pin_small - 64);
    *seed_host = seed;
    check(cu.MemcpyHtoDAsync(P.seedp, seed_host, 8, P.run), "cuMemcpyHtoDAsync", "the seed");
    bool train = gi >= 2;
    long long allreduces = P.st.allreduces;
    run_graph(g, B, train);
    if (train)
        P.host_current = false;
    size_t off = 0;
    for (int t = 0; t < P.ntens; t++) {
        const Tensor *tn = &P.tens[t];
        size_t bytes = (size_t)at(tn->bytes, B);
        if (tn->role != R_OUTPUT || !a->bufs[t] || !bytes)
            continue;
        check(cu.MemcpyDtoHAsync(stage + off, tn->p, bytes, P.run), "cuMemcpyDtoHAsync", "an output");
        off += (bytes + 63) & ~(size_t)63;
    }
    P.pend = (Pending){true, g, B, a->bufs, a->losses, stage, train, P.st.allreduces > allreduces};
    if (P.defer_next) {         /* the runtime gathers the next batch meanwhile, then calls wait */
        P.defer_next = false;
        P.st.deferred++;
        return;
    }
    finish();
}

/* The pending call's end: wait for the run stream, then its losses and outputs from the pinned
 * buffer into the caller's (whose arrays outlive the wait: the runtime's batch). */
static void finish(void) {
    if (!P.pend.on)
        return;
    Pending q = P.pend;
    P.pend.on = false;
    /* a stopped or dead rank leaves NCCL's kernels spinning: the watchdog (--dist-timeout) ends it */
    if (q.reduced)
        rt_dist_wait_begin("the GPU step whose gradients NCCL reduces");
    check(cu.StreamSynchronize(P.run), "cuStreamSynchronize", q.g->nsteps ? "the graph's kernels" : NULL);
    if (q.reduced)
        rt_dist_wait_end();
    P.flags_valid = q.train;
    const float *loss_host = (const float *)P.pin;
    for (int s = 0; s < q.g->nsteps; s++) {
        const Step *st = &q.g->steps[s];
        if (st->kind != S_LOSS)
            continue;
        union { float f; int32_t i; unsigned char b; } v = {0};
        memcpy(&v, loss_host + st->loss, st->mode == 'b' ? 1 : 4);
        q.losses[st->loss] = st->mode == 'f' ? v.f : st->mode == 'i' ? (float)v.i : (float)v.b;
    }
    size_t off = 0;
    for (int t = 0; t < P.ntens; t++) {
        const Tensor *tn = &P.tens[t];
        size_t bytes = (size_t)at(tn->bytes, q.B);
        if (tn->role != R_OUTPUT || !q.bufs[t] || !bytes)
            continue;
        memcpy(q.bufs[t], q.out + off, bytes);
        P.st.out_bytes += (long long)bytes;
        off += (bytes + 63) & ~(size_t)63;
    }
}

/* NncDevice.defer: the next call returns once its work is queued; NncDevice.wait: its results. */
static void defer(void *user) {
    (void)user;
    P.defer_next = true;
}
static void wait_results(void *user) {
    (void)user;
    finish();
}

/* NncDevice.memory: what a call at batch size B allocates on the device. */
static int64_t device_memory(void *user, int64_t B) {
    (void)user;
    if (!P.ntens)
        parse(P.sched);
    int64_t total = 0, nvals = 0;
    for (int t = 0; t < P.ntens; t++)
        total += at(P.tens[t].bytes, B) < 64 ? 64 : at(P.tens[t].bytes, B);
    for (int gi = 0; gi < P.ng; gi++)
        nvals = P.g[gi].nvals > nvals ? P.g[gi].nvals : nvals;
    total += at(P.ws, B) < 64 ? 64 : at(P.ws, B);
    total += nvals * 4 < 64 ? 64 : nvals * 4;
    total += P.ntens * 4 < 64 ? 64 : P.ntens * 4;
    for (int t = 0; t < P.ntens; t++)     /* the inputs' second buffers (prefetch) */
        if (P.tens[t].role == R_INPUT || P.tens[t].role == R_TARGET)
            total += at(P.tens[t].bytes, B) < 64 ? 64 : at(P.tens[t].bytes, B);
    /* cuBLASLt's workspace, when a GEMM's epilogue is its; cuBLAS's too under CUDA graphs */
    const char *ge = getenv("NNC_CUDA_GRAPHS");
    bool lt = !(ge && !strcmp(ge, "0"));
    for (int gi = 0; gi < P.ng; gi++)
        for (int k = 0; k < P.g[gi].nsteps; k++)
            lt |= P.g[gi].steps[k].kind == S_GEMMLT;
    /* --precision bf16: the bf16 copies of f32 GEMM operands (the largest A and B) */
    int64_t cv[2] = {0, 0};
    bool *wcopy = xcalloc((size_t)P.ntens + 1, 1);
    for (int gi = 0; gi < P.ng; gi++)
        for (int k = 0; k < P.g[gi].nsteps; k++) {
            const Step *st = &P.g[gi].steps[k];
            if (!st->h16)
                continue;
            long long d[5];
            for (int j = 0; j < 5; j++)
                d[j] = st->dim[j].b * B + st->dim[j].c;
            long long na, nb;
            if (st->kind == S_BGEMM)      /* P, M, N, K */
                na = d[0] * d[1] * d[3], nb = d[0] * d[3] * d[2];
            else                          /* M, N, K, lda, ldb */
                na = (st->ta ? d[2] : d[0]) * d[3], nb = (st->tb ? d[1] : d[2]) * d[4];
            long long nn[2] = {na, nb};
            for (int j = 0; j < 2; j++) {
                const Ref *r = &st->refs[j];
                if (st->ty[j] != 'f')
                    continue;
                if (r->kind == 't' && P.tens[r->t].role == R_PARAM) {
                    if (!wcopy[r->t])       /* a weight's copy: half its bytes, once */
                        total += at(P.tens[r->t].bytes, 0) / 2 < 64 ? 64 : at(P.tens[r->t].bytes, 0) / 2;
                    wcopy[r->t] = true;
                } else if (2 * nn[j] > cv[j]) {
                    cv[j] = 2 * nn[j];
                }
            }
        }
    free(wcopy);
    for (int j = 0; j < 2; j++)
        total += cv[j] ? (cv[j] < 64 ? 64 : cv[j]) : 0;
    return total + (lt ? (int64_t)LT_WORKSPACE : 0);
}

static void print_stats(void) {
    if (!P.st.calls)
        return;
    fprintf(stderr,
            "%s: cuda: %lld calls; device and pinned memory: %lld allocations, %lld bytes; params and state: %lld "
            "uploads (%lld bytes), %lld downloads (%lld bytes); batches: %lld async copies (%lld bytes); outputs: "
            "%lld bytes; GEMMs: %lld cuBLAS, %lld cuBLASLt with a fused epilogue (%lld fell back to cuBLAS and a "
            "kernel); %lld train steps deferred (the next batch gathered meanwhile), %lld batches copied "
            "during the step before; products in %s",
            prog, P.st.calls, P.st.allocs, P.st.alloc_bytes, P.st.up_params, P.st.up_param_bytes, P.st.down_params,
            P.st.down_param_bytes, P.st.batch_copies, P.st.batch_bytes, P.st.out_bytes, P.st.gemms, P.st.lt_gemms,
            P.st.lt_fallbacks, P.st.deferred, P.st.prefetched, P.compute == COMPUTE_32F ? "f32" : "bf16 (f32 accumulation)");
    if (P.store16)
        fprintf(stderr, "; activations stored in bf16: %lld GEMMs on bf16 operands, %lld f32 operands converted",
                P.st.bf16_gemms, P.st.bf16_cvts);
    if (P.st.allreduces)
        fprintf(stderr, "; %lld gradient allreduces through NCCL (f32)", P.st.allreduces);
    if (P.dnn)
        fprintf(stderr, "; convolutions: %lld through cuDNN", P.dnn_convs);
    fprintf(stderr, "; CUDA graphs: %lld captured, %lld launched, %lld calls with plain launches%s", P.gs.captured,
            P.gs.launched, P.gs.plain, P.graphs ? "" : " (graphs off)");
    fputc('\n', stderr);
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
    /* --device N and --precision P (or --device=N, --precision=P) are this file's: taken out
     * before the runtime's command line */
    int n = 0;
    /* built with nnc --precision bf16: activations in bf16, the other products bf16 too */
    bool store16 = strstr(sched, "\nprecision bf16\n") != NULL;
    P.compute = store16 ? COMPUTE_32F_FAST_16BF : COMPUTE_32F;
    for (int i = 0; i < argc; i++) {
        const char *v = NULL, *flag = NULL;
        for (int f = 0; f < 2 && !flag; f++) {
            const char *name = f ? "--precision" : "--device";
            size_t len = strlen(name);
            if (strncmp(argv[i], name, len) || (argv[i][len] && argv[i][len] != '='))
                continue;
            flag = name;
            if (argv[i][len] == '=')
                v = argv[i] + len + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                fail("%s needs a value (%s)", name, f ? "f32 or bf16" : "the GPU's index, from 0");
        }
        if (!flag) {
            argv[n++] = argv[i];
            continue;
        }
        if (!strcmp(flag, "--precision")) {
            if (!strcmp(v, "f32") && store16)
                fail("--precision f32: this executable stores its activations in bf16 (built with nnc "
                     "--precision bf16); build it without that for f32");
            else if (!strcmp(v, "f32"))
                P.compute = COMPUTE_32F;
            else if (!strcmp(v, "bf16"))
                P.compute = COMPUTE_32F_FAST_16BF;
            else
                fail("--precision '%s': not f32 or bf16", v);
            continue;
        }
        char *end;
        long d = strtol(v, &end, 10);
        if (!*v || *end || d < 0 || d > 1024)
            fail("--device '%s': not a GPU index (0, 1, ...)", v);
        P.device = (int)d;
        P.device_given = true;
    }
    argv[n] = NULL;
    /* the commands that run the model open the GPU first: a machine without one fails at once */
    if (n > 1 && (!strcmp(argv[1], "train") || !strcmp(argv[1], "eval") || !strcmp(argv[1], "predict")))
        start();
    static const NncDevice device = {"CUDA", to_host, from_host, param_nonfinite, device_memory, defer, wait_results,
                                     prefetch};
    NncModelDef def = {desc_, workspace, forward, evaluate, train_step, 0, &device};
    /* NNC_NCCL=1: the gradients through NCCL without MPI, a communicator of one rank: NCCL's path
     * checked on a GPU machine that has no MPI launcher (tests/gpu/run.sh) */
    const char *one = getenv("NNC_NCCL");
    P.nccl_one = one && !strcmp(one, "1");
    const char *stats = getenv("NNC_CUDA_STATS");
    if (stats && *stats && strcmp(stats, "0"))
        atexit(print_stats);
    int rc = nnc_main(&def, n, argv);
    if (fclose(stdout) && rc == 0) {
        fprintf(stderr, "%s: error: closing standard output failed\n", prog);
        rc = 1;
    }
    return rc;
}
