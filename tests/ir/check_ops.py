#!/usr/bin/python3
"""check_ops.py - compares the interpreter's forward of every primitive with PyTorch.

Usage: check_ops.py IR_OPS_BINARY
Runs the binary (tests/ir/ir_ops.c), which prints one JSON line per case with its inputs and the
interpreter's output, computes the same op with torch on the same inputs and fails on any value
outside tolerance. Every op of ops.def except the sources must appear in some case.
"""
import json
import subprocess
import sys

import torch

DT = {"f32": torch.float32, "i32": torch.int32, "bool": torch.bool}


def tensor(d):
    return torch.tensor(d["data"], dtype=torch.float64).reshape(d["shape"]).to(DT[d["dtype"]])


def axes(mask, rank):
    return [k for k in range(rank) if mask >> k & 1]


def slicer(rank, axis, start, stop, step):
    return tuple(slice(start, stop, step) if k == axis else slice(None) for k in range(rank))


def pool(op, x, at, dy=None, out_shape=None):
    """The pooling ops on channels-last x through torch's NCHW pools: explicit padding (TensorFlow's
    'same' splits it unevenly), -inf for max; avg = window sums / real-element counts
    (count_include_pad=False). The *_bwd ops: the gradient of that with respect to x."""
    f = torch.nn.functional
    nd = len(at) // 4
    k, s, lo, hi = at[:nd], at[nd:2 * nd], at[2 * nd:3 * nd], at[3 * nd:]
    if nd == 1:
        k, s, lo, hi = [1] + k, [1] + s, [0] + lo, [0] + hi
    if x is None:
        x = torch.zeros(out_shape)
    x = x.detach().clone().requires_grad_(True)
    xc = (x.unsqueeze(1) if nd == 1 else x).permute(0, 3, 1, 2)
    pad = (lo[1], hi[1], lo[0], hi[0])
    if op.startswith("max"):
        y = f.max_pool2d(f.pad(xc, pad, value=float("-inf")), k, s)
    else:
        sums = f.avg_pool2d(f.pad(xc, pad), k, s, divisor_override=1)
        cnt = f.avg_pool2d(f.pad(torch.ones_like(xc), pad), k, s, divisor_override=1)
        y = sums / cnt
    y = y.permute(0, 2, 3, 1)
    if nd == 1:
        y = y.squeeze(1)
    if dy is None:
        return y.detach()
    y.backward(dy)
    return x.grad


def conv_nhwc(x, w, at):
    """channels-last conv with the IR's attributes (stride, dilation, pad_lo, pad_hi per spatial
    dim), through torch's channels-first conv in float64"""
    f = torch.nn.functional
    ns = x.dim() - 2
    s, d, lo, hi = at[0:ns], at[ns:2 * ns], at[2 * ns:3 * ns], at[3 * ns:4 * ns]
    xc = x.double().permute(0, ns + 1, *range(1, ns + 1))
    wc = w.double().permute(ns + 1, ns, *range(ns))
    pads = []
    for k in reversed(range(ns)):
        pads += [lo[k], hi[k]]
    conv = f.conv1d if ns == 1 else f.conv2d
    y = conv(f.pad(xc, pads), wc, stride=s, dilation=d, groups=x.shape[-1] // w.shape[-2])
    return y.permute(0, *range(2, ns + 2), 1)


def conv_grad(which, a, b, at, out_shape):
    """conv_bwd_data (dy, w -> dx) and conv_bwd_filter (x, dy -> dw) through torch.autograd"""
    if which == "data":
        x = torch.zeros(out_shape, dtype=torch.float64, requires_grad=True)
        w, dy = b.double(), a.double()
        conv_nhwc(x, w, at).backward(dy)
        return x.grad
    w = torch.zeros(out_shape, dtype=torch.float64, requires_grad=True)
    conv_nhwc(a.double(), w, at).backward(b.double())
    return w.grad


def reference(c, out_shape):
    op, at = c["op"], c["attr"]
    x = [tensor(i) for i in c["ins"]]
    a = x[0]
    b = x[1] if len(x) > 1 else None
    f = torch.nn.functional
    if op == "neg": return -a
    if op == "exp": return torch.exp(a)
    if op == "log": return torch.log(a)
    if op == "sqrt": return torch.sqrt(a)
    if op == "tanh": return torch.tanh(a)
    if op == "sigmoid": return torch.sigmoid(a)
    if op == "atan": return torch.atan(a)
    if op == "abs": return torch.abs(a)
    if op == "sign": return torch.sign(a)
    if op == "sin": return torch.sin(a)
    if op == "cos": return torch.cos(a)
    if op == "floor": return torch.floor(a)
    if op == "ceil": return torch.ceil(a)
    if op == "round": return torch.round(a)
    if op == "erf": return torch.erf(a)
    if op == "asin": return torch.asin(a)
    if op == "acos": return torch.acos(a)
    if op == "mod": return torch.remainder(a, b)
    if op == "stop_grad": return a.detach()
    if op == "cast": return a.to(DT[c["out"]["dtype"]])
    if op == "not": return torch.logical_not(a)
    if op == "add": return a + b
    if op == "sub": return a - b
    if op == "mul": return a * b
    if op == "div":
        return torch.div(a, b, rounding_mode="trunc") if a.dtype == torch.int32 else a / b
    if op == "pow": return torch.pow(a, b)
    if op == "max": return torch.maximum(a, b)
    if op == "min": return torch.minimum(a, b)
    if op == "lt": return a < b
    if op == "le": return a <= b
    if op == "gt": return a > b
    if op == "ge": return a >= b
    if op == "eq": return a == b
    if op == "ne": return a != b
    if op == "and": return torch.logical_and(a, b)
    if op == "or": return torch.logical_or(a, b)
    if op == "select": return torch.where(a, b, x[2])
    if op == "broadcast": return torch.broadcast_to(a, out_shape)
    if op == "reshape": return a.reshape(out_shape)
    if op == "allreduce": return a  # torch.distributed.all_reduce(a) / world_size, world_size 1
    if op == "transpose": return a.permute(*at)
    if op == "slice": return a[slicer(a.dim(), *at)]
    if op == "unslice":
        z = torch.zeros(out_shape, dtype=a.dtype)
        z[slicer(len(out_shape), *at)] = a
        return z
    if op == "concat": return torch.cat([a, b], dim=at[0])
    if op == "sum":
        ax = axes(at[0], a.dim())
        if not ax: return a
        return a.sum(dim=ax, keepdim=True).to(torch.float32 if a.dtype == torch.float32 else a.dtype)
    if op == "rmax":
        ax = axes(at[0], a.dim())
        return torch.amax(a, dim=ax, keepdim=True) if ax else a
    if op == "matmul":
        return (a.transpose(-2, -1) if at[0] else a) @ (b.transpose(-2, -1) if at[1] else b)
    if op == "conv": return conv_nhwc(a, b, at).float()
    if op == "conv_bwd_data": return conv_grad("data", a, b, at, out_shape).float()
    if op == "conv_bwd_filter": return conv_grad("filter", a, b, at, out_shape).float()
    if op == "one_hot": return f.one_hot(a.long(), at[0]).float()
    if op == "gather": return a[b.long()]
    if op == "scatter_add":
        V = out_shape[0]
        D = out_shape[1]
        z = torch.zeros(V, D, dtype=torch.float64)
        z.index_add_(0, b.reshape(-1).long(), a.reshape(-1, D).double())
        return z.float()
    if op in ("maxpool", "avgpool"): return pool(op, a, at)
    if op == "maxpool_bwd": return pool(op, a, at, dy=b)
    if op == "avgpool_bwd": return pool(op, None, at, dy=a, out_shape=out_shape)
    if op == "softmax":
        s = a.double() * c["f"]
        if at[0]:
            keep = torch.ones(s.shape[-2], s.shape[-1], dtype=torch.bool).tril()
            s = s.masked_fill(~keep, float("-inf"))
        return torch.softmax(s, dim=-1).float()
    if op == "softmax_bwd":
        y, dy = a.double(), b.double()
        return (c["f"] * y * (dy - (dy * y).sum(-1, keepdim=True))).float()
    raise SystemExit("check_ops.py: no torch reference for op " + op)


def main():
    out = subprocess.run([sys.argv[1]], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr)
        raise SystemExit("ir_ops failed its direct checks (exit %d)" % out.returncode)
    bad = 0
    seen = set()
    cases = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
    for c in cases:
        seen.add(c["op"])
        got = tensor(c["out"])
        want = reference(c, c["out"]["shape"])
        if want.dtype != got.dtype:
            want = want.to(got.dtype)
        if list(want.shape) != list(got.shape):
            print("FAIL %s: shape %s, torch says %s" % (c["case"], list(got.shape), list(want.shape)))
            bad += 1
            continue
        if got.dtype == torch.float32:
            ok = torch.allclose(got.double(), want.double(), rtol=2e-6, atol=1e-6, equal_nan=True)
        else:
            ok = torch.equal(got, want)
        if not ok:
            print("FAIL %s:\n  interp %s\n  torch  %s" % (c["case"], got.tolist(), want.tolist()))
            bad += 1
    ops = open(sys.argv[2]).read() if len(sys.argv) > 2 else ""
    missing = []
    for line in ops.splitlines():
        if line.startswith("OP(") and "F_SOURCE" not in line:
            name = line.split('"')[1]
            if name not in seen:
                missing.append(name)
    if missing:
        print("FAIL: ops with no forward case: " + " ".join(missing))
        bad += 1
    print("%d cases, %d ops, %d failures" % (len(cases), len(seen), bad))
    sys.exit(1 if bad else 0)


main()
