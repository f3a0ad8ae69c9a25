#!/bin/bash
# gemm_view.sh: attention's products reading and writing the heads in place (compiler/passes/gemm_view.c,
# runtime/bmm.c nnc_sgemm_batched_view) where plan then folds the elementwise kernel after the head
# merge into the product as its epilogue (the forward graph: tanh(a) * 2 + x written over a): the
# kernels must show a product with a `view c(...)` and an epilogue, and the executable must give the
# interpreter's losses (3 SGD epochs) and predictions.
. "$(dirname "$0")/lib.sh"
cat > m.nn <<'NN'
use nn

model m {
  input  x: f32[B, 16, 8]
  target y: f32[B, 16, 8]

  q = split_heads(dense(x, 8), 2)
  k = split_heads(dense(x, 8), 2)
  v = split_heads(dense(x, 8), 2)
  a = merge_heads(scaled_dot_product_attention(q, k, v, causal = true))
  output o = dense(tanh(a) * 2.0 + x, 8)
  loss mse(o, y)

  train {
    data      npy("x.npy", "y.npy")
    optimizer sgd(lr = 0.1)
    batch 4  epochs 3
  }
}
NN
"${NNC_PYTHON:-/usr/bin/python3}" -c "
import numpy as np
r = np.random.default_rng(0)
np.save('x.npy', r.standard_normal((16, 16, 8)).astype(np.float32))
np.save('y.npy', r.standard_normal((16, 16, 8)).astype(np.float32))" || fail "numpy data"
"$NNC" m.nn --emit kernels > kernels.txt || fail "nnc --emit kernels m.nn exited with $?"
grep -q ' view c([0-9, ]*) {$' kernels.txt || { cat kernels.txt; fail "no product writing its heads in place with an epilogue"; }
grep -q ' view a(' kernels.txt || fail "no product reading its heads in place"
"$NNC" m.nn -o m || fail "nnc m.nn exited with $?"
./m train --seed 1 --save w.st > exe.log 2>&1 || { cat exe.log; fail "m train exited with $?"; }
"$NNC" run m.nn -- train --seed 1 --save wi.st > interp.log 2>&1 || { cat interp.log; fail "nnc run m.nn train exited with $?"; }
epoch_losses exe.log > exe.losses
epoch_losses interp.log > interp.losses
[ "$(wc -l < exe.losses)" = 3 ] || { cat exe.log; fail "want 3 epoch losses"; }
paste exe.losses interp.losses | awk '{ d = $1 - $2; if (d < 0) d = -d; if (!(d <= 1e-5 * ($2 > 1 ? $2 : 1))) { print; bad = 1 } }
    END { exit bad }' || fail "the executable's losses differ from the interpreter's"
./m predict --weights w.st x.npy > p_exe.csv || fail "m predict exited with $?"
"$NNC" run m.nn -- predict --weights w.st x.npy > p_int.csv || fail "nnc run m.nn predict exited with $?"
[ "$(wc -l < p_exe.csv)" -gt 16 ] || fail "predict wrote $(wc -l < p_exe.csv) lines"
paste -d, p_exe.csv p_int.csv | tail -n +2 | awk -F, '{ n = NF / 2; for (i = 1; i <= n; i++) { d = $i - $(i + n); if (d < 0) d = -d
    if (!(d <= 1e-5)) { print "row " NR " column " i ": " $i " vs " $(i + n); bad = 1 } } } END { exit bad }' ||
    fail "the executable's predictions differ from the interpreter's"
echo "ok: products on views (with an epilogue after the head merge) match the interpreter"
