#!/bin/bash
# seq_examples.sh: the sequence examples (issue 10). brackets_lstm.nn learns the synthetic
# balanced-brackets set of examples/data/make_brackets20.py: after 3 epochs on 2000 strings it
# classifies at least 90% of 400 test strings (half balanced; every string has ten of each bracket,
# so counting alone gives 50%).
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
"$PY" "$EX/data/make_brackets20.py" data --train 2000 --test 400 || fail "make_brackets20.py failed"
compile brackets_lstm
./brackets_lstm train --data data/brackets20_train_x.npy,data/brackets20_train_y.npy --epochs 3 \
    --save b.st > train.txt 2>&1 || { cat train.txt; fail "brackets_lstm train failed"; }
./brackets_lstm eval --weights b.st --data data/brackets20_test_x.npy,data/brackets20_test_y.npy > eval.txt 2>&1 ||
    { cat eval.txt; fail "brackets_lstm eval failed"; }
cat eval.txt
check "$(metric eval.txt accuracy)" ge 0.9 "brackets_lstm test accuracy"
echo "ok: brackets_lstm test accuracy $(metric eval.txt accuracy)"
