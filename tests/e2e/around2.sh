#!/bin/bash
# around2.sh - issue 12's leftovers (docs/cli.md): `--help` names --version; summary shows each
# step's regularisers (l1/l2 terms of its losses, the optimizer's own l1/l2) from the descriptor's
# `reg` records, in text and --json, from `nnc summary` and `./model summary`; eval's confusion
# matrix carries the class names; --early-stop's best value and epoch are kept in a checkpoint and
# a --resume goes on watching from them (and a corrupt watch in the metadata is a clear error).
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
A=$SRC/tests/e2e/around
cp "$A/s.csv" .
for m in regs regs2 plateau; do
    "$NNC" "$A/$m.nn" -o $m || fail "nnc $m.nn exited with $?"
done

# ---- --help lists --version ----
./regs --help > h.txt 2>&1 || fail "--help exited with $?"
grep -q -- "'regs --version'" h.txt || fail "--help does not name --version: $(cat h.txt)"
./regs --version | grep -q '^model regs from regs.nn' || fail "--version: $(./regs --version)"

# ---- summary: the regularisers of each step ----
want='step:       main minimizes xent with sgd (lr 0.1), over every parameter
regulariser: 0.0001 * l2(W) in loss xent
regulariser: -0.5 * l1(h.W) in loss xent
regulariser: 3 * l2(logits.W) in loss xent
regulariser: 6 * l1(logits.b) in loss xent
regulariser: l2 = 0.0005 in sgd: adds 0.0005 * p to the gradient of every parameter it trains'
./regs summary > s.txt 2>&1 || fail "summary exited with $?"
got=$(grep -A5 '^step:' s.txt)
[ "$got" = "$want" ] || fail "./regs summary's step: $got"
"$NNC" summary "$A/regs.nn" > ns.txt 2>&1 || fail "nnc summary exited with $?"
got=$(grep -A5 '^step:' ns.txt)
[ "$got" = "$want" ] || fail "nnc summary's step: $got"
# the parameters named are the model's
for p in W h.W logits.W logits.b; do grep -q "^param   $p " s.txt || fail "summary lists no param $p"; done
# two steps: each shows the terms of its own loss only, and its optimizer's
"$NNC" summary "$A/regs2.nn" > s2.txt 2>&1 || fail "nnc summary regs2 exited with $?"
got=$(grep -A3 '^step:' s2.txt | grep -v '^hyper')
want2='step:       sa minimizes la with sgd (lr 0.1), over [a]
regulariser: 0.01 * l1(a.W) in loss la
step:       sb minimizes lb with adam (lr 0.001), over [b]
regulariser: 0.5 * l2(b.W) in loss lb
regulariser: l1 = 1e-05 in adam: adds 1e-05 * sign(p) to the gradient of every parameter it trains'
[ "$got" = "$want2" ] || fail "regs2 summary's steps: $got"
./regs summary --json > s.json 2> /dev/null || fail "summary --json exited with $?"
./regs2 summary --json > s2.json 2> /dev/null || fail "regs2 summary --json exited with $?"
"$PY" - s.json s2.json <<'EOF' || fail "summary --json's regularisers"
import json, sys
s = json.load(open(sys.argv[1]))
r = s["steps"][0]["regularisers"]
assert [(x["loss"], x["fn"], x["coef"], x["param"]) for x in r] == [
    ("xent", "l2", 1e-4, "W"), ("xent", "l1", -0.5, "h.W"), ("xent", "l2", 3, "logits.W"),
    ("xent", "l1", 6, "logits.b"), ("-", "l2", 5e-4, "*")], r
s2 = json.load(open(sys.argv[2]))
assert [[(x["fn"], x["param"]) for x in st["regularisers"]] for st in s2["steps"]] == \
    [[("l1", "a.W")], [("l2", "b.W"), ("l1", "*")]], s2["steps"]
print("ok: summary --json regularisers")
EOF
# a model without any: no regulariser line, an empty list
compile iris
./iris summary | grep -q '^regulariser' && fail "iris summary shows a regulariser"
./iris summary --json | grep -q '"regularisers": \[\]' || fail "iris summary --json: no empty regularisers"
# the descriptor's reg record is checked: a bad one is an error naming it (desc.c), tested where
# the descriptor is parsed from text in the runtime unit tests; here the record reaches the runtime
echo "ok: summary regularisers"

# ---- eval's confusion matrix by class name ----
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { split("setosa versicolor virginica", n, " "); $5 = n[$5 + 1]; print }' \
    "$EX/data/iris_train.csv" > named.csv
./iris train --data named.csv --epochs 10 --save n.st > t.log 2>&1 || { cat t.log; fail "train exited with $?"; }
./iris eval --weights n.st named.csv > e.log 2>&1 || { cat e.log; fail "eval exited with $?"; }
./iris eval --weights n.st named.csv --json > e.json 2> /dev/null || fail "eval --json exited with $?"
sed -n '/^confusion/,/^time/p' e.log > cm.txt
cat cm.txt
"$PY" - cm.txt e.json <<'EOF' || fail "the named confusion matrix"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
e = json.load(open(sys.argv[2]))
assert lines[0] == "confusion matrix (rows: true class, columns: predicted class):", lines[0]
assert lines[1].split() == ["0", "1", "2"], lines[1]
assert lines[2].split() == ["setosa", "versicolor", "virginica"], lines[2]
rows = lines[3:6]
for k, (row, name) in enumerate(zip(rows, ["setosa", "versicolor", "virginica"])):
    f = row.split()
    assert f[0] == str(k) and f[1] == name, row
    assert [int(v) for v in f[-3:]] == e["confusion"][k], (row, e["confusion"][k])
# the columns line up: each count ends where its column's index and name end
for row in rows:
    ends = [i + 1 for i, ch in enumerate(row) if ch != " " and (i + 1 == len(row) or row[i + 1] == " ")][-3:]
    for hdr in lines[1:3]:
        hend = [i + 1 for i, ch in enumerate(hdr) if ch != " " and (i + 1 == len(hdr) or hdr[i + 1] == " ")]
        assert hend == ends, (hdr, row)
print("ok: the confusion matrix by name")
EOF
# without names: index rows and columns only, as before
./iris train --epochs 2 --save i.st > /dev/null 2>&1 || fail "iris train exited with $?"
./iris eval --weights i.st > e2.log 2>&1 || fail "iris eval exited with $?"
sed -n '/^confusion/,/^time/p' e2.log | sed -n 3p | grep -qE '^ +0( +[0-9]+){3}$' || fail "unnamed confusion row: $(cat e2.log)"

# ---- --early-stop and --resume: the watch goes on ----
# plateau: obj 5, 4.9, 4.8, 4.7, 4.6, 4.6, ...: epoch 5 is the best; with patience 1 it stops after 6
./plateau train --early-stop 1 --monitor obj --save-best best.st --save last.st > r1.log 2>&1 || { cat r1.log; fail "plateau exited with $?"; }
tail -n 1 r1.log | grep -q "^best epoch 5: .*stopped early after epoch 6 of 8" || fail "first run: $(tail -n 1 r1.log)"
cp last.st last6.st
"$PY" - last.st <<'EOF' || fail "the checkpoint lacks the watch"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
m = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]
assert m["epoch"] == "6" and m["monitor"] == "obj" and m["best_epoch"] == "5", m
assert abs(float(m["best"]) - 4.6) < 1e-6, m
print("ok: the checkpoint keeps monitor, best, best_epoch")
EOF
# resumed with patience 2: epoch 5 is still the best, 7 makes 2 epochs without improving: stop
./plateau train --resume last.st --early-stop 2 --monitor obj --save-best best.st --save last.st > r2.log 2> r2.err ||
    { cat r2.log r2.err; fail "resume exited with $?"; }
cat r2.log r2.err
[ "$(grep -c '^epoch ' r2.log)" = 1 ] || fail "resume: expected 1 epoch"
tail -n 1 r2.log | grep -q "^best epoch 5: obj 4.6 (lower is better), its weights in 'best.st'; stopped early after epoch 7 of 8: obj did not improve for 2 epochs (--early-stop 2)" ||
    fail "resumed run's last line: $(tail -n 1 r2.log)"
grep -q "note: resuming the watch: obj was best at epoch 5 (4.6), 1 epoch ago" r2.err || fail "no resume note: $(cat r2.err)"
"$PY" - best.st <<'EOF' || fail "best.st was replaced by a worse epoch"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
assert json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]["epoch"] == "5"
EOF
# another monitor: its best starts over (a note says so)
./plateau train --resume last6.st --early-stop 2 --monitor mse > r3.log 2> r3.err || fail "resume --monitor mse exited with $?"
grep -q "note: the checkpoint watched obj, this run watches mse: its best starts over" r3.err || fail "monitor change: $(cat r3.err)"
tail -n 1 r3.log | grep -q "^best epoch 7: mse" || fail "monitor change: $(tail -n 1 r3.log)"
# a checkpoint's watch that makes no sense: one clear error naming the file, exit 1
for bad in 'best=abc' 'best=inf' 'best_epoch=9' 'best_epoch=0' 'best_epoch=-1' 'monitor=' 'drop=best'; do
    "$PY" - last6.st bad.st "$bad" <<'EOF' || fail "making bad.st"
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
k, v = sys.argv[3].split("=")
if k == "drop": del h["__metadata__"][v]
else: h["__metadata__"][k] = v
t = json.dumps(h).encode()
open(sys.argv[2], "wb").write(struct.pack("<Q", len(t)) + t + b[8 + n:])
EOF
    ./plateau train --resume bad.st --early-stop 2 > b.log 2> b.err
    rc=$?
    [ $rc = 1 ] || fail "$bad: exit $rc, not 1: $(cat b.err)"
    [ "$(wc -l < b.err)" = 1 ] && grep -q "^plateau: error: 'bad.st': checkpoint" b.err || fail "$bad: $(cat b.err)"
done
echo "ok: early stopping resumed"
