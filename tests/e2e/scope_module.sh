#!/bin/bash
# scope_module.sh: a model's own declaration hides a module's of the same name in the model's
# file only [scope.module] (lang/scope.h): the model below declares its own log_softmax (zeros)
# and its own layer conv, and uses stdlib's cross_entropy (whose body calls log_softmax) and
# conv2d (whose body calls the builtin conv). Checked on the executable and on the interpreter:
#  - the model's outputs use its own: `mine` is all zeros, `c` is x @ ones = the row sums;
#  - the loss is stdlib's cross-entropy, mean(log 3, log(e + e^2 + e^3) - 3) = 0.753109, not the
#    0 that the model's log_softmax would give; conv2d builds and runs.
. "$(dirname "$0")/lib.sh"
printf 'x1,x2,x3,y\n0,0,0,0\n1,2,3,2\n' > d.csv
cat > m.nn <<'NN'
use nn
fn log_softmax(x: f32[*S, N]) -> f32[*S, N] {
  x * 0.0
}
layer conv(x: f32[B, K], units: N) -> f32[B, N] {
  param W: f32[K, N] = ones
  x @ W
}
model m {
  input  x: f32[B, 3]
  target y: i32[B]
  output mine = log_softmax(x)
  output c = conv(x, 2)
  output img = conv2d(reshape(x, [B, 1, 3, 1]), 1, 1)
  loss cross_entropy(x + 0.0 * c[:, 0:1] + 0.0 * reshape(img, [B, 3])[:, 0:1], y)
  train {
    data csv("d.csv", label = "y")
    optimizer sgd(lr = 0.0)
    batch 2 epochs 1
  }
}
NN
"$NNC" check m.nn || fail "nnc check exited with $?"
"$NNC" m.nn -o m || fail "nnc exited with $?"
./m train --save w.st > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
for how in exe interp; do
    if [ $how = exe ]; then run=(./m); else run=("$NNC" run m.nn --); fi
    "${run[@]}" eval --weights w.st --data d.csv > eval.$how 2>&1 || { cat eval.$how; fail "$how eval"; }
    loss=$(metric eval.$how loss)
    check "$loss" ge 0.7530 "$how: loss is stdlib's cross-entropy"
    check "$loss" le 0.7532 "$how: loss is stdlib's cross-entropy"
    "${run[@]}" predict --weights w.st d.csv > pred.$how 2>/dev/null || fail "$how predict"
    cat pred.$how
    row=$(sed -n 3p pred.$how | cut -d, -f1-5)
    [ "$row" = "0,0,0,6,6" ] || fail "$how: the model's own log_softmax and conv: got '$row', want 0,0,0,6,6"
    echo "ok: $how: the model's own declarations in its file"
done
