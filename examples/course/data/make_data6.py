"""make_data6.py - the synthetic data sets of the seventh batch of course programs in
examples/course/ (segmentation, tabular_anomaly, planar_flower, mdn), deterministic (numpy, fixed
seeds): running it again rewrites the same files. A separate generator, so the earlier files stay
the same.

    /usr/bin/python3 examples/course/data/make_data6.py
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(6)

# shapes_x.npy, shapes_y.npy: pixel classification (semantic segmentation), 800 noisy 20x20
# grey pictures (u8 pixels, scaled to [0, 1] when read; int8 classes) holding a filled square and a filled disc of random sizes and places (they may
# overlap: the disc is drawn last); the mask's classes per pixel: 0 background, 1 square, 2 disc.
# Both shapes have the same brightness, so a pixel's class depends on its neighbourhood's shape.
N, S = 800, 20
yy, xx = np.mgrid[0:S, 0:S]
X = np.zeros((N, S, S, 1), np.float32)
Y = np.zeros((N, S, S), np.int32)
for i in range(N):
    m = np.zeros((S, S), np.int32)
    a = rng.integers(4, 9)
    r0, c0 = rng.integers(0, S - a, 2)
    m[r0:r0 + a, c0:c0 + a] = 1
    rad = rng.uniform(2.5, 4.5)
    cr, cc = rng.uniform(rad, S - rad, 2)
    m[(yy - cr) ** 2 + (xx - cc) ** 2 <= rad * rad] = 2
    Y[i] = m
    X[i, :, :, 0] = (m > 0) * rng.uniform(0.6, 1.0) + rng.normal(0.0, 0.15, (S, S))
np.save(os.path.join(here, "shapes_x.npy"), np.round(np.clip(X, 0.0, 1.0) * 255).astype(np.uint8))
np.save(os.path.join(here, "shapes_y.npy"), Y.astype(np.int8))

# tabular_normal.csv / tabular_test.csv: anomaly detection with an autoencoder on tabular data (the
# Keras/TensorFlow "intro to autoencoders" ECG anomaly tutorial, credit-card-fraud notebooks):
# 12 features of normal transactions lie near a 3-dimensional nonlinear manifold plus noise;
# anomalies break the relations between the features. Training sees normal rows only; the test
# set holds 400 normal and 100 anomalous rows (tabular_test_anomaly.csv: 1 = anomalous).
def normal_rows(n):
    z = rng.normal(0.0, 1.0, (n, 3))
    f = np.column_stack([z[:, 0], z[:, 1], z[:, 2], z[:, 0] + z[:, 1], z[:, 0] - z[:, 2],
                         np.tanh(z[:, 1] * z[:, 2]), z[:, 0] ** 2 - 1, 0.5 * z[:, 1] + z[:, 2],
                         np.sin(z[:, 0]), z[:, 2] * 0.7 - z[:, 1] * 0.3, np.abs(z[:, 1]) - 0.8,
                         z[:, 0] * z[:, 1] * 0.5])
    return f + rng.normal(0.0, 0.05, f.shape)


def anomalous_rows(n):
    f = normal_rows(n)
    for r in f:   # three features replaced by values of the right scale but no relation
        idx = rng.choice(12, 3, replace=False)
        r[idx] = rng.normal(0.0, 1.2, 3)
    return f


train = normal_rows(3000)
test = np.vstack([normal_rows(400), anomalous_rows(100)])
lab = np.r_[np.zeros(400), np.ones(100)]
order = rng.permutation(500)
test, lab = test[order], lab[order]
hdr = ",".join("f%d" % i for i in range(12))
with open(os.path.join(here, "tabular_normal.csv"), "w") as f:
    f.write(hdr + "\n")
    for r in train:
        f.write(",".join("%.5f" % v for v in r) + "\n")
with open(os.path.join(here, "tabular_test.csv"), "w") as f:
    f.write(hdr + "\n")
    for r in test:
        f.write(",".join("%.5f" % v for v in r) + "\n")
with open(os.path.join(here, "tabular_test_anomaly.csv"), "w") as f:
    f.write("anomaly\n" + "".join("%d\n" % a for a in lab))

# flower.csv: Andrew Ng's "planar data classification with one hidden layer" (Deep Learning
# Specialization, course 1, week 3): planar_utils.load_planar_dataset's flower, as the course's
# code draws it (m = 400, a = 4 petals; np.random.seed(1) there, another generator here).
m, D, a = 400, 2, 4
Xf = np.zeros((m, D))
Yf = np.zeros(m, np.int32)
for j in range(2):
    ix = range(m // 2 * j, m // 2 * (j + 1))
    t = np.linspace(j * 3.12, (j + 1) * 3.12, m // 2) + rng.normal(0.0, 1.0, m // 2) * 0.2
    r = a * np.sin(4 * t) + rng.normal(0.0, 1.0, m // 2) * 0.2
    Xf[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
    Yf[ix] = j
with open(os.path.join(here, "flower.csv"), "w") as f:
    f.write("x1,x2,y\n")
    for (u, v), y in zip(Xf, Yf):
        f.write("%.5f,%.5f,%d\n" % (u, v, y))

# inverse_sine.csv: Bishop's inverse problem for the mixture density network (Pattern Recognition
# and Machine Learning 5.6; hardmaru's MDN tutorial): y = x + 0.3 sin(2 pi x) + noise, then the
# roles swapped, so one input has up to three answers.
n = 2000
yv = rng.uniform(0.0, 1.0, n)
xv = yv + 0.3 * np.sin(2 * np.pi * yv) + rng.uniform(-0.1, 0.1, n)
with open(os.path.join(here, "inverse_sine.csv"), "w") as f:
    f.write("x,y\n")
    for u, v in zip(xv, yv):
        f.write("%.5f,%.5f\n" % (u, v))

# tickets_x.npy, tickets_priority.npy, tickets_department.npy: Deep Learning with Python's
# multi-output example (a support ticket's priority, a regression in [0, 1], and the department
# that handles it, one of 4) made of 12 numeric features; 2000 tickets.
n = 2000
tx = rng.normal(0.0, 1.0, (n, 12)).astype(np.float32)
w_p = rng.normal(0.0, 1.0, 12)
prio = 1.0 / (1.0 + np.exp(-(tx @ w_p) / 2.0)) + rng.normal(0.0, 0.03, n)
w_d = rng.normal(0.0, 1.0, (12, 4))
dept = np.argmax(tx @ w_d + rng.normal(0.0, 0.5, (n, 4)), axis=1)
np.save(os.path.join(here, "tickets_x.npy"), tx)
np.save(os.path.join(here, "tickets_priority.npy"), prio.astype(np.float32))
np.save(os.path.join(here, "tickets_department.npy"), dept.astype(np.int32))

# trigger_x.npy, trigger_y.npy: Andrew Ng's "trigger word detection" (Deep Learning
# Specialization, course 5, week 3) made small: 800 clips of 50 steps x 4 "spectrogram" features
# of noise (float16), into which 0-2 copies of a fixed 6-step pattern (the trigger word) and 0-2
# copies of another (a distractor word) are pasted at random places without overlap; the label
# of each of the 50 steps (int8) is 1 for the 6 steps right after a trigger word ends (the
# course's insert_ones, 50 steps there), else 0.
n, T, Fd, P = 800, 50, 4, 6
trig = rng.normal(0.0, 1.0, (P, Fd))
dist = rng.normal(0.0, 1.0, (P, Fd))
X = rng.normal(0.0, 0.6, (n, T, Fd)).astype(np.float32)
Yt = np.zeros((n, T), np.float32)
for i in range(n):
    taken = np.zeros(T, bool)
    words = [trig] * rng.integers(0, 3) + [dist] * rng.integers(0, 3)
    for w in words:
        for _ in range(20):
            s0 = rng.integers(0, T - 2 * P)
            if not taken[s0:s0 + 2 * P].any():
                taken[s0:s0 + 2 * P] = True
                X[i, s0:s0 + P] += w
                if w is trig:
                    Yt[i, s0 + P:s0 + 2 * P] = 1.0
                break
np.save(os.path.join(here, "trigger_x.npy"), X.astype(np.float16))
np.save(os.path.join(here, "trigger_y.npy"), Yt.astype(np.int8))
