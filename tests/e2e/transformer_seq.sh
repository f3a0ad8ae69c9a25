#!/bin/bash
# transformer_seq.sh: a decoder-only transformer (embedding, learned positions, two causal
# decoder_blocks, layernorm, dense) learns next-token prediction on sequences of period 5 over 15
# token ids: the next id is the one 4 positions back, which only attention to the past can see.
# The unigram baseline is ln 15 = 2.71 nats per token; the best possible, with the first 4 of 32
# predictions unknowable, 4/32 * ln 15 = 0.34. Validation loss after 2 epochs must be below 1.0.
# Then the executable equals the interpreter (`nnc run`) on a short run.
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" - <<'PY' || fail "could not write the data"
import numpy as np
r = np.random.default_rng(0)
n, T, p = 2000, 32, 5
s = np.tile(r.integers(1, 16, size=(n, p)), (1, (T + 1) // p + 2))[:, :T + 1].astype(np.int32)
np.save("x.npy", s[:, :T])
np.save("y.npy", s[:, 1:])
PY
cat > seq.nn <<'NN'
use nn
model seq {
  input  ids: i32[B, 32]
  target next: i32[B, 32]
  h = embedding(ids, 16, 32)
  h = learned_positions(h)
  h = decoder_block(h, 4, 64)
  h = decoder_block(h, 4, 64)
  logits = dense(layernorm(h), 16)
  output probs = softmax(logits)
  loss cross_entropy(logits, next)
  train {
    data npy("x.npy", "y.npy")
    optimizer adam(lr = 3e-3)
    batch 32  epochs 2  validation 0.1
  }
}
NN
"$NNC" seq.nn -o seq || fail "nnc seq.nn exited with $?"
./seq train --seed 1 --threads 1 > train.log 2>&1 || { cat train.log; fail "training exited with $?"; }
cat train.log
vl=$(sed -n 's/.*val_loss \([-0-9.eE+naif]*\).*/\1/p' train.log | tail -n 1)
check "$vl" lt 1.0 "validation loss (nats per token; unigram 2.71, best 0.34)"
flags=(train --seed 1 --threads 1 --epochs 1 --limit 96)
./seq "${flags[@]}" > exe.log 2>&1 || { cat exe.log; fail "short run exited with $?"; }
"$NNC" run seq.nn -- "${flags[@]}" > interp.log 2>&1 || { cat interp.log; fail "nnc run exited with $?"; }
a=$(epoch_losses exe.log) b=$(epoch_losses interp.log)
echo "executable $a, interpreter $b"
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-4 * (b > 1 ? b : 1)) }' ||
    fail "executable and interpreter losses differ: $a vs $b"
echo "ok: the executable equals the interpreter"
