"""make_data3.py - the synthetic data sets of the third batch of course programs in examples/course/
(padded_lstm, matrix_factorization, skipgram, weight_decay), deterministic (numpy, fixed seeds):
running it again rewrites the same files. A separate generator, so the earlier files stay the same.

    /usr/bin/python3 examples/course/data/make_data3.py
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(11)


def write(name, header, rows, fmt):
    with open(os.path.join(here, name), "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(fmt(v) for v in r) + "\n")


# padded.csv: sequences of 2..12 token ids (1..20), padded with 0 at the end to 12; the label is 1
# when the last real token is above 10 ("the last word decides"), so a recurrent layer must read
# each sequence up to its own end: with the padding masked its final state is there
T = 12
rows = []
for _ in range(2000):
    n = int(rng.integers(2, T + 1))
    ids = list(rng.integers(1, 21, n)) + [0] * (T - n)
    rows.append(ids + [int(ids[n - 1] > 10)])
write("padded.csv", [f"t{i}" for i in range(T)] + ["label"], rows, str)

# ratings.csv: a recommender's ratings (d2l 21.3, matrix factorisation): 60 users, 40 items,
# rating = 3 + u . v (rank 3) + user bias + item bias + N(0, 0.25), rounded to 0.1 and clipped to
# [1, 5]; 1600 of the 2400 pairs observed
U, I, R = 60, 40, 3
pu, qi = rng.normal(0, 0.6, (U, R)), rng.normal(0, 0.6, (I, R))
bu, bi = rng.normal(0, 0.3, U), rng.normal(0, 0.3, I)
pairs = rng.permutation(U * I)[:1600]
rows = []
for p in pairs:
    u, i = divmod(int(p), I)
    r = 3 + pu[u] @ qi[i] + bu[u] + bi[i] + rng.normal(0, 0.25)
    rows.append((u, i, round(float(np.clip(r, 1, 5)), 1)))
write("ratings.csv", ["user", "item", "rating"], rows, str)

# skipgram.csv: word2vec's skip-gram with negative sampling (d2l 15.1-15.4) on a corpus of 4
# topics of 10 words each (ids 1..40, topic = (id - 1) // 10): each sentence of 8 words is drawn
# from one topic; every (centre, context) pair within a window of 2 is a positive (label 1), and
# for each positive two context words drawn uniformly from all 40 are negatives (label 0)
rows = []
for _ in range(300):
    topic = int(rng.integers(0, 4))
    s = 1 + 10 * topic + rng.integers(0, 10, 8)
    for c in range(8):
        for o in range(max(0, c - 2), min(8, c + 3)):
            if o == c:
                continue
            rows.append((int(s[c]), int(s[o]), 1))
            for _ in range(2):
                rows.append((int(s[c]), int(rng.integers(1, 41)), 0))
rows = [rows[i] for i in rng.permutation(len(rows))]
write("skipgram.csv", ["centre", "context", "label"], rows, str)

# wd_train.csv, wd_test.csv: d2l's weight-decay experiment (3.7): 200 inputs, 20 training and 100
# test samples, y = 0.05 + sum(0.01 x_i) + N(0, 0.01)
D = 200
w_true = np.full(D, 0.01)
for name, n in (("wd_train.csv", 20), ("wd_test.csv", 100)):
    x = rng.normal(0, 1, (n, D))
    y = x @ w_true + 0.05 + rng.normal(0, 0.01, n)
    write(name, [f"x{i}" for i in range(D)] + ["y"], np.column_stack([x, y]), lambda v: f"{v:.5f}")

# poly_train.csv, poly_test.csv: d2l's polynomial regression (3.6 "Generalization", 4.4 in the
# first edition): x ~ N(0, 1), y = 5 + 1.2 x - 3.4 x^2 / 2! + 5.6 x^3 / 3! + N(0, 0.1), 100 samples
# each
for name in ("poly_train.csv", "poly_test.csv"):
    x = rng.normal(0, 1, 100)
    y = 5 + 1.2 * x - 3.4 * x ** 2 / 2 + 5.6 * x ** 3 / 6 + rng.normal(0, 0.1, 100)
    write(name, ["x", "y"], np.column_stack([x, y]), lambda v: f"{v:.6f}")
