#!/bin/bash
# transformer_dropout.sh: dropout inside the stdlib transformer layers (encoder_block,
# decoder_block and multi_head_attention's `dropout`, torch's four places) is active in training
# only. The same decoder-only model with dropout = 0.2 and with none (the default):
#   - with none, no kernel of any graph draws random numbers; with 0.2, the training step draws
#     them in 8 places (4 per block: attention weights, attention output, feed-forward hidden
#     units and output) and the evaluation and prediction graphs in none;
#   - evaluating the same weights gives the same loss with either model (no dropout outside
#     training), and training from the same start gives another loss (dropout on);
#   - the executable's training with dropout equals the interpreter's (same seed, same masks).
. "$(dirname "$0")/lib.sh"
"${NNC_PYTHON:-/usr/bin/python3}" - <<'PY' || fail "could not write the data"
import numpy as np
r = np.random.default_rng(0)
n, T, p = 256, 16, 5
s = np.tile(r.integers(1, 16, size=(n, p)), (1, (T + 1) // p + 2))[:, :T + 1].astype(np.int32)
np.save("x.npy", s[:, :T])
np.save("y.npy", s[:, 1:])
PY
model() {   # model FILE DROPOUT_ARGS: the same network (model name seq), dropout as given
    cat > "$1" <<NN
use nn
model seq {
  input  ids: i32[B, 16]
  target next: i32[B, 16]
  h = embedding(ids, 16, 32)
  h = learned_positions(h)
  h = decoder_block(h, 4, 64$2)
  h = encoder_block(h, 4, 64, causal = true, norm_first = false$2)
  logits = dense(layernorm(h), 16)
  output probs = softmax(logits)
  loss cross_entropy(logits, next)
  train {
    data npy("x.npy", "y.npy")
    optimizer adam(lr = 3e-3)
    batch 32  epochs 1
  }
}
NN
}
model plain.nn ""
model drop.nn ", dropout = 0.2"
rands() {   # rands FILE GRAPH: the rand kernels of one graph of --emit kernels
    "$NNC" --emit kernels "$1" -o "$1.k" || fail "nnc --emit kernels $1 exited with $?"
    awk -v g="$2" '/^kernels /{on = ($2 == g)} on && / = op rand /{n++} END{print n + 0}' "$1.k"
}
for g in forward evaluate train.main; do
    check "$(rands plain.nn $g)" le 0 "rand kernels of plain.nn's $g"
done
check "$(rands drop.nn forward)" le 0 "rand kernels of drop.nn's forward (prediction)"
check "$(rands drop.nn evaluate)" le 0 "rand kernels of drop.nn's evaluate"
n=$(rands drop.nn train.main)
check "$n" ge 8 "rand kernels of drop.nn's training step"
check "$n" le 8 "rand kernels of drop.nn's training step"
"$NNC" plain.nn -o plain || fail "nnc plain.nn exited with $?"
"$NNC" drop.nn -o drop || fail "nnc drop.nn exited with $?"
./plain train --seed 1 --threads 1 --save w.safetensors > plain.log 2>&1 || { cat plain.log; fail "plain train exited with $?"; }
./drop train --seed 1 --threads 1 > drop.log 2>&1 || { cat drop.log; fail "drop train exited with $?"; }
a=$(epoch_losses plain.log) b=$(epoch_losses drop.log)
echo "training loss: without dropout $a, with dropout $b"
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d > 1e-4) }' ||
    fail "dropout = 0.2 did not change the training loss ($a vs $b)"
./plain eval --weights w.safetensors --threads 1 > ep.log 2>&1 || { cat ep.log; fail "plain eval exited with $?"; }
./drop eval --weights w.safetensors --threads 1 > ed.log 2>&1 || { cat ed.log; fail "drop eval exited with $?"; }
cat ep.log ed.log
lp=$(sed -n 's/.*loss[ =:]*\([-0-9.eE+]*\).*/\1/p' ep.log | head -n 1)
ld=$(sed -n 's/.*loss[ =:]*\([-0-9.eE+]*\).*/\1/p' ed.log | head -n 1)
[ -n "$lp" ] && [ "$lp" = "$ld" ] || fail "evaluation with dropout ($ld) is not evaluation without ($lp)"
flags=(train --seed 1 --threads 1 --epochs 1 --limit 64)
./drop "${flags[@]}" > exe.log 2>&1 || { cat exe.log; fail "short run exited with $?"; }
"$NNC" run drop.nn -- "${flags[@]}" > interp.log 2>&1 || { cat interp.log; fail "nnc run exited with $?"; }
a=$(epoch_losses exe.log) b=$(epoch_losses interp.log)
echo "executable $a, interpreter $b"
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-4 * (b > 1 ? b : 1)) }' ||
    fail "executable and interpreter losses differ: $a vs $b"
echo "ok: dropout in training only, the executable equals the interpreter"
