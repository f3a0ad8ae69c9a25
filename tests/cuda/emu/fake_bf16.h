/* fake_bf16.h - for tests/cuda/emu's cuBLAS and cuBLASLt: a copy of a column-major f32 matrix
 * (rows x cols, leading dimension ld) with every element rounded to bfloat16 (round to nearest
 * even, NaN kept), what a tensor core reads under CUBLAS_COMPUTE_32F_FAST_16BF. NULL: no memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline float bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) != 0x7f800000u)
        u += 0x7fffu + ((u >> 16) & 1u);
    else if (u & 0x007fffffu)
        u |= 0x00400000u;       /* a NaN stays a NaN (quiet) */
    u &= 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

static inline float *bf16_copy(const float *a, int rows, int cols, int ld) {
    size_t n = cols > 0 && rows > 0 ? (size_t)ld * (size_t)(cols - 1) + (size_t)rows : 1;
    float *r = malloc(n * sizeof *r);
    if (!r)
        return NULL;
    memcpy(r, a, n * sizeof *r);
    for (int j = 0; j < cols; j++)
        for (int i = 0; i < rows; i++)
            r[(size_t)j * (size_t)ld + (size_t)i] = bf16_round(a[(size_t)j * (size_t)ld + (size_t)i]);
    return r;
}
