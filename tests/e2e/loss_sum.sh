#!/bin/bash
# loss_sum.sh: a train block without steps minimizes the sum of all the model's losses
# (docs/language.md [train.loss.sum], the Keras add_loss habit) and reports each loss:
#  - loss 'fit' reaches only param a, loss 'pull' only param c: after training, a fits the data
#    (y = 2x) and c is near 3, so both gradients were applied (minimizing only the first loss
#    would leave c at 0);
#  - the epoch line reports both losses by name, and both fall.
. "$(dirname "$0")/lib.sh"
"$NNC_PYTHON" -c '
import random
random.seed(1)
print("x,y")
for i in range(64):
    x = random.uniform(-1, 1)
    print(f"{x:.6f},{2 * x:.6f}")' > d.csv || fail "making d.csv"
cat > sum.nn <<'NN'
use nn
model m {
  input x: f32[B, 1]
  target y: f32[B]
  param a: f32[1] = zeros
  param c: f32[1] = zeros
  output p = sum(x * a, axis = 1)
  loss fit = mse(p, y)
  loss pull = mean((c - 3.0) * (c - 3.0))
  train {
    data csv("d.csv", label = "y")
    optimizer sgd(lr = 0.1)
    batch 8 epochs 20
  }
}
NN
"$NNC" check sum.nn || fail "nnc check exited with $?"
"$NNC" sum.nn -o sum || fail "nnc exited with $?"
./sum train --save w.st > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
cat train.log
first=$(grep -m1 '^epoch 1/' train.log)
last=$(grep '^epoch 20/' train.log)
field() { echo "$1" | sed -n "s/.*  $2 \([-0-9.eE+naif]*\).*/\1/p"; }
check "$(field "$last" fit)" lt "$(field "$first" fit)" "fit falls (epoch 20 vs 1)"
check "$(field "$last" pull)" lt "$(field "$first" pull)" "pull falls (epoch 20 vs 1)"
"$NNC_PYTHON" - w.st <<'PY' || fail "trained weights"
import json, struct, sys
h = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', h[:8])[0]
meta = json.loads(h[8:8 + n])
def val(k):
    o = meta[k]['data_offsets']
    return struct.unpack('<f', h[8 + n + o[0]:8 + n + o[0] + 4])[0]
a, c = val('a'), val('c')
assert abs(a - 2) < 0.1, f'a = {a}, want about 2 (loss fit)'
assert abs(c - 3) < 0.1, f'c = {c}, want about 3 (loss pull)'
print(f'ok: a = {a:.4f} (about 2), c = {c:.4f} (about 3): both losses were minimized')
PY
# summary names every loss the one step minimizes
./sum summary > summary.log 2>&1 || { cat summary.log; fail "summary exited with $?"; }
grep -q "^step: *main minimizes fit + pull with sgd" summary.log || { cat summary.log; fail "summary does not say the step minimizes fit + pull"; }
# a non-finite loss that no step names stops training like the step's own loss does
sed 's/mean((c - 3.0) \* (c - 3.0))/mean(log(c - c))/' sum.nn > inf.nn
"$NNC" inf.nn -o inf || fail "nnc inf.nn exited with $?"
expect_fail "an infinite unnamed loss" "loss became Inf at epoch 1, step 1" ./inf train
echo "ok: loss_sum"
