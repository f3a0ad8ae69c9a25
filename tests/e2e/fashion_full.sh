#!/bin/bash
# fashion_full.sh NNC SRC_DIR WORK_DIR - the full Fashion-MNIST run of examples/fashion_mlp.nn
# (60000 training images, its 10 epochs), then the test-set accuracy, which examples/README.md
# says must reach 88%. The ctest e2e.fashion_full (label slow, release builds only); by hand:
#   bash tests/e2e/fashion_full.sh build/release/nnc . /tmp/fashion_full
. "$(dirname "$0")/lib.sh"
compile fashion_mlp
t0=$(date +%s)
./fashion_mlp train --seed 1 --save w.safetensors || fail "train exited with $?"
echo "train: $(( $(date +%s) - t0 )) s wall"
./fashion_mlp eval --weights w.safetensors > eval.log || fail "eval exited with $?"
head -n 4 eval.log
check "$(metric eval.log accuracy)" ge 0.88 "fashion_mlp test accuracy"
