"""make_data.py - the small synthetic data sets of examples/course/, deterministic (numpy, fixed
seeds): running it again rewrites the same files.

    /usr/bin/python3 examples/course/data/make_data.py
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2024)

# separable.csv: two linearly separable clouds (a margin of 0.5 around x1 + x2 = 0), label 0/1
pts = []
while len(pts) < 200:
    p = rng.uniform(-2, 2, size=2)
    s = p[0] + p[1]
    if abs(s) > 0.5:
        pts.append((p[0], p[1], 1 if s > 0 else 0))
with open(os.path.join(here, "separable.csv"), "w") as f:
    f.write("x1,x2,label\n")
    for a, b, c in pts:
        f.write(f"{a:.5f},{b:.5f},{c}\n")

# linear.csv: y = 3 x1 - 2 x2 + 1 + N(0, 0.1), x uniform in [-1, 1]
x = rng.uniform(-1, 1, size=(256, 2))
y = 3 * x[:, 0] - 2 * x[:, 1] + 1 + rng.normal(0, 0.1, size=256)
with open(os.path.join(here, "linear.csv"), "w") as f:
    f.write("x1,x2,y\n")
    for (a, b), c in zip(x, y):
        f.write(f"{a:.5f},{b:.5f},{c:.5f}\n")

# multi_x.npy, multi_y.npy: 3 features -> 2 targets, y0 = sin(x0) + x1, y1 = x0 * x2
x = rng.uniform(-1, 1, size=(512, 3)).astype(np.float32)
y = np.stack([np.sin(x[:, 0]) + x[:, 1], x[:, 0] * x[:, 2]], axis=1).astype(np.float32)
np.save(os.path.join(here, "multi_x.npy"), x)
np.save(os.path.join(here, "multi_y.npy"), y)

# pairs_x.npy, pairs_y.npy: siamese pairs of 8-d points from 4 Gaussian clusters;
# x[i] = [a, b] (2 x 8), y[i] = 1 when a and b come from the same cluster, else 0
centres = rng.normal(0, 1.5, size=(4, 8))
n = 1024
ca = rng.integers(0, 4, size=n)
same = rng.integers(0, 2, size=n)
cb = np.where(same == 1, ca, (ca + rng.integers(1, 4, size=n)) % 4)
a = centres[ca] + rng.normal(0, 0.5, size=(n, 8))
b = centres[cb] + rng.normal(0, 0.5, size=(n, 8))
np.save(os.path.join(here, "pairs_x.npy"), np.stack([a, b], axis=1).astype(np.float32))
np.save(os.path.join(here, "pairs_y.npy"), same.astype(np.float32))
