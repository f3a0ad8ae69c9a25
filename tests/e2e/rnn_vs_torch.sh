#!/bin/bash
# rnn_vs_torch.sh: stdlib's rnn, lstm and gru (reverse, bidirectional, stacked, with a given initial
# state) and their _state forms (every step's state, h_n and the LSTM's c_n; an instance handing
# (h, c) from one piece of a sequence to the next) compute PyTorch's nn.RNN, nn.LSTM and nn.GRU:
# forward outputs and gradients with the same weights (tests/e2e/rnn_torch.py).
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" "$SRC/tests/e2e/rnn_torch.py" "$WORK" "$NNC" || fail "a recurrent layer differs from PyTorch's"
