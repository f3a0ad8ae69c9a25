#!/bin/bash
# text_rnn.sh: a character RNN (tests/e2e/text/rnnlm.nn, unrolled over 16 positions) learns the
# small Spanish text of text.sh: its validation loss ends below the bigram model's level (1.0 nats
# per character; a model that sees only the last character stays near 1.3), and generate, sliding
# its 16-character window over 200 characters, writes the text's words - which only works when the
# prompt and each sampled character go to the right positions and the right position is read.
# The interpreter generates the same text.
. "$(dirname "$0")/lib.sh"
T=$SRC/tests/e2e/text
PY=${NNC_PYTHON:-/usr/bin/python3}
"$PY" "$T/corpus.py" corpus.txt || fail "cannot write the corpus"
cp "$T/rnnlm.nn" .
"$NNC" rnnlm.nn -o rnnlm || fail "nnc rnnlm.nn exited with $?"
./rnnlm train --val-split 0.1 --save r.st > train.log || { cat train.log; fail "train exited with $?"; }
cat train.log
check "$(sed -n 's/.*val_loss \([0-9.]*\).*/\1/p' train.log | tail -n 1)" lt 1.0 "validation loss (nats per character)"
./rnnlm generate --weights r.st --prompt "¿qué " --length 200 --temperature 0.5 --seed 4 > g.txt || fail "generate exited with $?"
cat g.txt
"$PY" - g.txt corpus.txt <<'PY' || fail "the generated text is not made of the text's words"
import sys
g = open(sys.argv[1], encoding="utf-8").read()
words = set(open(sys.argv[2], encoding="utf-8").read().split())
got = g.split()[1:-1]          # the prompt's word, and the last word (cut short)
known = sum(w in words for w in got)
print("ok: %d of %d generated words are words of the text" % (known, len(got)))
assert len(got) >= 20 and known >= 0.8 * len(got)
PY
"$NNC" run rnnlm.nn -- generate --weights r.st --prompt "¿qué " --length 200 --temperature 0.5 --seed 4 > gi.txt ||
    fail "nnc run rnnlm.nn -- generate exited with $?"
cmp -s g.txt gi.txt || fail "the interpreter generates another text"
echo "ok: nnc run ... -- generate gives the same text"
echo "PASS"
