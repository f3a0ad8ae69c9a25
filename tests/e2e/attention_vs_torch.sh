#!/bin/bash
# attention_vs_torch.sh: stdlib's multi_head_attention (plain, causal, padding mask) and scaled
# dot-product attention (causal, boolean mask) equal nn.MultiheadAttention and torch's attention
# in values and gradients, compiled and in the reference interpreter (tests/e2e/attention_torch.py).
. "$(dirname "$0")/lib.sh"
PY="${NNC_PYTHON:-/usr/bin/python3}"
mkdir -p exe interp
"$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/exe" "$NNC" exe || fail "the compiled attention differs from PyTorch's"
"$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/interp" "$NNC" interp || fail "the interpreter's attention differs from PyTorch's"
