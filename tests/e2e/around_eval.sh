#!/bin/bash
# around_eval.sh - eval's per-class report and the --json of eval and predict (docs/cli.md eval):
# per-class precision, recall, F1 and support by class name (a CSV's label strings; the ten
# Fashion-MNIST names), each checked against the same numbers counted here with numpy from
# predict's classes, and the confusion matrix.
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
compile iris
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { split("setosa versicolor virginica", n, " "); $5 = n[$5 + 1]; print }' \
    "$EX/data/iris_train.csv" > named.csv
./iris train --data named.csv --epochs 15 --save n.st > t.log 2>&1 || { cat t.log; fail "train exited with $?"; }
./iris eval --weights n.st named.csv > e.log 2>&1 || { cat e.log; fail "eval exited with $?"; }
cat e.log
./iris eval --weights n.st named.csv --json > e.json 2> e.err || fail "eval --json exited with $?"
./iris predict --weights n.st named.csv --json > p.jsonl 2> /dev/null || fail "predict --json exited with $?"
./iris predict --weights n.st named.csv > p.csv 2> /dev/null || fail "predict exited with $?"
"$PY" - e.log e.json p.jsonl p.csv named.csv <<'PYEOF' || fail "the per-class report is wrong"
import csv, json, re, sys
import numpy as np
log, ej, pj, pc, data = sys.argv[1:]
names = ["setosa", "versicolor", "virginica"]
truth = [r["species"] for r in csv.DictReader(open(data))]
preds = [json.loads(l) for l in open(pj)]
assert len(preds) == len(truth) == 105
assert all(p["class"] == names[p["class_index"]] for p in preds)
assert all(len(p["probs"]) == 3 and abs(sum(p["probs"]) - 1) < 1e-5 for p in preds)
# predict --json agrees with predict's CSV
rows = list(csv.DictReader(open(pc)))
assert [r["class"] for r in rows] == [p["class"] for p in preds]
assert all(abs(float(r["probs_1"]) - p["probs"][1]) < 1e-6 for r, p in zip(rows, preds))
t = np.array([names.index(x) for x in truth]); y = np.array([p["class_index"] for p in preds])
cm = np.zeros((3, 3), int)
for a, b in zip(t, y): cm[a, b] += 1
want = []
for k in range(3):
    tp = cm[k, k]; P = tp / cm[:, k].sum() if cm[:, k].sum() else 0.0; R = tp / cm[k].sum()
    F = 2 * P * R / (P + R) if P + R else 0.0
    want.append((P, R, F, cm[k].sum()))
e = json.load(open(ej))
assert e["samples"] == 105 and e["confusion"] == cm.tolist(), (e["confusion"], cm.tolist())
assert abs(e["accuracy"] - (t == y).mean()) < 1e-9
for k, c in enumerate(e["classes"]):
    assert c["name"] == names[k] and c["class"] == k, c
    assert all(abs(a - b) < 1e-9 for a, b in zip((c["precision"], c["recall"], c["f1"]), want[k][:3])), (c, want[k])
    assert c["support"] == want[k][3]
assert abs(e["macro_f1"] - np.mean([w[2] for w in want])) < 1e-9
# the text: one table row per class, by name, to 4 digits
text = open(log).read()
for k, n in enumerate(names):
    m = re.search(r"^\s+%d  %s\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+(\d+)$" % (k, n), text, re.M)
    assert m, (n, text)
    assert all(abs(float(m.group(i + 1)) - want[k][i]) < 6e-5 for i in range(3)), (m.groups(), want[k])
    assert int(m.group(4)) == want[k][3]
assert re.search(r"^f1: ([0-9.]+)$", text, re.M)
print("ok: per-class precision/recall/F1 by name equal numpy's; eval and predict --json agree")
PYEOF
# predict --json cannot write an NPY array
expect_fail "predict --json -o x.npy" "predict --json writes JSON Lines, not an NPY array" \
    ./iris predict --weights n.st named.csv --json -o x.npy

# Fashion-MNIST: the ten names
FM=/usr/share/datasets/fashion-mnist
if [ -f $FM/t10k-labels-idx1-ubyte.gz ]; then
    compile fashion_mlp
    ./fashion_mlp train --limit 1000 --epochs 1 --save f.st > /dev/null 2>&1 || fail "fashion_mlp train exited with $?"
    ./fashion_mlp eval --weights f.st --limit 500 > fe.log 2>&1 || fail "fashion eval exited with $?"
    cat fe.log
    for n in "T-shirt/top" Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot"; do
        grep -q "^ *[0-9]  $n " fe.log || fail "eval's table lacks the class '$n'"
    done
    ./fashion_mlp eval --weights f.st --limit 500 --json > fe.json 2> /dev/null || fail "fashion eval --json exited with $?"
    "$PY" -c "
import json
e = json.load(open('fe.json'))
assert [c['name'] for c in e['classes']][9] == 'Ankle boot' and sum(c['support'] for c in e['classes']) == 500, e['classes']
assert sum(map(sum, e['confusion'])) == 500
print('ok: Fashion-MNIST class names')
" || fail "fashion eval --json"
else
    echo "skip: no Fashion-MNIST at $FM"
fi
echo PASS
