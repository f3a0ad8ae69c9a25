#!/bin/bash
# png.sh: pictures through libpng (runtime/png.c), decoded by a real PNG reader (PIL):
#  - predict -o FILE.png: an RGB output in [-1, 1] beside its [0, 1] input, every pixel as the
#    layout and value rules of docs/cli.md say; a flat [B, 784] output in its input's 28x28 shape;
#    --n; the autoencoder example's reconstructions equal its NPY predictions, pixel for pixel;
#  - sample: the GAN's output 'sample', same seed -> the same file, another seed -> another picture;
#  - errors: no picture output, no 'sample' output, no -o, a non-PNG name, an existing other file.
. "$(dirname "$0")/lib.sh"
D=$(dirname "$0")/png
"$NNC" "$D/rgb.nn" -o rgb || fail "nnc rgb.nn"
"$NNC" "$D/flat.nn" -o flat || fail "nnc flat.nn"
"$NNC_PYTHON" -c "
import numpy as np
np.save('rgb_in.npy', (np.arange(5 * 18).reshape(5, 2, 3, 3) % 19 / 18).astype(np.float32))
np.save('flat_in.npy', np.random.default_rng(1).random((5, 28, 28), dtype=np.float32))" || fail "inputs"
./rgb predict rgb_in.npy -o rgb.png > rgb.log || fail "predict -o rgb.png exited with $?"
grep -q '^wrote rgb.png: 5 pictures beside their inputs, 26 x 10 pixels$' rgb.log || { cat rgb.log; fail "the summary line"; }
./flat predict flat_in.npy --n 3 -o flat.png > flat.log || fail "predict -o flat.png exited with $?"
"$NNC_PYTHON" - <<'PY' || fail "the pictures' pixels"
import numpy as np
from PIL import Image

def byte(v, signed):
    v = np.asarray(v, np.float32)
    if signed:
        v = (v + np.float32(1)) * np.float32(0.5)
    return np.where(v >= 1, 255, np.where(v > 0, np.rint(v * np.float32(255)), 0)).astype(np.uint8)

def grid(tiles, h, w, ch, pairs):
    n = len(tiles[0])
    cols = int(np.ceil(np.sqrt(n)))
    rows = (n + cols - 1) // cols
    cw = w * (2 if pairs else 1)
    g = np.full((rows * h + (rows + 1) * 2, cols * cw + (cols + 1) * 2, ch), 128, np.uint8)
    for k in range(n):
        x0, y0 = 2 + (k % cols) * (cw + 2), 2 + (k // cols) * (h + 2)
        for t, s in enumerate(tiles):
            g[y0:y0 + h, x0 + t * w:x0 + (t + 1) * w] = s[k].reshape(h, w, ch)
    return g

x = np.load('rgb_in.npy')
im = Image.open('rgb.png')
assert im.format == 'PNG' and im.mode == 'RGB' and im.size == (26, 10), (im.format, im.mode, im.size)
want = grid([byte(x, False), byte(2 * x - 1, True)], 2, 3, 3, True)
got = np.array(im)
assert (got == want).all(), (got, want)
assert (got[:, :, 0] == 128).sum() > 0 and got[2, 2].tolist() == [0, 14, 28], got[2, 2]
print('ok: rgb.png: RGB 26x10, inputs beside their [-1, 1] outputs, every pixel as expected')

x = np.load('flat_in.npy')[:3]
im = Image.open('flat.png')
assert im.mode == 'L' and im.size == (2 * (2 * 28) + 3 * 2, 2 * 28 + 3 * 2), (im.mode, im.size)
want = grid([byte(x, False), byte(1 - x, False)], 28, 28, 1, True)[:, :, 0]
assert (np.array(im) == want).all()
print('ok: flat.png: a [B, 784] output pictured 28x28 beside its input, --n 3 of 5')
PY

# the conv autoencoder: its pictured reconstructions are its predictions
compile conv_autoencoder
./conv_autoencoder train --limit 256 --epochs 1 --save cae.st > cae.log 2>&1 || { cat cae.log; fail "train"; }
"$NNC_PYTHON" -c "
import gzip, numpy as np
x = np.frombuffer(gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 784 * 10], np.uint8)
np.save('ten.npy', x.reshape(10, 28, 28, 1))" || fail "ten.npy"
./conv_autoencoder predict ten.npy --weights cae.st -o recon.npy || fail "predict -o recon.npy"
./conv_autoencoder predict ten.npy --weights cae.st -o recon.png > /dev/null || fail "predict -o recon.png"
"$NNC_PYTHON" - <<'PY' || fail "the autoencoder's picture"
import numpy as np
from PIL import Image
x = np.load('ten.npy').astype(np.float32) / np.float32(255)
r = np.load('recon.npy')
im = np.array(Image.open('recon.png'))
assert im.shape == (3 * 28 + 4 * 2, 4 * 56 + 5 * 2), im.shape
def byte(v):
    return np.where(v >= 1, 255, np.where(v > 0, np.rint(v * np.float32(255)), 0)).astype(np.uint8)
for k in range(10):
    x0, y0 = 2 + (k % 4) * 58, 2 + (k // 4) * 30
    assert (im[y0:y0 + 28, x0:x0 + 28] == byte(x[k, :, :, 0])).all(), k
    assert (im[y0:y0 + 28, x0 + 28:x0 + 56] == byte(r[k, :, :, 0])).all(), k
assert (im[y0:y0 + 28, 2 + 2 * 58:] == 128).all()     # the two empty cells of the last row
print('ok: recon.png: the 10 inputs beside their reconstructions (= predict -o .npy), 2 empty cells grey')
PY

# sample: the GAN's generator on rand_normal noise, seeded
compile gan_shared
./gan_shared train --limit 640 --epochs 1 --save gan.st > gan.log 2>&1 || { cat gan.log; fail "train gan"; }
./gan_shared sample --weights gan.st --n 16 --seed 3 -o s1.png > s1.log || fail "sample exited with $?"
grep -q '^wrote s1.png: 16 pictures, 122 x 122 pixels$' s1.log || { cat s1.log; fail "sample's line"; }
./gan_shared sample --weights gan.st --n 16 --seed 3 -o s2.png > /dev/null || fail "sample 2"
./gan_shared sample --weights gan.st --n 16 --seed 4 -o s3.png > /dev/null || fail "sample 3"
./gan_shared sample --weights gan.st -o s64.png > /dev/null || fail "sample default n"
cmp s1.png s2.png || fail "the same seed gave another picture"
cmp -s s1.png s3.png && fail "another seed gave the same picture"
"$NNC_PYTHON" - <<'PY' || fail "sample's picture"
import numpy as np
from PIL import Image
a, b = np.array(Image.open('s1.png')), np.array(Image.open('s3.png'))
assert a.shape == (122, 122) and np.array(Image.open('s64.png')).shape == (8 * 28 + 9 * 2,) * 2
t = [a[2 + 30 * (k // 4):30 + 30 * (k // 4), 2 + 30 * (k % 4):30 + 30 * (k % 4)] for k in range(16)]
assert all(x.std() > 0 for x in t) and any((t[0] != x).any() for x in t[1:]), 'flat or equal tiles'
assert (a != b).mean() > 0.1
print('ok: sample: 16 distinct generated pictures, 4x4; seed 3 twice -> the same file; seed 4 another')
PY

# the reference interpreter draws the same pictures (the same noise, values within rounding)
"$NNC" run "$EX/gan_shared.nn" -- sample --weights gan.st --n 16 --seed 3 -o si.png > /dev/null || fail "nnc run ... sample"
"$NNC_PYTHON" -c "
from PIL import Image; import numpy as np
a = np.array(Image.open('s1.png')).astype(int); b = np.array(Image.open('si.png')).astype(int)
assert a.shape == b.shape and abs(a - b).max() <= 1 and (a != b).mean() < 0.01, (abs(a - b).max(), (a != b).mean())
print('ok: nnc run draws the same 16 samples (max difference %d)' % abs(a - b).max())" || fail "interpreter and executable differ"

# errors
compile fashion_mlp
./fashion_mlp train --limit 64 --epochs 1 --save mlp.st > /dev/null 2>&1 || fail "train fashion_mlp"
expect_fail "no picture output" "error: -o p.png: the model has no output of picture shape" ./fashion_mlp predict ten.npy --weights mlp.st -o p.png
expect_fail "no sample output" "error: sample pictures the model's output named 'sample'.*'conv_autoencoder' has none" \
    ./conv_autoencoder sample --weights cae.st -o p.png
./gan_shared sample --weights gan.st -o x.csv > /dev/null 2> err.log
[ $? = 2 ] && grep -q "error: sample writes a PNG picture: -o 'x.csv' should end in .png" err.log || { cat err.log; fail "sample -o x.csv"; }
./gan_shared predict ten.npy --weights gan.st --n 3 > /dev/null 2> err.log
[ $? = 2 ] && grep -q "error: --n picks the inputs of a picture: it needs -o FILE.png" err.log || { cat err.log; fail "predict --n without a picture"; }
echo text > other.png
expect_fail "an existing other file" "other.png" ./gan_shared sample --weights gan.st -o other.png
[ "$(cat other.png)" = text ] || fail "other.png was replaced"
./gan_shared sample --weights gan.st -o other.png --force > /dev/null || fail "--force"
expect_fail "a missing folder" "no/such" ./gan_shared sample --weights gan.st -o no/such/x.png
./gan_shared sample --weights gan.st > /dev/null 2> err.log; [ $? = 2 ] || fail "sample without -o is a usage error"
./gan_shared sample --weights gan.st -o x.png --n 0 > /dev/null 2> err.log; [ $? = 2 ] || fail "--n 0 is a usage error"
echo "ok: errors"
