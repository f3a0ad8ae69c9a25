#!/bin/sh
# check_clean.sh - `nnc check FILE` must succeed silently: exit 0 and nothing on stderr.
# Used for every example and every stdlib module (tests/lang/tests.cmake).
# usage: check_clean.sh NNC FILE   (run from the file's folder so relative paths stay short)
set -u
if [ $# -ne 2 ]; then
    echo "usage: check_clean.sh NNC FILE" >&2
    exit 2
fi
err=$(mktemp "${TMPDIR:-/tmp}/nnc-check.XXXXXX") || exit 2
trap 'rm -f "$err"' EXIT INT TERM
timeout 20 "$1" check "$2" 2>"$err" </dev/null
rc=$?
if [ $rc -ne 0 ] || [ -s "$err" ]; then
    echo "FAIL: nnc check $2 exited $rc (want 0 and no output on stderr):"
    cat "$err"
    exit 1
fi
echo "ok: nnc check $2"
exit 0
