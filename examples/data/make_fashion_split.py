#!/usr/bin/python3
"""make_fashion_split.py - Fashion-MNIST split by class for the transfer-learning example
(examples/transfer_source.nn, transfer_fashion.nn, transfer_finetune.nn; examples/README.md).

Usage: /usr/bin/python3 examples/data/make_fashion_split.py [OUT_DIR] [--small N]
Reads Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) and writes NPY files
(uint8 images [n, 28, 28, 1], int32 labels [n]) into OUT_DIR (default: this folder):

  fashion04_train_{x,y}.npy   every training image of classes 0-4 (T-shirt, trouser, pullover,
                              dress, coat): 30000, labels 0-4
  fashion04_test_{x,y}.npy    the test images of classes 0-4: 5000
  fashion59_small_{x,y}.npy   the first N (default 20) training images of each of classes 5-9
                              (sandal, shirt, sneaker, bag, ankle boot): 5 N, labels 0-4 (class - 5)
  fashion59_test_{x,y}.npy    the test images of classes 5-9: 5000, labels 0-4

Deterministic (the first images of each class in the files' order): the same files every run.
"""
import gzip
import os
import sys

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"


def load(split):
    with gzip.open(os.path.join(SRC, f"{split}-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28, 1)
    with gzip.open(os.path.join(SRC, f"{split}-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read()[8:], np.uint8).astype(np.int32)
    return x, y


def main():
    args = sys.argv[1:]
    small = 20
    if "--small" in args:
        i = args.index("--small")
        small = int(args[i + 1])
        del args[i:i + 2]
    out = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    xt, yt = load("train")
    xs, ys = load("t10k")

    def save(name, x, y):
        np.save(os.path.join(out, name + "_x.npy"), np.ascontiguousarray(x))
        np.save(os.path.join(out, name + "_y.npy"), np.ascontiguousarray(y, dtype=np.int32))
        print(f"{name}: {len(y)} images")

    m = yt < 5
    save("fashion04_train", xt[m], yt[m])
    m = ys < 5
    save("fashion04_test", xs[m], ys[m])
    idx = np.concatenate([np.flatnonzero(yt == k)[:small] for k in range(5, 10)])
    idx.sort()
    save("fashion59_small", xt[idx], yt[idx] - 5)
    m = ys >= 5
    save("fashion59_test", xs[m], ys[m] - 5)


if __name__ == "__main__":
    main()
