#!/usr/bin/env python3
"""make_shapes.py - the synthetic two-class image set of examples/keras128.nn: 128x128 RGB pictures
of either a filled shape (a disc or a rectangle, class 0) or stripes (parallel bands at a random
angle, class 1), each in random colours on a random background with pixel noise. Written as NPY
u8 images [N, 128, 128, 3] and i32 labels [N] (the layout nnc's npy() data source reads).

    /usr/bin/python3 data/make_shapes.py [OUT_DIR] [--train N] [--test N] [--seed S]

Defaults: OUT_DIR data, 1000 training and 200 test pictures, seed 128. Deterministic for a seed."""
import argparse, os
import numpy as np

S = 128

def picture(rng, cls):
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    bg, fg = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    while np.abs(bg - fg).sum() < 150:                  # keep the figure visible
        fg = rng.uniform(0, 255, 3)
    if cls == 0:
        if rng.random() < 0.5:                          # a disc
            cx, cy, r = rng.uniform(30, 98), rng.uniform(30, 98), rng.uniform(12, 30)
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        else:                                           # a rectangle
            x0, y0 = rng.uniform(10, 70, 2)
            w, h = rng.uniform(20, 50, 2)
            mask = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)
    else:                                               # stripes at an angle
        a, period = rng.uniform(0, np.pi), rng.uniform(8, 24)
        u = xx * np.cos(a) + yy * np.sin(a) + rng.uniform(0, period)
        mask = (u % period) < period / 2
    img = np.where(mask[..., None], fg, bg) + rng.normal(0, 12, (S, S, 3))
    return np.clip(img, 0, 255).astype(np.uint8)

def write(out, name, n, rng):
    labels = rng.integers(0, 2, n).astype(np.int32)
    images = np.stack([picture(rng, c) for c in labels])
    np.save(os.path.join(out, f"shapes_{name}_x.npy"), images)
    np.save(os.path.join(out, f"shapes_{name}_y.npy"), labels)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="data")
    p.add_argument("--train", type=int, default=1000)
    p.add_argument("--test", type=int, default=200)
    p.add_argument("--seed", type=int, default=128)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    write(a.out, "train", a.train, rng)
    write(a.out, "test", a.test, rng)

main()
