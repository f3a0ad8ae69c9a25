#!/bin/bash
# Convolution end to end: a tiny CNN with every stdlib conv layer (conv2d with stride, "same",
# dilation and groups, depthwise_conv2d, conv2d_transpose, conv1d; explicit `pad`) compiles,
# trains on a few Fashion-MNIST batches with a falling loss, and the executable's losses equal the
# interpreter's (the library-call conv kernels, oneDNN's or im2col's, against the IR's direct
# loops). A conv layer whose output would be empty is an error naming the arithmetic and the call.
. "$(dirname "$0")/lib.sh"

cat > tiny_cnn.nn <<'NN'
use nn

model tiny_cnn {
  input  image: f32[B, 28, 28]
  target label: i32[B]

  x = reshape(image, [B, 28, 28, 1])
  h = conv2d(x, 8, 3, stride = 2, padding = "same", act = relu)   # f32[B, 14, 14, 8]
  h = depthwise_conv2d(h, 3, pad = 1, act = relu)                  # f32[B, 14, 14, 8]
  h = conv2d(h, 8, 3, dilation = 2, groups = 2, act = relu)        # f32[B, 10, 10, 8]
  u = conv2d_transpose(h, 4, 3, stride = 2, pad = [1, 0])          # f32[B, 19, 21, 4]
  s = conv1d(image, 4, 5, stride = 3, pad = 2, act = relu)         # f32[B, 10, 4]
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
# the same with each convolution implementation forced (runtime/conv_dnnl.c: oneDNN for every pass
# it has a jit kernel for, or im2col + OpenBLAS only; without libdnnl.so.2 both are im2col)
for impl in dnnl im2col; do
    c=$(NNC_CONV=$impl ./tiny_cnn train --threads 2 --limit 256 --epochs 2 | grep '^epoch' | awk '{print $4}')
    [ -n "$c" ] && [ "$c" = "$b" ] || fail "tiny_cnn: NNC_CONV=$impl losses '$c', interpreter '$b'"
done
echo "ok: tiny_cnn: NNC_CONV=dnnl and im2col at 2 threads agree with the interpreter"

# [dim.list] the 2-D layers with [h, w] kernels, strides and dilations, also through a generic
# layer that passes its list formal on: the executable equals the interpreter
cat > rect_cnn.nn <<'NN'
use nn

layer sep(x: f32[N, H, W, C], f: F, k: [KH, KW]) {
  conv2d(conv2d(x, f, [1, KW], padding = "same", act = relu), f, [KH, 1], padding = "same", act = relu)
}

model rect_cnn {
  input  image: f32[B, 28, 28, 1]
  target label: i32[B]
  h = conv2d(image, 6, [3, 5], stride = [1, 2], dilation = [2, 1], act = relu)   # f32[B, 24, 12, 6]
  h = depthwise_conv2d(h, [3, 1], stride = [2, 1], act = relu)                   # f32[B, 11, 12, 6]
  h = conv2d_transpose(h, 4, [2, 3], stride = [2, 1])                            # f32[B, 22, 14, 4]
  h = sep(h, 4, [5, 3])
  logits = dense(flatten(h), 10)
  output probs = softmax(logits)
  loss cross_entropy(logits, label)
  train {
    data fashion_mnist
    optimizer adam(lr = 3e-3)
    batch 32 epochs 2 metrics accuracy
  }
}
NN
"$NNC" rect_cnn.nn -o rect_cnn || fail "nnc rect_cnn.nn exited with $?"
./rect_cnn summary > rect.summary || fail "rect_cnn summary exited with $?"
for want in 'h\.W +f32 +\[3,5,1,6\]' 'h_2\.W +f32 +\[3,1,1,6\]' 'h_3\.W +f32 +\[2,3,4,6\]' \
            'h_4\.conv2d\.W +f32 +\[1,3,4,4\]' 'h_4\.conv2d_2\.W +f32 +\[5,1,4,4\]' 'logits\.W +f32 +\[1232,10\]'; do
    grep -Eq "^param +$want" rect.summary || { cat rect.summary; fail "rect_cnn: no parameter $want"; }
done
echo "ok: rect_cnn: [h, w] kernels give their parameters"
a=$(./rect_cnn train --threads 1 --limit 128 | grep '^epoch' | awk '{print $4}')
b=$("$NNC" run rect_cnn.nn -- train --threads 1 --limit 128 | grep '^epoch' | awk '{print $4}')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "rect_cnn: executable losses '$a', interpreter '$b'"
echo "ok: rect_cnn: executable and interpreter agree ($(echo $a))"

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
