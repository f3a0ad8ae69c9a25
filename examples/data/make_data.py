#!/usr/bin/python3
"""make_data.py - regenerate the small data files the examples train on.

Run from anywhere: /usr/bin/python3 examples/data/make_data.py
Every file it writes is deterministic (fixed seeds, Python's own `random` module, no numpy), so
running it again reproduces the committed files byte for byte.

  house_prices.csv      SYNTHETIC: 200 houses, price (thousands) = 40 + 2.2 * size_m2 + noise.
  two_blobs.csv         SYNTHETIC: 2 classes of 100 points from two Gaussian blobs (logistic.nn).
  xor.csv               the 4 rows of the XOR truth table (xor_train.nn).
  xor_inputs.csv        its two input columns alone (predict with xor.nn, which has no target).
  identity8.csv         the 8 one-hot vectors of length 8 and their index (autoencoder.nn).
  iris_train.csv,       a fixed stratified split of iris.csv (the real Fisher iris data, copied
  iris_test.csv         from Debian's python3-sklearn; see examples/README.md): 35 rows of each
                        class for training, 15 of each for testing.
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, header, rows):
    with open(os.path.join(HERE, name), "w", newline="\n") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r) + "\n")


def house_prices():
    rng = random.Random(20240601)
    rows = []
    for _ in range(200):
        size = rng.uniform(40.0, 250.0)
        price = 40.0 + 2.2 * size + rng.gauss(0.0, 15.0)
        rows.append(["%.1f" % size, "%.1f" % price])
    write("house_prices.csv", ["size_m2", "price_k"], rows)


def two_blobs():
    rng = random.Random(7)
    rows = []
    for i in range(200):
        c = i % 2
        cx, cy = (-1.0, -1.0) if c == 0 else (1.0, 1.2)
        rows.append(["%.4f" % rng.gauss(cx, 0.6), "%.4f" % rng.gauss(cy, 0.6), "%d" % c])
    write("two_blobs.csv", ["x1", "x2", "label"], rows)


def xor():
    write("xor.csv", ["a", "b", "y"],
          [["0", "0", "0"], ["0", "1", "1"], ["1", "0", "1"], ["1", "1", "0"]])
    # the inputs alone, for `predict` of xor.nn (a model with no target takes every column)
    write("xor_inputs.csv", ["a", "b"], [["0", "0"], ["0", "1"], ["1", "0"], ["1", "1"]])


def identity8():
    rows = []
    for k in range(8):
        rows.append(["1" if j == k else "0" for j in range(8)] + [str(k)])
    write("identity8.csv", ["b%d" % j for j in range(8)] + ["k"], rows)


def iris_split():
    with open(os.path.join(HERE, "iris.csv")) as f:
        lines = f.read().splitlines()
    header, rows = lines[0].split(","), [l.split(",") for l in lines[1:]]
    rng = random.Random(1936)   # the year of Fisher's paper
    train, test = [], []
    for c in ("0", "1", "2"):
        cls = [r for r in rows if r[-1] == c]
        rng.shuffle(cls)
        train += cls[:35]
        test += cls[35:]
    rng.shuffle(train)
    rng.shuffle(test)
    write("iris_train.csv", header, train)
    write("iris_test.csv", header, test)


if __name__ == "__main__":
    house_prices()
    two_blobs()
    xor()
    identity8()
    iris_split()
