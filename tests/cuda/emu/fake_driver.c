/* fake_driver.c - libcuda.so.1 for tests/cuda/emu: the driver calls runtime/cuda.c makes, on host
 * memory. A "module" is the shared library $NNC_EMU_KERNELS (the model's CUDA source compiled for
 * the host with cuda_emu.h); a launch calls the kernel once (one thread, one block). Device 0 says
 * it is an sm_80. Not a CUDA implementation: just enough to run a schedule on the CPU. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef struct Fn { void *p; int values; } Fn;

static void *lib;

CUresult cuInit(unsigned f) { (void)f; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int i) { *d = i; return i == 0 ? 0 : 101; }
CUresult cuDeviceGetAttribute(int *v, int attr, int d) { (void)d; *v = attr == 75 ? 8 : 0; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) { (void)d; snprintf(s, (size_t)n, "nnc emulator"); return 0; }
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { (void)d; *c = (void *)1; return 0; }
CUresult cuCtxSetCurrent(void *c) { (void)c; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
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
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr d) { free((void *)(uintptr_t)d); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) { memcpy((void *)(uintptr_t)d, s, n); return 0; }
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) { memcpy(d, (void *)(uintptr_t)s, n); return 0; }
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
    if (bx == 0 || bx > 1024)
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
