#!/bin/bash
# logistic.nn separates the two blobs with at least 98% accuracy (examples/README.md). Its output
# is a probability p of class 1 and its target an f32 0/1 label, so the accuracy is counted here
# from `predict`: (p > 0.5) against the label column of data/two_blobs.csv.
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
