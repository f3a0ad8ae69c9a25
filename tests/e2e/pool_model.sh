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
