#!/bin/bash
# The convolutional examples of examples/README.md (fashion_cnn, tf_cnn, resnet_small,
# inception_small, conv_autoencoder, keras128) train a few steps on --limit samples: the
# classifiers' loss falls and fashion_cnn and inception_small are above chance on test images,
# the autoencoder's test reconstruction MSE is below its first epoch's, its executable equals the
# interpreter, and keras128 plans its training step at batch 32 in under 1 GiB and trains on a
# tiny shapes set from examples/data/make_shapes.py.
# (The full runs and their results are in examples/README.md.)
. "$(dirname "$0")/lib.sh"

# train NAME FLAGS...: compile examples/NAME.nn, train it with FLAGS (log NAME.log); every epoch
# line's loss is a finite number
train() {
    local name=$1
    shift
    [ -x "$name" ] || compile "$name"
    ./"$name" train --threads 2 "$@" > "$name.log" 2> "$name.err" || { cat "$name.err"; fail "$name train exited with $?"; }
    cat "$name.log"
    grep -q '^epoch ' "$name.log" || fail "$name printed no epoch line"
    grep '^epoch ' "$name.log" | grep -Eiq ' (-?nan|-?inf)' && fail "$name: a loss is not finite"
}

# falls NAME: the last epoch's loss below the first's
falls() {
    local first last
    first=$(epoch_losses "$1.log" | head -n 1)
    last=$(epoch_losses "$1.log" | tail -n 1)
    check "$last" lt "$first" "$1: last epoch's loss below the first's ($first)"
}

train fashion_cnn --limit 1024 --epochs 2 --save fashion_cnn.st
falls fashion_cnn
./fashion_cnn eval --weights fashion_cnn.st --limit 1000 > eval.log || fail "fashion_cnn eval exited with $?"
check "$(metric eval.log accuracy)" gt 0.5 "fashion_cnn test accuracy after 2048 samples (chance 0.1)"

train tf_cnn --limit 500 --epochs 2
falls tf_cnn

train resnet_small --limit 256 --epochs 2
falls resnet_small

train inception_small --limit 1024 --epochs 2 --save inception_small.st
falls inception_small
./inception_small eval --weights inception_small.st --limit 1000 > eval.log || fail "inception_small eval exited with $?"
check "$(metric eval.log accuracy)" gt 0.2 "inception_small test accuracy after 2048 samples (chance 0.1; 0.32 measured)"

train conv_autoencoder --limit 1024 --epochs 2 --save cae.st
falls conv_autoencoder
./conv_autoencoder eval --weights cae.st --limit 500 > eval.log || fail "conv_autoencoder eval exited with $?"
check "$(metric eval.log loss)" lt "$(epoch_losses conv_autoencoder.log | head -n 1)" \
    "conv_autoencoder test reconstruction MSE, below the first epoch's loss"
a=$(./conv_autoencoder train --threads 1 --limit 128 --epochs 1 | grep '^epoch' | awk '{print $4}')
b=$("$NNC" run "$EX/conv_autoencoder.nn" -- train --threads 1 --limit 128 --epochs 1 | grep '^epoch' | awk '{print $4}')
[ -n "$a" ] && [ "$a" = "$b" ] || fail "conv_autoencoder: executable loss '$a', interpreter '$b'"
echo "ok: conv_autoencoder: executable and interpreter agree ($a)"

# keras128: the planned memory of a training step at batch 32 (the issue: a few GiB), then a
# tiny shapes set in data/ where the model's train block looks for it
compile keras128
./keras128 summary > keras128.summary || fail "keras128 summary exited with $?"
line=$(grep '^memory for a training step at batch 32:' keras128.summary) || { cat keras128.summary; fail "keras128 summary gives no memory at batch 32"; }
echo "$line"
mib=$(echo "$line" | sed -n 's/^[^:]*: \([0-9.]*\) MiB = .*/\1/p')
check "$mib" lt 1024 "keras128 training step at batch 32, MiB"
"${NNC_PYTHON:-/usr/bin/python3}" "$EX/data/make_shapes.py" data --train 64 --test 32 || fail "make_shapes.py exited with $?"
train keras128 --data data/shapes_train_x.npy,data/shapes_train_y.npy --epochs 1 --save keras128.st
./keras128 eval --weights keras128.st --data data/shapes_test_x.npy,data/shapes_test_y.npy > eval.log \
    || fail "keras128 eval exited with $?"
cat eval.log
check "$(metric eval.log accuracy)" ge 0 "keras128 evaluates the 32 test pictures"
