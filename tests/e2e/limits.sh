#!/bin/bash
# Programs past nnc's limits (lang/nnc_limits.h) or with overflowing compile-time ints are
# rejected the same way by `nnc check` and by compilation: exit 1 with a file:line:col error,
# quickly, never a crash (SIGFPE on INT64_MIN / -1), an internal error (abort) or an unbounded
# unrolling (a 2^40-call program used to eat all memory). Files: tests/e2e/limits/.
. "$(dirname "$0")/lib.sh"
LIM=$SRC/tests/e2e/limits

# both FILE PATTERN: `nnc check` and `nnc --emit ir` exit 1 within 60 s with PATTERN on stderr
both() {
    local f=$1 pat=$2 mode rc
    for mode in check ir; do
        if [ $mode = check ]; then
            timeout 60 "$NNC" check "$f" > out.log 2> err.log
        else
            timeout 60 "$NNC" "$f" --emit ir -o out.ir > out.log 2> err.log
        fi
        rc=$?
        cat err.log
        [ $rc -eq 1 ] || fail "$f ($mode): exit status $rc, want 1"
        grep -Eq "^$f:[0-9]+:[0-9]+: error: $pat" err.log || fail "$f ($mode): stderr does not match '$pat'"
        grep -q "AddressSanitizer\|runtime error:\|internal error" err.log && fail "$f ($mode): crashed"
        echo "ok: $f ($mode)"
    done
}

# compile_only FILE PATTERN: compilation exits 1 within 180 s with PATTERN on stderr (many_nodes:
# 5 s of CPU in the release build, 15 s under ASan; the limit catches a hang, not a slow machine)
compile_only() {
    local f=$1 pat=$2 rc
    timeout 180 "$NNC" "$f" --emit ir -o out.ir > out.log 2> err.log
    rc=$?
    cat err.log
    [ $rc -eq 1 ] || fail "$f: exit status $rc, want 1"
    grep -Eq "^$f:[0-9]+:[0-9]+: error: $pat" err.log || fail "$f: stderr does not match '$pat'"
    grep -q "AddressSanitizer\|runtime error:\|internal error" err.log && fail "$f: crashed"
    echo "ok: $f"
}

cp "$LIM"/*.nn . || fail "no $LIM"
both div_overflow.nn "integer arithmetic overflows"
both neg_overflow.nn "integer arithmetic overflows"
both mul_overflow.nn "integer arithmetic overflows"
both loop_full.nn "a loop of 9223372036854775807 iterations is too long to unroll"
both numel_int_max.nn "f32\[B, 9223372036854775807\] is too large"
both numel_product.nn "f32\[B, 4294967296, 4294967296\] is too large"
both numel_one_hot.nn "f32\[B, 9223372036854775807\] is too large"
both rank7.nn "f32\[B, 1, 1, 1, 1, 1, 1\] has 7 dims; a tensor has at most 6"
both index_batch.nn "an index or slice bound cannot hold the batch size B"
both slice_batch.nn "an index or slice bound cannot hold the batch size B"
both expo_calls.nn "the model unrolls to more than [0-9]+ inlined calls and loop iterations"
both expo_loops.nn "the model unrolls to more than [0-9]+ inlined calls and loop iterations"
both call_chain.nn "calls nest deeper than 200"
# the checker's estimate is a lower bound (it cannot follow calls of function values, nor count
# operations); lowering's own budget stops these
compile_only expo_fnvalue.nn "the model unrolls to more than [0-9]+ inlined calls and loop iterations"
compile_only many_nodes.nn "the model unrolls to more than [0-9]+ operations"

# INT64_MIN % -1 is 0 (it used to trap), % is floored ((-7) % 3 = 2) and 1 ** 10^18 is 1 at once
"$NNC" check mod_ok.nn || fail "mod_ok.nn: nnc check failed"
timeout 60 "$NNC" mod_ok.nn --emit ir -o "$WORK/mod_ok.ir" || fail "mod_ok.nn: nnc --emit ir exited with $?"
grep -q 'const {f=3}' "$WORK/mod_ok.ir" || { cat "$WORK/mod_ok.ir"; fail "mod_ok.nn: the folded constant is not 3"; }
echo "ok: mod_ok.nn"

# a 10000-op elementwise chain is cut into kernels of at most 256 nodes (fuse.c FUSE_MAX_NODES),
# not one kernel LLVM needs minutes for; the sum is still exact
k=$("$NNC" --emit plan long_chain.nn | sed -n 's/^plan forward: \([0-9]*\) kernels.*/\1/p')
[ -n "$k" ] && [ "$k" -ge 39 ] && [ "$k" -le 80 ] || fail "long_chain.nn: $k forward kernels, want 10000 / 256 = 39 or a few more"
timeout 300 "$NNC" long_chain.nn -o "$WORK/long_chain" || fail "long_chain.nn: nnc exited with $?"
printf 'a,b,c,d\n1,2,3,0.5\n' > "$WORK/lc.csv"
"$WORK/long_chain" predict "$WORK/lc.csv" > "$WORK/lc.out" 2> /dev/null || fail "long_chain predict"
[ "$(tail -n 1 "$WORK/lc.out")" = "10001,10002,10003,10000.5" ] || fail "long_chain: predicted $(cat "$WORK/lc.out")"
echo "ok: long_chain.nn: $k kernels, x + 10000"
