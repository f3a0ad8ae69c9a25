#!/bin/bash
# attention_causal.sh: causal attention with its masked triangle skipped (compiler/passes/causal.c,
# docs/kernels.md "Causal kernels"): tests/e2e/attention_torch.py at 70 positions (three 32-row
# blocks, the last one short), where the compiled causal softmax, its adjoint and the products
# around them are marked causal, against PyTorch in values and gradients, with oneDNN's batched
# products and with OpenBLAS's (NNC_BMM=openblas), and the interpreter (the unmarked oracle); then
# queries and keys of different lengths against the interpreter.
. "$(dirname "$0")/lib.sh"
PY="${NNC_PYTHON:-/usr/bin/python3}"
mkdir -p exe blas interp
"$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/exe" "$NNC" exe 70 || fail "the compiled causal attention differs from PyTorch's"
NNC_BMM=openblas "$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/blas" "$NNC" exe 70 ||
    fail "the compiled causal attention (OpenBLAS products) differs from PyTorch's"
"$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/interp" "$NNC" interp 70 || fail "the interpreter's attention differs from PyTorch's"
# the kernels checked are the causal ones: the train step has every kind of mark
cd "$WORK/exe"
"$NNC" attn.nn --emit kernels > kernels.txt || fail "nnc --emit kernels attn.nn"
for mark in ' causal {$' ' causal out\( view .*\)\?$' ' causal a\( view .*\)\?$' ' causal a\^T\( view .*\)\?$'; do
    grep -q -- "$mark" kernels.txt || fail "no kernel marked '$mark' in attn.nn's kernels"
done
# and the products read the heads in place and write the merged heads (compiler/passes/gemm_view.c):
# the comparisons above ran through those views
for v in ' view a(' ' view b(' ' view c('; do
    grep -q -- "$v" kernels.txt || fail "no product with '$v' in attn.nn's kernels"
done
# queries and keys of different lengths (T x S tiles 40 x 100 and 100 x 40: mode a^T's blocks past
# T sum over nothing, the rows' 8-column rounding stops at S): two SGD steps (values and
# gradients) and the predictions, compiled (oneDNN and OpenBLAS products, 1 and 2 threads) against
# the interpreter
cd "$WORK"
for ts in "40 100" "100 40"; do
    set -- $ts
    d="rect_$1_$2"
    mkdir -p "$d" && cd "$d" || fail "mkdir $d"
    "${NNC_PYTHON:-/usr/bin/python3}" -c "
import numpy as np
r = np.random.default_rng(7)
np.save('z.npy', r.normal(size=(8, $1 + $2, 8)).astype(np.float32))
np.save('y.npy', r.normal(size=(8, $1, 8)).astype(np.float32))" || fail "could not write the data"
    cat > rect.nn <<NN
use nn
model rect {
  input  z: f32[B, $(($1 + $2)), 8]
  target y: f32[B, $1, 8]
  x = z[:, 0:$1]
  m = z[:, $1:$(($1 + $2))]
  q = split_heads(dense(x, 8), 2)
  k = split_heads(dense(m, 8), 2)
  v = split_heads(dense(m, 8), 2)
  output o = merge_heads(scaled_dot_product_attention(q, k, v, causal = true))
  loss mse(o, y)
  train {
    data npy("z.npy", "y.npy")
    optimizer sgd(lr = 0.5)
    batch 4  epochs 2
  }
}
NN
    "$NNC" rect.nn --emit kernels | grep -q ' causal a^T\( view .*\)\?$' || fail "$d: no product marked causal a^T"
    "$NNC" rect.nn -o rect || fail "nnc rect.nn exited with $?"
    "$NNC" run rect.nn -- train --seed 3 --threads 1 --save interp.st > interp.log 2>&1 || { cat interp.log; fail "$d: nnc run train"; }
    b=$(epoch_losses interp.log | tail -n 1)
    for run in "1 dnnl" "2 dnnl" "1 openblas"; do
        set -- $run
        NNC_BMM=$([ "$2" = openblas ] && echo openblas || echo auto) ./rect train --seed 3 --threads "$1" --save exe.st --force > exe.log 2>&1 ||
            { cat exe.log; fail "$d: training ($run) exited with $?"; }
        a=$(epoch_losses exe.log | tail -n 1)
        awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * (b > 1 ? b : 1)) }' ||
            fail "$d ($run): executable and interpreter losses differ: $a vs $b"
        echo "ok: $d ($run threads/products): loss $a, interpreter $b"
    done
    ./rect predict --weights interp.st z.npy -o exe.npy --force > /dev/null || fail "$d: predict"
    "$NNC" run rect.nn -- predict --weights interp.st z.npy -o interp.npy --force > /dev/null || fail "$d: nnc run predict"
    "${NNC_PYTHON:-/usr/bin/python3}" -c "
import numpy as np, sys
a, b = np.load('exe.npy'), np.load('interp.npy')
e = float(np.max(np.abs(a - b)) / max(1e-6, np.max(np.abs(b))))
print('$d predictions: relative difference %.1e' % e)
sys.exit(0 if e < 1e-5 else 1)" || fail "$d: compiled predictions differ from the interpreter's"
    cd "$WORK"
done
echo "ok: causal attention equals PyTorch (oneDNN and OpenBLAS products) and the interpreter"
