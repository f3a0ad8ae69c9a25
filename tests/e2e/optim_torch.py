"""optim_torch.py WEIGHTS DATA.csv STEPS OPTIMIZER KWARGS_JSON SCHEDULE L2

The reference for tests/e2e/optim_vs_torch.sh: the same 4-3-2 network as the test's model (ReLU,
cross-entropy, the literal initial weights below), trained STEPS full-batch steps in PyTorch with
torch.optim's OPTIMIZER (sgd, momentum, nesterov, rmsprop, adam, adamw), the learning rate
scheduled per step as stdlib/optim.nn's SCHEDULE (constant, cosine or step_decay) and an L2 penalty L2 added to
the gradient (weight_decay). Compares the result with the weights nnc's executable saved
(safetensors, read with numpy only) and exits 1 when a parameter differs by more than 1e-5.
"""
import json
import math
import struct
import sys

import numpy as np
import torch

INIT = {
    "W1": [[0.5, -0.3, 0.2], [-0.4, 0.6, 0.1], [0.3, 0.2, -0.5], [0.1, -0.2, 0.4]],
    "b1": [0.05, -0.05, 0.1],
    "W2": [[0.7, -0.6], [-0.5, 0.4], [0.3, 0.8]],
    "b2": [0.0, 0.1],
}


def load_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + lo:8 + n + hi], dtype=np.float32).reshape(info["shape"])
    return out


def main():
    wpath, data, steps, opt, kwargs, schedule, l2 = sys.argv[1:8]
    steps, kwargs, l2 = int(steps), json.loads(kwargs), float(l2)
    rows = [line.strip().split(",") for line in open(data)][1:]
    x = torch.tensor([[float(v) for v in r[:4]] for r in rows], dtype=torch.float32)
    y = torch.tensor([int(r[4]) for r in rows])
    p = {k: torch.tensor(v, dtype=torch.float32, requires_grad=True) for k, v in INIT.items()}
    params = list(p.values())
    lr = kwargs.pop("lr")
    if opt == "sgd":
        o = torch.optim.SGD(params, lr=lr, weight_decay=l2)
    elif opt in ("momentum", "nesterov"):
        o = torch.optim.SGD(params, lr=lr, momentum=kwargs.get("beta", 0.9), nesterov=opt == "nesterov",
                            weight_decay=l2)
    elif opt == "rmsprop":
        o = torch.optim.RMSprop(params, lr=lr, alpha=kwargs.get("rho", 0.9), eps=kwargs.get("eps", 1e-8),
                                weight_decay=l2)
    elif opt == "adam":
        o = torch.optim.Adam(params, lr=lr, betas=(kwargs.get("beta1", 0.9), kwargs.get("beta2", 0.999)),
                             eps=kwargs.get("eps", 1e-8), weight_decay=l2)
    elif opt == "adamw":
        assert l2 == 0
        o = torch.optim.AdamW(params, lr=lr, betas=(kwargs.get("beta1", 0.9), kwargs.get("beta2", 0.999)),
                              eps=kwargs.get("eps", 1e-8), weight_decay=kwargs.get("weight_decay", 0.01))
    else:
        sys.exit("unknown optimizer " + opt)
    for t in range(1, steps + 1):
        if schedule == "cosine":
            progress = min((t - 1) / max(steps - 1, 1), 1.0)
            lr_t = 0.5 * lr * (1 + math.cos(math.pi * progress))
        elif schedule == "step_decay":   # gamma 0.1, drops 2: lr, then lr/10, lr/100 by thirds
            lr_t = lr * 0.1 ** min(int(3.0 * (t - 1) / steps), 2)
        else:
            lr_t = lr
        for g in o.param_groups:
            g["lr"] = lr_t
        o.zero_grad()
        h = torch.relu(x @ p["W1"] + p["b1"])
        loss = torch.nn.functional.cross_entropy(h @ p["W2"] + p["b2"], y)
        loss.backward()
        o.step()
    got = load_safetensors(wpath)
    worst = 0.0
    for k, v in p.items():
        d = float(np.max(np.abs(got[k] - v.detach().numpy())))
        worst = max(worst, d)
        if d > 1e-5:
            print(f"{k}: nnc {got[k].ravel()} torch {v.detach().numpy().ravel()} (max diff {d:.3g})")
            sys.exit(1)
    print(f"ok: {opt} {schedule} l2={l2}: {steps} steps match torch.optim (max diff {worst:.2g})")


main()
