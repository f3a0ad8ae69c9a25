#!/bin/sh
# tests/cuda/cudnn.sh NNC HAVE_CUDA FAKEDIR EMU_H EXAMPLES MODEL TRAIN-ARGS... - convolutions through
# cuDNN (NNC_CUDNN=1, runtime/cuda_dnn.c) on the emulator, whose libcudnn.so.9
# (tests/cuda/emu/fake_cudnn.c) computes from the descriptors alone in the direct kernels' order of
# summation: the run through cuDNN trains exactly as the direct kernels' (losses, metrics, the
# weights file byte for byte), also under CUDA graphs (captured and replayed), and so does eval
# (the evaluate graph), and as the CPU's
# within NNC_EMU_TOL; its stats count the cuDNN convolutions. Asked for and missing, cuDNN is a
# message and exit 1; NNC_CUDNN=2 is refused. runtime/cuda_dnn.c compiles against the toolkit's
# cudnn.h with every function pointer type equal to the prototype's; the real libcudnn.so.9 (no GPU
# here) opens, its version is accepted, and its failing cudnnCreate is named.
nnc=$1 have=$2 fake=$3 emu=$4 ex=$5 model=$6
shift 6
src=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/emu_build.sh"
gpu() { LD_LIBRARY_PATH="$fake" NNC_EMU_KERNELS="$tmp/k.so" NNC_CUDA_STATS=1 "$tmp/gpu" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
strip() { sed -E '/^time: /d; /: cuda: /d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//'; }
NNC_CUDNN=1 gpu train "$@" --save "$tmp/d.w" >"$tmp/d" 2>&1 || { cat "$tmp/d"; fail "train through cuDNN"; }
gpu train "$@" --save "$tmp/k.w" >"$tmp/k" 2>&1 || { cat "$tmp/k"; fail "train with the direct kernels"; }
strip <"$tmp/d" >"$tmp/d.txt"
strip <"$tmp/k" >"$tmp/k.txt"
cmp -s "$tmp/d.txt" "$tmp/k.txt" || { diff "$tmp/d.txt" "$tmp/k.txt"; fail "cuDNN trains differently from the direct kernels"; }
cmp -s "$tmp/d.w" "$tmp/k.w" || fail "the weights trained through cuDNN differ from the direct kernels'"
st=$(grep ': cuda: ' "$tmp/d")
echo "$st" | grep -Eq '; convolutions: [1-9][0-9]* through cuDNN; CUDA graphs: [1-9][0-9]* captured, [1-9][0-9]* launched' ||
    fail "no cuDNN convolution, or none in a replayed graph: $st"
grep ': cuda: ' "$tmp/k" | grep -q 'through cuDNN' && fail "the direct kernels' run used cuDNN"
"$tmp/cpu" train "$@" >"$tmp/c" 2>&1 || { cat "$tmp/c"; fail "cpu train"; }
python3 "$src/tests/gpu/compare.py" "$tmp/d" "$tmp/c" "${NNC_EMU_TOL:-0.001}" || fail "cuDNN's training vs the CPU's"
# eval (the evaluate graph: the forward convolutions and their epilogues, captured and replayed)
NNC_CUDNN=1 gpu eval --weights "$tmp/k.w" --limit 32 --batch 8 >"$tmp/de" 2>&1 || { cat "$tmp/de"; fail "eval through cuDNN"; }
gpu eval --weights "$tmp/k.w" --limit 32 --batch 8 >"$tmp/ke" 2>&1 || { cat "$tmp/ke"; fail "eval with the direct kernels"; }
strip <"$tmp/de" >"$tmp/de.txt"
strip <"$tmp/ke" >"$tmp/ke.txt"
cmp -s "$tmp/de.txt" "$tmp/ke.txt" || { diff "$tmp/de.txt" "$tmp/ke.txt"; fail "eval through cuDNN differs from the direct kernels'"; }
grep ': cuda: ' "$tmp/de" | grep -Eq 'through cuDNN; CUDA graphs: [1-9][0-9]* captured, [1-9][0-9]* launched' ||
    fail "eval: no cuDNN in a replayed graph: $(grep ': cuda: ' "$tmp/de")"
# NNC_CUDNN_FIND=1: the algorithms timed (cudnnFindConvolution*Algorithm) instead of the heuristic's
NNC_CUDNN=1 NNC_CUDNN_FIND=1 gpu eval --weights "$tmp/k.w" --limit 32 --batch 8 >"$tmp/fe" 2>&1 || { cat "$tmp/fe"; fail "eval, NNC_CUDNN_FIND=1"; }
strip <"$tmp/fe" >"$tmp/fe.txt"
cmp -s "$tmp/fe.txt" "$tmp/ke.txt" || { diff "$tmp/fe.txt" "$tmp/ke.txt"; fail "eval with NNC_CUDNN_FIND=1 differs"; }
# asked for, and missing or refused
NNC_CUDNN=1 NNC_CUDNN_LIB=/nonexistent/libcudnn.so.9 gpu train "$@" >"$tmp/m" 2>&1 && fail "a missing cuDNN was accepted"
grep -q "error: NNC_CUDNN=1 asks for cuDNN, and it could not be loaded: /nonexistent/libcudnn.so.9: " "$tmp/m" ||
    { cat "$tmp/m"; fail "no clear message without cuDNN"; }
NNC_CUDNN=2 gpu train "$@" >"$tmp/r" 2>&1 && fail "NNC_CUDNN=2 accepted"
grep -q "error: NNC_CUDNN='2': 1 (convolutions through cuDNN) or 0" "$tmp/r" || { cat "$tmp/r"; fail "NNC_CUDNN=2: no clear message"; }
# against NVIDIA's header and library, where this machine has them
H=${NNC_CUDA_INCLUDE:-/usr/local/cuda/include}
if [ -f "$H/cudnn.h" ]; then
    ${CC:-cc} -std=c17 -fsyntax-only -Werror -Wall -DNNC_CUDNN_H_CHECK -I"$H" -I"$src/runtime" "$src/runtime/cuda_dnn.c" ||
        fail "runtime/cuda_dnn.c disagrees with $H/cudnn.h"
    echo "ok: runtime/cuda_dnn.c agrees with $H/cudnn.h"
else
    echo "SKIP: no cudnn.h in $H"
fi
real=$(ls /usr/local/cuda/lib64/libcudnn.so.9 2>/dev/null || ldconfig -p 2>/dev/null | sed -n 's/.*libcudnn\.so\.9 .*=> //p' | head -1)
if [ -n "$real" ]; then
    NNC_CUDNN=1 NNC_CUDNN_LIB=$real gpu train "$@" >"$tmp/real" 2>&1 && fail "the real cuDNN on the emulator succeeded"
    grep -Eq "error: cudnnCreate\($real\): CUDNN_STATUS_[A-Z_]+ \(status [0-9]+\)$" "$tmp/real" ||
        { cat "$tmp/real"; fail "the real cuDNN's failure on the emulator"; }
    echo "ok: the real $(grep -o 'cudnnCreate.*' "$tmp/real")"
else
    echo "SKIP: no libcudnn.so.9 here"
fi
echo "$st" | sed 's/.*; convolutions/convolutions/'
echo "ok: cuDNN's convolutions train as the direct kernels do"
