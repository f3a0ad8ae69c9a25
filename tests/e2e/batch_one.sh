#!/bin/bash
# batch_one.sh: one-row products (the executable calls sgemv, not sgemm, when a matmul has one row:
# compiler/backend/llvm/llvm.c k_matmul) give what the batched ones and the interpreter give.
# Training at --batch 1 runs every matmul form with one row (forward x W, dX = dY W^T) and must
# match the interpreter's losses as interp_vs_exe.sh checks them; predict at --batch 1 must give the
# outputs predict at --batch 32 gives, to float rounding.
. "$(dirname "$0")/lib.sh"
compile iris
flags=(train --seed 1 --epochs 2 --limit 40 --batch 1 --save w.st)
(cd "$EX" && "$WORK/iris" "${flags[@]/w.st/$WORK/w.st}") > exe.log 2>&1 || { cat exe.log; fail "iris ${flags[*]} exited with $?"; }
(cd "$EX" && "$NNC" run iris.nn -- "${flags[@]/w.st/$WORK/wi.st}") > interp.log 2>&1 ||
    { cat interp.log; fail "nnc run iris.nn -- ${flags[*]} exited with $?"; }
epoch_losses exe.log > exe.losses
epoch_losses interp.log > interp.losses
[ -s exe.losses ] || { cat exe.log; fail "no epoch losses in the executable's output"; }
paste exe.losses interp.losses
[ "$(wc -l < exe.losses)" = "$(wc -l < interp.losses)" ] || fail "different numbers of epochs"
paste exe.losses interp.losses | awk '{
    d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2
    if (!(d <= 1e-4 * (s > 1 ? s : 1))) { print "epoch " NR ": " $1 " vs " $2; bad = 1 } }
    END { exit bad }' || fail "executable and interpreter losses differ at batch 1"
./iris predict --weights w.st --batch 1 "$EX/data/iris_test.csv" > p1.csv || fail "predict --batch 1 exited with $?"
./iris predict --weights w.st --batch 32 "$EX/data/iris_test.csv" > p32.csv || fail "predict --batch 32 exited with $?"
[ "$(wc -l < p1.csv)" -gt 40 ] || fail "predict --batch 1 wrote $(wc -l < p1.csv) lines"
paste -d, p1.csv p32.csv | tail -n +2 | awk -F, '{
    n = NF / 2; for (i = 1; i <= n; i++) { d = $i - $(i + n); if (d < 0) d = -d
        if (!(d <= 1e-6)) { print "row " NR " column " i ": " $i " vs " $(i + n); bad = 1 } } }
    END { exit bad }' || fail "predict at batch 1 and at batch 32 differ"
echo "ok: batch-1 training matches the interpreter; batch-1 predictions match batch-32 ones"
