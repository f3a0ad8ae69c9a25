#!/usr/bin/env bash
# quickstart.sh - the README's first command: install what nnc needs, build it, compile the
# Fashion-MNIST classifier in examples/ and train it on the real data set.
# Extra arguments go to the training command (e.g. ./quickstart.sh --epochs 2).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)"
mkdir -p out
build/release/nnc examples/fashion_mlp.nn -o out/fashion_mlp
out/fashion_mlp summary
out/fashion_mlp train --save out/fashion_mlp.safetensors "$@"
out/fashion_mlp eval --weights out/fashion_mlp.safetensors
