#!/usr/bin/python3
"""make_brackets.py - the bracket sequences of examples/brackets.nn (SYNTHETIC).

Run from anywhere: /usr/bin/python3 examples/data/make_brackets.py
Deterministic (Python's own `random`, fixed seeds; NPY written by hand, no numpy), so running it
again reproduces the committed files byte for byte.

Each sample is a word over "(" (id 1) and ")" (id 2) of 2 .. 16 tokens, padded with id 0 to 16:
u8 [n, 16]; its label (u8 [n]) is 1 when the word is balanced. A balanced word is a uniformly
random Dyck word of n pairs, n uniform in 1 .. 8; an unbalanced one has the same length and the
same count of each bracket (n of each) in an order that goes below zero somewhere, so counting
the brackets tells nothing: the model has to look at prefixes. Half of each.

  brackets_x.npy, brackets_y.npy             4000 training samples (seed 1)
  brackets_test_x.npy, brackets_test_y.npy   1000 test samples (seed 2)
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def dyck(n, r):
    """A uniformly random balanced word of n pairs (the ballot-sequence construction)."""
    s, o, c = [], 0, 0
    while len(s) < 2 * n:
        # P(next is "(") = (n - o) * (o - c + 2) / ((2n - o - c) * (o - c + 1))
        k = o - c
        if o < n and (k == 0 or r.random() < (n - o) * (k + 2) / ((2 * n - o - c) * (k + 1))):
            s.append(1)
            o += 1
        else:
            s.append(2)
            c += 1
    return s


def unbalanced(n, r):
    while True:
        s = [1] * n + [2] * n
        r.shuffle(s)
        d = 0
        for t in s:
            d += 1 if t == 1 else -1
            if d < 0:
                return s


def save_u8(name, shape, data):
    head = "{'descr': '|u1', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    head += " " * (63 - (10 + len(head)) % 64) + "\n"
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head.encode("latin1") + bytes(data))


def make(prefix, count, seed):
    r = random.Random(seed)
    xs, ys = [], []
    for _ in range(count):
        n, y = r.randint(1, 8), r.random() < 0.5
        s = dyck(n, r) if y else unbalanced(n, r)
        xs += s + [0] * (16 - len(s))
        ys.append(int(y))
    save_u8(prefix + "_x.npy", (count, 16), xs)
    save_u8(prefix + "_y.npy", (count,), ys)


make("brackets", 4000, 1)
make("brackets_test", 1000, 2)
