"""make_data2.py - the synthetic data sets of the second batch of course programs in examples/course/
(sine_lstm, conv1d_signals, sentiment_gru, keras_sequential), deterministic (numpy, fixed seeds):
running it again rewrites the same files. A separate generator, so make_data.py's files stay the same.

    /usr/bin/python3 examples/course/data/make_data2.py
"""
import os
import numpy as np

import negation

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)

# sine.csv: next-value regression on a noisy sine wave, the classic "predict the next point"
# LSTM example: 20 past values x0..x19 of sin(0.3 t + phase) * amp + N(0, 0.02), and y the next one
T = 20
rows = []
for _ in range(1000):
    phase, amp = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 1.5)
    t = np.arange(T + 1)
    s = amp * np.sin(0.3 * t + phase) + rng.normal(0, 0.02, T + 1)
    rows.append(s)
with open(os.path.join(here, "sine.csv"), "w") as f:
    f.write(",".join(f"x{i}" for i in range(T)) + ",y\n")
    for s in rows:
        f.write(",".join(f"{v:.5f}" for v in s) + "\n")

# signals.csv: 1-D sequence classification for a conv1d network: 64 samples of noise N(0, 0.2)
# holding one pattern at a random place: class 0 a rising ramp, 1 a falling ramp, 2 a bump
# (a triangle up and down), each 8 samples long, height 1
L, K = 64, 8
pats = [np.linspace(0, 1, K), np.linspace(1, 0, K), np.concatenate([np.linspace(0, 1, K // 2), np.linspace(1, 0, K // 2)])]
with open(os.path.join(here, "signals.csv"), "w") as f:
    f.write(",".join(f"s{i}" for i in range(L)) + ",label\n")
    for _ in range(3000):
        c = int(rng.integers(0, 3))
        x = rng.normal(0, 0.2, L)
        at = int(rng.integers(0, L - K + 1))
        x[at:at + K] += pats[c]
        f.write(",".join(f"{v:.4f}" for v in x) + f",{c}\n")

# negation.csv: sentiment where word order matters (a recurrent network's example, which a bag
# of words cannot solve): 12 token ids per review, 0 pads at the end; words 1-4 are positive,
# 5-8 negative, 9 is "not", which flips the sentiment word right after it, 10-29 neutral. A review
# holds one sentiment word (perhaps after "not") among neutral ones, and "not" also appears
# before neutral words, so the count of "not" says nothing: label 1 when the review is positive.
with open(os.path.join(here, "negation.csv"), "w") as f:
    f.write(",".join(f"t{i}" for i in range(12)) + ",label\n")
    for _ in range(2000):
        r = negation.review(rng)
        if r is not None:
            f.write(",".join(str(int(w)) for w in r[0]) + f",{r[1]}\n")

# diabetes.csv: a Pima-diabetes-like tabular binary classification (the Keras "first neural
# network" tutorial's shape): 8 features on different scales, the label from a logistic model
# of a nonlinear mix, so about 75-80% accuracy is reachable
n = 1000
preg = rng.poisson(3, n)
gluc = rng.normal(120, 30, n)
bp = rng.normal(70, 12, n)
skin = rng.normal(25, 10, n).clip(0)
ins = rng.gamma(2, 50, n)
bmi = rng.normal(32, 7, n)
ped = rng.gamma(2, 0.25, n)
age = (21 + rng.gamma(2, 6, n)).round()
z = 0.04 * (gluc - 120) + 0.09 * (bmi - 32) + 0.8 * (ped - 0.5) + 0.03 * (age - 33) + 0.1 * (preg - 3) - 0.5
p = 1 / (1 + np.exp(-1.5 * z))
y = (rng.uniform(0, 1, n) < p).astype(int)
with open(os.path.join(here, "diabetes.csv"), "w") as f:
    f.write("pregnancies,glucose,pressure,skin,insulin,bmi,pedigree,age,outcome\n")
    for r in zip(preg, gluc, bp, skin, ins, bmi, ped, age, y):
        f.write("%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.3f,%d,%d\n" % r)
m = np.stack([preg, gluc, bp, skin, ins, bmi, ped, age], 1)
with open(os.path.join(here, "diabetes_stats.txt"), "w") as f:
    f.write("mean " + " ".join("%.4f" % v for v in m.mean(0)) + "\n")
    f.write("std " + " ".join("%.4f" % v for v in m.std(0)) + "\n")

# listings.csv: a multi-input regression (Keras' functional-API chapter: "a model with several
# inputs"): a short description as 6 token ids (0 pads; words 1-3 mean luxury, +40, words 4-6 mean
# needs work, -30, 7-19 are neutral), 3 numeric features (area m^2, rooms, age in years) and a
# district id 0-4 (a categorical feature: its own effect), all in one row; price in thousands
n = 1500
area = rng.uniform(30, 200, n)
rooms = np.clip((area / 30 + rng.normal(0, 1, n)).round(), 1, 8)
age = rng.uniform(0, 80, n)
district = rng.integers(0, 5, n)
d_effect = np.array([-40.0, -10.0, 0.0, 25.0, 60.0])
with open(os.path.join(here, "listings.csv"), "w") as f:
    f.write(",".join(f"w{i}" for i in range(6)) + ",area,rooms,age,district,price\n")
    for i in range(n):
        k = int(rng.integers(2, 7))
        words = list(rng.integers(7, 20, k))
        q = 0.0
        if rng.uniform() < 0.3:
            words[int(rng.integers(0, k))] = int(rng.integers(1, 4)); q += 40
        elif rng.uniform() < 0.4:
            words[int(rng.integers(0, k))] = int(rng.integers(4, 7)); q -= 30
        words = words + [0] * (6 - k)
        price = 2.0 * area[i] + 8 * rooms[i] - 0.8 * age[i] + d_effect[district[i]] + q + rng.normal(0, 10)
        f.write(",".join(str(int(w)) for w in words) +
                ",%.1f,%d,%.1f,%d,%.1f\n" % (area[i], rooms[i], age[i], district[i], price))
