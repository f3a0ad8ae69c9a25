#!/bin/bash
# --time prints every stage of a build, the LLVM backend's parts and the total, each once, in
# pipeline order, with a time in ms; the build's result is the same as without it (same object
# bytes). NNC_LLVM_PASSES replaces -O2's passes: a pipeline LLVM cannot parse is an error naming
# the variable, exit 1, no output; a valid one (-O0's) builds an executable that runs.
. "$(dirname "$0")/lib.sh"
"$NNC" --time "$EX/xor_train.nn" -o xor_train 2> time.txt || fail "nnc --time exited with $?"
[ -x xor_train ] || fail "nnc --time made no executable"
want="parse check lower autodiff allreduce optim simplify verify fuse plan llvm_ir llvm_opt llvm_codegen emit link total"
got=$(awk '$1 == "nnc:" { n = ""; for (i = 2; i <= NF && $i !~ /^[0-9][0-9.]*$/; i++) n = n (n == "" ? "" : "_") $i
                          if (i < NF && $(i + 1) == "ms") printf "%s%s", (k++ ? " " : ""), n }' time.txt)
[ "$got" = "$want" ] || fail "--time stages: got '$got', want '$want'; stderr: $(cat time.txt)"
grep -q "^nnc: total .* ms (nnc's CPU [0-9.]* ms)$" time.txt || fail "--time total has no CPU time: $(cat time.txt)"
grep -q "llvm: passes" time.txt && fail "--time printed -v's details"

"$NNC" "$EX/xor_train.nn" -c -o plain.o || fail "nnc -c exited with $?"
"$NNC" --time "$EX/xor_train.nn" -c -o timed.o 2>/dev/null || fail "nnc --time -c exited with $?"
cmp -s plain.o timed.o || fail "--time changed the object file"

NNC_LLVM_PASSES='no-such-pass' "$NNC" "$EX/xor_train.nn" -o bad 2> bad.txt && fail "a bad NNC_LLVM_PASSES built"
grep -q "NNC_LLVM_PASSES: unknown pass name 'no-such-pass'" bad.txt || fail "bad NNC_LLVM_PASSES message: $(cat bad.txt)"
[ -e bad ] && fail "a bad NNC_LLVM_PASSES left an output"
NNC_LLVM_PASSES='default<O0>' "$NNC" "$EX/xor_train.nn" -o o0 || fail "NNC_LLVM_PASSES=default<O0> exited with $?"
./o0 summary | grep -q "^model xor_train" || fail "the NNC_LLVM_PASSES build does not run"
echo "ok"
