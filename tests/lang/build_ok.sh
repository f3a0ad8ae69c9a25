#!/bin/sh
# build_ok.sh - what `nnc check` accepts, the build accepts: every golden test NAME.nn given that
# declares a model and has no NAME.err (so the checker accepts it) must also lower
# (`nnc --emit ir`, which runs lowering, the checker's rules on concrete dims, and the IR
# verifier) without a diagnostic.
#
# usage: build_ok.sh NNC NAME.nn ...     (run inside tests/lang, as golden.sh is)
set -u
nnc=$1
shift
case $nnc in
    /*) ;;
    *) nnc=$(pwd)/$nnc ;;
esac
cd "$(dirname "$0")" || exit 2
NNC_STDLIB=../../stdlib
export NNC_STDLIB
NO_COLOR=1
export NO_COLOR
pass=0
fail=0
for f in "$@"; do
    name=${f%.nn}
    [ -f "$name.err" ] && continue
    grep -q '^ *model ' "$f" || continue
    if out=$(timeout 60 "$nnc" --emit ir "$f" 2>&1 >/dev/null) && [ -z "$out" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $f: checked clean but does not build:"
        echo "$out"
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
