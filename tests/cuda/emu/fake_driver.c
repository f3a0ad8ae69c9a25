/* fake_driver.c - libcuda.so.1 for tests/cuda/emu: the driver calls runtime/cuda.c makes, on host
 * memory. A "module" is the shared library $NNC_EMU_KERNELS (the model's CUDA source compiled for
 * the host with cuda_emu.h); a launch calls the kernel once (one thread, one block). Device 0 says
 * it is an sm_80 ($NNC_EMU_DEVICES devices, default 1, all alike: mpirun -np 2 gives each local rank
 * its own; nnc_emu_current_device says which one the context is of). Not a CUDA implementation: just enough to run a schedule on the CPU.
 * It holds runtime/cuda.c to the rules a real GPU rewards: an async copy's host side must be pinned
 * (cuMemHostAlloc) and its stream one of cuStreamCreate's, and launches run on such a stream
 * (CUDA_ERROR_INVALID_VALUE otherwise). Kernels run at once, but a device-to-host async copy lands
 * only at the next cuStreamSynchronize (its bytes taken when it is queued, in stream order), so a
 * runtime that reads a result before waiting for it reads stale memory. With $NNC_EMU_STATS set it prints at exit the device
 * allocations and the bytes each way, which tests/cuda/resident.sh compares with the runtime's own
 * count (NNC_CUDA_STATS).
 * Stream capture (CUDA graphs) is honest: between cuStreamBeginCapture_v2 and cuStreamEndCapture the
 * capturing stream's launches, memsets and async copies are recorded, not run (their arguments
 * copied, as the driver copies kernel parameters; a host copy's bytes read when the graph runs),
 * and so is the fake cuBLAS's and cuBLASLt's work (nnc_emu_enqueue); cuGraphLaunch runs the record
 * in order. What CU_STREAM_CAPTURE_MODE_THREAD_LOCAL forbids during a capture (an allocation, a
 * synchronous copy or memset, a synchronize, an event on the capturing stream) fails with
 * CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED and invalidates the capture (cuStreamEndCapture then fails
 * with CUDA_ERROR_STREAM_CAPTURE_INVALIDATED), so a runtime that captures too much is caught. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef struct Fn { void *p; int values; } Fn;

static void *lib;

/* pinned host ranges, streams made */
static struct { const char *p; size_t n; } pinned[64];
static int npinned, nstreams;
static int streams[8];
static long long n_alloc, alloc_bytes, htod_bytes, dtoh_bytes, n_htod_async;
/* device-to-host async copies not landed yet */
static struct { void *dst; void *bytes; size_t n; } queued[256];
static int nqueued;
static void land(void) {
    for (int i = 0; i < nqueued; i++) {
        memcpy(queued[i].dst, queued[i].bytes, queued[i].n);
        free(queued[i].bytes);
    }
    nqueued = 0;
}

static int is_pinned(const void *p, size_t n) {
    for (int i = 0; i < npinned; i++)
        if (pinned[i].p && (const char *)p >= pinned[i].p && (const char *)p + n <= pinned[i].p + pinned[i].n)
            return 1;
    return 0;
}
static int is_stream(void *s) {
    for (int i = 0; i < nstreams; i++)
        if (s == &streams[i])
            return 1;
    return 0;
}
/* ---- stream capture ---- */
enum { OP_KERNEL, OP_VALUES, OP_MEMSET, OP_DTOD, OP_DTOH, OP_HTOD, OP_HOST };
typedef struct Op {
    int kind;
    Fn *fn;
    long long b, x, y;          /* kernel: B; values: B, step, total */
    unsigned long long seed;
    void *v;                    /* kernel, values: V */
    float lr;
    void *p[32];                /* kernel: the pointers (an LSTM cell's step kernel has 17) */
    void *dst;
    const void *src;
    size_t n;
    unsigned char val;
    void (*host)(void *);       /* OP_HOST: the fake cuBLAS's work, on a copy of its arguments */
    void *ctx;
    size_t ctxn;
} Op;
typedef struct EmuGraph { Op *ops; int n, cap; } EmuGraph;
static EmuGraph *rec;           /* the graph being captured, NULL when none */
static void *rec_stream;
static int rec_invalid;
static long long n_captured, n_captured_ops, n_graph_launches, n_replayed_ops;

static int capturing(void *s) { return rec && s == rec_stream; }
/* a call THREAD_LOCAL capture forbids: invalidates the capture */
static int forbidden(void) {
    if (!rec)
        return 0;
    rec_invalid = 1;
    return 900;                 /* CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED */
}
static Op *record(int kind) {
    if (rec->n == rec->cap) {
        rec->cap = rec->cap ? 2 * rec->cap : 64;
        Op *o = realloc(rec->ops, (size_t)rec->cap * sizeof *o);
        if (!o)
            abort();
        rec->ops = o;
    }
    Op *o = &rec->ops[rec->n++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}
/* Whether stream is being captured (the fake cuBLAS's NNC_EMU_BLAS_NO_CAPTURE: a library that
 * refuses to be captured, for the runtime's fallback). */
int nnc_emu_capturing(void *stream) { return capturing(stream); }
/* For the fake cuBLAS and cuBLASLt: run fn(ctx) now, or, while stream is being captured, record
 * it with a copy of ctx (n bytes) for the graph's launches. */
int nnc_emu_enqueue(void *stream, void (*fn)(void *), const void *ctx, size_t n) {
    if (!is_stream(stream))
        return 1;
    if (!capturing(stream)) {
        fn((void *)ctx);
        return 0;
    }
    Op *o = record(OP_HOST);
    o->host = fn;
    o->ctx = malloc(n ? n : 1);
    if (!o->ctx)
        return 2;
    memcpy(o->ctx, ctx, n);
    o->ctxn = n;
    return 0;
}

static void stats(void) {
    fprintf(stderr, "emu: %lld device allocations, %lld bytes; HtoD %lld bytes (%lld async), DtoH %lld bytes; "
            "graphs: %lld captured (%lld operations), %lld launched (%lld operations replayed)\n",
            n_alloc, alloc_bytes, htod_bytes, n_htod_async, dtoh_bytes, n_captured, n_captured_ops, n_graph_launches,
            n_replayed_ops);
}
__attribute__((constructor)) static void init(void) {
    if (getenv("NNC_EMU_STATS"))
        atexit(stats);
}

CUresult cuInit(unsigned f) { (void)f; return 0; }
static int ndevices(void) {
    const char *e = getenv("NNC_EMU_DEVICES");
    int n = e ? atoi(e) : 1;
    return n > 0 && n <= 16 ? n : 1;
}
static int current = -1;        /* the device of the current context */
int nnc_emu_current_device(void) { return current; }
CUresult cuDeviceGetCount(int *n) { *n = ndevices(); return 0; }
CUresult cuDeviceGet(int *d, int i) { *d = i; return i >= 0 && i < ndevices() ? 0 : 101; }
CUresult cuDeviceGetAttribute(int *v, int attr, int d) { (void)d; *v = attr == 75 ? 8 : 0; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) { (void)d; snprintf(s, (size_t)n, "nnc emulator"); return 0; }
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { *c = (void *)(intptr_t)(d + 1); return 0; }
CUresult cuCtxSetCurrent(void *c) { current = (int)(intptr_t)c - 1; return 0; }
CUresult cuCtxSynchronize(void) {
    if (rec)
        return forbidden();
    land();
    return 0;
}
CUresult cuModuleLoadDataEx(void **m, const void *image, unsigned n, int *o, void **v) {
    (void)n, (void)o, (void)v;
    if (!image || !strstr((const char *)image, ".entry"))
        return 200;             /* CUDA_ERROR_INVALID_IMAGE: the PTX must still be there */
    const char *path = getenv("NNC_EMU_KERNELS");
    lib = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!lib) {
        fprintf(stderr, "fake libcuda: NNC_EMU_KERNELS: %s\n", path ? dlerror() : "not set");
        return 200;
    }
    *m = lib;
    return 0;
}
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
    void *p = dlsym(m, name);
    if (!p)
        return 500;             /* CUDA_ERROR_NOT_FOUND */
    Fn *fn = malloc(sizeof *fn);
    fn->p = p;
    fn->values = strstr(name, "_values") != NULL;
    *f = fn;
    return 0;
}
CUresult cuModuleGetGlobal_v2(CUdeviceptr *d, size_t *n, void *m, const char *name) {
    void *p = dlsym(m, name);
    if (!p)
        return 500;
    *d = (CUdeviceptr)(uintptr_t)p;
    *n = 0;
    return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *d, size_t n) {
    if (rec)
        return forbidden();
    void *p = aligned_alloc(256, (n + 255) / 256 * 256);
    if (!p)
        return 2;
    memset(p, 0xcc, n);         /* not zeroed, like device memory: a kernel that reads before writing shows */
    *d = (CUdeviceptr)(uintptr_t)p;
    n_alloc++, alloc_bytes += (long long)n;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr d) {
    if (rec)
        return forbidden();
    free((void *)(uintptr_t)d);
    return 0;
}
static void htod(CUdeviceptr d, const void *s, size_t n) {
    memcpy((void *)(uintptr_t)d, s, n);
    htod_bytes += (long long)n;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
    if (rec)
        return forbidden();
    memcpy((void *)(uintptr_t)d, s, n);
    htod_bytes += (long long)n;
    return 0;
}
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) {
    if (rec)
        return forbidden();
    memcpy(d, (void *)(uintptr_t)s, n);
    dtoh_bytes += (long long)n;
    return 0;
}
CUresult cuMemHostAlloc(void **p, size_t n, unsigned flags) {
    (void)flags;
    if (rec)
        return forbidden();
    if (npinned == 64)
        return 2;
    *p = calloc(1, n);
    if (!*p)
        return 2;
    pinned[npinned].p = *p, pinned[npinned++].n = n;
    n_alloc++, alloc_bytes += (long long)n;
    return 0;
}
CUresult cuMemFreeHost(void *p) {
    if (rec)
        return forbidden();
    for (int i = 0; i < npinned; i++)
        if (pinned[i].p == p) {
            pinned[i].p = NULL;
            free(p);
            return 0;
        }
    return 1;
}
CUresult cuStreamCreate(void **s, unsigned flags) {
    (void)flags;
    if (nstreams == 8)
        return 2;
    *s = &streams[nstreams++];
    return 0;
}
CUresult cuStreamSynchronize(void *s) {
    if (!is_stream(s))
        return 400;             /* CUDA_ERROR_INVALID_HANDLE */
    if (rec)
        return forbidden();
    land();
    return 0;
}
CUresult cuEventCreate(void **e, unsigned flags) { (void)flags; *e = malloc(1); return 0; }
/* (events on a capturing stream are not emulated: the runtime records none there) */
CUresult cuEventRecord(void *e, void *s) { return !e || !is_stream(s) ? 400 : capturing(s) ? forbidden() : 0; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned flags) {
    (void)flags;
    return !e || !is_stream(s) ? 400 : capturing(s) ? forbidden() : 0;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) {
    if (!is_stream(st) || !is_pinned(s, n))
        return 1;               /* CUDA_ERROR_INVALID_VALUE: the emulator's rule, see above */
    if (capturing(st)) {        /* the host bytes as they are when the graph runs */
        Op *o = record(OP_HTOD);
        o->dst = (void *)(uintptr_t)d, o->src = s, o->n = n;
        return 0;
    }
    n_htod_async++;
    htod(d, s, n);
    return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) {
    if (!is_stream(st) || !is_pinned(d, n))
        return 1;
    if (capturing(st)) {
        Op *o = record(OP_DTOH);
        o->dst = d, o->src = (const void *)(uintptr_t)s, o->n = n;
        return 0;
    }
    if (nqueued == 256)
        land();                 /* (a real stream has no such limit: land early rather than fail) */
    void *b = malloc(n ? n : 1);
    if (!b)
        return 2;
    memcpy(b, (void *)(uintptr_t)s, n);
    queued[nqueued].dst = d, queued[nqueued].bytes = b, queued[nqueued++].n = n;
    dtoh_bytes += (long long)n;
    return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) {
    if (!is_stream(st))
        return 1;
    if (capturing(st)) {
        Op *o = record(OP_DTOD);
        o->dst = (void *)(uintptr_t)d, o->src = (const void *)(uintptr_t)s, o->n = n;
        return 0;
    }
    memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
    return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void *st) {
    if (!is_stream(st))
        return 1;
    if (capturing(st)) {
        Op *o = record(OP_MEMSET);
        o->dst = (void *)(uintptr_t)d, o->val = v, o->n = n;
        return 0;
    }
    memset((void *)(uintptr_t)d, v, n);
    return 0;
}
CUresult cuMemGetInfo_v2(size_t *fr, size_t *tot) { *fr = (size_t)1 << 30, *tot = (size_t)1 << 32; return 0; }
CUresult cuMemcpyDtoD_v2(CUdeviceptr d, CUdeviceptr s, size_t n) {
    if (rec)
        return forbidden();
    memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
    return 0;
}
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) {
    if (rec)
        return forbidden();
    memset((void *)(uintptr_t)d, v, n);
    return 0;
}

typedef void (*Kern)(long long, unsigned long long, const void *, void *, void *, void *, void *, void *, void *, void *,
                     void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *,
                     void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *, void *);
typedef void (*Vals)(long long, unsigned long long, void *, float, long long, long long);

static void run_op(const Op *o) {
    switch (o->kind) {
    case OP_VALUES:
        ((Vals)o->fn->p)(o->b, o->seed, o->v, o->lr, o->x, o->y);
        break;
    case OP_KERNEL:
        ((Kern)o->fn->p)(o->b, o->seed, o->v, o->p[0], o->p[1], o->p[2], o->p[3], o->p[4], o->p[5], o->p[6], o->p[7],
                         o->p[8], o->p[9], o->p[10], o->p[11], o->p[12], o->p[13], o->p[14], o->p[15], o->p[16],
                         o->p[17], o->p[18], o->p[19], o->p[20], o->p[21], o->p[22], o->p[23], o->p[24], o->p[25],
                         o->p[26], o->p[27], o->p[28], o->p[29], o->p[30], o->p[31]);
        break;
    case OP_MEMSET: memset(o->dst, o->val, o->n); break;
    case OP_DTOD: memmove(o->dst, o->src, o->n); break;
    case OP_HTOD:
        n_htod_async++;
        htod((CUdeviceptr)(uintptr_t)o->dst, o->src, o->n);
        break;
    case OP_DTOH: {             /* lands at the next synchronize, as an uncaptured one */
        if (nqueued == 256)
            land();
        void *b = malloc(o->n ? o->n : 1);
        if (!b)
            abort();
        memcpy(b, o->src, o->n);
        queued[nqueued].dst = o->dst, queued[nqueued].bytes = b, queued[nqueued++].n = o->n;
        dtoh_bytes += (long long)o->n;
        break;
    }
    case OP_HOST: o->host(o->ctx); break;
    }
}

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **args, void **extra) {
    (void)gx, (void)gy, (void)gz, (void)by, (void)bz, (void)shared, (void)extra;
    Fn *fn = f;
    if (bx == 0 || bx > 1024 || !is_stream(stream))
        return 1;
    /* the parameters are copied at the launch (or its capture), as the driver does */
    Op op = {0}, *o = capturing(stream) ? record(OP_KERNEL) : &op;
    o->fn = fn;
    o->b = *(long long *)args[0], o->seed = *(unsigned long long *)args[1], o->v = *(void **)args[2];
    if (fn->values) {
        o->kind = OP_VALUES;
        o->lr = *(float *)args[3], o->x = *(long long *)args[4], o->y = *(long long *)args[5];
    } else {
        o->kind = OP_KERNEL;
        for (int i = 0; i < 32; i++)    /* runtime/cuda.c's args array has room for 64 */
            o->p[i] = *(void **)args[3 + i];
    }
    if (o == &op)
        run_op(o);
    return 0;
}

CUresult cuStreamBeginCapture_v2(void *s, int mode) {
    if (!is_stream(s) || mode < 0 || mode > 2)
        return 1;
    if (rec)
        return 401;             /* CUDA_ERROR_ILLEGAL_STATE: one capture at a time here */
    if (getenv("NNC_EMU_NO_GRAPHS"))
        return 801;             /* CUDA_ERROR_NOT_SUPPORTED: a driver without capture, for the fallback */
    rec = calloc(1, sizeof *rec);
    if (!rec)
        return 2;
    rec_stream = s, rec_invalid = 0;
    return 0;
}
static void free_graph(EmuGraph *g) {
    for (int i = 0; g && i < g->n; i++)
        free(g->ops[i].ctx);
    if (g)
        free(g->ops);
    free(g);
}
CUresult cuStreamEndCapture(void *s, void **graph) {
    if (!rec || s != rec_stream)
        return 401;
    EmuGraph *g = rec;
    rec = NULL, rec_stream = NULL;
    *graph = NULL;
    if (rec_invalid) {
        free_graph(g);
        return 901;             /* CUDA_ERROR_STREAM_CAPTURE_INVALIDATED */
    }
    n_captured++, n_captured_ops += g->n;
    *graph = g;
    return 0;
}
CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags) {
    EmuGraph *g = graph, *x = calloc(1, sizeof *x);
    if (!g || flags || !x)
        return 1;
    x->n = x->cap = g->n;
    x->ops = malloc((size_t)(g->n ? g->n : 1) * sizeof *x->ops);
    if (!x->ops)
        return 2;
    for (int i = 0; i < g->n; i++) {
        x->ops[i] = g->ops[i];
        if (g->ops[i].ctx) {    /* the exec is independent of its graph, which may be destroyed */
            x->ops[i].ctx = malloc(g->ops[i].ctxn);
            if (!x->ops[i].ctx)
                return 2;
            memcpy(x->ops[i].ctx, g->ops[i].ctx, g->ops[i].ctxn);
        }
    }
    *exec = x;
    return 0;
}
CUresult cuGraphLaunch(void *exec, void *s) {
    EmuGraph *x = exec;
    if (!x || !is_stream(s))
        return 1;
    if (rec)
        return forbidden();     /* (a graph launched into a capture is not emulated) */
    n_graph_launches++, n_replayed_ops += x->n;
    for (int i = 0; i < x->n; i++)
        run_op(&x->ops[i]);
    return 0;
}
CUresult cuGraphExecDestroy(void *exec) { free_graph(exec); return 0; }
CUresult cuGraphDestroy(void *graph) { free_graph(graph); return 0; }
CUresult cuGetErrorName(CUresult rc, const char **s) { *s = rc ? "CUDA_ERROR_EMULATED" : "CUDA_SUCCESS"; return 0; }
CUresult cuGetErrorString(CUresult rc, const char **s) { *s = rc ? "an error in the emulator" : "no error"; return 0; }
