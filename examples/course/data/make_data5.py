"""make_data5.py - the synthetic data sets of the sixth batch of course programs in examples/course/
(makemore_mlp, makemore_bn, seq2seq_attention, transformer_seq2seq, style_transfer, triplet),
deterministic (numpy, fixed seeds): running it again rewrites the same files. A separate
generator, so the earlier files stay the same.

    /usr/bin/python3 examples/course/data/make_data5.py

style_transfer's content pictures are Fashion-MNIST's first training image
(/usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist).
"""
import gzip
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)

# names3.csv: Karpathy's makemore (part 2) data set made of made-up names (syllables and an ending,
# 3000 names) cut as he cuts names.txt: for every character of "name." the three characters before
# it (0 = '.', the start and end marker; 1..26 = a..z) and the character itself as the label.
syll = ["ka", "ri", "na", "mo", "le", "sa", "ta", "ve", "jo", "an", "el", "is", "ma", "ro", "li", "da",
        "ne", "zu", "bi", "ch"]
names = ["".join(rng.choice(syll, rng.integers(2, 4))) + rng.choice(["", "a", "n", "e", "y"])
         for _ in range(3000)]
with open(os.path.join(here, "names3.csv"), "w") as f:
    f.write("c1,c2,c3,next\n")
    for w in names:
        ctx = [0, 0, 0]
        for ch in w + ".":
            ix = 0 if ch == "." else ord(ch) - 96
            f.write(",".join(map(str, ctx)) + f",{ix}\n")
            ctx = ctx[1:] + [ix]

# reverse_x.npy / reverse_y.npy: 5000 sequences of 8 digits and the same digits reversed, the toy
# translation task of attention tutorials (uint8 [N, 8], read into i32 inputs and targets)
x = rng.integers(0, 10, (5000, 8)).astype(np.uint8)
np.save(os.path.join(here, "reverse_x.npy"), x)
np.save(os.path.join(here, "reverse_y.npy"), np.ascontiguousarray(x[:, ::-1]))

# content.npy / style.npy: 64 copies of one content picture (Fashion-MNIST's first training image,
# an ankle boot) and of one style picture (diagonal stripes), uint8 [64, 28, 28] (scaled to [0, 1])
d = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
img = np.frombuffer(gzip.open(d).read()[16:16 + 784], np.uint8).reshape(1, 28, 28)
np.save(os.path.join(here, "content.npy"), img.repeat(64, 0))
yy, xx = np.mgrid[0:28, 0:28]
stripes = np.round(255 * (0.5 + 0.5 * np.sin((xx + yy) * 0.9))).astype(np.uint8)
np.save(os.path.join(here, "style.npy"), stripes[None].repeat(64, 0))

# triplets_x.npy / triplets_y.npy: FaceNet-style triplets of 2-d points from 4 Gaussian clusters
# (anchor, positive of its cluster, negative of another: f32 [N, 6]) and a dummy f32 target
c = rng.normal(0, 3, (4, 2))
N = 2000
k = rng.integers(0, 4, N)
k2 = (k + rng.integers(1, 4, N)) % 4
pts = [c[k] + rng.normal(0, .5, (N, 2)), c[k] + rng.normal(0, .5, (N, 2)), c[k2] + rng.normal(0, .5, (N, 2))]
np.save(os.path.join(here, "triplets_x.npy"), np.hstack(pts).astype(np.float32))
np.save(os.path.join(here, "triplets_y.npy"), np.zeros(N, np.float32))
