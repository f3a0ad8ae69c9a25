#!/bin/bash
# extras.sh CASE: train-block features of issue 7 against numbers computed independently (numpy):
#   onehot   `metrics accuracy` with one-hot f32 targets: argmax of output vs argmax of target, in
#            the train lines and eval (accuracy and confusion matrix), equals numpy's count from
#            the executable's predictions.
. "$(dirname "$0")/lib.sh"
case_=$1
X=$SRC/tests/e2e/extras
PY=${NNC_PYTHON:-/usr/bin/python3}
cp "$X"/*.nn .
case $case_ in
onehot)
    "$PY" -c "
import numpy as np
r = np.random.default_rng(3); x = r.normal(size=(90, 4)).astype(np.float32)
k = np.argmax(x[:, :3] + 0.8 * r.normal(size=(90, 3)), 1); y = np.eye(3, dtype=np.float32)[k]
np.save('x.npy', x); np.save('y.npy', y)" || fail "numpy"
    "$NNC" onehot.nn -o onehot || fail "nnc onehot.nn exited with $?"
    ./onehot train --seed 1 --save w.safetensors > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
    cat train.log
    grep -Eq '^epoch 3/3: .* accuracy 0\.[0-9]{4}' train.log || fail "no accuracy on the train lines"
    ./onehot eval --weights w.safetensors > eval.log 2>&1 || { cat eval.log; fail "eval exited with $?"; }
    cat eval.log
    ./onehot predict --weights w.safetensors x.npy > pred.csv || fail "predict exited with $?"
    want=$("$PY" -c "
import numpy as np
p = np.loadtxt('pred.csv', delimiter=',', skiprows=1); y = np.load('y.npy')
t, q = y.argmax(1), p.argmax(1)
print('%.4f' % (t == q).mean())
m = np.zeros((3, 3), int)
for a, b in zip(t, q): m[a, b] += 1
print(' '.join(map(str, m.ravel())))") || fail "numpy on the predictions"
    acc=$(metric eval.log accuracy)
    [ "$acc" = "$(echo "$want" | head -n 1)" ] || fail "eval accuracy $acc, numpy counts $(echo "$want" | head -n 1)"
    echo "ok: eval accuracy $acc equals numpy's argmax count"
    conf=$(sed -n '/^confusion/,/^time/p' eval.log | awk 'NR > 2 && NF == 4 && $1 ~ /^[0-9]+$/ { printf "%s%s %s %s", s, $2, $3, $4; s = " " }')
    [ "$conf" = "$(echo "$want" | tail -n 1)" ] || fail "confusion matrix '$conf', numpy '$(echo "$want" | tail -n 1)'"
    echo "ok: the 3-class confusion matrix equals numpy's"
    ;;
*) fail "unknown case $case_" ;;
esac
