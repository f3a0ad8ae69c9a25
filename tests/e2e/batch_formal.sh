#!/bin/bash
# batch_formal.sh: B in a fn's or layer's formals is an ordinary dim variable [dim.batch]: a row
# of one (f32[1, 5]) and two stacked batches (f32[2*B, 5]) bind it to 1 and 2*B, in the body too
# (reshape(x, [B, N, 1]), zeros [B, 1]). The compiled executable's predictions equal numpy's
# (the layer's scale g starts at ones) and the interpreter's, at two batch sizes.
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
cat > rows.nn <<'NN'
fn rows(x: f32[B, N]) -> f32[B] {
  sum(reshape(x, [B, N, 1]), axis = [1, 2])
}

layer scale(x: f32[B, N]) -> f32[B, N] {
  param g: f32[N] = ones
  x * g + zeros_like(reshape(x[:, 0], [B, 1]))
}

model m {
  input  x: f32[B, 5]
  target t: f32[B]
  one    = reshape(mean(x, axis = 0), [1, 5])
  two    = concat(x, 2.0 * x, axis = 0)
  output y = x[:, 0] + rows(one) + rows(scale(one)) + mean(rows(two))
  loss mean((y - t) * (y - t))
}
NN
"$PY" -c "
import numpy as np
r = np.random.default_rng(3); np.save('x.npy', r.normal(size=(6, 5)).astype(np.float32))" || fail "numpy"
"$NNC" rows.nn -o rows || fail "nnc rows.nn exited with $?"
for b in 6 4; do
    ./rows predict --batch $b x.npy > exe$b.csv || fail "rows predict --batch $b exited with $?"
done
"$NNC" run rows.nn -- predict --batch 6 x.npy > interp.csv || fail "nnc run rows.nn exited with $?"
"$PY" - <<'PY' || fail "predictions differ"
import numpy as np
x = np.load('x.npy').astype(np.float64)
def want(x):
    one = x.mean(axis=0)
    return x[:, 0] + 2 * one.sum() + 1.5 * x.sum(axis=1).mean()
# predict runs the batches apart: --batch 4 is rows 0-3, then 4-5 as a batch of 2
w6 = want(x)
w4 = np.concatenate([want(x[:4]), want(x[4:])])
for f, w in (('exe6.csv', w6), ('exe4.csv', w4), ('interp.csv', w6)):
    got = np.loadtxt(f, skiprows=1)
    assert got.shape == w.shape and np.allclose(got, w, rtol=1e-5, atol=1e-5), (f, got, w)
    print('ok:', f, np.round(got, 4))
PY
