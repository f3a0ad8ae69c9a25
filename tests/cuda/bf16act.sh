#!/bin/sh
# tests/cuda/bf16act.sh NNC HAVE_CUDA FAKEDIR EMU_H EXAMPLES MODEL TOL TRAIN-ARGS... - bf16 storage of
# the activations (nnc --target cuda --precision bf16) through the emulator (tests/cuda/emu: the
# kernels' nnc_bf loads and stores round to bf16 as cvt.rn.bf16.f32 does, the fake cuBLAS takes
# CUDA_R_16BF operands and rounds a bf16 result). Checks: the plan's activation bytes shrink (nnc
# --emit plan marks bf16 buffers), the source stores in nnc_bf and the schedule has bf16 GEMMs; the
# run trains with bf16 GEMMs, its losses and metrics are the CPU's f32 run's within TOL but not
# identical (rounding happened), the weights it saves evaluate as the CPU's within TOL; the
# executable refuses --precision f32, nnc refuses --precision bf16 for the CPU and for sm_75.
nnc=$1 have=$2 fake=$3 emu=$4 ex=$5 model=$6 tol=$7
shift 7
here=$(cd "$(dirname "$0")" && pwd)
emu_flags="--precision bf16"
. "$(dirname "$0")/emu_build.sh"
fail() { echo "FAIL: $*"; exit 1; }
# the plan: bf16 activations, fewer bytes per sample than f32's
"$nnc" "$model.nn" --target cuda --emit plan >"$tmp/p32" || fail "--emit plan"
"$nnc" "$model.nn" --target cuda --precision bf16 --emit plan >"$tmp/p16" || fail "--emit plan --precision bf16"
grep -q ' bf16$' "$tmp/p16" || fail "no buffer of the plan is bf16"
grep -q ' bf16$' "$tmp/p32" && fail "an f32 plan has a bf16 buffer"
a32=$(sed -n 's/^total activation \([0-9]*\)\*B.*/\1/p' "$tmp/p32")
a16=$(sed -n 's/^total activation \([0-9]*\)\*B.*/\1/p' "$tmp/p16")
[ -n "$a32" ] && [ -n "$a16" ] && [ "$a16" -lt "$a32" ] || fail "activation bytes per sample: bf16 $a16, f32 $a32"
grep -q 'nnc_bf \*out' "$tmp/k.cu" || fail "no kernel stores into bf16"
grep -q '^precision bf16$' "$tmp/k.cu" || fail "the schedule does not say precision bf16"
grep -Eq '^(gemm|gemmlt|bgemm):[fh]{3} ' "$tmp/k.cu" || fail "no GEMM on bf16 storage in the schedule"
# summary: the plan's activation bytes as the compiler planned them
"$tmp/gpu" summary >"$tmp/s" 2>&1 || fail "summary"
grep -q 'planned by the compiler' "$tmp/s" || fail "summary has no planned bytes"
gpu() { LD_LIBRARY_PATH="$fake" NNC_EMU_KERNELS="$tmp/k.so" NNC_CUDA_STATS=1 "$tmp/gpu" "$@"; }
gpu train "$@" --save "$tmp/g.w" >"$tmp/g.out" 2>&1 || { cat "$tmp/g.out"; fail "train (bf16 activations)"; }
"$tmp/cpu" train "$@" --save "$tmp/c.w" >"$tmp/c.out" 2>&1 || { cat "$tmp/c.out"; fail "cpu train"; }
st=$(grep ': cuda: ' "$tmp/g.out")
echo "$st" | grep -Eq 'activations stored in bf16: [1-9][0-9]* GEMMs on bf16 operands, [0-9]+ f32 operands converted' || fail "no bf16 GEMMs: $st"
# fashion_mlp: its output layer's weight is the one f32 operand of its bf16 GEMMs (forward and
# backward): converted once a call, not once a GEMM
if [ "$model" = fashion_mlp ]; then
    calls=$(echo "$st" | sed -n 's/.*: cuda: \([0-9]*\) calls.*/\1/p')
    cv=$(echo "$st" | sed -n 's/.* \([0-9]*\) f32 operands converted.*/\1/p')
    [ "$cv" = "$calls" ] || fail "the weight's bf16 copy: $cv conversions in $calls calls"
fi
r=$(python3 "$here/../gpu/compare.py" "$tmp/g.out" "$tmp/c.out" "$tol") || fail "bf16 activations vs the CPU's f32: $r"
strip() { sed -E '/^time: /d; /: cuda: /d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//'; }
strip <"$tmp/g.out" >"$tmp/g.txt"
strip <"$tmp/c.out" >"$tmp/c.txt"
cmp -s "$tmp/g.txt" "$tmp/c.txt" && fail "the bf16 run equals the f32 run to the last digit: no rounding happened"
"$tmp/cpu" eval --weights "$tmp/g.w" >"$tmp/ge" 2>&1 && "$tmp/cpu" eval --weights "$tmp/c.w" >"$tmp/ce" 2>&1 || fail "eval"
grep -E '^(loss|accuracy|mse|mae):' "$tmp/ge" >"$tmp/ge.out"
grep -E '^(loss|accuracy|mse|mae):' "$tmp/ce" >"$tmp/ce.out"
r2=$(python3 "$here/../gpu/compare.py" "$tmp/ge.out" "$tmp/ce.out" "$tol") || fail "the bf16 run's weights evaluate apart from the f32 run's: $r2"
# refusals: f32 on a bf16 build, bf16 for the CPU, bf16 for an architecture without bf16 conversions
gpu train "$@" --precision f32 >"$tmp/q" 2>&1 && fail "--precision f32 accepted by a bf16 build"
grep -q "error: --precision f32: this executable stores its activations in bf16" "$tmp/q" || { cat "$tmp/q"; fail "--precision f32: no clear error"; }
"$nnc" "$model.nn" --precision bf16 -o "$tmp/x" >"$tmp/q" 2>&1 && fail "nnc --precision bf16 accepted for the CPU"
grep -q -- "--precision bf16 is for the CUDA backend" "$tmp/q" || { cat "$tmp/q"; fail "CPU + bf16: no clear error"; }
"$nnc" "$model.nn" --target cuda --precision bf16 --gpu-arch sm_75 -o "$tmp/x" >"$tmp/q" 2>&1 && fail "bf16 for sm_75 accepted"
grep -q "needs --gpu-arch sm_80 or newer" "$tmp/q" || { cat "$tmp/q"; fail "sm_75 + bf16: no clear error"; }
[ -e "$tmp/x" ] && fail "a refused build left $tmp/x"
tail -n 2 "$tmp/g.txt"
echo "ok: bf16 activations ($a16*B bytes of activations vs $a32*B in f32): training $r; eval $r2"
