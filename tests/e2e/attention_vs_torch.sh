#!/bin/bash
# attention_vs_torch.sh: stdlib's multi_head_attention (plain, causal, padding mask) and scaled
# dot-product attention (causal, boolean mask) equal nn.MultiheadAttention and torch's attention
# in values and gradients, compiled and in the reference interpreter (tests/e2e/attention_torch.py).
. "$(dirname "$0")/lib.sh"
PY="${NNC_PYTHON:-/usr/bin/python3}"
mkdir -p exe interp
"$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/exe" "$NNC" exe || fail "the compiled attention differs from PyTorch's"
"$PY" "$SRC/tests/e2e/attention_torch.py" "$WORK/interp" "$NNC" interp || fail "the interpreter's attention differs from PyTorch's"
# shapes checked with clear errors: dim a multiple of heads; a causal mask's axes without B
cd "$WORK"
printf 'use nn\nmodel m {\n  input x: f32[B, 8, 16]\n  output y = multi_head_attention(x, 3, 16)\n}\n' > heads.nn
expect_fail "dim % heads" "multi_head_attention: dim must be a multiple of heads" "$NNC" check heads.nn
printf 'use nn\nmodel m {\n  input x: f32[B, 8, 16]\n  output y = softmax(transpose(x, [1, 0, 2]), causal = true)\n}\n' > causal.nn
expect_fail "causal over B" "causal = true masks the last two axes, which must not depend on the batch size B" "$NNC" check causal.nn
