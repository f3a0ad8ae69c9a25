#!/usr/bin/python3
"""stdlib_values.py - the standard library computes what its names promise: every activation,
layer, loss and optimizer of stdlib/nn.nn and stdlib/optim.nn, run by nnc (`nnc run`, the
reference interpreter), against PyTorch on the same inputs.

    stdlib_values.py NNC WORK_DIR

  activations and layers  a model whose outputs are identity, heaviside, relu, leaky_relu, elu,
                          softplus, gelu, gelu_tanh, silu, selu, softmax, log_softmax, logsumexp, prelu, rbf, dense, dropout (eval: the
                          identity) and flatten of one input, and embedding of token ids; `predict` on rows that include
                          large magnitudes (|x| up to 100, where naive softplus/softmax overflow)
  losses                  two models whose named losses are every loss and regulariser; `eval`
                          over the whole data set in one batch prints each
  optimizers, schedules   one linear-regression model per optimizer (and per schedule, and the l2
                          penalty), trained
                          full-batch for 6 steps from fixed literal weights; the saved weights
                          must equal torch.optim's after the same 6 steps
  data augmentation       flip_lr and flip_ud against np.flip; random_flip the identity in predict
                          and mirroring about half the images in a training step
  activation gradients    one SGD step through each activation, with pre-activations exactly 0
                          in places, against PyTorch's autograd (relu'(0) = 0)

Run with Debian's python3 (/usr/bin/python3: torch and numpy). Prints one line per check and
'N passed, N failed'; exits 1 on any failure.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)  # the reference in f64; nnc computes in f32

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # values_lib.py, next to this file
import values_lib  # noqa: E402
from values_lib import check, columns, load_weights, parse_csv, run, save_weights, write, write_csv  # noqa: E402

values_lib.setup("stdlib_values.py")

rng = np.random.default_rng(2026)

# ---- activations and layers ----
X = rng.normal(0.0, 2.0, (7, 6))
X[5] = [100.0, -100.0, 40.0, -40.0, 0.5, -0.5]  # exp(100) overflows f32: naive formulas fail
X[6] = [0.0, 1e-3, -1e-3, 3.0, -3.0, 20.0]
write_csv("acts_in.csv", ["c%d" % i for i in range(6)], X)
write("acts.nn", """use nn
model acts {
  input x: f32[B, 6]
  output o_identity  = identity(x)
  output o_heaviside = heaviside(x)
  output o_relu      = relu(x)
  output o_leaky     = leaky_relu(x)
  output o_leaky2    = leaky_relu(x, alpha = 0.2)
  output o_elu       = elu(x)
  output o_elu2      = elu(x, alpha = 0.5)
  output o_softplus  = softplus(x)
  output o_gelu      = gelu(x)
  output o_gelu_tanh = gelu_tanh(x)
  output o_silu      = silu(x)
  output o_selu      = selu(x)
  output o_relu6     = relu6(x)
  output o_hsig      = hard_sigmoid(x)
  output o_hswish    = hard_swish(x)
  output o_mish      = mish(x)
  output o_softsign  = softsign(x)
  output o_softmax   = softmax(x)
  output o_logsm     = log_softmax(x)
  output o_lse       = logsumexp(x)
  p = prelu(x)
  output o_prelu     = p
  r = rbf(x, 3, gamma = 0.05)
  output o_rbf       = r
  d = dense(x, 2, act = tanh)
  output o_dense     = d
  output o_dropout   = dropout(x, 0.5)
  output o_flatten   = flatten(reshape(x, [B, 2, 3]))
}
""")
alpha = rng.uniform(0.05, 0.5, 6)
centers = rng.normal(0.0, 2.0, (3, 6))
W, b = rng.normal(0.0, 0.3, (6, 2)), rng.normal(0.0, 0.3, 2)
save_weights("acts.st", {"p.alpha": alpha, "r.centers": centers, "d.W": W, "d.b": b})
out = run(["run", "acts.nn", "--", "predict", "--weights", "acts.st", "acts_in.csv"], "activations")
if out is not None:
    head, rows = parse_csv(out)
    x = torch.tensor(X)
    want = {
        "o_identity": x,
        "o_heaviside": (x > 0).double(),
        "o_relu": F.relu(x),
        "o_leaky": F.leaky_relu(x, 0.01),
        "o_leaky2": F.leaky_relu(x, 0.2),
        "o_elu": F.elu(x, 1.0),
        "o_elu2": F.elu(x, 0.5),
        "o_softplus": F.softplus(x),
        "o_gelu": F.gelu(x),
        "o_gelu_tanh": F.gelu(x, approximate="tanh"),
        "o_silu": F.silu(x),
        "o_selu": F.selu(x),
        "o_relu6": F.relu6(x),
        "o_hsig": F.hardsigmoid(x),
        "o_hswish": F.hardswish(x),
        "o_mish": F.mish(x),
        "o_softsign": F.softsign(x),
        "o_softmax": F.softmax(x, dim=-1),
        "o_logsm": F.log_softmax(x, dim=-1),
        "o_lse": torch.logsumexp(x, dim=-1, keepdim=True),
        "o_prelu": torch.where(x > 0, x, torch.tensor(alpha) * x),
        "o_rbf": torch.exp(-0.05 * torch.cdist(x, torch.tensor(centers)) ** 2),
        "o_dense": torch.tanh(x @ torch.tensor(W) + torch.tensor(b)),
        "o_dropout": x,
        "o_flatten": x,
    }
    for name, w in want.items():
        # log_softmax of rows with a spread of 200 reaches -200: relative error is what counts
        check("nn.%s" % name[2:], columns(head, rows, name), w.numpy(), rtol=3e-5, atol=5e-6)

# ---- conv1d_transpose: torch's ConvTranspose1d (weight [C, F, k] = nnc's W [k, F, C] transposed) ----
XT = rng.normal(0.0, 1.0, (3, 10, 3))
write_csv("c1t_in.csv", ["c%d" % i for i in range(30)], XT.reshape(3, 30))
write("c1t.nn", """use nn
model c1t {
  input x: f32[B, 10, 3]
  a = conv1d_transpose(x, 4, 3, stride = 2, act = tanh)
  b = conv1d_transpose(x, 2, 5, stride = 2, padding = "same")
  c = conv1d_transpose(x, 2, 3, pad = 1, use_bias = false)
  output o_a = a
  output o_b = b
  output o_c = c
}
""")
WT = {n: rng.normal(0.0, 0.5, sh) for n, sh in [("a.W", (3, 4, 3)), ("a.b", (4,)), ("b.W", (5, 2, 3)), ("b.b", (2,)),
                                               ("c.W", (3, 2, 3))]}
save_weights("c1t.st", WT)
out = run(["run", "c1t.nn", "--", "predict", "--weights", "c1t.st", "c1t_in.csv"], "conv1d_transpose")
if out is not None:
    head, rows = parse_csv(out)
    x = torch.tensor(XT).permute(0, 2, 1)                     # [N, C, L]
    tw = {n: torch.tensor(v).permute(2, 1, 0) for n, v in WT.items() if n.endswith(".W")}   # [C, F, k]
    want_a = torch.tanh(F.conv_transpose1d(x, tw["a.W"], torch.tensor(WT["a.b"]), stride=2))
    # Keras' "same" for a stride-2 transpose: the full output (L - 1) * 2 + 5 = 23 cut to L * 2 = 20,
    # TensorFlow's padding: (23 - 20) = 3 split 1 before, 2 after
    full_b = F.conv_transpose1d(x, tw["b.W"], torch.tensor(WT["b.b"]), stride=2)
    want_b = full_b[:, :, 1:21]
    want_c = F.conv_transpose1d(x, tw["c.W"], None, padding=1)
    for name, w in [("o_a", want_a), ("o_b", want_b), ("o_c", want_c)]:
        check("nn.conv1d_transpose.%s" % name[2:], columns(head, rows, name), w.permute(0, 2, 1).reshape(3, -1).numpy(),
              rtol=1e-5, atol=1e-6)

# ---- conv1d(padding = "causal"): Keras' causal Conv1D (WaveNet, TCN) = left zero padding of
# dilation * (k - 1), then a valid convolution: torch's F.pad(x, (span - 1, 0)) then conv1d ----
write("c1c.nn", """use nn
model c1c {
  input x: f32[B, 10, 3]
  a = conv1d(x, 4, 3, padding = "causal")
  b = conv1d(x, 2, 2, padding = "causal", dilation = 4, act = tanh)
  c = conv1d(x, 2, 3, stride = 2, padding = "causal", use_bias = false)
  output o_a = a
  output o_b = b
  output o_c = c
}
""")
WC = {n: rng.normal(0.0, 0.5, sh) for n, sh in [("a.W", (3, 3, 4)), ("a.b", (4,)), ("b.W", (2, 3, 2)), ("b.b", (2,)),
                                               ("c.W", (3, 3, 2))]}
save_weights("c1c.st", WC)
out = run(["run", "c1c.nn", "--", "predict", "--weights", "c1c.st", "c1t_in.csv"], "conv1d causal")
if out is not None:
    head, rows = parse_csv(out)
    x = torch.tensor(XT).permute(0, 2, 1)                     # [N, C, L]
    tw = {n: torch.tensor(v).permute(2, 1, 0) for n, v in WC.items() if n.endswith(".W")}   # [F, C, k]
    want_a = F.conv1d(F.pad(x, (2, 0)), tw["a.W"], torch.tensor(WC["a.b"]))
    want_b = torch.tanh(F.conv1d(F.pad(x, (4, 0)), tw["b.W"], torch.tensor(WC["b.b"]), dilation=4))
    want_c = F.conv1d(F.pad(x, (2, 0)), tw["c.W"], None, stride=2)
    for name, w in [("o_a", want_a), ("o_b", want_b), ("o_c", want_c)]:
        check("nn.conv1d_causal.%s" % name[2:], columns(head, rows, name), w.permute(0, 2, 1).reshape(3, -1).numpy(),
              rtol=1e-5, atol=1e-6)

# ---- embedding: nn.Embedding / Keras' Embedding, a row per token id ----
IDS = np.array([[0, 4, 4], [2, -1, 3], [1, 0, 9]])  # a repeated id, a negative one, 9 >= vocab
write_csv("emb_in.csv", ["t0", "t1", "t2"], IDS)
write("emb.nn", """use nn
model emb {
  input ids: i32[B, 3]
  e = embedding(ids, 5, 2)
  output o_emb = reshape(e, [B, 6])
}
""")
table = rng.normal(0.0, 1.0, (5, 2))
save_weights("emb.st", {"e.table": table})
out = run(["run", "emb.nn", "--", "predict", "--weights", "emb.st", "emb_in.csv"], "embedding")
if out is not None:
    head, rows = parse_csv(out)
    t = torch.tensor(table)
    # torch.nn.Embedding rejects -1 and 9; nnc reads -1 as 4 (NumPy) and gives 9 a zero row
    want = torch.stack([torch.cat([t[i] if -5 <= i < 5 else torch.zeros(2) for i in r]) for r in IDS])
    check("nn.embedding", columns(head, rows, "o_emb"),
          F.embedding(torch.tensor([[0, 4, 4], [2, 4, 3]]), t).reshape(2, 6).numpy().tolist() + [want[2].numpy().tolist()])

# ---- data augmentation: flip_lr, flip_ud (np.flip), random_flip (the identity outside training) ----
IMG = rng.normal(0.0, 1.0, (3, 3, 4, 2))            # [N, H, W, C]
write_csv("img_in.csv", ["p%d" % i for i in range(24)], IMG.reshape(3, 24))
save_weights("none.st", {})
write("flip.nn", """use nn
model flip {
  input x: f32[B, 24]
  img = reshape(x, [B, 3, 4, 2])
  output o_lr = flatten(flip_lr(img))
  output o_ud = flatten(flip_ud(img))
  output o_rf = flatten(random_flip(img, mode = "horizontal_and_vertical"))
}
""")
out = run(["run", "flip.nn", "--", "predict", "--weights", "none.st", "img_in.csv"], "flips")
if out is not None:
    head, rows = parse_csv(out)
    check("nn.flip_lr", columns(head, rows, "o_lr"), np.flip(IMG, 2).reshape(3, 24))
    check("nn.flip_ud", columns(head, rows, "o_ud"), np.flip(IMG, 1).reshape(3, 24))
    check("nn.random_flip (eval: the identity)", columns(head, rows, "o_rf"), IMG.reshape(3, 24))
# while training it flips about half the images: one full-batch SGD step (lr 1) of mse(w, images)
# from w = 0 sets w to the mean image; 400 images [1, 0] average to about [0.5, 0.5] when half are
# mirrored (no flipping would give [1, 0])
write_csv("flip_train.csv", ["l", "r", "y"], np.tile([1.0, 0.0, 0.0], (400, 1)))
write("flip_train.nn", """use nn
model flip_train {
  input  x: f32[B, 2]
  target y: f32[B]
  param  w: f32[2] = zeros
  f = flatten(random_flip(reshape(x, [B, 1, 2, 1])))
  loss   mse(w + 0.0 * f, f) + 0.0 * mean(y)
  train {
    data      csv("flip_train.csv", label = "y")
    optimizer sgd(lr = 1.0)
    batch 400  epochs 1
  }
}
""")
out = run(["run", "flip_train.nn", "--", "train", "--threads", "1", "--save", "flip_train.st"], "random_flip in training")
if out is not None:
    w = load_weights("flip_train.st").get("w", np.full(2, np.nan))
    check("nn.random_flip (training: about half mirrored)", w, np.array([0.5, 0.5]), atol=0.1)

# ---- losses and regularisers ----
N = 9
P = rng.normal(0.0, 1.5, (N, 3))
P[0] = [30.0, -30.0, 0.0]                       # a confident logit each way
yf = rng.uniform(0.0, 1.0, N)                   # soft targets in [0, 1]
yi = rng.integers(0, 3, N)
write_csv("loss_f.csv", ["a", "b", "c", "y"], np.column_stack([P, yf]))
write_csv("loss_i.csv", ["a", "b", "c", "y"], np.column_stack([P, yi]))
write("loss_f.nn", """use nn
model loss_f {
  input  x: f32[B, 3]
  target y: f32[B]
  z = x[:, 0]
  loss l_mse   = mse(z, y)
  loss l_mae   = mae(z, y)
  loss l_bce   = binary_cross_entropy(sigmoid(z), y)
  loss l_bcel  = binary_cross_entropy_with_logits(z, y)
  loss l_l1    = l1(x)
  loss l_l2    = l2(x)
  loss l_huber = huber(z, y)
  loss l_hub05 = huber(z, y, delta = 0.5)
  loss l_hinge = hinge(z, 2.0 * y - 1.0)
  loss l_kl    = kl_divergence(softmax(x), softmax(0.5 * x))
  loss l_cos   = mean(cosine_similarity(x[:, 0:2], x[:, 1:3]))
  loss l_rep   = sum(repeat_vector(x, 4) * [[1.0], [2.0], [3.0], [4.0]]) / 10.0
}
""")
write("loss_i.nn", """use nn
model loss_i {
  input  x: f32[B, 3]
  target y: i32[B]
  loss l_ce  = cross_entropy(x, y)
  loss l_ceo = cross_entropy_onehot(x, one_hot(y, 3))
  loss l_cls = cross_entropy(x, y, label_smoothing = 0.2)
  loss l_mce = masked_cross_entropy(x, y, y != 0)
  loss l_nll = nll_loss(log_softmax(2.0 * x), y)
}
""")
save_weights("none.st", {})


def eval_losses(model, data):
    out = run(["run", model + ".nn", "--", "eval", "--weights", "none.st", "--data", data, "--batch", str(N)], model)
    if out is None:
        return {}
    vals = {}
    for line in out.split("\n"):
        k, _, v = line.partition(":")
        try:
            vals[k.strip()] = float(v)
        except ValueError:
            pass
    return vals


p, z = torch.tensor(P), torch.tensor(P[:, 0])
tf, ti = torch.tensor(yf), torch.tensor(yi)
got = eval_losses("loss_f", "loss_f.csv")
# the clip bounds as f32 holds them: 1 - 1e-7 rounds to 1 - 1.19e-7, which matters for z = 30
q = torch.clamp(torch.sigmoid(z), float(np.float32(1e-7)), float(np.float32(1.0) - np.float32(1e-7)))
for name, w in [("l_mse", F.mse_loss(z, tf)), ("l_mae", F.l1_loss(z, tf)),
                ("l_bce", F.binary_cross_entropy(q, tf)),
                ("l_bcel", F.binary_cross_entropy_with_logits(z, tf)),
                ("l_l1", p.abs().sum()), ("l_l2", (p * p).sum()),
                ("l_huber", F.huber_loss(z, tf, delta=1.0)), ("l_hub05", F.huber_loss(z, tf, delta=0.5)),
                ("l_hinge", torch.clamp(1 - (2 * tf - 1) * z, min=0).mean()),
                ("l_kl", F.kl_div(F.log_softmax(0.5 * p, -1), F.softmax(p, -1), reduction="batchmean")),
                ("l_cos", F.cosine_similarity(p[:, 0:2], p[:, 1:3], dim=-1).mean()),
                # repeat_vector: x.unsqueeze(1).expand(-1, 4, -1), each copy weighted by its index
                ("l_rep", (p.unsqueeze(1).expand(-1, 4, -1) * torch.tensor([[1.0], [2.0], [3.0], [4.0]],
                                                                            dtype=p.dtype)).sum() / 10.0)]:
    # eval averages each loss over the samples; with one batch of all N samples that is the loss
    check("loss.%s" % name[2:], got.get(name, float("nan")), w.item(), rtol=3e-5)
got = eval_losses("loss_i", "loss_i.csv")
check("loss.cross_entropy", got.get("l_ce", float("nan")), F.cross_entropy(p, ti).item(), rtol=3e-5)
check("loss.cross_entropy label_smoothing", got.get("l_cls", float("nan")),
      F.cross_entropy(p, ti, label_smoothing=0.2).item(), rtol=3e-5)
check("loss.cross_entropy_onehot", got.get("l_ceo", float("nan")), F.cross_entropy(p, ti).item(), rtol=3e-5)
check("loss.nll_loss", got.get("l_nll", float("nan")), F.nll_loss(F.log_softmax(2.0 * p, -1), ti).item(), rtol=3e-5)
# the positions of class 0 left out: torch's ignore_index on those labels
check("loss.masked_cross_entropy", got.get("l_mce", float("nan")),
      F.cross_entropy(p, torch.where(ti == 0, torch.full_like(ti, -100), ti), ignore_index=-100).item(), rtol=3e-5)

# ---- optimizers and schedules ----
M, STEPS = 16, 6
XR = rng.normal(0.0, 1.0, (M, 3))
YR = XR @ np.array([1.5, -2.0, 0.7]) + 0.3 + rng.normal(0.0, 0.1, M)
write_csv("reg.csv", ["a", "b", "c", "y"], np.column_stack([XR, YR]))
W0 = [0.5, -0.3, 0.2]
cases = [
    # name, nnc optimizer call, torch optimizer, lr schedule (t = 1.., total) -> factor of lr
    ("sgd", "sgd(lr = 0.05)", lambda ps: torch.optim.SGD(ps, lr=0.05), None),
    ("momentum", "momentum(lr = 0.05, beta = 0.8)", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8), None),
    ("nesterov", "nesterov(lr = 0.05, beta = 0.8)",
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True), None),
    ("rmsprop", "rmsprop(lr = 0.01, rho = 0.85)",
     lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.85, eps=1e-8), None),
    ("adam", "adam(lr = 0.1, beta1 = 0.8, beta2 = 0.95)",
     lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.95), eps=1e-8), None),
    ("adamw", "adamw(lr = 0.1, weight_decay = 0.3)",
     lambda ps: torch.optim.AdamW(ps, lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.3), None),
    ("adadelta", "adadelta(lr = 1.0, rho = 0.8)",
     lambda ps: torch.optim.Adadelta(ps, lr=1.0, rho=0.8, eps=1e-6), None),
    ("adagrad", "adagrad(lr = 0.1)", lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-10), None),
    ("adagrad_init", "adagrad(lr = 0.1, initial_accumulator_value = 0.1)",
     lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=1e-10, initial_accumulator_value=0.1), None),
    ("cosine", "sgd(lr = 0.05, schedule = cosine)", lambda ps: torch.optim.SGD(ps, lr=0.05),
     lambda t, T: 0.5 * (1 + math.cos(math.pi * min((t - 1) / max(T - 1, 1), 1.0)))),
    ("step_decay", "sgd(lr = 0.05, schedule = step_decay)", lambda ps: torch.optim.SGD(ps, lr=0.05),
     lambda t, T: 0.1 ** min(math.floor(3.0 * (t - 1) / T), 2)),
    # the l2 penalty adds l2 * p to the gradient: PyTorch's weight_decay
    ("sgd_l2", "sgd(lr = 0.05, l2 = 0.1)", lambda ps: torch.optim.SGD(ps, lr=0.05, weight_decay=0.1), None),
    # schedules called with their own arguments (the optimizer supplies lr, t, total)
    ("step_decay_args", "sgd(lr = 0.05, schedule = step_decay(gamma = 0.5, drops = 1.0))",
     lambda ps: torch.optim.SGD(ps, lr=0.05), lambda t, T: 0.5 ** min(math.floor(2.0 * (t - 1) / T), 1)),
    # warm-up then cosine: HF's get_cosine_schedule_with_warmup(num_warmup_steps = 0.3 * T), step s = t - 1
    ("warmup_cosine", "sgd(lr = 0.05, schedule = warmup_cosine(warmup = 0.3, min_lr = 0.005))",
     lambda ps: torch.optim.SGD(ps, lr=0.05),
     lambda t, T: (0.05 * (t - 1) / max(0.3 * T, 1.0) if t - 1 < 0.3 * T else
                   0.005 + 0.5 * (0.05 - 0.005) * (1 + math.cos(math.pi * min((t - 1 - 0.3 * T) / max(T - 0.3 * T, 1.0), 1.0)))) / 0.05),
    # Keras' ExponentialDecay(0.05, decay_steps = 2, decay_rate = 0.5): lr * 0.5^((t - 1) / 2)
    ("exponential_decay", "sgd(lr = 0.05, schedule = exponential_decay(rate = 0.5, steps = 2.0))",
     lambda ps: torch.optim.SGD(ps, lr=0.05), lambda t, T: 0.5 ** ((t - 1) / 2.0)),
    # the range test: from 1e-3 at the first step to lr = 0.05 at the last, exponentially
    ("lr_range", "sgd(lr = 0.05, schedule = lr_range(start = 0.001))",
     lambda ps: torch.optim.SGD(ps, lr=0.05), lambda t, T: 0.001 * (0.05 / 0.001) ** ((t - 1) / max(T - 1, 1)) / 0.05),
    ("cosine_args", "momentum(lr = 0.05, schedule = cosine(min_lr = 0.01))",
     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
     lambda t, T: (0.01 + 0.5 * (0.05 - 0.01) * (1 + math.cos(math.pi * min((t - 1) / max(T - 1, 1), 1.0)))) / 0.05),
]
# gradient clipping, per parameter as Keras' clipvalue / clipnorm: torch's clip_grad_value_ and
# clip_grad_norm_ called on each parameter alone (the gradients of this data are larger than 0.5)
cases += [
    ("clipvalue", "momentum(lr = 0.05, clipvalue = 0.5)", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
     None, lambda ps: [torch.nn.utils.clip_grad_value_([q], 0.5) for q in ps]),
    ("clipnorm", "sgd(lr = 0.1, clipnorm = 0.5, l2 = 0.1)",
     lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.1), None,
     lambda ps: [torch.nn.utils.clip_grad_norm_([q], 0.5) for q in ps]),
    # global_clipnorm (Keras'): one factor for all gradients together, torch's clip_grad_norm_ over
    # every parameter (its 1e-6 beside the norm is below the tolerance)
    ("global_clipnorm", "sgd(lr = 0.1, global_clipnorm = 0.5, l2 = 0.1)",
     lambda ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.1), None,
     lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.5)),
    ("global_clipnorm_adam", "adam(lr = 0.05, global_clipnorm = 0.3)",
     lambda ps: torch.optim.Adam(ps, lr=0.05), None,
     lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.3)),
]
for case in cases:
    name, call, make, sched = case[:4]
    clip = case[4] if len(case) > 4 else None
    write("opt_%s.nn" % name, """use nn
model opt_%s {
  input  x: f32[B, 3]
  target y: f32[B]
  param  w: f32[3] = [0.5, -0.3, 0.2]
  param  b: f32    = zeros
  output p = x @ w + b
  loss   mse(p, y)
  train {
    data      csv("reg.csv", label = "y")
    optimizer %s
    batch %d  epochs %d
  }
}
""" % (name, call, M, STEPS))
    out = run(["run", "opt_%s.nn" % name, "--", "train", "--threads", "1", "--save", "opt_%s.st" % name],
              "optimizer " + name)
    if out is None:
        continue
    got = load_weights("opt_%s.st" % name)
    w = torch.tensor(W0, requires_grad=True)
    bb = torch.zeros((), requires_grad=True)
    opt = make([w, bb])
    base = [g["lr"] for g in opt.param_groups]
    x, y = torch.tensor(XR), torch.tensor(YR)
    for t in range(1, STEPS + 1):
        if sched:
            for g, lr in zip(opt.param_groups, base):
                g["lr"] = lr * sched(t, STEPS)
        opt.zero_grad()
        ((x @ w + bb - y) ** 2).mean().backward()
        if clip:
            clip([w, bb])
        opt.step()
    check("optim.%s w" % name, got.get("w", np.full(3, np.nan)), w.detach().numpy(), rtol=1e-4, atol=1e-6)
    check("optim.%s b" % name, got.get("b", np.nan), bb.detach().numpy(), rtol=1e-4, atol=1e-6)

# ---- activation gradients, exact zeros included ----
# z = x * w + b is exactly 0 wherever x is 0 (b starts at zeros), so one SGD step on b checks
# each activation's derivative at 0 against PyTorch's (relu'(0) = 0 there, not 1).
XG = rng.normal(0.0, 1.5, (8, 6))
XG[::2, ::3] = 0.0
XG[1] = 0.0
YG = rng.normal(0.0, 1.0, 8)
write_csv("grad.csv", ["c%d" % i for i in range(6)] + ["y"], np.column_stack([XG, YG]))
grad_cases = [("relu", F.relu), ("leaky_relu", lambda z: F.leaky_relu(z, 0.01)), ("elu", F.elu),
              ("softplus", F.softplus), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
              ("atan", torch.atan), ("gelu", F.gelu), ("gelu_tanh", lambda z: F.gelu(z, approximate="tanh")),
              ("silu", F.silu), ("selu", F.selu), ("relu6", F.relu6), ("hard_sigmoid", F.hardsigmoid),
              ("hard_swish", F.hardswish), ("mish", F.mish), ("softsign", F.softsign),
              ("lse", lambda z: torch.logsumexp(z, -1, keepdim=True))]
# logsumexp's [B] result as a [B, 1] column, so that the model's sum over axis 1 takes it
helpers = "fn lse(z: f32[B, 6]) -> f32[B, 1] { reshape(logsumexp(z), [B, 1]) }\n"
for name, tf in grad_cases:
    write("grad_%s.nn" % name, "use nn\n" + helpers + """model grad_%s {
  input  x: f32[B, 6]
  target y: f32[B]
  param  w: f32[6] = [1.0, 0.5, -1.0, 2.0, -0.5, 1.5]
  param  b: f32[6] = zeros
  output p = sum(%s(x * w + b), axis = 1)
  loss   mse(p, y)
  train {
    data      csv("grad.csv", label = "y")
    optimizer sgd(lr = 0.1)
    batch 8  epochs 1
  }
}
""" % (name, name))
    out = run(["run", "grad_%s.nn" % name, "--", "train", "--threads", "1", "--save", "grad_%s.st" % name],
              "gradient of " + name)
    if out is None:
        continue
    got = load_weights("grad_%s.st" % name)
    w = torch.tensor([1.0, 0.5, -1.0, 2.0, -0.5, 1.5], requires_grad=True)
    bb = torch.zeros(6, requires_grad=True)
    opt = torch.optim.SGD([w, bb], lr=0.1)
    ((tf(torch.tensor(XG) * w + bb).sum(1) - torch.tensor(YG)) ** 2).mean().backward()
    opt.step()
    check("grad.%s w" % name, got.get("w", np.full(6, np.nan)), w.detach().numpy(), rtol=1e-4, atol=1e-6)
    check("grad.%s b" % name, got.get("b", np.full(6, np.nan)), bb.detach().numpy(), rtol=1e-4, atol=1e-6)

values_lib.finish()
