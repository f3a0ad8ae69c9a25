#!/bin/bash
# extras.sh CASE: train-block features of issue 7 against numbers computed independently (numpy):
#   onehot   `metrics accuracy` with one-hot f32 targets: argmax of output vs argmax of target, in
#            the train lines and eval (accuracy and confusion matrix), equals numpy's count from
#            the executable's predictions.
#   r2       a metric written as a fn (`metrics r2`): eval's r2 equals numpy's mean of the r2 of
#            each batch weighted by its size, from the executable's predictions; the train and
#            val lines show r2 and val_r2.
#   valdata  `validation csv(...)`: the last epoch's val_loss and val_accuracy equal eval's on that
#            file with the saved weights, and the accuracy counted from predict; string labels
#            of a validation file holding two of the three classes keep the training numbering.
#   multi_label  csv(..., label = ["y1", "y2"]) fills an f32[B, 2] target in the order named: a
#            linear model fits both exactly, its predictions match each column (numpy), and
#            eval's mse equals numpy's from the predictions.
#   npy_u8   u8 images in NPY are scaled by 1/255 as in IDX, rank-1 u8 values are not: eval's loss
#            on the NPY files and on the same arrays as IDX files equals numpy's.
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
r2)
    "$PY" -c "
import numpy as np
r = np.random.default_rng(5); x = r.normal(size=(80, 3)); y = x @ [1.5, -2, 0.5] + 0.3 * r.normal(size=80)
np.savetxt('lin.csv', np.c_[x, y], delimiter=',', header='a,b,c,y', comments='', fmt='%.5f')
np.savetxt('feat.csv', x, delimiter=',', header='a,b,c', comments='', fmt='%.5f')" || fail "numpy"
    "$NNC" r2.nn -o r2 || fail "nnc r2.nn exited with $?"
    ./r2 train --seed 1 --epochs 4 --save w.safetensors > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
    cat train.log
    grep -Eq '^epoch 4/4: .* r2 [-0-9.e]+  mae .* val_r2 [-0-9.e]+ ' train.log || fail "no r2 / val_r2 on the train lines"
    grep -q 'val_r2 .* val_r2' train.log && fail "val_r2 printed twice"
    # batch 32 over 80 samples: batches of 32, 32 and 16
    ./r2 eval --weights w.safetensors --batch 32 > eval.log 2>&1 || { cat eval.log; fail "eval exited with $?"; }
    cat eval.log
    ./r2 predict --weights w.safetensors feat.csv > pred.csv || fail "predict exited with $?"
    want=$("$PY" -c "
import numpy as np
p = np.loadtxt('pred.csv', skiprows=1); y = np.loadtxt('lin.csv', delimiter=',', skiprows=1)[:, 3]
def r2(a, b): return 1 - ((b - a) ** 2).sum() / ((b - b.mean()) ** 2).sum()
s = [(r2(p[i:i + 32], y[i:i + 32]), len(y[i:i + 32])) for i in range(0, 80, 32)]
print('%.6f %.6f' % (sum(v * n for v, n in s) / 80, r2(p, y)))") || fail "numpy on the predictions"
    got=$(metric eval.log r2)
    awk -v g="$got" -v w="${want% *}" 'BEGIN { d = g - w; exit !(g != "" && d < 2e-5 && d > -2e-5) }' ||
        fail "eval r2 $got, numpy's batch-weighted mean ${want% *}"
    echo "ok: eval r2 $got equals numpy's batch-weighted mean ${want% *} (r2 over the whole set: ${want#* })"
    ;;
valdata)
    names='BEGIN { n[0] = "setosa"; n[1] = "versicolor"; n[2] = "virginica" } { OFS = "," }'
    awk -F, "$names"' NR == 1 { print; next } { $5 = n[$5]; print }' "$EX/data/iris_train.csv" > train.csv
    awk -F, "$names"' NR == 1 { print; next } $5 != 0 { $5 = n[$5]; print }' "$EX/data/iris_test.csv" > val.csv
    nv=$(($(wc -l < val.csv) - 1))
    "$NNC" iris_val.nn -o iris_val || fail "nnc iris_val.nn exited with $?"
    ./iris_val train --seed 2 --save w.safetensors > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
    tail -n 2 train.log
    grep -q "^training iris on 105 samples ($nv validation)" train.log || fail "the first line does not count $nv validation samples"
    last=$(tail -n 1 train.log)
    vloss=$(echo "$last" | sed -nE 's/.*  val_loss ([-0-9.e]+) .*/\1/p')
    vacc=$(echo "$last" | sed -nE 's/.*  val_accuracy ([-0-9.e]+) .*/\1/p')
    ./iris_val eval --weights w.safetensors val.csv > eval.log 2>&1 || { cat eval.log; fail "eval exited with $?"; }
    cat eval.log
    [ "$vacc" = "$(metric eval.log accuracy)" ] || fail "val_accuracy $vacc, eval on val.csv $(metric eval.log accuracy)"
    [ "$vloss" = "$(metric eval.log loss)" ] || fail "val_loss $vloss, eval on val.csv $(metric eval.log loss)"
    cut -d, -f1-4 val.csv > feat.csv
    ./iris_val predict --weights w.safetensors feat.csv > pred.csv || fail "predict exited with $?"
    counted=$(paste -d, <(tail -n +2 pred.csv) <(tail -n +2 val.csv) |
              awk -F, '{ n++; if ($4 == $NF) ok++ } END { if (n) printf "%.4f", ok / n }')
    [ "$vacc" = "$counted" ] || { head -3 pred.csv; fail "val_accuracy $vacc, counted from predict $counted"; }
    echo "ok: val_loss $vloss and val_accuracy $vacc equal eval on val.csv and predict's count"
    ;;
npy_u8)
    want=$("$PY" -c "
import numpy as np, struct
r = np.random.default_rng(1)
x = r.integers(0, 256, size=(10, 2, 3)).astype(np.uint8); y = r.integers(0, 256, size=10).astype(np.uint8)
np.save('x.npy', x); np.save('y.npy', y)
open('x.idx', 'wb').write(struct.pack('>BBBB3I', 0, 0, 8, 3, 10, 2, 3) + x.tobytes())
open('y.idx', 'wb').write(struct.pack('>BBBBI', 0, 0, 8, 1, 10) + y.tobytes())
s = x.reshape(10, 6).astype(np.float64).sum(1) / 255
print('%.6f' % ((s - y.astype(np.float64)) ** 2).mean())") || fail "numpy"
    "$NNC" u8.nn -o u8 || fail "nnc u8.nn exited with $?"
    ./u8 eval > npy.log 2>&1 || { cat npy.log; fail "eval on the NPY files exited with $?"; }
    ./u8 eval 'idx("x.idx", "y.idx")' > idx.log 2>&1 || { cat idx.log; fail "eval on the IDX files exited with $?"; }
    cat npy.log idx.log
    for f in npy idx; do
        got=$(metric $f.log loss)
        awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; exit !(g != "" && d < 1e-3 && d > -1e-3) }' ||
            fail "$f: eval loss $got, numpy (images / 255, labels as they are) $want"
        echo "ok: $f u8: eval loss $got equals numpy's $want"
    done
    ;;
multi_label)
    "$PY" -c "
import numpy as np
r = np.random.default_rng(2); x = r.normal(size=(40, 3)); y1 = x @ [1, 2, -1]; y2 = x @ [-0.5, 0, 1.5] + 1
np.savetxt('m.csv', np.c_[y2, x[:, 0], y1, x[:, 1:]], delimiter=',', header='y2,a,y1,b,c', comments='', fmt='%.5f')" ||
        fail "numpy"
    "$NNC" multi.nn -o multi || fail "nnc multi.nn exited with $?"
    ./multi train --seed 1 --save w.safetensors > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
    tail -n 1 train.log
    ./multi eval --weights w.safetensors > eval.log 2>&1 || { cat eval.log; fail "eval exited with $?"; }
    cat eval.log
    ./multi predict --weights w.safetensors m.csv > pred.csv 2> pred.err || { cat pred.err; fail "predict exited with $?"; }
    "$PY" -c "
import numpy as np, sys
p = np.loadtxt('pred.csv', delimiter=',', skiprows=1); d = np.loadtxt('m.csv', delimiter=',', skiprows=1)
y = np.c_[d[:, 2], d[:, 0]]
err = np.abs(p - y).max(); mse = ((p - y) ** 2).mean()
got = float([l.split()[1] for l in open('eval.log') if l.startswith('mse:')][0])
print('max |p - y| %.2e, numpy mse %.4e, eval mse %.4e' % (err, mse, got))
sys.exit(not (err < 1e-3 and abs(got - mse) <= 1e-3 * max(mse, 1e-9) + 1e-9))" ||
        fail "predictions do not match the columns y1, y2 in order, or eval's mse differs from numpy's"
    echo "ok: the f32[B, 2] target holds y1, y2 in the order named"
    ;;
*) fail "unknown case $case_" ;;
esac
