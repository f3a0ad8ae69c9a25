#!/bin/bash
# around.sh - what a training run records and decides around its steps (docs/cli.md "History,
# plots and early stopping"): the history CSV (one row per epoch, the same numbers as the epoch
# line), the learning rate a schedule gives (checked against the rate the graph applied), the SVG
# plot (parsed by a real XML parser), early stopping with --save-best, --json, the progress line on
# a terminal, and the rules an output follows (never replacing a file that is not ours).
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
A=$SRC/tests/e2e/around
cp "$A/s.csv" .
for m in sched cosine warmup expdecay lrrange plateau; do
    "$NNC" "$A/$m.nn" -o $m || fail "nnc $m.nn exited with $?"
done
compile iris

# ---- the history: one row per epoch, the epoch line's values, lr, seconds, samples/s ----
./iris train --epochs 4 --val-split 0.2 --save w.st > t.log 2> t.err || { cat t.log t.err; fail "iris train exited with $?"; }
cat t.log
[ -f w.st.history.csv ] || fail "no default history beside --save (w.st.history.csv)"
head -n 1 w.st.history.csv | grep -qx 'epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,samples_per_s' ||
    fail "history header: $(head -n 1 w.st.history.csv)"
[ "$(tail -n +2 w.st.history.csv | wc -l)" = 4 ] || fail "history: not 4 rows"
# every value of the epoch lines equals the history's (to the line's printed precision)
"$PY" - t.log w.st.history.csv <<'EOF' || fail "history and epoch lines disagree"
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[2])))
lines = [l for l in open(sys.argv[1]) if l.startswith("epoch ")]
assert len(lines) == len(rows) == 4, (len(lines), len(rows))
for l, r in zip(lines, rows):
    vals = dict(re.findall(r"  ([a-z_]+) ([-0-9.e+]+)(?=  |$| *\n)", l))
    for k in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert abs(float(vals[k]) - float(r[k])) <= 1e-4, (k, vals[k], r[k])
    assert int(r["epoch"]) == int(l.split()[1].split("/")[0])
    assert float(r["lr"]) == 0.01 or abs(float(r["lr"]) - 0.01) < 1e-9, r["lr"]
    assert float(r["seconds"]) > 0 and float(r["samples_per_s"]) > 0
print("ok: history rows equal the epoch lines")
EOF
grep -q "note: no --save" t.err && fail "the no-save note printed although --save was given"
# without --save: the note at the start, and no history unless asked for
./iris train --epochs 1 > ns.log 2> ns.err || fail "train without --save exited with $?"
grep -q "note: no --save FILE: the trained weights will not be kept" ns.err || fail "no note that the weights are not kept"
echo "ok: the no-save note"
# --resume continues the history: the rows of epochs 1..4 stay, 5..6 are added
./iris train --resume w.st --epochs 6 --val-split 0.2 --save w.st > r.log 2>&1 || { cat r.log; fail "resume exited with $?"; }
[ "$(tail -n +2 w.st.history.csv | cut -d, -f1 | tr '\n' ' ')" = "1 2 3 4 5 6 " ] ||
    fail "resumed history epochs: $(cut -d, -f1 w.st.history.csv | tr '\n' ' ')"
echo "ok: a resumed run continues the history"
# a file that is not a history is never replaced (same rules as --save); --force replaces it
echo "precious" > notes.csv
expect_fail "history over another file" "cannot write the training history to 'notes.csv': the file exists and is not a training history.*add --force" \
    ./iris train --epochs 1 --history notes.csv
grep -qx precious notes.csv || fail "notes.csv was changed"
grep -q "^training" out.log && fail "training started before the history target was checked"
./iris train --epochs 1 --history notes.csv --force > /dev/null 2>&1 || fail "--history --force exited with $?"
head -n 1 notes.csv | grep -q '^epoch,' || fail "--force did not replace notes.csv"

# ---- the learning rate of a schedule is the rate the graph applied ----
for m in sched cosine warmup expdecay lrrange; do
    ./$m train --history $m.csv > $m.log 2>&1 || { cat $m.log; fail "$m train exited with $?"; }
    cat $m.log
    "$PY" - $m.csv <<'EOF' || fail "$m: the history's lr is not the rate the graph applied"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
obj = [float(r["obj"]) for r in rows]
lr = [float(r["lr"]) for r in rows]
# one batch an epoch: the objective before step e+1 minus the one before step e+2 is step e+1's rate
for e in range(len(rows) - 1):
    assert abs((obj[e] - obj[e + 1]) - lr[e]) < 2e-6, (e + 1, obj[e] - obj[e + 1], lr[e])
assert max(lr) - min(lr) > 0.04, lr        # the schedule changed the rate
print("ok:", sys.argv[1], "lr", lr)
EOF
    grep -q "^epoch 3/8:.*  lr [0-9]" $m.log || fail "$m: the epoch line shows no lr"
done

# ---- the plot: an SVG a real XML parser reads, with the curves of the history ----
./iris plot w.st.history.csv -o curves.svg > p.log 2>&1 || { cat p.log; fail "plot exited with $?"; }
"$PY" - curves.svg <<'EOF' || fail "curves.svg is not the plot of the history"
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
series = {g.get("data-name"): g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "series"}
for k in ("loss", "val_loss", "accuracy", "val_accuracy", "lr"):
    assert k in series, (k, sorted(series))
pts = series["loss"].find("s:polyline", ns).get("points").split()
assert len(pts) == 6, pts          # one point per epoch of the (resumed) history
ys = [float(p.split(",")[1]) for p in pts]
xs = [float(p.split(",")[0]) for p in pts]
assert xs == sorted(xs) and len(set(xs)) == 6, xs
print("ok: curves.svg parses, series", sorted(series))
EOF
# the default name, a history that is not one, and a plot never replacing another file
./iris plot w.st.history.csv > /dev/null 2>&1 && [ -f w.st.history.svg ] || fail "plot without -o wrote no w.st.history.svg"
printf 'a,b\n1,2\n' > other.csv
expect_fail "plot of a CSV that is no history" "other.csv:1: not a training history" ./iris plot other.csv -o o.svg
printf 'epoch,loss\n1,0.5\n2,zz\n' > badh.csv
expect_fail "plot of a corrupt history" "badh.csv:3: field 2 \('zz'\) of column 'loss' is not a number" ./iris plot badh.csv -o o.svg
printf 'epoch,loss\n1,0.5\n2\n' > short.csv
expect_fail "plot of a truncated history" "short.csv:3: expected 2 fields" ./iris plot short.csv -o o.svg
expect_fail "plot of a missing history" "cannot open history file 'nope.csv'" ./iris plot nope.csv -o o.svg
echo "<svg/>" > mine.svg
expect_fail "plot over another SVG" "cannot write the plot to 'mine.svg': the file exists and is not an SVG plot" \
    ./iris plot w.st.history.csv -o mine.svg
grep -qx "<svg/>" mine.svg || fail "mine.svg was changed"
# train --plot draws the curves after every epoch
./iris train --epochs 3 --val-split 0.2 --plot tp.svg > /dev/null 2>&1 || fail "train --plot exited with $?"
"$PY" -c "
import sys, xml.etree.ElementTree as ET
r = ET.parse('tp.svg').getroot()
s = [g for g in r.iter('{http://www.w3.org/2000/svg}g') if g.get('data-name') == 'val_accuracy']
assert s and len(s[0].find('{http://www.w3.org/2000/svg}polyline').get('points').split()) == 3
" || fail "train --plot: tp.svg lacks the 3-epoch val_accuracy curve"
echo "ok: train --plot"

# ---- early stopping and the best epoch's weights ----
# plateau: the objective falls for epochs 1..4 (rate 0.1), then the rate is 0: 5, 4.9, 4.8, 4.7, 4.6,
# 4.6, ... so epoch 5 is the best, and with patience 2 training stops after epoch 7
./plateau train --early-stop 2 --monitor obj --save-best best.st --save last.st > es.log 2>&1 || { cat es.log; fail "early stop exited with $?"; }
cat es.log
[ "$(grep -c '^epoch ' es.log)" = 7 ] || fail "early stop: expected 7 epochs"
tail -n 1 es.log | grep -q "^best epoch 5: obj 4.6 (lower is better), its weights in 'best.st'; stopped early after epoch 7 of 8: obj did not improve for 2 epochs (--early-stop 2)" ||
    fail "the last line: $(tail -n 1 es.log)"
"$PY" - best.st last.st <<'EOF' || fail "best.st does not hold epoch 5's weights"
import json, struct, sys
def meta(p):
    b = open(p, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n])["__metadata__"]
assert meta(sys.argv[1])["epoch"] == "5", meta(sys.argv[1])
assert meta(sys.argv[2])["epoch"] == "7", meta(sys.argv[2])
print("ok: best.st is epoch 5, last.st epoch 7")
EOF
# without --early-stop the run goes on to its last epoch, and says so
./plateau train --save-best b2.st --monitor obj > es2.log 2>&1 || fail "save-best exited with $?"
tail -n 1 es2.log | grep -q "best epoch 5: .*stopped after the last epoch, 8 of 8" || fail "the last line: $(tail -n 1 es2.log)"
# default monitor: val_loss with validation data; a value the run does not report is an error before training
./iris train --epochs 2 --val-split 0.2 --early-stop 5 > es3.log 2>&1 || fail "iris early stop exited with $?"
tail -n 1 es3.log | grep -q "^best epoch [12]: val_loss " || fail "default monitor: $(tail -n 1 es3.log)"
expect_fail "--monitor val_loss without validation" "error: --monitor 'val_loss' is not a value this run reports \(it has no validation data: add --val-split F\)" \
    ./iris train --epochs 2 --monitor val_loss
expect_fail "--monitor of a misspelt name" "error: --monitor 'val_acc' is not a value this run reports.*val_accuracy" \
    ./iris train --epochs 2 --val-split 0.2 --monitor val_acc
grep -q "^training" out.log && fail "training started before --monitor was checked"
./iris train --early-stop 0 > /dev/null 2> err.log; [ $? = 2 ] || fail "--early-stop 0 is not a usage error"
grep -q "early-stop expects a positive integer" err.log || fail "--early-stop 0: $(cat err.log)"
echo "ok: early stopping"

# ---- --json: one object per epoch and one at the end, nothing else on stdout ----
./plateau train --json --early-stop 2 --monitor obj > j.out 2> j.err || fail "train --json exited with $?"
"$PY" - j.out <<'EOF' || fail "train --json"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert [o["epoch"] for o in objs[:-1]] == [1, 2, 3, 4, 5, 6, 7], objs
assert abs(objs[0]["obj"] - 5.0) < 1e-6 and abs(objs[0]["lr"] - 0.1) < 1e-7, objs[0]
end = objs[-1]
assert end["result"] == "trained" and end["stopped"] == "early" and end["best_epoch"] == 5, end
assert end["monitor"] == "obj" and end["mode"] == "min" and abs(end["best"] - 4.6) < 1e-6, end
print("ok: train --json", end)
EOF
grep -q "^training plateau" j.err || fail "train --json: the first line should go to stderr"

# ---- the progress line on a terminal: each step's loss by name, the ETA, the rate ----
compile gan_shared
script -qfc "./gan_shared train --limit 5000 --epochs 2 --threads 1" /dev/null > tty.log 2>&1 || fail "gan_shared under script exited with $?"
tr '\r' '\n' < tty.log | grep -E '^epoch 2/2 \[.*\] +[0-9]+%  d_loss [0-9.]+  g_loss [0-9.]+' > bars.log ||
    { tr '\r' '\n' < tty.log | tail; fail "no progress line with d_loss and g_loss"; }
grep -q "ETA [0-9]*:[0-9][0-9]" bars.log || fail "the progress line shows no ETA"
script -qfc "./cosine train" /dev/null > tty2.log 2>&1 || fail "cosine under script exited with $?"
tr '\r' '\n' < tty2.log | grep -qE '^epoch 8/8 \[=+\] 100%  obj [0-9.]+  lr 0\.01' ||
    { tr '\r' '\n' < tty2.log; fail "the progress line shows no lr of the schedule"; }
echo "ok: the progress line"
echo "PASS"
