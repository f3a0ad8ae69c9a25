#!/bin/bash
# gather_ahead.sh NNC SRC_DIR WORK_DIR - the CPU training loop with a pool gathers the next batch
# in the same pool dispatch as the parameter scan after a step (runtime/train.c scan_and_gather):
# runs repeat to the bit at 2 threads (2 epochs of 6,430 samples: a cut last batch, an epoch
# boundary), and a parameter made infinite by a step is named the same at 1 and 2 threads (h.W
# has 200,704 values: at 2 threads it is scanned in the shared dispatch).
. "$(dirname "$0")/lib.sh"
compile fashion_mlp
for r in a b; do
    ./fashion_mlp train --threads 2 --limit 6430 --epochs 2 --seed 1 --save $r.st > $r.log 2>&1 ||
        fail "train ($r) exited with $?"
done
close a.st b.st 0
echo "ok: two runs at 2 threads give the same weights"
for t in 1 2; do
    expect_fail "non-finite h.W at $t thread(s)" \
        "parameter 'h.W' became NaN or infinite at epoch 1, step 1 \(the loss was finite\)" \
        ./fashion_mlp train --threads $t --limit 640 --epochs 1 --lr 1e38 --seed 1
done
