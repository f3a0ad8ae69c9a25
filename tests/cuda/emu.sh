#!/bin/sh
# tests/cuda/emu.sh NNC HAVE_CUDA FAKEDIR EMU_H EXAMPLES MODEL TRAIN-ARGS... - the model's --target
# cuda executable run on the CPU: its CUDA source compiled by the host compiler with cuda_emu.h
# (one thread a block), the driver and cuBLAS replaced by FAKEDIR's libcuda.so.1 and
# libcublas.so.13 (host memory, OpenBLAS). Its training (losses and metrics of every epoch) must
# equal the CPU executable's, and the weights it saves must evaluate as the CPU's do: the schedule,
# the kernels' index math, the cuBLAS mapping and the copies of runtime/cuda.c are all checked.
nnc=$1 have=$2 fake=$3 emu=$4 ex=$5 model=$6
shift 6
. "$(dirname "$0")/emu_build.sh"
strip_times() { sed -E '/^time: /d; /: cuda: [0-9]+ calls/d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//'; }
LD_LIBRARY_PATH="$fake" NNC_EMU_KERNELS="$tmp/k.so" NNC_CUDA_STATS=1 "$tmp/gpu" train "$@" --save "$tmp/g.w" >"$tmp/g.out" 2>&1 || { echo "FAIL: emulated train"; cat "$tmp/g.out"; exit 1; }
"$tmp/cpu" train "$@" --save "$tmp/c.w" >"$tmp/c.out" 2>&1 || { echo "FAIL: cpu train"; cat "$tmp/c.out"; exit 1; }
strip_times <"$tmp/g.out" >"$tmp/g.txt"
strip_times <"$tmp/c.out" >"$tmp/c.txt"
# NNC_EMU_LT=1: the run used cuBLASLt's fused epilogues, and fell back (no algorithm) at least once
if [ -n "${NNC_EMU_LT:-}" ]; then
    st=$(grep ': cuda: [0-9]* calls' "$tmp/g.out")
    echo "$st" | grep -Eq ', [1-9][0-9]* cuBLASLt with a fused epilogue \([1-9][0-9]* fell back' ||
        { echo "FAIL: no cuBLASLt epilogue or no fallback: $st"; exit 1; }
fi
if [ -n "${NNC_EMU_TOL:-}" ]; then     # convolutions: direct kernels sum in another order than OpenBLAS
    python3 "$(dirname "$0")/../gpu/compare.py" "$tmp/g.out" "$tmp/c.out" "$NNC_EMU_TOL" || exit 1
    tail -n 3 "$tmp/g.txt"
    echo "ok: the emulated CUDA run equals the CPU run within $NNC_EMU_TOL"
    exit 0
fi
if ! cmp -s "$tmp/g.txt" "$tmp/c.txt"; then
    echo "FAIL: the emulated CUDA training differs from the CPU's:"; diff "$tmp/g.txt" "$tmp/c.txt"; exit 1
fi
"$tmp/cpu" eval --weights "$tmp/g.w" >"$tmp/ge.out" 2>&1 && "$tmp/cpu" eval --weights "$tmp/c.w" >"$tmp/ce.out" 2>&1 || { echo "FAIL: eval"; cat "$tmp/ge.out"; exit 1; }
strip_times <"$tmp/ge.out" >"$tmp/ge.txt"
strip_times <"$tmp/ce.out" >"$tmp/ce.txt"
cmp -s "$tmp/ge.txt" "$tmp/ce.txt" || { echo "FAIL: the weights the CUDA run saved evaluate differently:"; diff "$tmp/ge.txt" "$tmp/ce.txt"; exit 1; }
tail -n 3 "$tmp/g.txt"
echo "ok: the emulated CUDA run equals the CPU run"
