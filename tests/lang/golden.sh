#!/bin/sh
# golden.sh - the language's golden tests: run nnc on tests/lang/*.nn and compare with the
# expected output beside each file (docs/language.md names the rules the files are named after).
#
#   X.nn + X.err    `nnc check X.nn` must exit 1 and print exactly X.err on stderr
#   X.nn + X.ast    `nnc --emit ast X.nn` must exit 0, print X.ast on stdout, nothing on stderr
#   X.nn + X.types  `nnc --emit types X.nn` likewise with X.types
#   X.nn alone      `nnc check X.nn` must exit 0 and print nothing on stderr
#
# nnc runs inside tests/lang with relative file names and NNC_STDLIB=../../stdlib, so every path
# in the expected files is relative and the same in every checkout and build directory.
#
# usage: golden.sh NNC [--update] [NAME.nn ...]     (no NAME: every .nn file in tests/lang)
#   --update  rewrite the .err/.ast/.types files from nnc's output (an .err only where one
#             exists or nnc fails). Review every rewritten file by eye before keeping it: the
#             expected output is what a user should see, not whatever nnc prints today.
set -u

if [ $# -lt 1 ]; then
    echo "usage: golden.sh NNC [--update] [NAME.nn ...]" >&2
    exit 2
fi
nnc=$1
shift
case $nnc in
    /*) ;;
    *) nnc=$(pwd)/$nnc ;;
esac
if [ ! -x "$nnc" ]; then
    echo "golden.sh: error: nnc not found or not executable: $nnc" >&2
    exit 2
fi
update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi

here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 2
NNC_STDLIB=../../stdlib
export NNC_STDLIB
NO_COLOR=1
export NO_COLOR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnc-golden.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ $# -eq 0 ]; then
    set -- *.nn
fi

pass=0
fail=0
failed=""

# run NAME MODE: runs nnc in MODE (check|ast|types) on NAME.nn, output in $tmp/out, $tmp/err,
# exit status in $rc. A run that takes over 20 s is a failure (the front end must not hang).
run() {
    case $2 in
        check) set -- timeout 20 "$nnc" check "$1.nn" ;;
        *) set -- timeout 20 "$nnc" --emit "$2" "$1.nn" ;;
    esac
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
}

bad() {
    ok=0
    echo "FAIL $name.nn: $*"
}

for f in "$@"; do
    name=${f%.nn}
    name=${name##*/}
    ok=1
    if [ ! -f "$name.nn" ]; then
        bad "no such test file"
        fail=$((fail + 1))
        failed="$failed $name"
        continue
    fi
    # Output goldens: --emit ast / --emit types.
    for mode in ast types; do
        [ -f "$name.$mode" ] || continue
        run "$name" "$mode"
        if [ $update = 1 ]; then
            cp "$tmp/out" "$name.$mode"
            echo "updated $name.$mode"
        fi
        if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
            bad "nnc --emit $mode exited $rc (want 0 and no stderr):"
            cat "$tmp/err"
        elif ! diff -u "$name.$mode" "$tmp/out"; then
            bad "--emit $mode output differs from $name.$mode (diff above)"
        fi
    done
    # Diagnostics: nnc check.
    run "$name" check
    if [ $update = 1 ] && { [ -f "$name.err" ] || [ $rc -ne 0 ]; }; then
        cp "$tmp/err" "$name.err"
        echo "updated $name.err (exit $rc)"
    fi
    if [ -f "$name.err" ]; then
        if [ $rc -ne 1 ]; then
            bad "nnc check exited $rc, want 1 (an error is expected)"
        fi
        if ! diff -u "$name.err" "$tmp/err"; then
            bad "stderr differs from $name.err (diff above)"
        fi
    else
        if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
            bad "nnc check exited $rc with this on stderr (want 0 and nothing):"
            cat "$tmp/err"
        fi
    fi
    if [ $ok = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed="$failed $name"
    fi
done

echo "$pass passed, $fail failed"
if [ $fail -ne 0 ]; then
    echo "failed:$failed"
    exit 1
fi
exit 0
