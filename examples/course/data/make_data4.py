"""make_data4.py - the synthetic data sets of the fourth batch of course programs in examples/course/
(seq2seq_addition, multi_target_csv, kfold), deterministic (numpy, fixed seeds): running it again
rewrites the same files. A separate generator, so the earlier files stay the same.

    /usr/bin/python3 examples/course/data/make_data4.py
"""
import os
import numpy as np

import negation

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2024)


def write(name, header, rows, fmt):
    with open(os.path.join(here, name), "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(fmt(v) for v in r) + "\n")


# addition_x.npy / addition_y.npy: Keras' "sequence to sequence learning for performing number
# addition" (addition_rnn): the question "a+b" for a, b < 1000, right-padded with spaces to 7
# characters, and its answer padded to 4. Characters as ids: 0 = space, 1..10 = digits 0..9,
# 11 = "+". uint8 arrays [N, 7] and [N, 4] (read into the model's i32 input and target).
def ids(s):
    return [0 if c == " " else 11 if c == "+" else 1 + int(c) for c in s]


N = 20000
a, b = rng.integers(0, 1000, N), rng.integers(0, 1000, N)
x = np.array([ids(f"{p}+{q}".ljust(7)) for p, q in zip(a, b)], dtype=np.uint8)
y = np.array([ids(str(p + q).ljust(4)) for p, q in zip(a, b)], dtype=np.uint8)
np.save(os.path.join(here, "addition_x.npy"), x)
np.save(os.path.join(here, "addition_y.npy"), y)

# energy.csv: two regression targets from one table (the UCI "energy efficiency" shape: heating
# and cooling load from 6 building features on very different scales); the loads depend on the
# features nonlinearly, plus noise of std 0.5 each. new_buildings.csv: 5 more rows without loads,
# to predict.
def energy(n):
    area = rng.uniform(500, 800, n)
    height = rng.choice([3.5, 7.0], n)
    glazing = rng.uniform(0.0, 0.4, n)
    orient = rng.integers(2, 6, n).astype(float)
    wall = rng.uniform(250, 420, n)
    compact = rng.uniform(0.6, 1.0, n)
    heat = 0.02 * area + 2.5 * height + 30 * glazing + 10 * compact ** 2 - 0.01 * wall
    cool = 0.015 * area + 3.0 * height + 20 * glazing * compact + 0.5 * orient
    return np.stack([area, height, glazing, orient, wall, compact], 1), heat, cool


X, heat, cool = energy(768)
heat += rng.normal(0, 0.5, len(heat))
cool += rng.normal(0, 0.5, len(cool))
cols = ["area", "height", "glazing", "orientation", "wall", "compactness"]
write("energy.csv", cols + ["heating", "cooling"],
      np.column_stack([X, heat, cool]), lambda v: f"{v:.4f}")
Xn, _, _ = energy(5)
write("new_buildings.csv", cols, Xn, lambda v: f"{v:.4f}")
with open(os.path.join(here, "energy_stats.txt"), "w") as f:
    f.write("mean " + " ".join(f"{v:.6f}" for v in X.mean(0)) + "\n")
    f.write("std " + " ".join(f"{v:.6f}" for v in X.std(0)) + "\n")

# negation_large.csv: make_data2.py's negation.csv task (12 token ids, 0 pads at the end; words
# 1-4 positive, 5-8 negative, 9 "not" flipping the word right after it, 10-29 neutral) with 8000
# reviews: enough for a transformer, which must learn word order from its position embeddings.
with open(os.path.join(here, "negation_large.csv"), "w") as f:
    f.write(",".join(f"t{i}" for i in range(12)) + ",label\n")
    done = 0
    while done < 8000:
        r = negation.review(rng)
        if r is not None:
            f.write(",".join(str(int(w)) for w in r[0]) + f",{r[1]}\n")
            done += 1
