/* cuda.h - the NVIDIA GPU backend: renders planned kernel IR (kernel.h) as CUDA C (one
 * __global__ function per distinct kernel), compiles it to PTX with NVRTC (opened with dlopen at
 * nnc time) for each --gpu-arch, and writes a C file holding the descriptor, the PTX and the host
 * schedule (the kernel launches, cuBLAS calls and copies of each graph, with their buffers as
 * workspace offsets polynomial in B). That C file, linked with libnnc_rt.a, is the executable;
 * runtime/cuda.c interprets the schedule on the device. docs/backend-cuda.md is the reference. */
#ifndef NNC_CUDA_H
#define NNC_CUDA_H

#include <stdio.h>

#include "backend.h"
#include "diag.h"
#include "kernel.h"

/* The CUDA C source of km on out (nnc --emit cuda): the kernels, then the schedule as a comment. */
void cuda_print_source(FILE *out, const KModule *km);

/* The CUDA C source and the schedule text, in the arena. */
const char *cuda_source(Arena *a, const KModule *km);
const char *cuda_schedule(Arena *a, const KModule *km);

/* NVRTC: src compiled to PTX for arch ("sm_80"); NULL after a diagnostic (NVRTC missing, its
 * log when compilation fails). */
const char *cuda_nvrtc_ptx(Arena *a, Diag *d, const char *src, const char *arch, int verbose);

/* The comma-separated --gpu-arch list checked: each sm_NN with NN >= 50; NULL = the default
 * "sm_80,sm_90". Returns the count and fills archs (at most 8); -1 after a diagnostic. */
int cuda_parse_archs(Arena *a, Diag *d, const char *list, const char **archs);

/* km stores activations in bf16 (--precision bf16, plan.c); -1 after a diagnostic when one of
 * the n architectures is older than sm_80 and km does (its conversions need sm_80). */
bool cuda_module_bf16(const KModule *km);
int cuda_check_bf16_archs(Diag *d, const KModule *km, const char *const *archs, int n);

/* Backend entry: o->output gets the C file of the executable (descriptor, PTX per arch, schedule,
 * entry points), o->gpu_arch the architectures. With kind BACKEND_OUT_TEXT: the CUDA source. */
int cuda_emit(const KModule *km, const BackendOptions *o, Diag *d);

extern const Backend backend_cuda;

#endif
