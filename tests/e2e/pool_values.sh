#!/bin/bash
# pool_values.sh: the pooling and resampling builtins' values against PyTorch, through the
# interpreter and the executable (tests/e2e/pool_values.py).
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" "$SRC/tests/e2e/pool_values.py" "$NNC" "$WORK" || fail "a pooling value differs from PyTorch's"
