#!/bin/bash
# style.sh: examples/style_transfer.nn in a short run: a model whose trained parameter is the image,
# its features (f1, f2) loaded from style_features.nn's weights by --init-from and frozen (bit-identical
# after training), the total loss falling, and the result pictured beside the content (RGB PNG).
. "$(dirname "$0")/lib.sh"
"$NNC_PYTHON" "$EX/data/make_shapes.py" . --train 64 --test 8 > shapes.log || fail "make_shapes.py"
"$NNC_PYTHON" "$EX/data/make_style.py" . --copies 10 > style.log || fail "make_style.py"
compile style_features
compile style_transfer
./style_features train --threads 1 --data 'npy("shapes_train_x.npy", "shapes_train_y.npy")' --epochs 1 --save features.st \
    > f.log 2>&1 || { cat f.log; fail "style_features train"; }
./style_transfer train --threads 1 --data 'npy("style_content.npy", "style_style.npy")' --epochs 3 --init-from features.st \
    --save st.st > st.log 2>&1 || { cat st.log; fail "style_transfer train"; }
cat st.log
grep -q '^init-from features.st: 4 tensors loaded, 1 left at its initializer, 2 in the file unused' st.log || fail "the report"
grep -q '^  initializer: image$' st.log || fail "image is not the one left at its initializer"
t1=$(sed -n 's/^epoch 1\/3: *total \([0-9.e-]*\) .*/\1/p' st.log)
t3=$(sed -n 's/^epoch 3\/3: *total \([0-9.e-]*\) .*/\1/p' st.log)
check "$t3" lt "$t1" "the total loss of epoch 3 (epoch 1: $t1)"
"$NNC_PYTHON" - features.st st.st <<'PY' || fail "the features changed"
import json, struct, sys
def load(p):
    h = open(p, 'rb').read()
    n = struct.unpack('<Q', h[:8])[0]
    meta = json.loads(h[8:8 + n])
    return {k: h[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in meta.items() if k != '__metadata__'}
a, b = load(sys.argv[1]), load(sys.argv[2])
f = ['f1.W', 'f1.b', 'f2.W', 'f2.b']
assert all(a[k] == b[k] for k in f), [k for k in f if a[k] != b[k]]
assert len(b['image']) == 64 * 64 * 3 * 4
print('ok: the loaded features are bit-identical after training the image:', ' '.join(f))
PY
./style_transfer predict style_content.npy --n 1 --weights st.st -o after.png > p.log || fail "predict -o after.png"
"$NNC_PYTHON" -c "
from PIL import Image; import numpy as np
im = Image.open('after.png'); a = np.array(im)
assert im.mode == 'RGB' and im.size == (2 * 64 + 4, 68), (im.mode, im.size)
c = np.load('style_content.npy')[0]
assert (a[2:66, 2:66] == np.rint(np.clip(c, 0, 1) * np.float32(255)).astype(np.uint8)).all()
assert (a[2:66, 66:130] != a[2:66, 2:66]).any()
print('ok: after.png: the content beside the optimised image, 132x68 RGB')" || fail "after.png"
