#!/bin/bash
# batchnorm_mlp.sh: stdlib's batchnorm in a small MLP on Fashion-MNIST, compiled (LLVM backend):
#  - a few training steps move the running statistics (running_mean off 0, running_var off 1);
#  - the executable's statistics and weights after those steps equal the reference interpreter's
#    (nnc run) with the same seed (SGD, not Adam: h.b's true gradient is 0, batchnorm subtracts
#    it again, and Adam would turn the rounding noise left in its place into full-size steps);
#  - predict (inference mode) normalises with the running statistics: its probabilities equal a
#    NumPy forward pass with the saved running_mean/running_var, and differ from one with the
#    batch's own statistics (a single row, whose batch statistics would make every hidden unit
#    equal to beta, included);
#  - batchnorm, lrn and layernorm on channels-last images [B, 14, 14, 4]: the executable's training
#    and predictions equal the interpreter's.
. "$(dirname "$0")/lib.sh"
cat > bn_mlp.nn <<'EOF'
use nn
model bn_mlp {
  input  image: f32[B, 28, 28]
  target label: i32[B]
  h      = dense(flatten(image), 32)
  n      = batchnorm(h, momentum = 0.2)
  logits = dense(relu(n), 10)
  output probs = softmax(logits)
  loss   cross_entropy(logits, label)
  train { data fashion_mnist  optimizer sgd(lr = 0.1)  batch 32  epochs 1  metrics accuracy }
}
EOF
"$NNC" bn_mlp.nn -o bn_mlp || fail "nnc bn_mlp.nn exited with $?"
flags=(train --seed 3 --limit 320 --threads 1)
./bn_mlp "${flags[@]}" --save exe.st > exe.log 2>&1 || { cat exe.log; fail "train exited with $?"; }
cat exe.log
"$NNC" run bn_mlp.nn -- "${flags[@]}" --save interp.st > interp.log 2>&1 || { cat interp.log; fail "nnc run exited with $?"; }

# 5 rows of 784 pixels for predict: the first a plain ramp, the others random in [0, 1]
"$NNC_PYTHON" - <<'PY' || fail "writing rows.csv"
import numpy as np
rng = np.random.default_rng(5)
X = rng.uniform(0.0, 1.0, (5, 784))
X[0] = np.linspace(0.0, 1.0, 784)
open("rows.csv", "w").write(",".join("p%d" % i for i in range(784)) + "\n" +
                            "".join(",".join("%.6g" % v for v in r) + "\n" for r in X))
np.save("rows.npy", X)
PY
./bn_mlp predict --weights exe.st rows.csv > pred.csv 2> pred.err || { cat pred.err; fail "predict exited with $?"; }
( head -n 1 rows.csv; sed -n 2p rows.csv ) > row1.csv
./bn_mlp predict --weights exe.st row1.csv > pred1.csv 2> pred1.err || { cat pred1.err; fail "predict of one row exited with $?"; }

"$NNC_PYTHON" - <<'PY' || fail "batchnorm statistics or inference"
import json, struct
import numpy as np

def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], "<f4")
            .reshape(v["shape"]).astype(np.float64) for k, v in hdr.items() if k != "__metadata__"}

w, wi = load("exe.st"), load("interp.st")
rm, rv = w["n.running_mean"], w["n.running_var"]
assert rm.shape == (32,) and rv.shape == (32,), (rm.shape, rv.shape)
# 10 steps of momentum 0.2 from 0 and 1: every channel has moved well away
assert np.all(np.abs(rm) > 1e-3), "running_mean did not move: %s" % rm
assert np.all(np.abs(rv - 1.0) > 1e-3), "running_var did not move: %s" % rv
print("ok: running_mean moved to [%.3g .. %.3g], running_var to [%.3g .. %.3g]" % (rm.min(), rm.max(), rv.min(), rv.max()))
for k in sorted(w):
    assert k in wi, "interpreter lacks %s" % k
    assert np.allclose(w[k], wi[k], rtol=1e-3, atol=1e-5), "%s: executable %s, interpreter %s" % (k, w[k].ravel()[:4], wi[k].ravel()[:4])
print("ok: the executable's %d tensors equal the interpreter's after training" % len(w))

def forward(X, mean, var):
    h = X @ w["h.W"] + w["h.b"]
    if mean is None:
        mean, var = h.mean(0), h.var(0)
    n = w["n.gamma"] * (h - mean) / np.sqrt(var + 1e-5) + w["n.beta"]
    z = np.maximum(n, 0.0) @ w["logits.W"] + w["logits.b"]
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)

def probs(path):
    lines = open(path).read().strip().split("\n")
    return np.array([[float(v) for v in l.split(",")[:10]] for l in lines[1:]])   # probs_0..9, not class

X = np.load("rows.npy")
got, got1 = probs("pred.csv"), probs("pred1.csv")
want = forward(X, rm, rv)
assert np.allclose(got, want, rtol=1e-3, atol=1e-5), "predict %s, want %s" % (got[0], want[0])
assert np.allclose(got1, want[:1], rtol=1e-3, atol=1e-5), "predict of one row %s, want %s" % (got1[0], want[0])
batch = forward(X, None, None)
assert np.max(np.abs(got - batch)) > 1e-2, "predict equals the batch-statistics forward: not inference mode"
print("ok: predict uses the running statistics (max diff %.2g; %.2g from the batch-statistics forward)"
      % (np.max(np.abs(got - want)), np.max(np.abs(got - batch))))
PY

# the three normalisation layers on images (channels-last [B, 14, 14, 4]), compiled: training and
# predict equal the reference interpreter's
cat > norm4d.nn <<'EOF2'
use nn
model norm4d {
  input  image: f32[B, 28, 28]
  target label: i32[B]
  h      = dense(reshape(image, [B, 14, 14, 4]), 5)
  n      = batchnorm(h)
  r      = lrn(relu(n), size = 3, alpha = 0.5, k = 1.0)
  l      = layernorm(r)
  logits = dense(flatten(l), 10)
  output probs = softmax(logits)
  loss   cross_entropy(logits, label)
  train { data fashion_mnist  optimizer sgd(lr = 0.1)  batch 32  epochs 1  metrics accuracy }
}
EOF2
"$NNC" norm4d.nn -o norm4d || fail "nnc norm4d.nn exited with $?"
./norm4d "${flags[@]}" --save n4_exe.st > n4_exe.log 2>&1 || { cat n4_exe.log; fail "norm4d train exited with $?"; }
cat n4_exe.log
"$NNC" run norm4d.nn -- "${flags[@]}" --save n4_interp.st > n4_interp.log 2>&1 || { cat n4_interp.log; fail "nnc run norm4d exited with $?"; }
./norm4d predict --weights n4_exe.st rows.csv > n4_exe.csv 2> n4.err || { cat n4.err; fail "norm4d predict exited with $?"; }
"$NNC" run norm4d.nn -- predict --weights n4_exe.st rows.csv > n4_interp.csv 2> n4.err || { cat n4.err; fail "nnc run norm4d predict exited with $?"; }
"$NNC_PYTHON" - <<'PY' || fail "norm4d: the executable differs from the interpreter"
import json, struct
import numpy as np

def load(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], "<f4")
            .astype(np.float64) for k, v in hdr.items() if k != "__metadata__"}

w, wi = load("n4_exe.st"), load("n4_interp.st")
assert "n.running_var" in w and "l.gamma" in w, sorted(w)
assert np.all(np.abs(w["n.running_var"] - 1.0) > 1e-3), "running_var did not move"
for k in sorted(w):
    # h.b: batchnorm removes it, so its gradient is rounding noise (compared loosely)
    tol = 1e-4 if k == "h.b" else 1e-5
    assert np.allclose(w[k], wi[k], rtol=1e-3, atol=tol), "%s: executable %s, interpreter %s" % (k, w[k][:4], wi[k][:4])
def probs(path):
    return np.array([[float(v) for v in l.split(",")[:10]] for l in open(path).read().strip().split("\n")[1:]])
a, b = probs("n4_exe.csv"), probs("n4_interp.csv")
assert a.shape == (5, 10) and np.allclose(a, b, rtol=1e-4, atol=1e-6), "predict: executable %s, interpreter %s" % (a[0], b[0])
print("ok: norm4d (batchnorm, lrn, layernorm on [B, 14, 14, 4]): the executable's %d tensors and predictions equal the interpreter's" % len(w))
PY
