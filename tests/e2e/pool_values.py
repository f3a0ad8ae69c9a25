#!/usr/bin/python3
"""pool_values.py NNC WORK_DIR - the pooling and resampling builtins compute what
docs/language.md [builtin.pool] [builtin.upsample] promise: their values through nnc's interpreter
(`nnc run ... predict`) and through the compiled executable, against PyTorch's NCHW pools and
F.interpolate on the same (channels-last) inputs. Inputs are multiples of 1/4, so windows hold
ties. Prints one line per check; exits 1 on any failure. Run by tests/e2e/pool_values.sh.
"""
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # torch_pool.py, next to this file
from torch_pool import pool, up  # noqa: E402

NNC, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
os.chdir(WORK)
rng = np.random.default_rng(3)
N, H, W, C = 5, 7, 6, 3
X = np.round(rng.normal(0.0, 1.0, (N, H * W * C)) * 4) / 4
with open("x.csv", "w") as f:
    f.write(",".join("c%d" % i for i in range(H * W * C)) + "\n")
    f.writelines(",".join("%g" % v for v in r) + "\n" for r in X)


x = torch.tensor(X, dtype=torch.float32).reshape(N, H, W, C)
seq = x.reshape(N, H * W, C)
# (output name, nnc expression, torch value)
cases = [
    ("max", "maxpool2d(x)", pool("max", x, 2, 2, (0, 0, 0, 0))),
    ("max_same", 'maxpool2d(x, 3, 2, "same")', pool("max", x, 3, 2, (0, 1, 1, 1))),
    ("max_pad", "maxpool2d(x, [3, 2], stride = [1, 2], padding = [1, 0])", pool("max", x, (3, 2), (1, 2), (0, 0, 1, 1))),
    ("avg", "avgpool2d(x, 3)", pool("avg", x, 3, 3, (0, 0, 0, 0))),
    ("avg_same", 'avgpool2d(x, 3, 2, "same")', pool("avg", x, 3, 2, (0, 1, 1, 1))),
    ("avg_pad", "avgpool2d(x, 2, stride = 1, padding = 1)", pool("avg", x, 2, 1, (1, 1, 1, 1))),
    ("max1d", "maxpool1d(reshape(x, [B, 42, 3]), 3, 2)",
     pool("max", seq.unsqueeze(1), (1, 3), (1, 2), (0, 0, 0, 0)).squeeze(1)),
    ("avg1d", 'avgpool1d(reshape(x, [B, 42, 3]), 4, padding = "same")',
     pool("avg", seq.unsqueeze(1), (1, 4), (1, 4), (1, 1, 0, 0)).squeeze(1)),
    ("nearest", "upsample2d(x)", up(x, 2, "nearest")),
    ("nearest23", "upsample2d(x, [2, 3])", up(x, (2, 3), "nearest")),
    ("bilinear", 'upsample2d(x, 2, "bilinear")', up(x, 2, "bilinear")),
    ("bilinear32", 'upsample2d(x, [3, 2], mode = "bilinear")', up(x, (3, 2), "bilinear")),
    ("gavg", "global_avgpool2d(x)", x.mean(dim=(1, 2))),
    ("gmax", "global_maxpool2d(x)", x.amax(dim=(1, 2))),
]
src = "use nn\nmodel pools {\n  input xs: f32[B, %d]\n  x = reshape(xs, [B, %d, %d, %d])\n" % (H * W * C, H, W, C)
src += "".join("  output o_%s = flatten(%s)\n" % (n, e) for n, e, _ in cases) + "}\n"
open("pools.nn", "w").write(src)


def parse(text):
    lines = text.strip().split("\n")
    head = lines[0].split(",")
    return head, np.array([[float(v) for v in l.split(",")] for l in lines[1:]])


bad = 0
subprocess.run([NNC, "pools.nn", "-o", "pools"], check=True)
for how, cmd in (("interpreter", [NNC, "run", "pools.nn", "--", "predict", "x.csv"]), ("executable", ["./pools", "predict", "x.csv"])):
    head, rows = parse(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    for name, expr, want in cases:
        idx = [i for i, h in enumerate(head) if h == "o_" + name or h.startswith("o_%s_" % name) and h[len(name) + 3:].isdigit()]
        got, w = rows[:, idx], want.reshape(N, -1).double().numpy()
        ok = got.shape == w.shape and np.allclose(got, w, rtol=1e-5, atol=1e-6)
        bad += not ok
        err = np.max(np.abs(got - w)) if got.shape == w.shape else float("nan")
        print("%s: %s %s: %s (max abs error %.2g)" % ("ok" if ok else "FAIL", how, name, expr, err))
        if not ok:
            print("  got ", got.ravel()[:10], "\n  want", w.ravel()[:10])
sys.exit(1 if bad else 0)
