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

# ---- course7's data sets (a separate generator, so the files above stay the same) ----
rng2 = np.random.default_rng(7)

# houses.csv: Auto-MPG-like regression, 4 features on very different scales (as in Keras'
# "basic regression" tutorial, which standardises them first): rooms ~ 1..8, area ~ 30..250 m^2,
# age ~ 0..100 years, distance ~ 0.5..30 km; price = a nonlinear mix + noise
n = 400
rooms = rng2.integers(1, 9, size=n).astype(np.float64)
area = rng2.uniform(30, 250, size=n)
age = rng2.uniform(0, 100, size=n)
dist = rng2.uniform(0.5, 30, size=n)
price = 50 + 20 * rooms + 1.5 * area - 0.8 * age - 40 * np.log(dist) + rng2.normal(0, 10, size=n)
with open(os.path.join(here, "houses.csv"), "w") as f:
    f.write("rooms,area,age,distance,price\n")
    for r in zip(rooms, area, age, dist, price):
        f.write("%d,%.2f,%.2f,%.3f,%.2f\n" % r)
feats = np.stack([rooms, area, age, dist], axis=1)
with open(os.path.join(here, "houses_stats.txt"), "w") as f:
    f.write("mean " + " ".join("%.4f" % v for v in feats.mean(0)) + "\n")
    f.write("std  " + " ".join("%.4f" % v for v in feats.std(0)) + "\n")

# outliers.csv: y = 2 x - 1 + N(0, 0.1), with 10% of the targets replaced by gross outliers
# (+-U(5, 15)): mean squared error chases them, the Huber loss does not
n = 200
x = rng2.uniform(-2, 2, size=n)
y = 2 * x - 1 + rng2.normal(0, 0.1, size=n)
bad = rng2.random(n) < 0.1
y[bad] += rng2.choice([-1, 1], size=bad.sum()) * rng2.uniform(5, 15, size=bad.sum())
with open(os.path.join(here, "outliers.csv"), "w") as f:
    f.write("x,y\n")
    for a, b in zip(x, y):
        f.write(f"{a:.5f},{b:.5f}\n")

# blobs3.csv: three Gaussian blobs in 2-d, the class as one-hot columns c0, c1, c2 (a
# categorical_crossentropy course example) and as an integer column `label`
n = 300
centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
cls = rng2.integers(0, 3, size=n)
x = centres[cls] + rng2.normal(0, 0.8, size=(n, 2))
with open(os.path.join(here, "blobs3.csv"), "w") as f:
    f.write("x1,x2,c0,c1,c2\n")
    for (a, b), c in zip(x, cls):
        oh = [1 if c == k else 0 for k in range(3)]
        f.write(f"{a:.5f},{b:.5f},{oh[0]},{oh[1]},{oh[2]}\n")

# imbalanced.csv: binary classification with 10% positives (a "class weights" course example):
# 4 features, positives shifted by 1.2 in every feature
n = 1000
yb = (rng2.random(n) < 0.1).astype(np.float64)
x = rng2.normal(0, 1, size=(n, 4)) + 1.2 * yb[:, None]
with open(os.path.join(here, "imbalanced.csv"), "w") as f:
    f.write("f1,f2,f3,f4,label\n")
    for r, c in zip(x, yb):
        f.write(",".join(f"{v:.4f}" for v in r) + f",{int(c)}\n")

# reviews.csv: bag-of-words sentiment: 8 token ids per review from a 40-word vocabulary, 0 is
# padding; words 1-5 are positive, 6-10 negative, 11-39 neutral; the label is 1 when the review
# has more positive than negative words (ties dropped)
rows = []
while len(rows) < 600:
    k = rng2.integers(3, 9)
    toks = rng2.integers(1, 40, size=k)
    pos = int(((toks >= 1) & (toks <= 5)).sum())
    neg = int(((toks >= 6) & (toks <= 10)).sum())
    if pos == neg:
        continue
    rows.append(list(toks) + [0] * (8 - k) + [1 if pos > neg else 0])
with open(os.path.join(here, "reviews.csv"), "w") as f:
    f.write(",".join(f"t{i}" for i in range(8)) + ",label\n")
    for r in rows:
        f.write(",".join(str(v) for v in r) + "\n")
