#!/bin/bash
# results.sh: several results of a layer [fn.results] in a model that trains (tests/e2e/results):
#  - tuple.nn's encoder returns (mu, logvar) and its LSTM cell instance (h, c), bound by name;
#    concat.nn is the same model with one concatenated result sliced apart, the way it was
#    written before: with the same seed both train to the same losses after every epoch and to
#    the same weights (the same tensors, named alike: encoder.*, rec.*, y.*);
#  - the compiled executable's training of tuple.nn equals the reference interpreter's (nnc run);
#  - the weights file names the destructured call's parameters after the layer [layer.naming]
#    and holds one cell (rec.*) for the instance's three calls;
#  - `nnc summary` shows the two-result encoder as one layer row with its parameters.
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
cp "$SRC"/tests/e2e/results/*.nn .
"$PY" -c "
import numpy as np
r = np.random.default_rng(7); np.save('x.npy', r.normal(size=(96, 12)).astype(np.float32))" || fail "numpy"
for m in tuple concat; do
    "$NNC" $m.nn -o $m || fail "nnc $m.nn exited with $?"
    ./$m train --seed 1 --save $m.st > $m.log 2>&1 || { cat $m.log; fail "$m train exited with $?"; }
    cat $m.log
done
"$NNC" run tuple.nn -- train --seed 1 --save interp.st > interp.log 2>&1 ||
    { cat interp.log; fail "nnc run tuple.nn exited with $?"; }
# the epoch lines' losses: recon and kl
losses() { sed -n 's/^epoch \([0-9]*\)\/[0-9]*: *recon \([-0-9.e]*\) *kl \([-0-9.e]*\).*/\1 \2 \3/p' "$1"; }
for f in tuple concat interp; do losses $f.log > $f.losses; done
[ "$(wc -l < tuple.losses)" = 3 ] || fail "want 3 epochs of recon and kl in tuple.log"
cmp tuple.losses concat.losses || { paste tuple.losses concat.losses; fail "several results train otherwise than concat and slices"; }
echo "ok: tuple.nn and concat.nn print the same losses: $(tr '\n' ' ' < tuple.losses)"
paste tuple.losses interp.losses | awk '{
    for (i = 2; i <= 3; i++) { d = $i - $(i + 3); if (d < 0) d = -d
        if (!(d <= 1e-4 * ($(i + 3) > 1 ? $(i + 3) : 1))) { print "epoch " $1 ": " $i " vs " $(i + 3); bad = 1 } } }
    END { exit bad }' || fail "the executable's losses differ from the interpreter's"
echo "ok: the executable and the interpreter agree on 3 epochs"
close tuple.st concat.st 1e-6
close tuple.st interp.st 1e-4
"$PY" - tuple.st <<'PY' || fail "weights file names"
import json, struct, sys
h = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', h[:8])[0]
keys = sorted(k for k in json.loads(h[8:8 + n]) if k != '__metadata__' and '.adam.' not in k)
want = sorted(['encoder.h.W', 'encoder.h.b', 'encoder.mu.W', 'encoder.mu.b', 'encoder.logvar.W',
               'encoder.logvar.b', 'rec.g.W', 'rec.g.b', 'y.W', 'y.b'])
assert keys == want, keys
print('ok: weights named', ' '.join(keys))
PY
"$NNC" summary tuple.nn > summary.txt || fail "nnc summary tuple.nn exited with $?"
grep -Eq '^encoder \(encoder\) +f32\[B,4\] +260$' summary.txt || { cat summary.txt; fail "no encoder row of 260 parameters in the summary"; }
[ "$(grep -c '^rec (cell)' summary.txt)" = 3 ] || { cat summary.txt; fail "want 3 rows of the cell instance in the summary"; }
echo "ok: summary: $(grep '^encoder' summary.txt)"
