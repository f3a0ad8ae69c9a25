#!/bin/bash
# grad_vs_torch.sh: autodiff of the newer builtins (batched @, cumsum, prod, reduce_min/max,
# clip, %, gelu, erf, asin, acos, round/floor/ceil, argmax through gather, strided slices,
# ones_like...) equals PyTorch's gradients: one compiled model, one SGD step, the saved weights
# against torch.autograd (tests/e2e/grad_torch.py).
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" "$SRC/tests/e2e/grad_torch.py" "$WORK" "$NNC" || fail "a gradient differs from PyTorch's"
