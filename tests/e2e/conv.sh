#!/bin/bash
# Convolution end to end: a tiny CNN with every stdlib conv layer (conv2d with stride, "same",
# dilation and groups, depthwise_conv2d, conv2d_transpose, conv1d) compiles, trains on a few
# Fashion-MNIST batches with a falling loss, and the executable's losses equal the interpreter's
# (the library-call conv kernels against the IR's direct loops). A conv layer whose output would
# be empty is an error naming the arithmetic and the call.
. "$(dirname "$0")/lib.sh"

cat > tiny_cnn.nn <<'NN'
use nn

model tiny_cnn {
  input  image: f32[B, 28, 28]
  target label: i32[B]

  x = reshape(image, [B, 28, 28, 1])
  h = conv2d(x, 8, 3, stride = 2, padding = "same", act = relu)   # f32[B, 14, 14, 8]
  h = depthwise_conv2d(h, 3, act = relu)                           # f32[B, 12, 12, 8]
  h = conv2d(h, 8, 3, dilation = 2, groups = 2, act = relu)        # f32[B, 8, 8, 8]
  u = conv2d_transpose(h, 4, 3, stride = 2, padding = "same")      # f32[B, 16, 16, 4]
  s = conv1d(image, 4, 5, stride = 3, act = relu)                  # f32[B, 8, 4]
  logits = dense(flatten(u), 10) + dense(flatten(s), 10)
  output probs = softmax(logits)
  loss cross_entropy(logits, label)
  train {
    data fashion_mnist
    optimizer adam(lr = 3e-3)
    batch 32 epochs 4 metrics accuracy
  }
}
NN
"$NNC" tiny_cnn.nn -o tiny_cnn || fail "nnc tiny_cnn.nn exited with $?"
./tiny_cnn train --threads 2 --limit 640 > train.log 2> train.err || { cat train.err; fail "tiny_cnn train exited with $?"; }
cat train.log
first=$(epoch_losses train.log | head -n 1)
final=$(epoch_losses train.log | tail -n 1)
check "$final" lt "$(awk -v f="$first" 'BEGIN { print f * 0.8 }')" "tiny_cnn: last epoch's loss below 0.8 x the first's ($first)"

a=$(./tiny_cnn train --threads 1 --limit 256 --epochs 2 | grep '^epoch' | awk '{print $4}')
b=$("$NNC" run tiny_cnn.nn -- train --threads 1 --limit 256 --epochs 2 | grep '^epoch' | awk '{print $4}')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "tiny_cnn: executable losses '$a', interpreter '$b'"
echo "ok: tiny_cnn: executable and interpreter agree ($(echo $a))"

cat > too_small.nn <<'NN'
use nn

model too_small {
  input  image: f32[B, 4, 4, 1]
  target label: i32[B]
  h = conv2d(image, 4, 5)
  loss cross_entropy(dense(flatten(h), 10), label)
}
NN
"$NNC" check too_small.nn 2> err.txt && fail "too_small.nn: nnc check accepted a 5x5 kernel on a 4x4 image"
grep -q "error: conv: (4 - 5 + 0) / 1 + 1 = 0 is not a positive size" err.txt || { cat err.txt; fail "no arithmetic in the error"; }
grep -q "too_small.nn:6:7: note: in this call of conv2d" err.txt || { cat err.txt; fail "the error does not name the call"; }
echo "ok: a conv layer too large for its input is an error with the arithmetic and the call"
