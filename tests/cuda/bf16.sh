#!/bin/sh
# tests/cuda/bf16.sh NNC HAVE_CUDA FAKEDIR EMU_H EXAMPLES MODEL TOL TRAIN-ARGS... - `--precision bf16`
# through the emulator (tests/cuda/emu, whose cuBLAS and cuBLASLt round the products' inputs to
# bfloat16 under CUBLAS_COMPUTE_32F_FAST_16BF): the run says it used bf16 products, its losses and
# metrics are the CPU's f32 run's within TOL (relative) but not identical to them (the rounding
# happened), the weights it saves evaluate as the CPU's within TOL; --precision fp8 is refused, and
# the CPU executable has no --precision.
nnc=$1 have=$2 fake=$3 emu=$4 ex=$5 model=$6 tol=$7
shift 7
here=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/emu_build.sh"
gpu() { LD_LIBRARY_PATH="$fake" NNC_EMU_KERNELS="$tmp/k.so" NNC_CUDA_STATS=1 "$tmp/gpu" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
gpu train "$@" --precision bf16 --save "$tmp/g.w" >"$tmp/g.out" 2>&1 || { cat "$tmp/g.out"; fail "train --precision bf16"; }
"$tmp/cpu" train "$@" --save "$tmp/c.w" >"$tmp/c.out" 2>&1 || { cat "$tmp/c.out"; fail "cpu train"; }
grep -Eq ': cuda: .*products in bf16 \(f32 accumulation\)(;|$)' "$tmp/g.out" || fail "the run did not use bf16 products: $(grep ': cuda: ' "$tmp/g.out")"
r=$(python3 "$here/../gpu/compare.py" "$tmp/g.out" "$tmp/c.out" "$tol") || fail "bf16 vs the CPU's f32: $r"
strip() { sed -E '/^time: /d; /: cuda: /d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//'; }
strip <"$tmp/g.out" >"$tmp/g.txt"
strip <"$tmp/c.out" >"$tmp/c.txt"
cmp -s "$tmp/g.txt" "$tmp/c.txt" && fail "the bf16 run equals the f32 run to the last digit: no rounding happened"
# the eval's loss and accuracy (the per-class table's counts move by a sample or two)
"$tmp/cpu" eval --weights "$tmp/g.w" >"$tmp/ge" 2>&1 && "$tmp/cpu" eval --weights "$tmp/c.w" >"$tmp/ce" 2>&1 || fail "eval"
grep -E '^(loss|accuracy):' "$tmp/ge" >"$tmp/ge.out"
grep -E '^(loss|accuracy):' "$tmp/ce" >"$tmp/ce.out"
r2=$(python3 "$here/../gpu/compare.py" "$tmp/ge.out" "$tmp/ce.out" "$tol") || fail "the bf16 run's weights evaluate apart from the f32 run's: $r2"
gpu train "$@" --precision fp8 >"$tmp/p" 2>&1 && fail "--precision fp8 accepted"
grep -q "error: --precision 'fp8': not f32 or bf16" "$tmp/p" || { cat "$tmp/p"; fail "--precision fp8: no clear error"; }
"$tmp/cpu" train "$@" --precision bf16 >"$tmp/q" 2>&1 && fail "the CPU executable accepted --precision"
tail -n 2 "$tmp/g.txt"
echo "ok: bf16 products: training $r; eval $r2"
