#!/bin/bash
# text.sh: text as data and `generate` (docs/language.md [train.data.text], docs/cli.md generate).
# A character model (tests/e2e/text/charlm.nn) trains on a small Spanish UTF-8 text to a loss below
# the text's unigram entropy; the vocabulary is the text's characters and travels in the weights
# file; generate is deterministic per seed, valid UTF-8 of vocabulary characters only, and the same
# through the interpreter; a --val-split holds out the end of the text; hostile texts, prompts and
# weights fail with one clear message. Then sequence classification from CSV and NPY token ids, and
# the default corpus (Debian's fortunes-es) when it is installed.
. "$(dirname "$0")/lib.sh"
T=$SRC/tests/e2e/text
PY=${NNC_PYTHON:-/usr/bin/python3}

"$PY" "$T/corpus.py" corpus.txt || fail "cannot write the corpus"
cp "$T/charlm.nn" "$T/tiny_vocab.nn" "$T/fortunes.nn" "$T/seqclass.nn" .
"$NNC" charlm.nn -o charlm || fail "nnc charlm.nn exited with $?"

# ---- training: windows, the split from the end, a falling loss below the unigram entropy ----
./charlm train --limit 400 --val-split 0.1 --save w.st > train.log 2> train.err || { cat train.log train.err; fail "train exited with $?"; }
cat train.log
read -r L H V <<< "$("$PY" - <<'PY'
import collections, math
t = open("corpus.txt", encoding="utf-8").read()
c = collections.Counter(t)
print(len(t), -sum(v / len(t) * math.log(v / len(t)) for v in c.values()), len(c))
PY
)"
# seq 32, stride 16: (L - 33) / 16 + 1 windows, the first 400 kept; 40 held out from the end and
# the one window before them that shares characters with them left out
n=$(( (L - 33) / 16 + 1 )); [ $n -gt 400 ] && n=400
want="training charlm on $(( n - n / 10 - 1 )) samples ($(( n / 10 )) validation)"
grep -q "^$want," train.log || fail "want '$want'"
echo "ok: $want"
first=$(epoch_losses train.log | head -n 1)
last_val=$(sed -n 's/.*val_loss \([0-9.]*\).*/\1/p' train.log | tail -n 1)
check "$last_val" lt "$H" "validation loss (nats per character) below the unigram entropy $H"
check "$(epoch_losses train.log | tail -n 1)" lt "$first" "last epoch's loss below the first's"

# ---- the vocabulary in the weights file ----
"$PY" - w.st corpus.txt <<'PY' || fail "the weights' vocabulary is not the text's characters"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
h = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
vocab = h["__metadata__"]["vocab"]
want = "".join(sorted(set(open(sys.argv[2], encoding="utf-8").read())))
assert vocab == want, (vocab, want)
print("ok: vocab metadata =", repr(vocab))
PY
./charlm eval --weights w.st corpus.txt > eval.log || fail "eval exited with $?"
grep -q "^loss: " eval.log || fail "eval printed no loss"
echo "ok: eval on the text with the weights' vocabulary"
# scripts/text_data.py (the runtime's text data in Python, for PyTorch references) makes the same
# vocabulary and windows: the loss computed from the weights over its windows is eval's
"$PY" - "$SRC/scripts" w.st corpus.txt "$(metric eval.log loss)" <<'PY' || fail "scripts/text_data.py disagrees with the runtime"
import json, struct, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import text_data
raw = open(sys.argv[2], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def t(k):
    a, b = h[k]["data_offsets"]
    return np.frombuffer(data[a:b], dtype=np.float32).reshape(h[k]["shape"]).astype(np.float64)
text = text_data.read(sys.argv[3])
vocab = text_data.vocabulary(text, 48)
assert vocab == h["__metadata__"]["vocab"], (vocab, h["__metadata__"]["vocab"])
x, y = text_data.windows(text_data.encode(text, vocab), 32, 16)
z = np.tanh(t("e.table")[x] @ t("h.W") + t("h.b")) @ t("logits.W") + t("logits.b")
z -= z.max(axis=-1, keepdims=True)
logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
loss = -np.take_along_axis(logp, y[..., None], axis=-1).mean()
print("ok: text_data.py: %d windows, loss %.6f, eval's %s" % (len(x), loss, sys.argv[4]))
assert abs(loss - float(sys.argv[4])) < 1e-4
tr, va = text_data.split(400, 32, 16, 0.1)
assert (len(tr), len(va)) == (359, 40)
PY

# --resume numbers characters with the checkpoint's vocabulary: a character the checkpoint does not
# know (the two x of "xyz xyz") reads as unknown, with a note, and the vocabulary saved again is the checkpoint's
(cat corpus.txt; echo "xyz xyz") > more.txt
./charlm train --resume w.st --epochs 9 --limit 400 --data more.txt --save w2.st > resume.log 2> resume.err ||
    { cat resume.log resume.err; fail "train --resume exited with $?"; }
grep -q "note: 2 characters of 'more.txt' (the first: 'x' (U+0078)) are not in the vocabulary of the weights" resume.err ||
    { cat resume.err; fail "no note on the characters the checkpoint's vocabulary lacks"; }
"$PY" - w.st w2.st <<'PY' || fail "--resume changed the vocabulary"
import json, struct, sys
def vocab(p):
    raw = open(p, "rb").read()
    return json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]["vocab"]
assert vocab(sys.argv[1]) == vocab(sys.argv[2])
PY
echo "ok: --resume keeps the checkpoint's vocabulary"

# ---- generate ----
gen() { ./charlm generate --weights w.st "$@"; }
gen --prompt "¿qué " --length 120 --seed 5 > g1.txt || fail "generate exited with $?"
gen --prompt "¿qué " --length 120 --seed 5 > g2.txt || fail "generate exited with $?"
gen --prompt "¿qué " --length 120 --seed 6 > g3.txt || fail "generate exited with $?"
cmp -s g1.txt g2.txt || fail "generate with the same seed gave different texts"
cmp -s g1.txt g3.txt && fail "generate with seeds 5 and 6 gave the same text"
echo "ok: the same seed gives the same text, another seed another"
"$PY" - g1.txt corpus.txt <<'PY' || fail "generated text is not what it should be"
import sys
g = open(sys.argv[1], "rb").read().decode("utf-8")      # raises on invalid UTF-8
vocab = set(open(sys.argv[2], encoding="utf-8").read())
assert g.startswith("¿qué "), g
body = g[len("¿qué "):]
assert body.endswith("\n") and len(body) == 121, (len(body), body)
assert set(body[:-1]) <= vocab, set(body[:-1]) - vocab
print("ok: generated", repr(g))
PY
# sampling draws from the model's distribution: after a space, the characters generated follow the
# model's p(next | ' ') (computed here from the weights), sharpened to p^2 at --temperature 0.5
gen --length 6000 --seed 11 > long1.txt || fail "generate exited with $?"
gen --length 6000 --seed 11 --temperature 0.5 > long05.txt || fail "generate exited with $?"
"$PY" - w.st long1.txt long05.txt <<'PY' || fail "generated characters do not follow the model's probabilities"
import collections, json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def t(k):
    a, b = h[k]["data_offsets"]
    return np.frombuffer(data[a:b], dtype=np.float32).reshape(h[k]["shape"])
vocab = h["__metadata__"]["vocab"]
z = np.tanh(t("e.table")[vocab.index(" ") + 1] @ t("h.W") + t("h.b")) @ t("logits.W") + t("logits.b")
p = np.exp(z - z.max())[1:len(vocab) + 1]
for path, temp in ((sys.argv[2], 1.0), (sys.argv[3], 0.5)):
    q = p ** (1 / temp)
    q /= q.sum()
    g = open(path, encoding="utf-8").read()
    after = collections.Counter(g[i + 1] for i in range(len(g) - 1) if g[i] == " ")
    m = sum(after.values())
    tv = 0.5 * sum(abs(after.get(ch, 0) / m - q[k]) for k, ch in enumerate(vocab))
    print("temperature %g: %d characters after a space, total variation from the model's %.3f" % (temp, m, tv))
    assert m > 300 and tv < 0.12, tv
PY
echo "ok: sampled characters follow the model's probabilities (temperature 1 and 0.5)"
gen --prompt "el " --length 40 --temperature 0 > t0a.txt && gen --prompt "el " --length 40 --temperature 0 --seed 9 > t0b.txt ||
    fail "generate --temperature 0 exited with $?"
cmp -s t0a.txt t0b.txt || fail "--temperature 0 (the most likely character) depends on the seed"
gen --length 30 --top-k 1 > k1.txt || fail "generate --top-k 1 exited with $?"
gen --length 30 --temperature 0 > k0.txt || fail "generate exited with $?"
cmp -s k1.txt k0.txt || fail "--top-k 1 differs from --temperature 0"
echo "ok: --temperature 0 and --top-k 1 both pick the most likely character"
"$NNC" run charlm.nn -- generate --weights w.st --prompt "¿qué " --length 120 --seed 5 > gi.txt ||
    fail "nnc run charlm.nn -- generate exited with $?"
cmp -s g1.txt gi.txt || fail "the interpreter generates another text"
echo "ok: nnc run ... -- generate gives the same text"

# ---- hostile inputs ----
printf '' > empty.txt
printf 'abc\xc3\x28def' > bad.txt
printf 'corto' > short.txt
printf 'abc\000def' > nul.txt
expect_fail "missing text file" "data file 'missing.txt' not found" ./charlm train --data missing.txt
expect_fail "empty text file" "'empty.txt' is empty" ./charlm train --data empty.txt
expect_fail "invalid UTF-8" "'bad.txt': invalid UTF-8 at byte 3 \(line 1\): 0xC3 0x28" ./charlm train --data bad.txt
expect_fail "NUL byte" "'nul.txt': a NUL byte at byte 3" ./charlm train --data nul.txt
expect_fail "text shorter than seq + 1" "'short.txt' holds 5 characters, but one window needs seq \+ 1 = 33" ./charlm train --data short.txt
expect_fail "seq against the model" "seq = 16, but input 'ids' holds 32" ./charlm train --data 'text("corpus.txt", seq = 16)'
"$NNC" tiny_vocab.nn -o tiny_vocab || fail "nnc tiny_vocab.nn exited with $?"
expect_fail "vocabulary overflow" "has $V distinct characters, but output 'probs' of the model scores 8 ids .*at least $(( V + 1 ))" ./tiny_vocab train
expect_fail "prompt outside the vocabulary" "the prompt's character 'x' \(U\+0078\) \(character 3\) is not in the model's vocabulary" \
    ./charlm generate --weights w.st --prompt "elx"
# the weights without their vocabulary, and with a corrupt one
"$PY" - w.st <<'PY' || fail "cannot rewrite the weights"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def write(name):
    b = json.dumps(h).encode()
    b += b" " * ((8 - len(b) % 8) % 8)
    open(name, "wb").write(struct.pack("<Q", len(b)) + b + data)
v = h["__metadata__"].pop("vocab")
write("novocab.st")
h["__metadata__"]["vocab"] = v[::-1]
write("unsorted.st")
h["__metadata__"]["vocab"] = "".join(chr(c) for c in range(0x100, 0x100 + 60))
write("bigvocab.st")
PY
expect_fail "weights without a vocabulary" "the weights hold no vocabulary" ./charlm generate --weights novocab.st
expect_fail "eval without a vocabulary" "needs the vocabulary its training built" ./charlm eval --weights novocab.st corpus.txt
expect_fail "a vocabulary out of order" "'unsorted.st': its \"vocab\" metadata is not a vocabulary" ./charlm generate --weights unsorted.st
expect_fail "a vocabulary larger than V" "'bigvocab.st' holds a vocabulary of 60 characters .* scores 48 ids" ./charlm generate --weights bigvocab.st
expect_fail "predict on text" "predict reads .csv, .npy or IDX\[.gz\] files, not text \('corpus.txt'\)" \
    ./charlm predict --weights w.st corpus.txt
expect_fail "generate on a model that reads no ids" "generate needs a model with one input of character ids" \
    "$NNC" run "$EX/xor.nn" -- generate
./charlm generate --weights w.st --temperature -1 > /dev/null 2> usage.err
[ $? -eq 2 ] && grep -q "temperature expects a non-negative number" usage.err || fail "--temperature -1: not a usage error"
echo "ok: --temperature -1 is a usage error"

# ---- sequence classification from token ids: CSV, then NPY ----
"$PY" - <<'PY' || fail "cannot write the token id files"
import random
import numpy as np
random.seed(3)
rows = [[random.randrange(10) for _ in range(8)] for _ in range(600)]
labels = [int(7 in r) for r in rows]
with open("seq.csv", "w") as f:
    f.write("t0,t1,t2,t3,t4,t5,t6,t7,label\n")
    for r, y in zip(rows, labels):
        f.write(",".join(map(str, r)) + ",%d\n" % y)
np.save("seq_x.npy", np.array(rows, dtype=np.int32))
np.save("seq_y.npy", np.array(labels, dtype=np.int32))
PY
"$NNC" seqclass.nn -o seqclass || fail "nnc seqclass.nn exited with $?"
./seqclass train --save s.st > sc.log || { cat sc.log; fail "seqclass train exited with $?"; }
./seqclass eval --weights s.st seq.csv > sc_eval.log || fail "seqclass eval exited with $?"
check "$(metric sc_eval.log accuracy)" ge 0.95 "sequence classifier accuracy from CSV token ids"
./seqclass predict --weights s.st seq.csv > sc_pred.csv 2> /dev/null || fail "seqclass predict exited with $?"
[ "$(tail -n +2 sc_pred.csv | cut -d, -f3 | tr -d '\r' | head -n 200 | tr '\n' ' ')" = \
  "$(tail -n +2 seq.csv | cut -d, -f9 | head -n 200 | tr '\n' ' ')" ] || fail "predicted classes differ from the labels"
echo "ok: predict on CSV token ids gives the labels"
./seqclass train --data "npy(\"seq_x.npy\", \"seq_y.npy\")" --save s2.st > sc2.log || { cat sc2.log; fail "seqclass train on NPY exited with $?"; }
./seqclass eval --weights s2.st --data "npy(\"seq_x.npy\", \"seq_y.npy\")" > sc2_eval.log || fail "eval on NPY exited with $?"
check "$(metric sc2_eval.log accuracy)" ge 0.95 "sequence classifier accuracy from NPY token ids"

# ---- the default corpus ----
if [ -d /usr/share/games/fortunes/es ]; then
    "$NNC" fortunes.nn -o fortunes || fail "nnc fortunes.nn exited with $?"
    ./fortunes train --limit 64 --save f.st > f.log 2> f.err || { cat f.log f.err; fail "fortunes train exited with $?"; }
    grep -q "^training fortunes on 64 samples" f.log || { cat f.log; fail "fortunes-es gave no windows"; }
    echo "ok: text without a file reads fortunes-es"
    "$PY" - "$SRC/scripts" f.st <<'PY' || fail "scripts/text_data.py reads fortunes-es otherwise"
import json, struct, sys
sys.path.insert(0, sys.argv[1])
import text_data
raw = open(sys.argv[2], "rb").read()
vocab = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]["vocab"]
assert text_data.vocabulary(text_data.read(), 160) == vocab
print("ok: text_data.py's fortunes-es has the runtime's vocabulary (%d characters)" % len(vocab))
PY
else
    echo "skip: /usr/share/games/fortunes/es is not installed (Debian's fortunes-es)"
fi
echo "PASS"
