import numpy as np, mpmath
mpmath.mp.dps = 40
def fit(f, a, b, deg, var):
    # least squares, relative weight, on Chebyshev nodes of [a,b] in the variable var
    k = np.arange(2000)
    u = np.cos(np.pi*(k+0.5)/2000)
    v = (a+b)/2 + (b-a)/2*u
    y = np.array([float(f(mpmath.mpf(float(t)))) for t in v])
    A = np.vander(v, deg+1)  # highest first
    w = 1/np.abs(y)
    c, *_ = np.linalg.lstsq(A*w[:,None], y*w, rcond=None)
    return c
def horner32(c, v):
    r = np.float32(c[0])*np.ones_like(v)
    for cc in c[1:]:
        r = (r*v).astype(np.float32) + np.float32(cc)
        r = r.astype(np.float32)
    return r
# small: erf(x)/x as P(x^2), x in [0,1]
small = fit(lambda z: mpmath.erf(mpmath.sqrt(z))/mpmath.sqrt(z) if z>0 else 2/mpmath.sqrt(mpmath.pi), 0.0, 1.0, 6, 'z')
# large: erfc(x) exp(x^2) as Q(1/x), x in [1,4]
large = fit(lambda t: mpmath.erfc(1/t)*mpmath.exp(1/t**2), 0.25, 1.0, 9, 't')
print("small", [float(np.float32(c)) for c in small])
print("large", [float(np.float32(c)) for c in large])
np.save('coef.npy', np.array([small, np.concatenate([large])], dtype=object), allow_pickle=True)
for c in small: print('%.9ef,' % np.float32(c))
print()
for c in large: print('%.9ef,' % np.float32(c))
