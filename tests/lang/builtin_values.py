#!/usr/bin/python3
"""builtin_values.py - the builtins compute what docs/language.md section 5 promises: the ones
added by issue 7 (floor, ceil, round, erf, asin, acos, %, and clip, reduce_min, prod, argmax,
argmin, cumsum, a negative slice step, which lowering composes from several IR ops), batched @ on each of its three
lowering paths, gather with negative indices, where with a compile-time condition,
zeros_like/ones_like and numbers as loss targets, and the i32 forms of abs, sign, sum and
reduce_max, run by nnc's interpreter (`nnc run`) against PyTorch on the same inputs; then one SGD
step through each one that has a gradient, against PyTorch's autograd.

    builtin_values.py NNC WORK_DIR

Run with Debian's python3 (/usr/bin/python3: torch and numpy). Prints one line per check and
'N passed, N failed'; exits 1 on any failure.
"""
import functools
import json
import os
import struct
import sys

import numpy as np
import torch

np.seterr(all="ignore")  # log of negatives: NaN on purpose

torch.set_default_dtype(torch.float64)  # the reference in f64; nnc computes in f32

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # values_lib.py, next to this file
import values_lib  # noqa: E402
from values_lib import columns, load_weights, parse_csv, run, write, write_csv  # noqa: E402

NNC, WORK = values_lib.setup("builtin_values.py")
check = functools.partial(values_lib.check, equal_nan=True)  # NaN where PyTorch gives NaN


rng = np.random.default_rng(7)

# ---- values ----
# halves (round to even), ties for argmax/argmin (the first index wins), zeros, negatives
X = np.round(rng.normal(0.0, 2.0, (6, 6)) * 4) / 4
X[0] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5]
X[1] = [3.0, -1.0, 3.0, 0.0, -1.0, 2.0]
X[2] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
X[3] = [-7.0, 7.0, -3.25, 3.25, 1e-3, -1e-3]
write_csv("vals.csv", ["c%d" % i for i in range(6)], X)
M = rng.normal(0.0, 1.0, (2, 3, 2))
A = rng.normal(0.0, 1.0, (2, 3))
T = rng.normal(0.0, 1.0, (5, 2))


def lit(a):
    return json.dumps(np.asarray(a).tolist())


write("vals.nn", """use nn
model vals {
  input x: f32[B, 6]
  param m: f32[2, 3, 2] = %s
  param a: f32[2, 3] = %s
  param t: f32[5, 2] = %s
  k = i32(x * 4.0)
  s = tanh(x) * 0.999
  output o_floor = floor(x)
  output o_ceil = ceil(x)
  output o_round = round(x)
  output o_asin = asin(s)
  output o_acos = acos(s)
  output o_erf = erf(x * 0.5)
  output o_clip = clip(x, -1.0, 1.5)
  output o_absi = f32(abs(k))
  output o_signi = f32(sign(k))
  output o_sumi = f32(sum(k, axis = 1))
  output o_maxi = f32(reduce_max(k, axis = -1))
  output o_min = reduce_min(x, axis = 1)
  output o_prod = prod(x, axis = 1)
  output o_amax = f32(argmax(x, axis = 1))
  output o_amin = f32(argmin(x, axis = -1))
  output o_amaxi = f32(argmax(k, axis = 1))
  output o_amaxn = f32(argmax(log(x), axis = 1))
  output o_aminn = f32(argmin(log(x), axis = 1))
  output o_cums = cumsum(x, axis = 1)
  output o_suml = sum(reshape(x, [B, 1, 2, 3]), axis = [1, 3])
  output o_meanl = zeros_like(x[:, 0:2]) + flatten(mean(reshape(x, [B, 2, 3]), axis = [-1, 0], keepdims = true))
  output o_maxl = reduce_max(reshape(x, [B, 3, 2]), axis = [2, 1])
  output o_cumsi = f32(cumsum(k, axis = -1))
  output o_modp = x %% 1.5
  output o_modn = x %% -1.5
  output o_modi = f32(k %% 3)
  output o_modin = f32(k %% -3)
  output o_modc = x[:, 0:3] * 0.0 + [-7.5 %% 2.0, -7 %% 3, 7 %% -3]
  output o_mm2 = flatten(reshape(x, [B, 2, 3]) @ m[0])
  output o_mmb = flatten(reshape(x, [B, 1, 2, 3]) @ reshape(m, [2, 3, 2]))
  output o_mmx = flatten(a @ reshape(x, [B, 3, 2]))
  output o_mmy = flatten(reshape(x, [B, 2, 3]) @ reshape(m[1], [1, 3, 2]))
  output o_mmv = reshape(x, [B, 2, 3]) @ a[0]
  output o_gather = zeros_like(x[:, 0:1]) + reshape(gather(t, [[0, -1, 4], [-5, 2, -2]]), [1, 12])
  output o_gatherk = flatten(gather(t, clip(k, -5, 4)))
  output o_where = where(true, [[1.0, 2.0]], x[:, 0:1])
  output o_ones = ones_like(x) + zeros_like(x)
  output o_rev = x[:, ::-1]
  output o_rev2 = flatten(reshape(x, [B, 2, 3])[:, ::-1, ::-2])
}
""" % (lit(M), lit(A), lit(T)))
out = run(["run", "vals.nn", "--", "predict", "vals.csv"], "values")
if out is not None:
    head, rows = parse_csv(out)
    x = torch.tensor(X)
    k = (x * 4).to(torch.int64)
    s = torch.tensor(np.tanh(X).astype(np.float32).astype(np.float64)) * 0.999
    m, a, t = torch.tensor(M), torch.tensor(A), torch.tensor(T)
    B = x.shape[0]
    want = {
        "o_floor": torch.floor(x), "o_ceil": torch.ceil(x), "o_round": torch.round(x),
        "o_asin": torch.asin(s), "o_acos": torch.acos(s), "o_erf": torch.erf(x * 0.5), "o_clip": torch.clamp(x, -1.0, 1.5),
        "o_absi": k.abs(), "o_signi": k.sign(), "o_sumi": k.sum(1), "o_maxi": k.amax(-1),
        "o_min": x.amin(1), "o_prod": x.prod(1), "o_amax": x.argmax(1), "o_amin": x.argmin(-1),
        "o_amaxi": k.argmax(1),
        # log of the negatives is NaN: the first NaN is the answer (NumPy)
        "o_amaxn": torch.tensor(np.argmax(np.log(X), 1)), "o_aminn": torch.tensor(np.argmin(np.log(X), 1)), "o_cums": x.cumsum(1),
        "o_suml": x.reshape(B, 1, 2, 3).sum((1, 3)),
        "o_meanl": x.reshape(B, 2, 3).mean((2, 0), keepdim=True).reshape(1, -1).expand(B, -1),
        "o_maxl": x.reshape(B, 3, 2).amax((2, 1)), "o_cumsi": k.cumsum(-1),
        "o_modp": torch.remainder(x, 1.5), "o_modn": torch.remainder(x, -1.5),
        "o_modi": torch.remainder(k, 3), "o_modin": torch.remainder(k, -3),
        "o_modc": torch.tensor([[-7.5 % 2.0, -7 % 3, 7 % -3]]).expand(B, 3),
        "o_mm2": (x.reshape(B, 2, 3) @ m[0]).reshape(B, -1),
        "o_mmb": (x.reshape(B, 1, 2, 3) @ m).reshape(B, -1),
        "o_mmx": (a @ x.reshape(B, 3, 2)).reshape(B, -1),
        "o_mmy": (x.reshape(B, 2, 3) @ m[1].reshape(1, 3, 2)).reshape(B, -1),
        "o_mmv": x.reshape(B, 2, 3) @ a[0],
        "o_gather": t[torch.tensor([[0, 4, 4], [0, 2, 3]])].reshape(1, -1).expand(B, -1),
        "o_gatherk": t[torch.clamp(k, -5, 4)].reshape(B, -1),
        "o_where": torch.tensor([[1.0, 2.0]]).expand(B, 2),
        "o_ones": torch.ones_like(x),
        "o_rev": x.flip(1), "o_rev2": torch.tensor(X.reshape(-1, 2, 3)[:, ::-1, ::-2].copy()).reshape(B, -1),
    }
    for name, w in want.items():
        check("builtin.%s" % name[2:], columns(head, rows, name), w.double().reshape(B, -1).numpy(),
              rtol=2e-5, atol=3e-6)

# ---- loss targets: a number or ones_like/zeros_like (a GAN's "all real" labels) ----
XT = rng.normal(0.0, 1.5, (5, 3))
write_csv("targets.csv", ["a", "b", "c"], XT)
write("targets.nn", """use nn
model targets {
  input x: f32[B, 3]
  p = sigmoid(x)
  loss l_one  = binary_cross_entropy(p, 1.0)
  loss l_like = binary_cross_entropy(p, 0.9 * ones_like(p))
  loss l_zero = mse(x, 0.0)
  loss l_half = mse(x, zeros_like(x) + 0.5)
}
""")
save = os.path.join(WORK, "none.st")
with open(save, "wb") as f:
    f.write(struct.pack("<Q", 8) + b"{}      ")
out = run(["run", "targets.nn", "--", "eval", "--weights", "none.st", "--data", "targets.csv", "--batch", "5"],
          "loss targets")
if out is not None:
    got = {}
    for line in out.split("\n"):
        k, _, v = line.partition(":")
        try:
            got[k.strip()] = float(v)
        except ValueError:
            pass
    x = torch.tensor(XT)
    q = torch.clamp(torch.sigmoid(x), float(np.float32(1e-7)), float(np.float32(1.0) - np.float32(1e-7)))
    for name, w in [("l_one", torch.nn.functional.binary_cross_entropy(q, torch.ones_like(q))),
                    ("l_like", torch.nn.functional.binary_cross_entropy(q, 0.9 * torch.ones_like(q))),
                    ("l_zero", (x * x).mean()), ("l_half", ((x - 0.5) ** 2).mean())]:
        check("target.%s" % name[2:], got.get(name, float("nan")), w.item(), rtol=3e-5)

# ---- batched @ with both sides batched, K split into chunks (2 x 128 x 128 products per sample
# per k): one SGD step through it, against autograd ----
XC = rng.normal(0.0, 1.0, (3, 2048))
YC = rng.normal(0.0, 1.0, 3)
write_csv("chunk.csv", ["c%d" % i for i in range(2048)] + ["y"], np.column_stack([XC, YC]))
WC = [0.9, -0.5, 0.7, 1.1, -0.3, 0.6, 0.8, -1.2]
write("chunk.nn", """use nn
model chunk {
  input  x: f32[B, 2048]
  target y: f32[B]
  param  w: f32[8] = %s
  a = reshape(x, [B, 2, 128, 8]) * w
  s = a @ transpose(tanh(a), [0, 1, 3, 2])
  output p = sum(reshape(s, [B, -1]), axis = 1) * 0.001
  loss   l = mean((p - y) * (p - y))
  train {
    data      csv("chunk.csv", label = "y")
    optimizer sgd(lr = 0.01)
    batch 3  epochs 1
  }
}
""" % lit(WC))
out = run(["run", "chunk.nn", "--", "train", "--threads", "1", "--save", "chunk.st"], "chunked batched @")
if out is not None:
    got = load_weights("chunk.st")
    w = torch.tensor(WC, requires_grad=True)
    a = torch.tensor(XC).reshape(3, 2, 128, 8) * w
    p = (a @ torch.tanh(a).transpose(2, 3)).reshape(3, -1).sum(1) * 0.001
    ((p - torch.tensor(YC)) ** 2).mean().backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
    check("grad.matmul_chunked", got.get("w", np.full(8, np.nan)), w.detach().numpy(), rtol=1e-4, atol=1e-6)

# ---- gradients: one SGD step through each builtin, against autograd ----
XG = rng.normal(0.0, 1.0, (8, 6))
YG = rng.normal(0.0, 1.0, 8)
write_csv("grad.csv", ["c%d" % i for i in range(6)] + ["y"], np.column_stack([XG, YG]))
W0 = [0.9, 0.5, -0.7, 1.2, -0.4, 0.8]
grad_cases = [
    ("asin", "sum(asin(tanh(z) * 0.9), axis = 1)", lambda z: torch.asin(torch.tanh(z) * 0.9).sum(1)),
    ("acos", "sum(acos(tanh(z) * 0.9), axis = 1)", lambda z: torch.acos(torch.tanh(z) * 0.9).sum(1)),
    ("erf", "sum(erf(z), axis = 1)", lambda z: torch.erf(z).sum(1)),
    ("clip", "sum(clip(z, -0.5, 0.7), axis = 1)", lambda z: torch.clamp(z, -0.5, 0.7).sum(1)),
    ("reduce_min", "reduce_min(z, axis = 1)", lambda z: z.amin(1)),
    ("prod", "prod(z, axis = -1)", lambda z: z.prod(-1)),
    ("cumsum", "sum(cumsum(z, axis = 1) * [1.0, -2.0, 0.5, 3.0, -1.0, 2.0], axis = 1)",
     lambda z: (z.cumsum(1) * torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0, 2.0])).sum(1)),
    ("mod", "sum(z % 0.75, axis = 1)", lambda z: torch.remainder(z, 0.75).sum(1)),
    ("floor", "sum(floor(z) + z, axis = 1)", lambda z: (torch.floor(z) + z).sum(1)),
    ("reverse", "sum(cumsum(z[:, ::-1], axis = 1) * z, axis = 1) + sum(z[:, ::-4], axis = 1)",
     lambda z: ((z.flip(1).cumsum(1) * z).sum(1) + z[:, [5, 1]].sum(1))),
    ("matmul", "sum(flatten(reshape(z, [B, 1, 2, 3]) @ reshape(tanh(z[:, 0:6]), [B, 2, 3, 1])), axis = 1)",
     lambda z: (z.reshape(-1, 1, 2, 3) @ torch.tanh(z).reshape(-1, 2, 3, 1)).reshape(z.shape[0], -1).sum(1)),
]
for name, expr, tf in grad_cases:
    write("grad_%s.nn" % name, """use nn
model grad_%s {
  input  x: f32[B, 6]
  target y: f32[B]
  param  w: f32[6] = %s
  z = x * w
  output p = %s
  loss   mse(p, y)
  train {
    data      csv("grad.csv", label = "y")
    optimizer sgd(lr = 0.05)
    batch 8  epochs 1
  }
}
""" % (name, lit(W0), expr))
    out = run(["run", "grad_%s.nn" % name, "--", "train", "--threads", "1", "--save", "grad_%s.st" % name],
              "gradient of " + name)
    if out is None:
        continue
    got = load_weights("grad_%s.st" % name)
    w = torch.tensor(W0, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.05)
    ((tf(torch.tensor(XG) * w) - torch.tensor(YG)) ** 2).mean().backward()
    opt.step()
    check("grad.%s" % name, got.get("w", np.full(6, np.nan)), w.detach().numpy(), rtol=1e-4, atol=1e-6)

# ---- [builtin.rand_perm] and gather over the batch (mixup): rand_perm gives a permutation of
# 0 .. B-1 in every run; gather(table, idx) with a batch table (rows of rank 1 and 2) passes its
# gradient back to the rows it read: one SGD step on 4 samples whose index column says which row
# of the batch each reads. Training shuffles the samples (the index then means another row), so
# the step must equal autograd's for one of the 24 orders of the batch; the orders' steps differ
# from each other by far more than the tolerance. A mean over the batch of a
# rand_perm-gathered tensor adds the gradient of the unpermuted one. ----
import itertools  # noqa: E402
import subprocess  # noqa: E402
PERM = np.array([2, 0, 3, 1])
XP, YP = XG[:4], YG[:4]
write_csv("perm.csv", ["c%d" % i for i in range(6)] + ["perm", "y"], np.column_stack([XP, PERM, YP]))
write_csv("perm_x.csv", ["c%d" % i for i in range(6)] + ["perm"], np.column_stack([XG, np.arange(8)]))
write("perm_values.nn", """use nn
model perm_values {
  input x: f32[B, 7]
  output o = f32(rand_perm(x))
  output o2 = f32(rand_perm(reshape(x[:, 0:6], [B, 2, 3])))
}
""")
out = run(["run", "perm_values.nn", "--", "predict", "perm_x.csv"], "rand_perm values")
if out is not None:
    head, rows = parse_csv(out)
    o, o2 = columns(head, rows, "o").reshape(-1), columns(head, rows, "o2").reshape(-1)
    check("rand_perm.is_permutation", np.sort(o), np.arange(8.0), rtol=0, atol=0)
    check("rand_perm.is_permutation2", np.sort(o2), np.arange(8.0), rtol=0, atol=0)
    print("rand_perm: %s and %s" % (o.astype(int).tolist(), o2.astype(int).tolist()))
write("grad_perm.nn", """use nn
model grad_perm {
  input  x: f32[B, 7]
  target y: f32[B]
  param  w: f32[6] = %s
  z = x[:, 0:6] * w
  perm = i32(x[:, 6])
  g3 = gather(reshape(z, [B, 2, 3]), perm)
  output p = sum(gather(z, perm) * tanh(z), axis = 1) + sum(g3[:, 1, :], axis = 1)
  loss   fit = mse(p, y)
  loss   inv = mean(sum(gather(z, rand_perm(z)) ** 2, axis = 1)) * 0.1
  train {
    data      csv("perm.csv", label = "y")
    optimizer sgd(lr = 0.05)
    batch 4  epochs 1
  }
}
""" % lit(W0))


def perm_step(order):
    w = torch.tensor(W0, requires_grad=True)
    z = torch.tensor(XP[order]) * w
    pt = torch.tensor(PERM[order])
    p = (z[pt] * torch.tanh(z)).sum(1) + z.reshape(4, 2, 3)[pt][:, 1, :].sum(1)
    loss = ((p - torch.tensor(YP[order])) ** 2).mean() + (z ** 2).sum(1).mean() * 0.1
    loss.backward()
    with torch.no_grad():
        w -= 0.05 * w.grad
    return w.detach().numpy()


steps = [perm_step(list(o)) for o in itertools.permutations(range(4))]
for tag in ("interp", "exe"):
    if tag == "exe":
        if run(["grad_perm.nn", "-o", "grad_perm"], "build grad_perm") is None:
            continue
        cmd = [os.path.join(WORK, "grad_perm")]
    else:
        cmd = [NNC, "run", "grad_perm.nn", "--"]
    pr = subprocess.run(cmd + ["train", "--threads", "1", "--save", "grad_perm_%s.st" % tag],
                        cwd=WORK, capture_output=True, text=True, timeout=300)
    if pr.returncode:
        values_lib.failed += 1
        print("FAIL: grad_perm (%s) exited %d\n%s" % (tag, pr.returncode, pr.stderr))
        continue
    got = load_weights("grad_perm_%s.st" % tag).get("w", np.full(6, np.nan))
    best = min(steps, key=lambda st: np.abs(st - got).max())
    check("grad.gather_batch.%s" % tag, got, best, rtol=1e-4, atol=1e-6)
spread = min(np.abs(a - b).max() for a, b in itertools.combinations(steps, 2) if np.abs(a - b).max() > 0)
print("the 24 orders' steps differ by at least %.3g where they differ" % spread)

values_lib.finish()
