/* init.c - parameter and state initialisation from the descriptor's init records.
 *
 * Values come from nnc_rand_uniform(seed, stream = tensor index, i), so each tensor's initial
 * values depend only on the run's seed and the tensor's position, not on the order tensors are
 * initialised in or on the thread count. Normal draws use Box-Muller on the pair (2i, 2i+1).
 *   uniform(lo, hi)     lo + (hi - lo) u
 *   normal(mean, std)   mean + std z
 *   glorot_uniform      U(-l, l), l = sqrt(6 / (fan_in + fan_out))      (Glorot & Bengio 2010)
 *   glorot_normal       N(0, s),  s = sqrt(2 / (fan_in + fan_out))
 *   he_uniform          U(-l, l), l = sqrt(6 / fan_in)                  (He et al. 2015)
 *   he_normal           N(0, s),  s = sqrt(2 / fan_in)
 * A fan of 0 in the descriptor falls back to the shape: fan_out = last dim, fan_in = the rest.
 */
#include <math.h>
#include <string.h>

#include "rt.h"

static double draw_normal(uint64_t seed, uint64_t stream, int64_t i) {
    double u1 = nnc_rand_uniform(seed, stream, 2 * (uint64_t)i);
    double u2 = nnc_rand_uniform(seed, stream, 2 * (uint64_t)i + 1);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

int rt_init_tensor(RtCtx *c, const RtTensor *t, void *buf, uint64_t seed) {
    int64_t n = rt_numel(t, 1);
    double fin = (double)t->fan_in, fout = (double)t->fan_out;
    if (fin <= 0 || fout <= 0) {
        fout = t->rank ? (double)t->dim[t->rank - 1] : 1;
        fin = t->rank > 1 ? (double)n / fout : (double)n;
    }
    uint64_t stream = (uint64_t)t->index;
    for (int64_t i = 0; i < n; i++) {
        double v = 0;
        switch (t->init) {
        case INIT_NONE: case INIT_ZEROS: v = 0; break;
        case INIT_ONES: v = 1; break;
        case INIT_CONSTANT: v = t->init_a; break;
        case INIT_UNIFORM:
            v = t->init_a + (t->init_b - t->init_a) * nnc_rand_uniform(seed, stream, (uint64_t)i);
            break;
        case INIT_NORMAL: v = t->init_a + t->init_b * draw_normal(seed, stream, i); break;
        case INIT_GLOROT_UNIFORM: case INIT_HE_UNIFORM: {
            double l = t->init == INIT_HE_UNIFORM ? sqrt(6.0 / fin) : sqrt(6.0 / (fin + fout));
            v = -l + 2 * l * nnc_rand_uniform(seed, stream, (uint64_t)i);
            break;
        }
        case INIT_GLOROT_NORMAL: case INIT_HE_NORMAL: {
            double s = t->init == INIT_HE_NORMAL ? sqrt(2.0 / fin) : sqrt(2.0 / (fin + fout));
            v = s * draw_normal(seed, stream, i);
            break;
        }
        case INIT_LITERAL:
            if (t->nliteral != n)
                return rt_error(c, "descriptor: tensor '%s' has %lld literal values, expected %lld",
                                t->name, (long long)t->nliteral, (long long)n);
            v = t->literal[i];
            break;
        }
        switch (t->dtype) {
        case RT_F32: ((float *)buf)[i] = (float)v; break;
        case RT_I32: ((int32_t *)buf)[i] = (int32_t)v; break;
        case RT_BOOL: ((uint8_t *)buf)[i] = v != 0; break;
        }
    }
    return 0;
}
