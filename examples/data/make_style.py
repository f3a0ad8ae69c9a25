#!/usr/bin/python3
"""make_style.py - the two pictures of examples/style_transfer.nn, drawn here (synthetic, no
copyright): 64x64 RGB, values in [0, 1], float32 NPY [COPIES, 64, 64, 3] (the same picture
repeated, so that one epoch of style_transfer is COPIES optimizer steps).

    /usr/bin/python3 examples/data/make_style.py [OUT_DIR] [--copies N] [--png]

  style_content.npy   a landscape: a sky getting lighter towards the horizon, a yellow sun, two
                      green hills and a red house with a dark door
  style_style.npy     the style: bright diagonal waves in blue, orange and purple
--png also writes style_content.png and style_style.png (PIL) to look at. Deterministic.
"""
import os
import sys

import numpy as np

S = 64


def content():
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32) / (S - 1)
    img = np.zeros((S, S, 3), np.float32)
    img[...] = np.stack([0.35 + 0.4 * yy, 0.55 + 0.35 * yy, 0.95 - 0.1 * yy], -1)     # sky
    sun = (xx - 0.78) ** 2 + (yy - 0.2) ** 2 < 0.011
    img[sun] = [1.0, 0.9, 0.2]
    hill1 = yy > 0.62 + 0.12 * np.cos(3.0 * xx)
    hill2 = yy > 0.75 + 0.08 * np.sin(5.0 * xx + 1.0)
    img[hill1] = [0.25, 0.6, 0.2]
    img[hill2] = [0.15, 0.45, 0.12]
    house = (xx > 0.2) & (xx < 0.45) & (yy > 0.45) & (yy < 0.72)
    roof = (yy <= 0.45) & (yy > 0.3) & (np.abs(xx - 0.325) < (yy - 0.3) * 1.0)
    door = (xx > 0.29) & (xx < 0.36) & (yy > 0.58) & (yy < 0.72)
    img[house] = [0.8, 0.2, 0.15]
    img[roof] = [0.45, 0.15, 0.1]
    img[door] = [0.2, 0.12, 0.08]
    return img


def style():
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32)
    u = (xx + yy) / 6.0 + 1.5 * np.sin(yy / 5.0)
    k = np.floor(u).astype(int) % 3
    colours = np.array([[0.1, 0.3, 0.9], [1.0, 0.55, 0.1], [0.6, 0.15, 0.7]], np.float32)
    img = colours[k]
    img *= (0.75 + 0.25 * np.cos(2 * np.pi * (u - np.floor(u))))[..., None]
    return img.astype(np.float32)


def main():
    args = sys.argv[1:]
    copies, png = 50, "--png" in args
    args = [a for a in args if a != "--png"]
    if "--copies" in args:
        i = args.index("--copies")
        copies = int(args[i + 1])
        del args[i:i + 2]
    out = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out, exist_ok=True)
    for name, img in (("style_content", content()), ("style_style", style())):
        np.save(os.path.join(out, name + ".npy"), np.repeat(img[None], copies, axis=0))
        if png:
            from PIL import Image
            Image.fromarray((img * 255 + 0.5).astype(np.uint8)).save(os.path.join(out, name + ".png"))
    print(f"wrote style_content.npy, style_style.npy ({copies} copies of 64x64x3) to {out}")


if __name__ == "__main__":
    main()
