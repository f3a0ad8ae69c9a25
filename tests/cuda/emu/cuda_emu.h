/* cuda_emu.h - the CUDA builtins the generated kernels use, for the host (tests/cuda/emu): the
 * source of `nnc --emit cuda` compiled by g++ with `-include cuda_emu.h -x c++` runs each launch as
 * one thread in one block, so every grid-stride and block-stride loop covers its whole range and a
 * block reduction is the thread's own sum. fake_driver.c calls the kernels in that library. */
#include <math.h>
#include <string.h>

#define NNC_EMU 1
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static

struct nnc_dim3 { unsigned x, y, z; };
static const nnc_dim3 blockIdx = {0, 0, 0}, threadIdx = {0, 0, 0}, blockDim = {1, 1, 1}, gridDim = {1, 1, 1};

static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline float __int_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static inline void __syncthreads(void) {}
template <typename T> static inline T __shfl_down_sync(unsigned, T v, int) { return v; }
static inline float atomicAdd(float *p, float v) { float o = *p; *p = o + v; return o; }
static inline int atomicAdd(int *p, int v) { int o = *p; *p = (int)((unsigned)o + (unsigned)v); return o; }
template <typename T> static inline T nnc_block_reduce(T v, T id) { (void)id; return v; }
