#!/bin/bash
# Convolution epilogues (docs/backend-llvm.md "Convolution epilogues"): at inference a forward
# conv's bias + activation, and a following batchnorm's running statistics, scale and shift, are
# the conv kernel's body; oneDNN runs the ones it can as one primitive (the scale folded into the
# weights, the shift its bias, the activation an eltwise post-op), the rest run as the epilogue
# loop. A small CNN with several activations, strides, padding, dilation, groups, with and
# without bias, and two conv + batchnorm blocks trains a little; its predictions and evaluation
# through the executable (each convolution implementation forced, 1 and 2 threads, batch 1 on 2
# threads) equal the
# interpreter's.
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}

# close "A" "B": the same count of numbers, each pair within 1e-5 of each other relatively (the
# losses print 6 digits; oneDNN's sums and eltwise functions round apart from the interpreter's)
close() {
    [ -n "$1" ] && awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); m = split(b, y, " "); if (n != m) exit 1
        for (i = 1; i <= n; i++) { d = x[i] - y[i]; if (d < 0) d = -d; s = y[i] < 0 ? -y[i] : y[i]
            if (d > 1e-5 * (s > 1 ? s : 1)) exit 1 } }'
}

cat > epi_cnn.nn <<'NN'
use nn

model epi_cnn {
  input  image: f32[B, 28, 28, 1]
  target label: i32[B]

  h = conv2d(image, 8, 3, act = relu)                                    # f32[B, 26, 26, 8]
  h = conv2d(h, 8, 3, stride = 2, padding = "same", act = tanh)          # f32[B, 13, 13, 8]
  h = relu(batchnorm(conv2d(h, 16, 3, padding = "same")))                # f32[B, 13, 13, 16]
  h = conv2d(h, 16, 3, dilation = 2, act = gelu, use_bias = false)       # f32[B, 9, 9, 16]
  h = conv2d(h, 8, 3, groups = 2, act = elu)                             # f32[B, 7, 7, 8]
  h = conv2d(h, 8, 3, pad = 1, act = silu)                               # f32[B, 7, 7, 8]
  h = batchnorm(conv2d(h, 8, 3, pad = [1, 0], use_bias = false))         # f32[B, 7, 5, 8]
  h = conv2d(h, 12, 3, padding = "same", act = sigmoid)                  # f32[B, 7, 5, 12]
  h = conv2d(h, 12, 2, act = leaky_relu)                                 # f32[B, 6, 4, 12]
  output feat = flatten(h)
  logits = dense(flatten(maxpool2d(h, 2)), 10)
  output probs = softmax(logits)
  loss cross_entropy(logits, label)
  train {
    data fashion_mnist
    optimizer adam(lr = 3e-3)
    batch 32 epochs 1 metrics accuracy
  }
}
NN
# the kernel IR: at inference every conv carries its epilogue (the last one writes the output
# feat directly); the grouped one runs it as the epilogue loop
"$NNC" --emit kernels epi_cnn.nn > kernels.txt || fail "nnc --emit kernels exited with $?"
n=$(awk '/^kernels forward/,/^}/' kernels.txt | grep -c ' = conv conv .* {$')
[ "$n" = 9 ] || { awk '/^kernels forward/,/^}/' kernels.txt | grep ' = conv conv'; fail "forward: $n conv kernels with an epilogue, want 9"; }
echo "ok: forward: the 9 conv kernels carry their epilogues"

"$NNC" epi_cnn.nn -o epi_cnn || fail "nnc epi_cnn.nn exited with $?"
./epi_cnn train --threads 2 --limit 320 --seed 3 --save w.st > train.log 2> train.err ||
    { cat train.err; fail "epi_cnn train exited with $?"; }
"$PY" -c "
import numpy as np
rng = np.random.default_rng(5)
np.save('x.npy', rng.random((9, 28, 28, 1), dtype=np.float32))
" || fail "making x.npy"

# the interpreter's predictions, then the executable's with each implementation and thread count
"$NNC" run epi_cnn.nn -- predict --weights w.st x.npy -o ref.npy > /dev/null || fail "interpreter predict"
for impl in auto dnnl im2col; do
    for t in 1 2; do
        NNC_CONV=$impl ./epi_cnn predict --weights w.st x.npy -o "p_${impl}_$t.npy" --threads $t > /dev/null ||
            fail "predict NNC_CONV=$impl --threads $t exited with $?"
    done
    # batch 1 on 2 threads: oneDNN's forward in bands of output rows, one per thread
    NNC_CONV=$impl ./epi_cnn predict --weights w.st x.npy -o "p_${impl}_b1.npy" --threads 2 --batch 1 > /dev/null ||
        fail "predict NNC_CONV=$impl --threads 2 --batch 1 exited with $?"
done
"$PY" -c "
import numpy as np, sys
ref = np.load('ref.npy')
assert ref.shape == (9, 288), ref.shape
assert ref.std() > 0.05, 'features all near zero: the test would not see a wrong epilogue'
bad = 0
for impl in ('auto', 'dnnl', 'im2col'):
    for t in ('1', '2', 'b1'):
        p = np.load('p_%s_%s.npy' % (impl, t))
        err = np.abs(p - ref).max() / max(np.abs(ref).max(), 1e-6)
        print('NNC_CONV=%s threads %s: max relative difference %.2e' % (impl, t, err))
        bad += not err < 2e-5
sys.exit(bad)
" || fail "the executable's features differ from the interpreter's"
echo "ok: predictions equal the interpreter's with oneDNN's fused epilogues and with im2col"

# evaluation (batchnorm in inference mode, its statistics folded into the convs) equals the interpreter's
a=$(./epi_cnn eval --weights w.st --limit 200 | sed -n 's/^loss: //p')
b=$("$NNC" run epi_cnn.nn -- eval --weights w.st --limit 200 | sed -n 's/^loss: //p')
c=$(NNC_CONV=im2col ./epi_cnn eval --weights w.st --limit 200 | sed -n 's/^loss: //p')
close "$a" "$b" && close "$c" "$b" || fail "eval loss: executable '$a', im2col '$c', interpreter '$b'"
echo "ok: eval loss $a, the interpreter's $b"

# training: a train step's conv takes its bias + ReLU too (the ReLU's mask, kept for the backward
# pass, is then taken from the conv's output: plan.c relu_mask); the losses equal the interpreter's
a=$(./epi_cnn train --threads 1 --limit 128 --epochs 2 --seed 4 | grep '^epoch' | awk '{print $4}')
b=$("$NNC" run epi_cnn.nn -- train --threads 1 --limit 128 --epochs 2 --seed 4 | grep '^epoch' | awk '{print $4}')
c=$(NNC_CONV=im2col ./epi_cnn train --threads 2 --limit 128 --epochs 2 --seed 4 | grep '^epoch' | awk '{print $4}')
close "$(echo $a)" "$(echo $b)" && close "$(echo $c)" "$(echo $b)" ||
    fail "training losses: executable '$a', im2col '$c', interpreter '$b'"
n=$(awk '/^kernels train/,/^}/' kernels.txt | grep -c ' = conv conv .* {$')
[ "$n" -ge 2 ] || fail "train step: $n conv kernels with an epilogue, want at least 2 (the ReLU ones)"
echo "ok: training losses $(echo $a), the interpreter's $(echo $b); $n train-step convs carry their epilogue"
