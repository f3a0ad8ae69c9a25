#!/bin/sh
# golden_selftest.sh - golden.sh must fail when an expectation is wrong, not only pass when it is
# right. Works on copies in a temporary folder; the real test files are never touched.
# usage: golden_selftest.sh NNC
set -u
if [ $# -ne 1 ]; then
    echo "usage: golden_selftest.sh NNC" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnc-selftest.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
cp "$here/golden.sh" "$here/type.dtype.nn" "$here/type.dtype.err" "$here/type.dtype.cast.nn" "$tmp/"
status=0
expect() {  # expect WANT(pass|fail) WHAT
    sh "$tmp/golden.sh" "$1" >"$tmp/log" 2>&1
    rc=$?
    if { [ "$2" = pass ] && [ $rc -ne 0 ]; } || { [ "$2" = fail ] && [ $rc -eq 0 ]; }; then
        echo "FAIL: golden.sh should $2 when $3 (exit $rc):"
        cat "$tmp/log"
        status=1
    else
        echo "ok: golden.sh must $2 when $3, and it does"
    fi
}
expect "$1" pass "every expectation holds"
echo "extra line" >>"$tmp/type.dtype.err"
expect "$1" fail "an .err file has a line nnc does not print"
rm "$tmp/type.dtype.err"
expect "$1" fail "nnc reports an error but no .err file expects one"
cp "$here/type.dtype.err" "$tmp/type.dtype.cast.err"
cp "$here/type.dtype.err" "$tmp/type.dtype.err"
expect "$1" fail "an .err file expects an error on a correct program"
exit $status
