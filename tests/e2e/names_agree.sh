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
    # naming_unbound.nn: the names themselves (agreeing on a wrong name is no pass): calls in
    # statements that bind no name are numbered through the body, not per statement
    if [ "$name" = naming_unbound ]; then
        sed 's/f32.*//' lower.names | tr '\n' ' ' > got.names
        want="p.dense.W p.dense.b p.dense_2.W p.dense_2.b p.dense_3.W p.dense_3.b t.dense.W t.dense.b t.dense_2.W t.dense_2.b l.dense.W l.dense.b l.dense_2.W l.dense_2.b l.dense_3.W l.dense_3.b "
        [ "$(cat got.names)" = "$want" ] || fail "naming_unbound: parameters are $(cat got.names), want $want"
    fi
done
echo "ok: $n parameters named alike"
