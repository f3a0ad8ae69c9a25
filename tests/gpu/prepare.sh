#!/bin/sh
# tests/gpu/prepare.sh [NNC] - on the development machine: everything tests/gpu/run.sh needs on a
# GPU machine that has no LLVM, OpenBLAS or package registry, as one file, build/gpu.tar.gz (carry
# it; docs/backend-cuda.md). It holds
#   bin/   the --target cuda executables (sm_80 + sm_90 PTX; NAME_bf16 built with --precision bf16)
#          and the shared libraries they need
#          (scripts/cuda_bundle.sh; rpath $ORIGIN finds them)
#   ref/   the CPU executables' results for the same runs (train output, eval of the weights),
#          the reference the GPU's are compared with
#   emu/   the kernels built for the host (tests/cuda/emu), for run.sh --emu, the rehearsal here
#   data/  Fashion-MNIST (IDX files)
# About 2-4 minutes here under load.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
nnc=${1:-$root/build/release/nnc}
out=$root/build/gpu
rm -rf "$out" "$out.tar.gz"
mkdir -p "$out/bin" "$out/ref" "$out/emu" "$out/data" "$out/cpu"
cp /usr/share/datasets/fashion-mnist/*.gz "$out/data/"
models="xor_train iris logistic linear_regression autoencoder fashion_mlp fashion_cnn brackets"
for m in $models; do
    "$nnc" "$root/examples/$m.nn" --target cuda -o "$out/bin/$m"
    "$nnc" "$root/examples/$m.nn" -o "$out/cpu/$m"
    "$nnc" "$root/examples/$m.nn" --emit cuda -o "$out/emu/$m.cu"
done
# nnc --precision bf16 (activations stored in bf16): NAME_bf16 beside NAME
for m in fashion_mlp fashion_cnn; do
    "$nnc" "$root/examples/$m.nn" --target cuda --precision bf16 -o "$out/bin/${m}_bf16"
    "$nnc" "$root/examples/$m.nn" --precision bf16 --emit cuda -o "$out/emu/${m}_bf16.cu"
done
for m in mlp_small mlp_wide cnn; do
    "$nnc" "$root/bench/models/$m.nn" --target cuda -o "$out/bin/bench_$m"
    "$nnc" "$root/bench/models/$m.nn" --target cuda --precision bf16 -o "$out/bin/bench_${m}_bf16"
done
cp "$root/bench/torch_bench.py" "$root/tests/gpu/torch_cuda.py" "$out/"
sh "$root/scripts/cuda_bundle.sh" "$out/bin" "$out"/bin/* >/dev/null
# the reference runs: what run.sh repeats on the GPU (tests/gpu/runs.txt: MODEL ARGS...)
cd "$root/examples"
while read -r m args; do
    case $m in ''|'#'*) continue ;; esac
    tag=$m$(echo "$args" | tr -c 'a-z0-9\n' '_' | tr -d '\n')
    a=$(echo "$args" | sed "s|DATA|/usr/share/datasets/fashion-mnist|g")
    "$out/cpu/$m" train $a --seed 1 --save "$out/ref/$tag.w" >"$out/ref/$tag.train" 2>&1
    "$out/cpu/$m" eval --weights "$out/ref/$tag.w" $(echo "$a" | grep -o -- '--data [^ ]*') >"$out/ref/$tag.eval" 2>&1
done <"$root/tests/gpu/runs.txt"
cp "$root/tests/gpu/runs.txt" "$out/"
find "$out/ref" -name '*.w' -size +5M -delete     # the carry is 64 MiB in all (docs/backend-cuda.md)
rm -rf "$out/cpu"
cd "$root/build" && tar czf gpu.tar.gz gpu
ls -la "$root/build/gpu.tar.gz"
