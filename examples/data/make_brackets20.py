#!/usr/bin/env python3
"""make_brackets20.py - the synthetic balanced-brackets set of examples/brackets_lstm.nn: strings of
20 brackets, token ids 1 = '(' and 2 = ')', labelled 1 when balanced (every prefix opens at least as
many as it closes, and the string closes all it opens) and 0 otherwise. Every string holds ten of
each, so counting is not enough: a classifier must follow the running depth. Half are balanced
(uniformly random Dyck words); a quarter are random arrangements of ten '(' and ten ')' that are not
balanced; a quarter are balanced strings with one '()' turned into ')(' (the depth dips below zero
once). Written as NPY: i32 ids [N, 20] and i32 labels [N].

    /usr/bin/python3 data/make_brackets20.py [OUT_DIR] [--train N] [--test N] [--seed S]

Defaults: OUT_DIR data, 4000 training and 1000 test strings, seed 1920. Deterministic for a seed:
writes brackets20_{train,test}_{x,y}.npy."""
import argparse, os
import numpy as np

T = 20


def balanced(s):
    d = 0
    for c in s:
        d += 1 if c == 1 else -1
        if d < 0:
            return False
    return d == 0


def dyck(rng):
    """a uniformly random balanced word of T brackets: a random arrangement, cyclically shifted
    (the cycle lemma) after one extra ')' is added, then that ')' dropped"""
    n = T // 2
    s = [1] * n + [2] * (n + 1)
    rng.shuffle(s)
    d, low, at = 0, 0, 0
    for i, c in enumerate(s):
        d += 1 if c == 1 else -1
        if d < low:
            low, at = d, i
    s = s[at + 1:] + s[:at + 1]
    return s[:-1]


def sample(rng, cls):
    if cls == 1:
        return dyck(rng)
    while True:
        if rng.random() < 0.5:
            s = [1] * (T // 2) + [2] * (T // 2)
            rng.shuffle(s)
        else:
            s = dyck(rng)
            i = [k for k in range(T - 1) if s[k] == 1 and s[k + 1] == 2]
            k = i[rng.integers(len(i))]
            s[k], s[k + 1] = 2, 1
        if not balanced(s):
            return s


def make(rng, n):
    y = np.array([i % 2 for i in range(n)], np.int32)
    rng.shuffle(y)
    x = np.array([sample(rng, int(c)) for c in y], np.int32)
    assert all(balanced(list(r)) == bool(c) for r, c in zip(x, y))
    return x, y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="data")
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--test", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1920)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    for part, n in (("train", a.train), ("test", a.test)):
        x, y = make(rng, n)
        np.save(os.path.join(a.out, "brackets20_%s_x.npy" % part), x)
        np.save(os.path.join(a.out, "brackets20_%s_y.npy" % part), y)


if __name__ == "__main__":
    main()
