#!/bin/bash
# rnn_vs_torch_long.sh: rnn_torch.py's lstm, gru, 2-layer and bidirectional cases at 20 steps, where
# the recurrent products use packed weights (runtime/packed_gemm.c): outputs and gradients against
# PyTorch's as rnn_vs_torch.sh checks them at 5 steps.
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" "$SRC/tests/e2e/rnn_torch.py" "$WORK" "$NNC" 20 lstm,gru_last,lstm_2layer,bilstm,rnn ||
    fail "a recurrent layer at 20 steps differs from PyTorch's"
