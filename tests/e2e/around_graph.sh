#!/bin/bash
# around_graph.sh - seeing the model (docs/nnc.md summary, graph, --emit dot): the Keras-style layer
# table of `nnc summary` and `./model summary` (each layer's parameters equal the sum of its
# tensors' in the tensor table; the task of a binary classifier), summary --json, the layer graph
# as DOT read by Graphviz's real `dot` (nodes, edges, shapes on the edges), `nnc graph` drawing an
# SVG, and the message when dot is missing. Skips the dot parts (exit 77 at the end) without it.
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}

# ---- summary: the layer table ----
"$NNC" summary "$EX/gan_shared.nn" > gan.sum 2> gan.err || { cat gan.err; fail "nnc summary exited with $?"; }
cat gan.sum
"$PY" - gan.sum <<'PYEOF' || fail "the layer table of gan_shared"
import re, sys
text = open(sys.argv[1]).read()
rows = re.findall(r"^(\S+) \((\S+)\)\s+(\S+)\s+([\d,]+)(.*)$", text, re.M)
layers = [(n, k, s, int(p.replace(",", "")), rest) for n, k, s, p, rest in rows]
names = [(n, k) for n, k, *_ in layers]
assert names == [("image", "input"), ("x", "flatten"), ("z", "rand_normal"), ("g", "generator"),
                 ("d", "discriminator"), ("d", "discriminator")], names
shapes = {n + k: s for n, k, s, *_ in layers}
assert shapes["xflatten"] == "f32[B,784]" and shapes["ggenerator"] == "f32[B,784]" and shapes["ddiscriminator"] == "f32[B,1]"
# params of a layer = the param tensors under its path in the tensor table
params = {}
for name, n in re.findall(r"^param\s+(\S+)\s+\S+\s+\S+\s+(\d+)", text, re.M):
    params[name] = int(n)
for n, k, s, p, rest in layers:
    want = sum(v for t, v in params.items() if t.startswith(n + ".")) if k not in ("input", "flatten", "rand_normal") else 0
    if "shared" in rest:
        want = 0
    assert p == want, (n, p, want)
total = int(re.search(r"^total in layers\s+([\d,]+)", text, re.M).group(1).replace(",", ""))
assert total == sum(params.values()) == int(re.search(r"^parameters: (\d+)", text, re.M).group(1)), total
assert re.search(r"^step: +d minimizes d_loss with adam \(lr 0.0002\), over \[d\]$", text, re.M), "step d"
assert re.search(r"^task: +no target", text, re.M)
print("ok: gan_shared's layer table:", len(layers), "rows,", total, "parameters")
PYEOF
# a binary classifier written as regression is a classifier (examples/logistic.nn), and the
# executable's summary is the same as nnc's
compile logistic
./logistic summary > log.sum || fail "logistic summary exited with $?"
grep -q "^task: *classify 2 classes (binary" log.sum || fail "logistic's task: $(grep task log.sum)"
"$NNC" summary "$EX/logistic.nn" > log2.sum 2> /dev/null || fail "nnc summary logistic exited with $?"
diff <(grep -v "^memory\|^planned" log.sum) <(grep -v "^memory\|^planned" log2.sum) || fail "nnc summary and ./logistic summary differ"
# a schedule shows on its step; summary --json holds the same layers
"$NNC" summary "$EX/fashion_mlp.nn" > fm.sum 2> /dev/null || fail "nnc summary fashion_mlp exited with $?"
grep -q "^step: .*schedule cosine(min_lr = 0)" fm.sum || fail "no schedule on the step: $(grep step fm.sum)"
grep -q "^task: *classify 10 classes" fm.sum || fail "fashion_mlp task"
"$NNC" summary "$EX/fashion_mlp.nn" --json > fm.json 2> /dev/null || fail "summary --json exited with $?"
"$PY" - fm.json fm.sum <<'PYEOF' || fail "summary --json"
import json, re, sys
j = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
rows = re.findall(r"^(\S+) \((\S+)\)\s+(\S+)\s+([\d,]+)", text, re.M)
assert [(l["name"], l["kind"], l["shape"], l["params"]) for l in j["layers"]] == \
       [(n, k, s, int(p.replace(",", ""))) for n, k, s, p in rows], (j["layers"], rows)
assert j["parameters"] == sum(t["elements"] for t in j["tensors"] if t["role"] == "param")
assert j["steps"][0]["schedule"] == "cosine" and j["task"] == "classify 10 classes"
assert j["memory"]["total"] == j["memory"]["params"] + j["memory"]["state"] + j["memory"]["workspace"] + j["memory"]["batch_buffers"]
print("ok: summary --json")
PYEOF

# ---- the graph: --emit dot, checked by Graphviz itself ----
"$NNC" --emit dot "$EX/fashion_cnn.nn" -o cnn.dot || fail "--emit dot exited with $?"
grep -q '^digraph "fashion_cnn"' cnn.dot || fail "cnn.dot: $(head -n 2 cnn.dot)"
"$NNC" --emit dot=ir "$EX/iris.nn" > iris_ir.dot || fail "--emit dot=ir exited with $?"
grep -q 'matmul' iris_ir.dot || fail "the primitive graph has no matmul"
if ! command -v dot > /dev/null; then
    expect_fail "nnc graph without dot" "needs Graphviz's 'dot' program, which is not installed" "$NNC" graph "$EX/iris.nn"
    echo "SKIP: Graphviz's dot is not installed"
    exit 77
fi
dot -Tplain cnn.dot > cnn.plain || fail "dot cannot read cnn.dot"
"$PY" - cnn.plain <<'PYEOF' || fail "the layer graph of fashion_cnn"
import shlex, sys
nodes, edges = {}, []
for line in open(sys.argv[1]):
    f = shlex.split(line)
    if f[0] == "node":
        nodes[f[1]] = f[6].replace("\\n", "\n").split("\n")
    elif f[0] == "edge":
        n = int(f[3])
        edges.append((f[1], f[2], f[4 + 2 * n]))
label = {k: tuple(v[:2]) for k, v in nodes.items()}
want = {(("image", "input f32[B,28,28,1]"), ("h", "conv2d"), "f32[B,28,28,1]"),
        (("h", "conv2d"), ("h_2", "conv2d"), "f32[B,26,26,32]"),
        (("logits", "dense"), ("loss", "loss f32[]"), "f32[B,10]"),
        (("label", "target i32[B]"), ("loss", "loss f32[]"), "i32[B]"),
        (("probs", "softmax"), ("probs", "output f32[B,10]"), "f32[B,10]")}
got = {(label[a], label[b], l) for a, b, l in edges}
assert want <= got, sorted(want - got)
assert any(v[:2] == ["h", "conv2d"] and v[2] == "320 params" for v in nodes.values()), nodes
print("ok: dot reads the layer graph:", len(nodes), "nodes,", len(edges), "edges")
PYEOF
dot -Tsvg iris_ir.dot > /dev/null || fail "dot cannot read the primitive graph"
# nnc graph: the SVG through dot, and a clear message without dot
"$NNC" graph "$EX/gan_shared.nn" -o gan.svg || fail "nnc graph exited with $?"
"$PY" -c "
import xml.etree.ElementTree as ET
r = ET.parse('gan.svg').getroot()
texts = [t.text for t in r.iter('{http://www.w3.org/2000/svg}text')]
assert 'discriminator' in texts and 'generator' in texts, texts
print('ok: nnc graph drew gan.svg')
" || fail "gan.svg"
ls gan.svg.* 2> /dev/null && fail "nnc graph left temporaries: $(ls gan.svg.*)"
(cd "$WORK" && "$NNC" graph "$EX/iris.nn" && [ -f iris.svg ]) || fail "nnc graph without -o wrote no iris.svg"
expect_fail "nnc graph without dot" "needs Graphviz's 'dot' program, which is not installed \(not on PATH\)" \
    env PATH=/nonexistent "$NNC" graph "$EX/iris.nn" -o x.svg
expect_fail "nnc graph -o x.txt" "nnc graph draws .svg, .png or .pdf files, not 'x.txt'" "$NNC" graph "$EX/iris.nn" -o x.txt
echo PASS
