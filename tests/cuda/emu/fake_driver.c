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
 * count (NNC_CUDA_STATS). */
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
static void stats(void) {
    fprintf(stderr, "emu: %lld device allocations, %lld bytes; HtoD %lld bytes (%lld async), DtoH %lld bytes\n",
            n_alloc, alloc_bytes, htod_bytes, n_htod_async, dtoh_bytes);
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
CUresult cuCtxSynchronize(void) { land(); return 0; }
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
    void *p = aligned_alloc(256, (n + 255) / 256 * 256);
    if (!p)
        return 2;
    memset(p, 0xcc, n);         /* not zeroed, like device memory: a kernel that reads before writing shows */
    *d = (CUdeviceptr)(uintptr_t)p;
    n_alloc++, alloc_bytes += (long long)n;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr d) { free((void *)(uintptr_t)d); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
    memcpy((void *)(uintptr_t)d, s, n);
    htod_bytes += (long long)n;
    return 0;
}
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) {
    memcpy(d, (void *)(uintptr_t)s, n);
    dtoh_bytes += (long long)n;
    return 0;
}
CUresult cuMemHostAlloc(void **p, size_t n, unsigned flags) {
    (void)flags;
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
    land();
    return 0;
}
CUresult cuEventCreate(void **e, unsigned flags) { (void)flags; *e = malloc(1); return 0; }
CUresult cuEventRecord(void *e, void *s) { return e && is_stream(s) ? 0 : 400; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned flags) { (void)flags; return e && is_stream(s) ? 0 : 400; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) {
    if (!is_stream(st) || !is_pinned(s, n))
        return 1;               /* CUDA_ERROR_INVALID_VALUE: the emulator's rule, see above */
    n_htod_async++;
    return cuMemcpyHtoD_v2(d, s, n);
}
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, void *st) {
    if (!is_stream(st) || !is_pinned(d, n))
        return 1;
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
    memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
    return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void *st) {
    if (!is_stream(st))
        return 1;
    memset((void *)(uintptr_t)d, v, n);
    return 0;
}
CUresult cuMemGetInfo_v2(size_t *fr, size_t *tot) { *fr = (size_t)1 << 30, *tot = (size_t)1 << 32; return 0; }
CUresult cuMemcpyDtoD_v2(CUdeviceptr d, CUdeviceptr s, size_t n) {
    memmove((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
    return 0;
}
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { memset((void *)(uintptr_t)d, v, n); return 0; }

typedef void (*Kern)(long long, unsigned long long, const void *, void *, void *, void *, void *, void *, void *, void *,
                     void *, void *, void *, void *, void *, void *, void *, void *, void *);
typedef void (*Vals)(long long, unsigned long long, void *, float, long long, long long);

CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **args, void **extra) {
    (void)gx, (void)gy, (void)gz, (void)by, (void)bz, (void)shared, (void)stream, (void)extra;
    Fn *fn = f;
    if (bx == 0 || bx > 1024 || !is_stream(stream))
        return 1;
    if (fn->values) {
        ((Vals)fn->p)(*(long long *)args[0], *(unsigned long long *)args[1], *(void **)args[2], *(float *)args[3],
                      *(long long *)args[4], *(long long *)args[5]);
        return 0;
    }
    /* every kernel: (B, seed, V, pointers...); runtime/cuda.c's args array has room for 64 */
    void *p[16];
    for (int i = 0; i < 16; i++)
        p[i] = *(void **)args[3 + i];
    ((Kern)fn->p)(*(long long *)args[0], *(unsigned long long *)args[1], *(void **)args[2], p[0], p[1], p[2], p[3],
                  p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
    return 0;
}
CUresult cuGetErrorName(CUresult rc, const char **s) { *s = rc ? "CUDA_ERROR_EMULATED" : "CUDA_SUCCESS"; return 0; }
CUresult cuGetErrorString(CUresult rc, const char **s) { *s = rc ? "an error in the emulator" : "no error"; return 0; }
