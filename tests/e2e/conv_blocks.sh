#!/bin/bash
# Generic convolutional blocks end to end (docs/language.md [builtin.conv], [if]): a residual
# block (conv-bn-relu-conv-bn plus a shortcut a compile-time `if` chooses) and an inception block
# (1x1, 3x3, 5x5 and pooling branches joined by concat on the channel axis), each a generic user
# layer that chains conv2d into more layers with parameters, are used at two sizes in one model.
# The parameter lists are made per call (the identity block has no shortcut, the strided one a
# 1x1 projection; the second inception block reads the first one's joined channels); the model
# compiles, trains with a falling loss, and the executable's losses equal the interpreter's.
. "$(dirname "$0")/lib.sh"

cat > blocks.nn <<'NN'
use nn

layer residual(x: f32[N, H, W, C], filters: F, stride = 1) {
  h = relu(batchnorm(conv2d(x, filters, 3, stride = stride, padding = "same")))
  h = batchnorm(conv2d(h, filters, 3, padding = "same"))
  if stride == 1 and C == F {
    shortcut = x
  } else {
    shortcut = batchnorm(conv2d(x, filters, 1, stride = stride))
  }
  relu(h + shortcut)
}

layer inception(x: f32[N, H, W, C], f1: int, f3: int, f5: int, fp: int) {
  b1 = conv2d(x, f1, 1, act = relu)
  b3 = conv2d(conv2d(x, f3, 1, act = relu), f3, 3, padding = "same", act = relu)
  b5 = conv2d(conv2d(x, f5, 1, act = relu), f5, 5, padding = "same", act = relu)
  bp = conv2d(maxpool2d(x, 3, stride = 1, padding = "same"), fp, 1, act = relu)
  concat(concat(b1, b3, axis = 3), concat(b5, bp, axis = 3), axis = 3)
}

model blocks {
  input  image: f32[B, 28, 28, 1]
  target label: i32[B]
  h = maxpool2d(relu(conv2d(image, 8, 3, padding = "same")), 2)   # f32[B, 14, 14, 8]
  h = residual(h, 8)                    # identity shortcut: f32[B, 14, 14, 8]
  h = residual(h, 16, stride = 2)       # projection:        f32[B, 7, 7, 16]
  h = inception(h, 4, 8, 4, 4)          # f32[B, 7, 7, 20]
  h = inception(h, 8, 8, 8, 8)          # f32[B, 7, 7, 32]
  logits = dense(global_avgpool2d(h), 10)
  output probs = softmax(logits)
  loss cross_entropy(logits, label)
  train {
    data fashion_mnist
    optimizer adam(lr = 3e-3)
    batch 32 epochs 4 metrics accuracy
  }
}
NN
"$NNC" blocks.nn -o blocks || fail "nnc blocks.nn exited with $?"
./blocks summary > summary.txt || fail "blocks summary exited with $?"
grep -E '^(param|state) ' summary.txt | grep -v '\.adam\.'
# want PATTERN WHAT: a line of the summary matches
want() { grep -Eq "$1" summary.txt || fail "blocks: $2"; echo "ok: $2"; }
want '^param +h_2\.h_2\.gamma +f32 +\[8\]' "the identity block's second batchnorm is [8]"
grep -q '^param *h_2\.shortcut' summary.txt && fail "blocks: the identity block has a shortcut"
want '^param +h_3\.h\.conv2d\.W +f32 +\[3,3,8,16\]' "the strided block's first conv is [3,3,8,16]"
want '^param +h_3\.shortcut\.conv2d\.W +f32 +\[1,1,8,16\]' "the strided block projects with [1,1,8,16]"
want '^state +h_3\.shortcut\.running_var +f32 +\[16\]' "the projection's batchnorm has a [16] running variance"
want '^param +h_4\.b5\.W +f32 +\[5,5,4,4\]' "the first inception's 5x5 branch is [5,5,4,4]"
want '^param +h_5\.b1\.W +f32 +\[1,1,20,8\]' "the second inception's 1x1 branch reads the 20 joined channels"
want '^param +logits\.W +f32 +\[32,10\]' "the classifier reads the second inception's 32 channels"

./blocks train --threads 2 --limit 640 > train.log 2> train.err || { cat train.err; fail "blocks train exited with $?"; }
cat train.log
first=$(epoch_losses train.log | head -n 1)
final=$(epoch_losses train.log | tail -n 1)
check "$final" lt "$(awk -v f="$first" 'BEGIN { print f * 0.9 }')" "blocks: last epoch's loss below 0.9 x the first's ($first)"

a=$(./blocks train --threads 1 --limit 64 --epochs 2 | grep '^epoch' | awk '{print $4}')
b=$("$NNC" run blocks.nn -- train --threads 1 --limit 64 --epochs 2 | grep '^epoch' | awk '{print $4}')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "blocks: executable losses '$a', interpreter '$b'"
echo "ok: blocks: executable and interpreter agree ($(echo $a))"
