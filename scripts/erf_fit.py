"""scripts/erf_fit.py - the polynomials of erf in compiler/ir/ir_math.h.

Usage: /usr/bin/python3 scripts/erf_fit.py

Fits, by least squares on 2000 Chebyshev nodes with relative weights (references from mpmath at
40 digits), P(z) with erf(x) = x P(x^2) for |x| < 1 (degree 6 in z = x^2, on [0, 1]) and Q(t)
with erf(x) = 1 - e^(-x^2) Q(1/x) for 1 <= x <= 4 (degree 9 in t = 1/x, on [1/4, 1]), and prints
the coefficients as f32 literals, highest degree first (Horner order, as ir_math.h uses them).
The errors of the f32 evaluation are measured by tests/ir/ir_math.c (build/rel/ir_math 1 sweeps
every f32 input).
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40


def fit(f, a, b, deg, nodes=2000):
    k = np.arange(nodes)
    v = (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / nodes)
    y = np.array([float(f(mpmath.mpf(float(t)))) for t in v])
    w = 1 / np.abs(y)
    c, *_ = np.linalg.lstsq(np.vander(v, deg + 1) * w[:, None], y * w, rcond=None)
    return c


def erf_over_x(z):
    return mpmath.erf(mpmath.sqrt(z)) / mpmath.sqrt(z) if z > 0 else 2 / mpmath.sqrt(mpmath.pi)


def erfc_scaled(t):
    return mpmath.erfc(1 / t) * mpmath.exp(1 / t**2)


for name, c in (("P (|x| < 1, in x^2)", fit(erf_over_x, 0.0, 1.0, 6)),
                ("Q (1 <= |x| <= 4, in 1/|x|)", fit(erfc_scaled, 0.25, 1.0, 9))):
    print(name)
    for x in c:
        print("    %.9ef" % np.float32(x))
