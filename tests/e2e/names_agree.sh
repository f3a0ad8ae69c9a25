#!/bin/bash
# names_agree.sh: for every example and tests/e2e/features model, the parameters lowering makes
# (nnc --emit ir: `tensor param I NAME TYPE`) are exactly those the checker names
# (nnc --emit types: `MODEL: param NAME TYPE`), with the same types, in the same order. The
# weights file's keys come from the first; the second is what the spec [layer.naming] promises.
# (Rank 0 prints as f32 in one and f32[] in the other; both become f32.)
. "$(dirname "$0")/lib.sh"
n=0
for f in "$EX"/*.nn "$SRC"/tests/e2e/features/*.nn; do
    name=$(basename "$f" .nn)
    "$NNC" --emit types "$f" > "$name.types" || fail "nnc --emit types $name.nn exited with $?"
    "$NNC" --emit ir "$f" > "$name.ir" || fail "nnc --emit ir $name.nn exited with $?"
    model=$(sed -n 's/^module \([A-Za-z0-9_]*\).*/\1/p' "$name.ir" | head -n 1)
    sed -n "s/^$model: param \([^ ]*\) \(.*\)/\1 \2/p" "$name.types" | tr -d ' ' | sed 's/\[\]$//' > checker.names
    sed -n 's/^tensor param [0-9]* \([^ ]*\) \([^ ]*\).*/\1 \2/p' "$name.ir" | tr -d ' ' | sed 's/\[\]$//' > lower.names
    [ -s lower.names ] || fail "$name: no parameters in the IR"
    diff -u checker.names lower.names || fail "$name: the checker and lowering name parameters differently"
    n=$((n + $(wc -l < lower.names)))
done
echo "ok: $n parameters named alike"
