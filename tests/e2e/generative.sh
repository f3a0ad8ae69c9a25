#!/bin/bash
# generative.sh: the generative examples in short runs (examples/README.md states the full ones):
#  - vae_fashion (dense) and vae_conv_fashion: the ELBO falls below a bound after a short run, the
#    decoder is one instance (one copy in the weights file), `sample` pictures its output on noise
#    (same seed, same file), predict -o .png puts the reconstructions beside their inputs;
#  - dcgan_fashion: per-step losses labelled d_loss and g_loss in the progress line, the weights
#    file holds one discriminator (d.W1 ... d.b3), `sample` pictures the tanh generator's output;
#  - the course's denoising autoencoder adds its noise only while training: its train graph draws
#    random numbers, its forward and evaluate graphs do not, so eval is deterministic.
. "$(dirname "$0")/lib.sh"
stnames() {
    "$NNC_PYTHON" -c "
import json, struct, sys
h = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', h[:8])[0]
print(' '.join(sorted(k for k in json.loads(h[8:8 + n]) if k != '__metadata__' and '.adam.' not in k)))" "$1"
}
"$NNC_PYTHON" -c "
import gzip, numpy as np
x = np.frombuffer(gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + 784 * 8], np.uint8)
np.save('eight.npy', x.reshape(8, 28, 28, 1)); np.save('eight2.npy', x.reshape(8, 28, 28))" || fail "inputs"

for m in vae_fashion:eight2:370 vae_conv_fashion:eight:470; do
    IFS=: read -r ex in bound <<< "$m"
    compile "$ex"
    ./"$ex" train --limit 3072 --epochs 2 --save "$ex.st" > "$ex.log" 2>&1 || { cat "$ex.log"; fail "$ex train"; }
    cat "$ex.log"
    elbo=$(sed -n 's/^epoch 2\/2: *elbo \([0-9.]*\) *recon_loss [0-9.]* *kl [0-9.]* .*/\1/p' "$ex.log")
    check "$elbo" lt "$bound" "$ex: the negative ELBO (nats per image) after 2 short epochs"
    names=$(stnames "$ex.st")
    echo "$names" | tr ' ' '\n' | grep -q '^dec\.' || fail "$ex: no dec.* tensors: $names"
    echo "$names" | tr ' ' '\n' | grep -q '^dec_2\.' && fail "$ex: a second decoder: $names"
    ./"$ex" sample --weights "$ex.st" --n 9 --seed 5 -o s.png > s.log || fail "$ex sample"
    ./"$ex" sample --weights "$ex.st" --n 9 --seed 5 -o s2.png > /dev/null || fail "$ex sample 2"
    cmp s.png s2.png || fail "$ex: the same seed gave another picture"
    ./"$ex" predict "$in.npy" --weights "$ex.st" -o r.png > r.log || fail "$ex predict -o r.png"
    grep -q '^wrote r.png: 8 pictures beside their inputs, 176 x 92 pixels$' r.log || { cat r.log; fail "$ex: the recon picture"; }
    "$NNC_PYTHON" -c "
from PIL import Image; import numpy as np
a = np.array(Image.open('s.png')); assert a.shape == (3 * 28 + 8,) * 2, a.shape
t = [a[2 + 30 * (k // 3):30 + 30 * (k // 3), 2 + 30 * (k % 3):30 + 30 * (k % 3)] for k in range(9)]
assert all(x.std() > 0 for x in t) and any((t[0] != x).any() for x in t[1:]), 'flat or equal samples'
print('ok: $ex: 9 samples from noise, one decoder (%s)' % ' '.join(k for k in '$names'.split() if k.startswith('dec.')))" ||
        fail "$ex: the sample picture"
done

compile dcgan_fashion
./dcgan_fashion train --limit 640 --epochs 1 --save gan.st > gan.log 2>&1 || { cat gan.log; fail "dcgan train"; }
cat gan.log
grep -Eq '^epoch 1/1: +d_loss [0-9.]+ +g_loss [0-9.]+ ' gan.log || fail "want d_loss and g_loss in the progress line"
d=$(stnames gan.st | tr ' ' '\n' | grep '^d\.' | tr '\n' ' ')
[ "$d" = "d.W1 d.W2 d.W3 d.b1 d.b2 d.b3 " ] || fail "want one discriminator in the weights file, got: $d"
echo "ok: the weights file holds one discriminator: $d"
./dcgan_fashion sample --weights gan.st --n 4 -o g.png > g.log || fail "dcgan sample"
grep -q '^wrote g.png: 4 pictures, 62 x 62 pixels$' g.log || { cat g.log; fail "dcgan sample line"; }

"$NNC" "$EX/course/denoising_autoencoder.nn" --emit ir > dae.ir || fail "nnc --emit ir"
for g in forward evaluate; do
    sed -n "/^graph $g {/,/^}/p" dae.ir | grep -q ' = rand ' && fail "graph $g draws random numbers"
done
sed -n '/^graph train.main {/,/^}/p' dae.ir | grep -q ' = rand ' || fail "the train graph draws no noise"
echo "ok: the denoising autoencoder draws its noise in training only (not in forward or evaluate)"
