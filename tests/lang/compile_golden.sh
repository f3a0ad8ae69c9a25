#!/bin/sh
# compile_golden.sh - the checker and the build agree: every golden program in tests/lang that
# `nnc check` accepts (no .err beside it) and that declares a model also goes through lowering,
# autodiff and optim (`nnc --emit ir`) with exit 0 and nothing on stderr. A program the checker
# lets through and the build refuses is a bug in one of them (docs/language.md: whatever `nnc
# check` accepts, `nnc FILE -o OUT` compiles).
#
# usage: compile_golden.sh NNC
set -u
nnc=$1
case $nnc in /*) ;; *) nnc=$(pwd)/$nnc ;; esac
cd "$(dirname "$0")" || exit 2
NNC_STDLIB=../../stdlib
NO_COLOR=1
export NNC_STDLIB NO_COLOR
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnc-compile-golden.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
# Known disagreements owned elsewhere, each with its reason; they are reported, not failed, and
# one that compiles again is reported too, so the list gets trimmed.
known=" "                # none at the moment (builtin.ok compiles since the builtins merge)
pass=0
fail=0
for f in *.nn; do
    name=${f%.nn}
    [ -f "$name.err" ] && continue
    grep -q '^model ' "$f" || continue
    if timeout 60 "$nnc" check "$f" > /dev/null 2> "$tmp/check" && [ ! -s "$tmp/check" ]; then
        ok=1
        for m in $(sed -n 's/^model \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$f"); do
            if ! timeout 60 "$nnc" --emit ir --model "$m" "$f" > "$tmp/ir" 2> "$tmp/err" || [ -s "$tmp/err" ]; then
                ok=0
                break
            fi
        done
        case $known in *" $name "*)
            if [ $ok = 1 ]; then echo "note: $f compiles now: take it off the known list"; pass=$((pass + 1))
            else echo "known $f (model $m): $(head -n 1 "$tmp/err")"; fi
            continue ;;
        esac
        if [ $ok = 1 ]; then
            pass=$((pass + 1))
        else
            echo "FAIL $f (model $m): nnc check accepts it, the build does not:"
            cat "$tmp/err"
            fail=$((fail + 1))
        fi
    else
        echo "FAIL $f: nnc check rejects it but there is no $name.err:"
        cat "$tmp/check"
        fail=$((fail + 1))
    fi
done
echo "$pass compiled, $fail failed"
[ "$pass" -gt 0 ] && [ "$fail" -eq 0 ]
