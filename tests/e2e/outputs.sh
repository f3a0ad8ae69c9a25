#!/bin/bash
# outputs.sh: what each --emit kind writes and where (compiler/driver/pipeline.c): default names in the
# current folder, -o, --dump-after, and a clear error for an output that cannot be written.
. "$(dirname "$0")/lib.sh"
cp "$EX/xor.nn" .
"$NNC" xor.nn || fail "nnc xor.nn exited with $?"
[ -x xor ] || fail "no ./xor from xor.nn"
"$NNC" -c xor.nn || fail "nnc -c exited with $?"
[ -f xor.o ] && [ -f xor.h ] || fail "nnc -c made no xor.o + xor.h"
grep -q "xor_forward" xor.h || fail "xor.h does not declare xor_forward (default prefix = model name)"
"$NNC" --emit llvm xor.nn || fail "nnc --emit llvm exited with $?"
grep -q "define.*@nnc_model_forward" xor.ll || fail "xor.ll does not define nnc_model_forward"
"$NNC" --emit ir xor.nn -o xor.ir || fail "nnc --emit ir -o exited with $?"
grep -q "^graph forward" xor.ir || fail "xor.ir has no forward graph"
"$NNC" --emit ir xor.nn | cmp -s - xor.ir || fail "--emit ir to stdout and to a file differ"
"$NNC" --dump-after lower xor.nn -o xor2 > dump.txt || fail "--dump-after exited with $?"
grep -q "^; after lower" dump.txt && [ -x xor2 ] || fail "--dump-after lower printed nothing or made no executable"
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
    "$NNC" xor.nn -o ro/xor 2> err.txt && fail "writing into a read-only folder succeeded"
    cat err.txt
    grep -q "nnc: error: " err.txt || fail "no 'nnc: error:' for an unwritable output"
fi
"$NNC" xor.nn -o no/such/dir/xor 2> err.txt && fail "writing into a missing folder succeeded"
cat err.txt
grep -q "nnc: error: .*no/such/dir" err.txt || fail "no clear error for an output in a missing folder"
ls | grep -q "nnc-\|\.tmp" && fail "a temporary file was left behind"
echo "ok: outputs"
