#!/usr/bin/python3
"""check_mlp.py - the MLP of tests/ir/ir_mlp.c recomputed with torch.autograd.

Usage: check_mlp.py IR_MLP_BINARY. Fails if the interpreter's loss or any gradient (after
autodiff + simplify) differs from torch's beyond float rounding.
"""
import json
import subprocess
import sys

import torch

out = subprocess.run([sys.argv[1]], capture_output=True, text=True)
if out.returncode != 0:
    print(out.stderr)
    raise SystemExit("ir_mlp failed (exit %d)" % out.returncode)
d = json.loads(out.stdout)
B, K, H, C = d["dims"]
x = torch.tensor(d["x"]).reshape(B, K)
y = torch.tensor(d["y"]).long()
W1 = torch.tensor(d["W1"]).reshape(K, H).requires_grad_()
b1 = torch.tensor(d["b1"]).requires_grad_()
W2 = torch.tensor(d["W2"]).reshape(H, C).requires_grad_()
b2 = torch.tensor(d["b2"]).requires_grad_()
h = torch.relu(x @ W1 + b1)
logits = h @ W2 + b2
loss = torch.nn.functional.cross_entropy(logits, y) + 0.01 * (W1 * W1).sum()
loss.backward()
bad = 0
for name, want in [("loss", loss.detach().reshape(1)), ("gW1", W1.grad), ("gb1", b1.grad),
                   ("gW2", W2.grad), ("gb2", b2.grad)]:
    got = torch.tensor(d[name]).reshape(want.shape)
    if not torch.allclose(got, want, rtol=1e-5, atol=1e-6):
        print("FAIL %s:\n  interp %s\n  torch  %s" % (name, got.tolist(), want.tolist()))
        bad += 1
    else:
        print("%s: max |diff| %.2e" % (name, (got - want).abs().max().item()))
sys.exit(1 if bad else 0)
