"""grad_torch.py WORK_DIR NNC - the gradients of the newer builtins against PyTorch's (float64).

One model holds every case: case i reads its own slice of the input, reshaped to the case's
sample shape, and its own parameter P_i (a literal), and adds mean(e*e) + sum(e)/7 of its
expression e to the loss. One full-batch step of SGD with lr = 1 leaves P_i - grad_i in the saved
weights, which is compared with torch.autograd's gradient of the same expression (relative error
below 1e-3 of the largest gradient entry). Run by tests/e2e/grad_vs_torch.sh.
"""
import json, os, re, struct, subprocess, sys
import numpy as np
import torch as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # torch_pool.py, next to this file
from torch_pool import pool, up  # noqa: E402

work, nnc = sys.argv[1], sys.argv[2]
os.chdir(work)
rng = np.random.default_rng(0)
B = 4


# (name, sample shape of x, shape of P, nnc expression, torch expression)
cases = [
    ("maxpool2d", (5, 7, 3), (5, 7, 3), "maxpool2d(x * P)", lambda x, P: pool("max", x * P, 2, 2, (0, 0, 0, 0))),
    ("maxpool2d_same", (7, 6, 2), (7, 6, 2), 'maxpool2d(x * P, 3, 2, "same")',
     lambda x, P: pool("max", x * P, 3, 2, (0, 1, 1, 1))),
    ("avgpool2d_same", (7, 6, 2), (7, 6, 2), 'avgpool2d(x * P, 3, 2, "same")',
     lambda x, P: pool("avg", x * P, 3, 2, (0, 1, 1, 1))),
    ("avgpool2d_pad", (5, 5, 2), (5, 5, 2), "avgpool2d(x * P, [3, 2], stride = 1, padding = [1, 0])",
     lambda x, P: pool("avg", x * P, (3, 2), 1, (0, 0, 1, 1))),
    ("maxpool1d", (9, 3), (9, 3), "maxpool1d(x * P, 3, 2)",
     lambda x, P: pool("max", (x * P).unsqueeze(1), (1, 3), (1, 2), (0, 0, 0, 0)).squeeze(1)),
    ("avgpool1d", (9, 3), (9, 3), 'avgpool1d(x * P, 2, padding = "same")',
     lambda x, P: pool("avg", (x * P).unsqueeze(1), (1, 2), (1, 2), (0, 1, 0, 0)).squeeze(1)),
    ("upsample_nearest", (3, 4, 2), (3, 4, 2), "upsample2d(x * P)", lambda x, P: up(x * P, 2, "nearest")),
    ("upsample_bilinear", (3, 4, 2), (3, 4, 2), 'upsample2d(x * P, [2, 3], "bilinear")',
     lambda x, P: up(x * P, (2, 3), "bilinear")),
    ("global_avgpool2d", (3, 4, 2), (3, 4, 2), "global_avgpool2d(x * P)", lambda x, P: (x * P).mean(dim=(1, 2))),
    ("global_maxpool2d", (3, 4, 2), (3, 4, 2), "global_maxpool2d(x * P)", lambda x, P: (x * P).amax(dim=(1, 2))),
    ("bmm_bcast", (2, 3, 4), (2, 4, 3), "x @ P", lambda x, P: x @ P),
    ("bmm_one", (2, 3, 4), (4, 2), "x @ P", lambda x, P: x @ P),
    ("vec_mat", (4,), (4, 3), "x @ P", lambda x, P: x @ P),
    ("cumsum", (5,), (5,), "cumsum(x * P, axis = 1)", lambda x, P: T.cumsum(x * P, dim=1)),
    ("prod", (4,), (4,), "prod(x * P, axis = 1)", lambda x, P: T.prod(x * P, dim=1)),
    ("prod_zero", (4,), (4,), "prod(x * P, axis = 1)", lambda x, P: T.prod(x * P, dim=1)),
    ("prod_mm", (3, 3), (3, 3), "prod(x @ P, axis = 2) * sum(P)", lambda x, P: T.prod(x @ P, dim=2) * P.sum()),
    ("reduce_min", (5,), (5,), "reduce_min(x * P, axis = 1)", lambda x, P: T.amin(x * P, dim=1)),
    ("reduce_max", (3, 4), (3, 4), "reduce_max(x * P, axis = 2, keepdims = true) * P",
     lambda x, P: T.amax(x * P, dim=2, keepdim=True) * P),
    ("clip", (6,), (6,), "clip(x * P, -0.3, 0.4)", lambda x, P: T.clamp(x * P, -0.3, 0.4)),
    ("mod", (6,), (6,), "(x * P) % 0.7", lambda x, P: T.remainder(x * P, 0.7)),
    ("gelu", (6,), (6,), "gelu(x * P)", lambda x, P: T.nn.functional.gelu(x * P)),
    ("erf", (6,), (6,), "erf(x * P)", lambda x, P: T.erf(x * P)),
    ("asin", (6,), (6,), "asin(clip(x * P, -0.9, 0.9))", lambda x, P: T.asin(T.clamp(x * P, -0.9, 0.9))),
    ("acos", (6,), (6,), "acos(tanh(x * P))", lambda x, P: T.acos(T.tanh(x * P))),
    ("round", (6,), (6,), "round(x * P) * P + floor(x * P) + ceil(P)", lambda x, P: T.round(x * P) * P + T.floor(x * P) + T.ceil(P)),
    ("pow", (6,), (6,), "abs(x) ** P", lambda x, P: T.abs(x) ** P),
    ("argmax", (5,), (5,), "gather(reshape(P, [5, 1]), argmax(x, axis = 1)) * 3.0",
     lambda x, P: P.reshape(5, 1)[x.argmax(dim=1)] * 3.0),
    ("transpose", (2, 3), (3, 2), "transpose(x, [0, 2, 1]) * P", lambda x, P: x.transpose(1, 2) * P),
    ("concat", (3,), (3,), "concat(x * P, x / (abs(P) + 1.0), axis = 1)",
     lambda x, P: T.cat([x * P, x / (T.abs(P) + 1)], dim=1)),
    ("stride", (6,), (6,), "(x * P)[:, 1:6:2]", lambda x, P: (x * P)[:, 1:6:2]),
    ("softmax", (2, 5), (2, 5), "softmax(x * P)", lambda x, P: T.softmax(x * P, dim=-1)),
    ("ones_like", (3,), (3,), "ones_like(x) * P + zeros_like(x)", lambda x, P: T.ones_like(x) * P),
]

xs, lines, params = [], [], {}
off = 0
for i, (name, xsh, psh, expr, _) in enumerate(cases):
    x = rng.normal(size=(B,) + xsh).astype(np.float32)
    P = np.round(rng.normal(size=psh), 3).astype(np.float32)
    if name == "prod_zero":
        P[1] = 0.0
    n = int(np.prod(xsh))
    xs.append(x.reshape(B, n))
    params[name] = P
    dims = ", ".join(str(d) for d in xsh)
    lines.append(f"  param P{i}: f32[{', '.join(str(d) for d in psh)}] = {json.dumps(P.tolist())}")
    lines.append(f"  x{i} = reshape(x[:, {off}:{off + n}], [B, {dims}])")
    e = re.sub(r"\bP\b", f"P{i}", re.sub(r"\bx\b", f"x{i}", expr))
    lines.append(f"  e{i} = {e}")
    off += n
X = np.concatenate(xs, axis=1)
np.save("x.npy", X)
np.save("y.npy", np.zeros(B, np.float32))
terms = " + ".join(f"mean(e{i} * e{i}) + sum(e{i}) / 7.0" for i in range(len(cases)))
src = "use nn\nmodel grads {\n  input x: f32[B, %d]\n  target y: f32[B]\n%s\n  output o = y\n  loss %s\n" \
      "  train {\n    data npy(\"x.npy\", \"y.npy\")\n    optimizer sgd(lr = 1.0)\n    batch %d  epochs 1\n  }\n}\n" \
      % (off, "\n".join(lines), terms, B)
open("grads.nn", "w").write(src)
subprocess.run([nnc, "grads.nn", "-o", "grads"], check=True)
subprocess.run(["./grads", "train", "--threads", "1", "--save", "grads.st"], check=True, stdout=subprocess.DEVNULL)

b = open("grads.st", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
head = json.loads(b[8:8 + n])
bad = 0
for i, (name, xsh, psh, expr, tf) in enumerate(cases):
    v = head[f"P{i}"]
    s, e = v["data_offsets"]
    newP = np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32).reshape(v["shape"])
    g_nnc = params[name] - newP
    Pt = T.tensor(params[name], dtype=T.float64, requires_grad=True)
    xt = T.tensor(X[:, sum(int(np.prod(c[1])) for c in cases[:i]):][:, :int(np.prod(xsh))].reshape((B,) + xsh),
                  dtype=T.float64)
    ev = tf(xt, Pt)
    ((ev * ev).mean() + ev.sum() / 7.0).backward()
    g = Pt.grad.numpy()
    err = np.max(np.abs(g - g_nnc)) / max(1e-3, np.max(np.abs(g)))
    ok = err < 1e-3
    bad += not ok
    print(f"{'ok' if ok else 'FAIL'}: d/dP of {expr}: relative error {err:.1e}")
    if not ok:
        print("  torch:", g.ravel()[:8], "\n  nnc:  ", g_nnc.ravel()[:8])
sys.exit(1 if bad else 0)
