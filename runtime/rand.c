/* rand.c - nnc_rand_uniform, the one random-number function shared by the runtime, the interpreter
 * and generated code (runtime/nnc_abi.h). It must stay a pure function of its three arguments: the
 * interpreter and the llvm/cuda backends are tested against each other value for value.
 *
 * The exact formula (a CUDA kernel reimplements it, so do not change it):
 *
 *     mix(z):  z += 0x9E3779B97F4A7C15
 *              z  = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
 *              z  = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *              return z ^ (z >> 31)                  (splitmix64's step + finaliser, mod 2^64)
 *     key   = mix(seed ^ mix(stream))
 *     bits  = mix(key ^ i)
 *     value = (float)(bits >> 40) * 2^-24             (the top 24 bits: exact in f32, in [0, 1))
 *
 * Since mix is a bijection on 64-bit words, distinct i under one (seed, stream) never collide
 * before the 24-bit truncation.
 */
#include "rt.h"

/* The runtime's only copy of the mixer: util.c's shuffle generator and cli.c/train.c's seed
 * derivations call it as rt_mix64 (declared in rt.h). */
uint64_t rt_mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float nnc_rand_uniform(uint64_t seed, uint64_t stream, uint64_t i) {
    uint64_t key = rt_mix64(seed ^ rt_mix64(stream));
    uint64_t bits = rt_mix64(key ^ i);
    return (float)(bits >> 40) * (1.0f / 16777216.0f);
}
