#!/bin/bash
# packed_gemm.sh: the recurrent products with packed weights (runtime/packed_gemm.c) give what the
# unpacked ones give (NNC_PACKED_GEMM=0: every product an ordinary nnc_sgemm), over several SGD
# steps at 1 and 2 threads, for an LSTM, a 2-layer LSTM and a GRU of 20 steps (tests/e2e/packed_gemm.py).
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" "$SRC/tests/e2e/packed_gemm.py" "$WORK" "$NNC" ||
    fail "packed weights differ from unpacked ones"
