#!/bin/sh
# examples.sh - the IR of every example model, as nnc lowers it: the text reads back exactly
# (print(parse(text)) == text) after lower, autodiff, optim and at the end; the dumped modules
# verify; irtool's autodiff on the dump after lower gives nnc's dump after autodiff (the text
# carries all the pass reads); and simplify keeps the interpreter's results (irtool --pass
# check-simplify at B = 2) after autodiff (the gradients) and after optim (the updates).
# Usage: examples.sh NNC IRTOOL EXAMPLES_DIR WORK_DIR
set -u
nnc=$1 irtool=$2 dir=$3 work=$4
mkdir -p "$work" || exit 1
fail=0 n=0
for f in "$dir"/*.nn; do
    name=$(basename "$f" .nn)
    ok=1
    for pass in lower autodiff optim; do
        if ! "$nnc" "$f" --emit ir --dump-after $pass > "$work/$name.$pass.all" 2> "$work/$name.err"; then
            echo "FAIL $name: nnc --emit ir --dump-after $pass failed"; cat "$work/$name.err"; fail=1; ok=0; break
        fi
        # the dump after the pass, then the final module
        awk -v out="$work/$name" -v p=$pass '/^module /{k++} k==1 && !/^; after/{print > (out "." p ".ir")} k==2{print > (out ".final.ir")}' "$work/$name.$pass.all"
    done
    [ $ok = 1 ] || continue
    for part in lower autodiff optim final; do
        "$irtool" --pass print "$work/$name.$part.ir" > "$work/$name.$part.p" || { echo "FAIL $name.$part: parse"; fail=1; continue; }
        cmp -s "$work/$name.$part.ir" "$work/$name.$part.p" || { echo "FAIL $name.$part: print(parse(text)) != text"; diff "$work/$name.$part.ir" "$work/$name.$part.p" | head; fail=1; }
        "$irtool" --pass verify "$work/$name.$part.ir" > /dev/null || { echo "FAIL $name.$part: verify"; fail=1; }
    done
    "$irtool" --pass autodiff "$work/$name.lower.ir" > "$work/$name.autodiff.irtool" || { echo "FAIL $name: irtool --pass autodiff"; fail=1; }
    cmp -s "$work/$name.autodiff.ir" "$work/$name.autodiff.irtool" || { echo "FAIL $name: irtool's autodiff of the lowered text differs from nnc's"; diff "$work/$name.autodiff.ir" "$work/$name.autodiff.irtool" | head; fail=1; }
    for part in autodiff optim; do
        if "$irtool" --pass check-simplify --B 2 "$work/$name.$part.ir" > "$work/$name.$part.cs" 2>&1; then
            echo "$name.$part: $(tr '\n' ' ' < "$work/$name.$part.cs")"
        else
            cat "$work/$name.$part.cs"; echo "FAIL $name.$part: simplify changed results"; fail=1
        fi
    done
    n=$((n + 1))
done
echo "$n examples checked"
[ "$n" -gt 0 ] && exit $fail || exit 1
