#!/bin/bash
# conditional_predict.sh: a model whose output is computed from its target too (a conditional
# generator: the label's embedding beside the input, as a conditional GAN's generator) is no
# classifier (no accuracy, no "class" column, whatever the output's width), and predict reads the
# label beside the inputs (a CSV's label column, or x.npy,y.npy): the same features with other
# labels give other outputs, equal to the interpreter's. Without the label, predict stops with a
# message naming the target (exit 1), instead of computing every row with label 0.
. "$(dirname "$0")/lib.sh"
cat > cond.nn <<'NN'
use nn
model cond {
  input  x: f32[B, 3]
  target label: i32[B]
  e = embedding(label, 4, 2)
  h = dense(concat([x, e], axis = 1), 5)
  output sample = sigmoid(h)
  loss mean(h * h)
  train { data csv("train.csv", label = "label") optimizer sgd(lr = 0.1) batch 4 epochs 2 }
}
NN
printf 'a,b,c,label\n' > train.csv
for i in 0 1 2 3 4 5 6 7; do printf '0.%d,0.5,-0.%d,%d\n' $i $i $((i % 4)) >> train.csv; done
printf 'a,b,c,label\n0.1,0.2,0.3,0\n0.1,0.2,0.3,1\n0.1,0.2,0.3,3\n' > cond_in.csv
printf 'a,b,c\n0.1,0.2,0.3\n' > nolabel.csv
"$NNC" cond.nn -o cond || fail "nnc cond.nn exited with $?"
./cond train --save cond.st > train.log 2>&1 || { cat train.log; fail "cond train exited with $?"; }
grep -q accuracy train.log && { cat train.log; fail "a conditional model reports an accuracy"; }
./cond summary | grep -q "classify" && fail "a conditional model is summarised as a classifier"
./cond predict --weights cond.st cond_in.csv > exe.csv 2> err.txt || { cat err.txt; fail "predict with labels exited with $?"; }
cat exe.csv
head -n 1 exe.csv | grep -q class && fail "predict of a conditional model writes a class column"
[ "$(wc -l < exe.csv)" = 4 ] || fail "predict wrote $(wc -l < exe.csv) lines, not a header and 3 rows"
[ "$(sed -n 2p exe.csv)" != "$(sed -n 3p exe.csv)" ] || fail "labels 0 and 1 gave the same output: the label was not read"
"$NNC" run cond.nn -- predict --weights cond.st cond_in.csv > interp.csv 2> err.txt || { cat err.txt; fail "nnc run predict exited with $?"; }
paste -d, exe.csv interp.csv | awk -F, 'NR > 1 { for (i = 1; i <= 5; i++) { d = $i - $(i + 5); if (d < 0) d = -d; if (d > 1e-5) exit 1 } }' ||
    fail "the executable's predictions differ from the interpreter's"
./cond predict --weights cond.st nolabel.csv > out.txt 2> err.txt && fail "predict without the label succeeded"
[ $? = 1 ] || fail "predict without the label: exit status not 1"
cat err.txt
grep -q "target 'label'" err.txt || fail "the message does not name the target"
echo "ok: conditional model: labels read by predict, no classifier"
