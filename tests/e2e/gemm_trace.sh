#!/bin/bash
# gemm_trace.sh: $NNC_GEMM_TRACE=1 (runtime/bmm.c) reports every matrix product of a run, summed per
# shape and route, at exit: one training step of bench's tiny_transformer (batch 32, 128 tokens:
# M = 4096 rows) must list each of its products with the number of calls the model makes (4 layers),
# the forward qkv product and the weight gradient of the qkv weights among them, the causal
# attention products (reading the heads in place: kind view1), and a total; with NNC_GEMM=openblas every 2-D product's route is openblas;
# without the variable nothing is reported.
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" -c "
import numpy as np
r = np.random.default_rng(1); s = r.integers(1, 140, size=(32, 129)).astype(np.int32)
np.save('ids.npy', s[:, :128]); np.save('next.npy', s[:, 1:])" || fail "numpy data"
"$NNC" "$SRC/bench/models/tiny_transformer.nn" -o tt || fail "nnc tiny_transformer.nn exited with $?"
run=(train --epochs 1 --threads 1 --limit 32 --seed 1 --data ids.npy,next.npy)
NNC_GEMM_TRACE=1 ./tt "${run[@]}" > out.log 2> trace.log || { cat out.log trace.log; fail "traced run exited with $?"; }
cat trace.log
# row: kind ta tb P M N K beta route calls seconds GFLOP/s
# (kind: one name, or several joined by |)
row() { awk -v k="$1" -v s="$2" '$1 == "NNC_GEMM_TRACE:" && $2 ~ ("^(" k ")$") && ($3" "$4" "$5" "$6" "$7" "$8" "$9) == s' trace.log; }
calls() { row "$1" "$2" | awk '{ n += $11 } END { print n + 0 }'; }
[ "$(calls gemm "0 1 1 4096 384 128 0")" = 4 ] || fail "the forward qkv product [4096 x 128] x [384 x 128]^T: want 4 calls"
[ "$(calls gemm "1 0 1 384 128 4096 1")" = 4 ] || fail "the qkv weights' gradient (A^T B, K = 4096, accumulated): want 4 calls"
[ "$(calls gemm "0 0 1 4096 512 128 0")" = 4 ] || fail "the feed-forward product [4096 x 128] x [128 x 512]: want 4 calls"
[ "$(calls "causal1|view1" "0 1 128 128 128 32 0")" = 8 ] ||
    fail "q k^T and dO v^T (causal, 128 products of 128 x 32): want 8 calls"
# q k^T reads q and k in place from the qkv product (compiler/passes/gemm_view.c): the view route
[ "$(calls view1 "0 1 128 128 128 32 0")" = 8 ] || fail "q k^T and dO v^T: want 8 calls through nnc_sgemm_batched_view"
row gemm "0 1 1 4096 384 128 0" | awk '{ if (!($12 > 0 && $13 > 0)) exit 1 }' || fail "no time or rate for the qkv product"
grep -q "^NNC_GEMM_TRACE: total [0-9.]* s$" trace.log || fail "no total line"
NNC_GEMM_TRACE=1 NNC_GEMM=openblas ./tt "${run[@]}" > out2.log 2> trace.log || fail "NNC_GEMM=openblas run exited with $?"
awk '$1 == "NNC_GEMM_TRACE:" && $2 == "gemm" && $10 != "openblas" { bad = 1; print } END { exit bad }' trace.log ||
    fail "NNC_GEMM=openblas: a 2-D product reported on another route"
[ "$(calls gemm "0 1 1 4096 384 128 0")" = 4 ] || fail "NNC_GEMM=openblas: the qkv product not reported"
./tt "${run[@]}" > out3.log 2> plain.log || fail "untraced run exited with $?"
! grep -q NNC_GEMM_TRACE plain.log || fail "a trace without NNC_GEMM_TRACE"
cmp <(grep "loss" out.log | sed 's/ [0-9.]*s .*//') <(grep "loss" out3.log | sed 's/ [0-9.]*s .*//') ||
    fail "the traced run's loss differs from the untraced one's"
echo "ok: NNC_GEMM_TRACE lists the step's products with their calls, routes and rates"
