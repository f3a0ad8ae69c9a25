/* intmath.h - checked 64-bit integer arithmetic for compile-time ints and dims.
 *
 * The checker (lang/types.c, dim arithmetic) and lowering (compiler/lower.c, folding of
 * compile-time ints) must agree on what an int expression means and on when it is an error, so
 * both use these helpers and never the raw C operators. Each returns false when the exact result
 * does not fit an int64 (INT64_MIN / -1, -INT64_MIN, a sum or product past 2^63) or when the
 * divisor is 0; the caller reports that at the expression. `%` is the floored remainder (its sign
 * follows the divisor, as in Python), and im_div is truncating division that also says whether
 * it was exact.
 */
#ifndef NNC_INTMATH_H
#define NNC_INTMATH_H

#include <stdbool.h>
#include <stdint.h>

static inline bool im_add(int64_t x, int64_t y, int64_t *r) { return !__builtin_add_overflow(x, y, r); }
static inline bool im_sub(int64_t x, int64_t y, int64_t *r) { return !__builtin_sub_overflow(x, y, r); }
static inline bool im_mul(int64_t x, int64_t y, int64_t *r) { return !__builtin_mul_overflow(x, y, r); }
static inline bool im_neg(int64_t x, int64_t *r) { return !__builtin_sub_overflow((int64_t)0, x, r); }

/* x / y truncated toward zero in *q, with *exact set when y divides x. False: y == 0, or the
 * quotient overflows (INT64_MIN / -1). */
static inline bool im_div(int64_t x, int64_t y, int64_t *q, bool *exact) {
    if (y == 0)
        return false;
    if (y == -1) {
        *exact = true;
        return im_neg(x, q);
    }
    *q = x / y;
    *exact = x % y == 0;
    return true;
}

/* Does y divide x exactly? (false for y == 0; never traps on INT64_MIN % -1) */
static inline bool im_divides(int64_t x, int64_t y) { return y != 0 && (y == -1 || x % y == 0); }

/* The floored remainder x mod y (the sign of y). False only for y == 0. */
static inline bool im_mod(int64_t x, int64_t y, int64_t *r) {
    if (y == 0)
        return false;
    if (y == -1) {
        *r = 0;
        return true;
    }
    int64_t m = x % y;
    if (m != 0 && ((m < 0) != (y < 0)))
        m += y;
    *r = m;
    return true;
}

/* x ** e for e >= 0 by squaring (O(log e) steps). False when the result overflows. */
static inline bool im_pow(int64_t x, int64_t e, int64_t *r) {
    int64_t acc = 1, base = x;
    bool base_ok = true;        /* base holds x^(2^k) exactly */
    while (e > 0) {
        if (e & 1) {
            if (!base_ok || !im_mul(acc, base, &acc))
                return false;
        }
        e >>= 1;
        if (e > 0 && base_ok)
            base_ok = im_mul(base, base, &base);
    }
    *r = acc;
    return true;
}

/* hi - lo for a loop's trip count: 0 when hi <= lo, else the exact count, saturated at
 * INT64_MAX (a loop from INT64_MIN to INT64_MAX has 2^64 - 1 trips). */
static inline int64_t im_trips(int64_t lo, int64_t hi) {
    if (hi <= lo)
        return 0;
    uint64_t d = (uint64_t)hi - (uint64_t)lo;
    return d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
}

#endif
