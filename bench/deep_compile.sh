#!/bin/sh
# bench/deep_compile.sh [NNC] [LAYERS] - the issue's "a loop of 1,000 dense layers compiles under
# 10 s": writes a model of LAYERS (default 1000) dense(h, 16, act = relu) layers in one `for`
# loop (SGD, npy data) to a temporary folder, builds it with `nnc --time` and prints nnc's stage
# times and the wall and CPU seconds of the whole build (nnc, cc and ld; /usr/bin/time).
set -eu
NNC=${1:-build/release/nnc}
LAYERS=${2:-1000}
[ -x "$NNC" ] || { echo "deep_compile.sh: no nnc at $NNC (pass it as the first argument)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/nnc-deep.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cat > "$dir/deep.nn" <<NN
use nn

model deep {
  input  x: f32[B, 16]
  target y: f32[B, 16]

  h = x
  for i in 0 .. $LAYERS {
    h = dense(h, 16, act = relu)
  }
  output out = h
  loss   mse(h, y)

  train {
    data      npy("x.npy", "y.npy")
    optimizer sgd(lr = 0.01)
    batch 32  epochs 1
  }
}
NN
/usr/bin/time -f "deep_compile: $LAYERS layers: %e s wall, %U s user + %S s system (nnc, cc, ld)" \
    "$NNC" --time "$dir/deep.nn" -o "$dir/deep"
