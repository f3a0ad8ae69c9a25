#!/bin/bash
# logistic.nn separates the two blobs with at least 98% accuracy (examples/README.md). Its output
# is a probability p of class 1 and its target an f32 0/1 label, and it asks for `metrics accuracy`:
# the executable prints the accuracy of (p >= 0.5) against the label on its train lines and in eval.
# Those numbers are checked, and checked against the accuracy counted here from `predict`.
. "$(dirname "$0")/lib.sh"
compile logistic
./logistic train --seed 1 --save w.safetensors > train.log 2>&1 || { cat train.log; fail "train exited with $?"; }
tail -n 2 train.log
# the feature columns x1, x2 (the header names them; label is the last column)
awk -F, '{ print $1 "," $2 }' "$EX/data/two_blobs.csv" > features.csv
head -n 1 "$EX/data/two_blobs.csv" | grep -q '^x1,x2,label' || fail "two_blobs.csv columns changed"
./logistic predict --weights w.safetensors features.csv > pred.csv || fail "predict exited with $?"
acc=$(paste -d, <(tail -n +2 pred.csv) <(tail -n +2 "$EX/data/two_blobs.csv") |
      awk -F, '{ n++; if (($1 > 0.5) == ($4 > 0.5)) ok++ } END { if (n) printf "%.4f", ok / n }')
[ "$(tail -n +2 pred.csv | wc -l)" = 200 ] || fail "expected 200 predictions"
check "$acc" ge 0.98 "logistic accuracy"
# the accuracy the executable itself prints: the last train line and eval on the training file
tacc=$(tail -n 1 train.log | sed -nE 's/^epoch 50\/50:.*  accuracy ([0-9.]+)  .*/\1/p')
check "$tacc" ge 0.98 "logistic train accuracy (printed)"
./logistic eval --weights w.safetensors > eval.log 2>&1 || { cat eval.log; fail "eval exited with $?"; }
cat eval.log
eacc=$(metric eval.log accuracy)
check "$eacc" ge 0.98 "logistic eval accuracy (printed)"
[ "$eacc" = "$acc" ] || fail "eval accuracy $eacc differs from the one counted from predict, $acc"
total=$(sed -n '/^confusion/,/^time/p' eval.log | awk 'NR > 2 && NF == 3 { s += $2 + $3 } END { print s }')
[ "$total" = 200 ] || fail "the 2-class confusion matrix sums to '$total', not 200"
# eval DATA (positional) is eval --data DATA
./logistic eval --weights w.safetensors "$EX/data/two_blobs.csv" > eval2.log 2>&1 || fail "eval DATA exited with $?"
[ "$(metric eval2.log accuracy)" = "$eacc" ] || fail "eval DATA gives another accuracy"
# predict on the data file itself: its label column is dropped (with a note), same predictions
./logistic predict --weights w.safetensors "$EX/data/two_blobs.csv" > pred2.csv 2> pred2.err || fail "predict on two_blobs.csv exited with $?"
grep -q "ignoring column 3 'label'" pred2.err || fail "no note on the dropped label column: $(cat pred2.err)"
cmp -s pred.csv pred2.csv || fail "predictions with the label column differ from those on the features"
echo "ok: predict drops the label column of two_blobs.csv"
