#!/usr/bin/python3
"""norm_values.py - the normalisation layers of stdlib/nn.nn (batchnorm, layernorm, lrn) compute
what PyTorch's BatchNorm1d/BatchNorm2d, LayerNorm and LocalResponseNorm do, run by nnc's reference
interpreter (`nnc run`) on the same inputs. Channels-last in nnc, so the 4-D cases are permuted
to torch's NCHW.

    norm_values.py NNC WORK_DIR

  training   a model whose "input" is a parameter xp (a literal) and whose loss is
             sum(layer(xp) * R) for a fixed literal R, trained 3 full-batch SGD steps: the first
             epoch's loss is the training-mode forward; the saved xp, gamma, beta after the
             steps check the gradients w.r.t. x, gamma and beta; batchnorm's running_mean and
             running_var after the steps check the momentum update (unbiased running variance)
  inference  `predict` with given gamma, beta and running statistics: the eval-mode output
             (running statistics, not the batch's)

2-D ([N, C]), 3-D ([N, L, C]) and 4-D ([N, H, W, C]) shapes, odd channel counts. Run with Debian's python3
(/usr/bin/python3: torch and numpy). Prints one line per check and 'N passed, N failed'; exits 1
on any failure.
"""
import functools
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)  # the reference in f64; nnc computes in f32

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # values_lib.py, next to this file
import values_lib  # noqa: E402
from values_lib import load_weights, run, save_weights, write, write_csv  # noqa: E402

values_lib.setup("norm_values.py")
check = functools.partial(values_lib.check, rtol=1e-4, atol=1e-5)


def literal(a):
    """An nnc tensor literal of a (f32: every number written with a point or exponent)."""
    if np.ndim(a) == 0:
        return "%.9e" % float(a)
    return "[" + ", ".join(literal(v) for v in a) + "]"


def nchw(x):
    """channels-last [N, ..., C] -> torch's [N, C, ...]"""
    return x.movedim(-1, 1) if x.dim() > 2 else x


def nhwc(x):
    return x.movedim(1, -1) if x.dim() > 2 else x


rng = np.random.default_rng(909)

# layer name, nnc call (with CALL for the argument), shape, torch function of (x, params),
# parameters the layer has, momentum (batchnorm)
cases = [
    ("batchnorm_2d", "batchnorm(xp)", (6, 5), "bn", 0.1),
    ("batchnorm_4d", "batchnorm(xp, momentum = 0.3, eps = 1e-3)", (2, 3, 5, 7), "bn", 0.3),
    ("batchnorm_3d", "batchnorm(xp)", (3, 4, 5), "bn", 0.1),   # [B, L, C]: BatchNorm1d on [B, C, L]
    # a mean far from 0 next to a small spread: the statistics must not lose it (two passes)
    ("batchnorm_offset", "batchnorm(xp)", (8, 3), "bn", 0.1),
    ("layernorm_2d", "layernorm(xp)", (4, 5), "ln", None),
    ("layernorm_4d", "layernorm(xp, eps = 1e-3)", (2, 3, 4, 7), "ln", None),
    ("lrn_2d", "lrn(xp)", (3, 9), "lrn5", None),
    ("lrn_4d", "lrn(xp, size = 4, alpha = 0.3, beta = 0.6, k = 1.5)", (2, 3, 2, 7), "lrn4", None),
]
EPS = {"batchnorm_2d": 1e-5, "batchnorm_3d": 1e-5, "batchnorm_offset": 1e-5, "batchnorm_4d": 1e-3, "layernorm_2d": 1e-5, "layernorm_4d": 1e-3}
STEPS, LR = 3, 0.1
write_csv("d.csv", ["a", "y"], [[1, 0], [2, 1], [3, 0], [4, 1]])
save_weights("none.st", {})


def torch_layer(kind, name, x, p, rs=None, training=True, momentum=0.1):
    """the torch layer on channels-last x; rs = [running_mean, running_var] updated in place"""
    if kind == "bn":
        return nhwc(F.batch_norm(nchw(x), rs[0], rs[1], p["gamma"], p["beta"], training=training,
                                 momentum=momentum, eps=EPS[name]))
    if kind == "ln":
        return F.layer_norm(x, (x.shape[-1],), p["gamma"], p["beta"], eps=EPS[name])
    if kind == "lrn5":  # torch wants [N, C, d1, ...]: a [N, C] input gets a trailing axis of 1
        return F.local_response_norm(x.unsqueeze(-1), 5, 1e-4, 0.75, 2.0).squeeze(-1)
    if kind == "lrn4":
        return nhwc(F.local_response_norm(nchw(x), 4, 0.3, 0.6, 1.5))
    raise ValueError(kind)


for name, call, shape, kind, momentum in cases:
    # ---- training: 3 SGD steps on sum(layer(xp) * R) ----
    X0 = rng.normal(0.5, 2.0, shape)
    if kind.startswith("lrn"):
        X0 *= 3.0  # large enough that the denominator differs from k ** beta
    if name.endswith("offset"):
        X0 = 100.0 + 0.5 * X0
    R = rng.normal(0.0, 1.0, shape)
    write("%s.nn" % name, """use nn
model %s {
  input  x: f32[B, 1]
  target y: f32[B]
  param  xp: f32%s = %s
  n = %s
  output o = x
  loss   sum(n * %s)
  train {
    data      csv("d.csv", label = "y")
    optimizer sgd(lr = %g)
    batch 4  epochs %d
  }
}
""" % (name, list(shape), literal(X0), call, literal(R), LR, STEPS))
    out = run(["run", "%s.nn" % name, "--", "train", "--threads", "1", "--save", "%s.st" % name], name)
    if out is None:
        continue
    got = load_weights("%s.st" % name)
    x = torch.tensor(X0, requires_grad=True)
    C = shape[-1]
    params = {}
    if kind in ("bn", "ln"):
        params = {"gamma": torch.ones(C, requires_grad=True), "beta": torch.zeros(C, requires_grad=True)}
    rs = [torch.zeros(C), torch.ones(C)]
    opt = torch.optim.SGD([x] + list(params.values()), lr=LR)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (torch_layer(kind, name, x, params, rs, True, momentum or 0.1) * torch.tensor(R)).sum()
        losses.append(loss.item())
        loss.backward()
        opt.step()
    epochs = [float(l.split("loss")[1].split()[0]) for l in out.split("\n") if l.startswith("epoch ")]
    # the first epoch's loss is the loss of the first step: the training-mode forward
    check("%s training forward (loss)" % name, epochs[:1], losses[:1], rtol=1e-5, atol=1e-4)
    check("%s x after %d steps (grad x)" % (name, STEPS), got.get("xp", np.nan), x.detach().numpy())
    for p, v in params.items():
        check("%s %s after %d steps (grad %s)" % (name, p, STEPS, p), got.get("n." + p, np.nan), v.detach().numpy())
    if kind == "bn":
        check("%s running_mean after %d steps" % (name, STEPS), got.get("n.running_mean", np.nan), rs[0].numpy())
        check("%s running_var after %d steps" % (name, STEPS), got.get("n.running_var", np.nan), rs[1].numpy())

    # ---- inference: predict with given parameters and statistics ----
    N = 5
    XI = rng.normal(-0.3, 1.7, (N,) + shape[1:]) * (3.0 if kind.startswith("lrn") else 1.0)
    P = int(np.prod(shape[1:]))
    write_csv("%s_in.csv" % name, ["c%d" % i for i in range(P)], XI.reshape(N, P))
    write("%s_eval.nn" % name, """use nn
model %s_eval {
  input  x: f32[B, %d]
  xp = reshape(x, [B, %s])
  n = %s
  output o = reshape(n, [B, %d])
}
""" % (name, P, ", ".join(str(d) for d in shape[1:]), call, P))
    ps = {}
    if kind in ("bn", "ln"):
        ps = {"gamma": rng.uniform(0.5, 2.0, C), "beta": rng.normal(0.0, 1.0, C)}
    if kind == "bn":
        ps.update({"running_mean": rng.normal(0.0, 1.0, C), "running_var": rng.uniform(0.3, 3.0, C)})
    save_weights("%s_eval.st" % name, {"n." + k: v for k, v in ps.items()})
    out = run(["run", "%s_eval.nn" % name, "--", "predict", "--weights", "%s_eval.st" % name, "%s_in.csv" % name],
              name + " inference")
    if out is None:
        continue
    rows = np.array([[float(v) for v in l.split(",")] for l in out.strip().split("\n")[1:]])
    t = {k: torch.tensor(v) for k, v in ps.items()}
    want = torch_layer(kind, name, torch.tensor(XI), t,
                       [t.get("running_mean"), t.get("running_var")], False).reshape(N, P)
    check("%s inference forward" % name, rows, want.numpy())

values_lib.finish()
