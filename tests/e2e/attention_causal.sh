#!/bin/bash
# attention_causal.sh: causal attention with its masked triangle skipped (compiler/passes/causal.c,
# docs/kernels.md "Causal kernels"): tests/e2e/attention_torch.py at 70 positions (three 32-row
# blocks, the last one short), where the compiled causal softmax, its adjoint and the products
# around them are marked causal, against PyTorch in values and gradients, with oneDNN's batched
# products and with OpenBLAS's (NNC_BMM=openblas), and the interpreter (the unmarked oracle).
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
for mark in ' causal {$' ' causal out$' ' causal a$' ' causal a\^T$'; do
    grep -q -- "$mark" kernels.txt || fail "no kernel marked '$mark' in attn.nn's kernels"
done
echo "ok: causal attention equals PyTorch (oneDNN and OpenBLAS products) and the interpreter"
