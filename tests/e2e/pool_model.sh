#!/bin/bash
# pool_model.sh: a model built from the pooling and resampling builtins (1x1 dense "convolution",
# maxpool2d with its fused relu, avgpool2d 'same', upsample2d nearest and bilinear, maxpool1d,
# global_avgpool2d) trains on Fashion-MNIST: the executable equals the interpreter (`nnc run`)
# epoch by epoch, and the loss falls.
. "$(dirname "$0")/lib.sh"
cat > poolnet.nn <<'NN'
use nn
model poolnet {
  input image: f32[B, 28, 28]
  target label: i32[B]

  x = dense(reshape(image, [B, 28, 28, 1]), 6, act = relu)   # a 1x1 convolution
  x = maxpool2d(x)                                           # f32[B, 14, 14, 6]
  x = avgpool2d(x, 3, 2, "same")                             # f32[B, 7, 7, 6]
  u = upsample2d(x, 2, "bilinear") + upsample2d(x)           # f32[B, 14, 14, 6]
  p = maxpool2d(u, [3, 2], stride = [2, 2], padding = [1, 0]) # f32[B, 7, 7, 6]
  r = maxpool1d(image, 4)                                    # f32[B, 7, 28]
  h = concat(concat(flatten(p), global_avgpool2d(u), axis = 1), flatten(r), axis = 1)
  logits = dense(h, 10)

  output probs = softmax(logits)
  loss cross_entropy(logits, label)
  train {
    data fashion_mnist
    optimizer adam(lr = 3e-3)
    batch 32 epochs 3 metrics accuracy
  }
}
NN
"$NNC" poolnet.nn -o poolnet || fail "nnc poolnet.nn exited with $?"
flags=(train --seed 1 --epochs 3 --limit 512)
./poolnet "${flags[@]}" > exe.log 2>&1 || { cat exe.log; fail "poolnet ${flags[*]} exited with $?"; }
"$NNC" run poolnet.nn -- "${flags[@]}" > interp.log 2>&1 || { cat interp.log; fail "nnc run poolnet.nn exited with $?"; }
epoch_losses exe.log > exe.losses
epoch_losses interp.log > interp.losses
paste exe.losses interp.losses
[ "$(wc -l < exe.losses)" = 3 ] && [ "$(wc -l < interp.losses)" = 3 ] || { cat exe.log interp.log; fail "not 3 epoch losses each"; }
paste exe.losses interp.losses | awk '{
    d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2
    if (!(d <= 1e-4 * (s > 1 ? s : 1))) { print "epoch " NR ": " $1 " vs " $2; bad = 1 } }
    END { exit bad }' || fail "executable and interpreter losses differ"
first=$(head -n 1 exe.losses) last=$(tail -n 1 exe.losses)
check "$last" lt "$first" "the last epoch's loss below the first's ($first)"
echo "ok: poolnet: executable and interpreter agree on 3 epochs"

# a pool whose operand is a fused elementwise chain with a smaller tensor first (`g * x`, g a
# per-channel parameter, as a batch norm's `gamma * x_hat` is): the pool's geometry is the chain's
# result's, not its first argument's (the executable read g's shape [6] as the image and gave
# every sample after the first the same wrong output)
cat > gpool.nn <<'NN'
use nn
model gpool {
  input image: f32[B, 28, 28]
  target label: i32[B]
  param g: f32[6] = uniform(0.5, 1.5)
  param c: f32[1] = ones
  x = conv2d(reshape(image, [B, 28, 28, 1]), 6, 3)
  a = avgpool2d(g * x, 2)                      # f32[B, 13, 13, 6]
  m = maxpool2d(c * reshape(image, [B, 28, 28, 1]), 2)
  logits = dense(concat(flatten(a), flatten(m), axis = 1), 10)
  output probs = softmax(logits)
  loss cross_entropy(logits, label)
  train {
    data fashion_mnist
    optimizer adam(lr = 1e-3)
    batch 32 epochs 1
  }
}
NN
"$NNC" gpool.nn -o gpool || fail "nnc gpool.nn exited with $?"
./gpool train --seed 1 --limit 64 --save gpool.st > /dev/null 2>&1 || fail "gpool train"
"$NNC_PYTHON" -c "
import gzip, numpy as np
d = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 8 * 784]
np.save('eight.npy', np.frombuffer(d, np.uint8).reshape(8, 28, 28).astype(np.float32) / 255)" || fail "eight.npy"
./gpool predict --weights gpool.st eight.npy -o exe.csv 2> /dev/null || fail "gpool predict"
"$NNC" run gpool.nn -- predict --weights gpool.st eight.npy -o interp.csv > /dev/null 2>&1 || fail "nnc run gpool.nn predict"
"$NNC_PYTHON" - <<'PY' || fail "a pool of a fused chain: the executable's predictions differ from the interpreter's"
import numpy as np
a = np.loadtxt("exe.csv", delimiter=",", skiprows=1)
b = np.loadtxt("interp.csv", delimiter=",", skiprows=1)
assert a.shape == b.shape and a.shape[0] >= 4, (a.shape, b.shape)
assert np.abs(a - b).max() < 1e-5, np.abs(a - b).max()
assert np.abs(a[1:, :10] - a[:1, :10]).max() > 1e-4, "every sample gives the same probabilities"
print("ok: a pool of g * x: executable and interpreter agree on %d samples" % len(a))
PY
