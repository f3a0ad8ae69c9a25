#!/bin/sh
# examples.sh - the IR of every example model, as nnc lowers it: the text reads back exactly
# (print(parse(text)) == text) both before and after simplify, the dumped module verifies, and
# simplify keeps the interpreter's results (irtool --pass check-simplify at B = 5).
# Usage: examples.sh NNC IRTOOL EXAMPLES_DIR WORK_DIR
set -u
nnc=$1 irtool=$2 dir=$3 work=$4
mkdir -p "$work" || exit 1
fail=0 n=0
for f in "$dir"/*.nn; do
    name=$(basename "$f" .nn)
    if ! "$nnc" "$f" --emit ir --dump-after optim > "$work/$name.all" 2> "$work/$name.err"; then
        echo "FAIL $name: nnc --emit ir failed"; cat "$work/$name.err"; fail=1; continue
    fi
    # the dump after optim (before simplify), then the final module
    awk -v out="$work/$name" '/^module /{k++} k==1 && !/^; after/{print > (out ".optim.ir")} k==2{print > (out ".final.ir")}' "$work/$name.all"
    for part in optim final; do
        "$irtool" --pass print "$work/$name.$part.ir" > "$work/$name.$part.p" || { echo "FAIL $name.$part: parse"; fail=1; continue; }
        cmp -s "$work/$name.$part.ir" "$work/$name.$part.p" || { echo "FAIL $name.$part: print(parse(text)) != text"; diff "$work/$name.$part.ir" "$work/$name.$part.p" | head; fail=1; }
    done
    "$irtool" --pass verify "$work/$name.optim.ir" > /dev/null || { echo "FAIL $name: verify"; fail=1; }
    if "$irtool" --pass check-simplify --B 5 "$work/$name.optim.ir" > "$work/$name.cs" 2>&1; then
        echo "$name: $(tr '\n' ' ' < "$work/$name.cs")"
    else
        cat "$work/$name.cs"; echo "FAIL $name: simplify changed results"; fail=1
    fi
    n=$((n + 1))
done
echo "$n examples checked"
[ "$n" -gt 0 ] && exit $fail || exit 1
