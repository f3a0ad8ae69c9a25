#!/bin/sh
# tests/gpu/run.sh [--emu] [--quick] [BUNDLE] - everything that needs an NVIDIA GPU, in one call of at
# most about 8 minutes on an H200. BUNDLE (default build/gpu.tar.gz) is what tests/gpu/prepare.sh
# made on the development machine: the --target cuda executables with their libraries, the CPU's
# results for the same runs, Fashion-MNIST. Four parts, each line PASS or FAIL:
#   1. runs   every run of runs.txt on the GPU equals the CPU's (losses, metrics: compare.py), and
#             the CPU's weights evaluate on the GPU as on the CPU (the forward of every layer kind)
#   2. device params and state stay on the device (NNC_CUDA_STATS: uploaded once, downloaded once
#             per save), every batch an async copy; cuBLASLt's fused epilogues used and equal to
#             cuBLAS + the epilogue kernel (NNC_CUBLASLT=0); --precision bf16's run within 3% of
#             the f32 one; activations stored in bf16 (nnc --precision bf16: fashion_mlp_bf16,
#             fashion_cnn_bf16) within 3% of the f32 runs, with bf16 GEMMs and a smaller planned
#             activation size; CUDA graphs captured and replayed, their run equal to plain launches'
#             (NNC_CUDA_GRAPHS=0) within 0.2%; --device 99 refused; summary's device memory; data-parallel: 1 rank
#             through NCCL (mpirun -np 1: MPI up, the gradients through ncclAllReduce) equals the
#             single-GPU run (without mpirun on the machine: NNC_NCCL=1, a one-rank communicator
#             without MPI; skipped, with a line, without libnccl.so.2: the bundle cannot carry
#             its 218 MB; a PyTorch wheel's nvidia/nccl is found and used); cuDNN's convolutions
#             (NNC_CUDNN=1) against the direct kernels: fashion_cnn's training within 0.2%, and the
#             samples/s of both (skipped, with a line, without libcudnn.so.9: a PyTorch wheel's
#             nvidia/cudnn is found and used)
#   3. train  fashion_mlp (10 epochs; f32, --precision bf16, bf16 activations) and fashion_cnn (5 epochs), full:
#             test accuracy at least the CPU's documented result less a point (88.77% and 91.97%,
#             examples/README.md)
#   4. bench  bench/models' mlp_small, mlp_wide, cnn: training samples/s, nnc on the GPU (with
#             cuBLASLt's epilogues and without: NNC_CUBLASLT=0; --precision bf16; activations in bf16:
#             bench_NAME_bf16) and PyTorch on CUDA
#             (tests/gpu/torch_cuda.py), and their ratio; and without CUDA graphs (NNC_CUDA_GRAPHS=0)
# --emu rehearses it on a CPU: the kernels built for the host (tests/cuda/emu) and the host
# libcuda.so.1/libcublas.so.13/libcublasLt.so.13/libnccl.so.2 of $NNC_FAKECUDA (default
# build/release/fakecuda; its libnccl.so.2 reduces over MPI on the host);
# --quick skips parts 3 and 4.
# Exit 0 when every line passed.
root=$(cd "$(dirname "$0")/../.." && pwd)
emu=0 quick=0
while [ $# -gt 0 ]; do
    case $1 in --emu) emu=1 ;; --quick) quick=1 ;; *) break ;; esac
    shift
done
bundle=${1:-$root/build/gpu.tar.gz}
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
tar xzf "$bundle" -C "$work" || { echo "FAIL: cannot unpack $bundle"; exit 1; }
G=$work/gpu D=$G/data
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v nvidia-smi >/dev/null && nvidia-smi -L
if [ $emu = 1 ]; then
    export LD_LIBRARY_PATH=${NNC_FAKECUDA:-$root/build/release/fakecuda}
    for f in "$G"/emu/*.cu; do ${CXX:-c++} -O1 -shared -fPIC -include "$root/tests/cuda/emu/cuda_emu.h" -x c++ "$f" -o "${f%.cu}.so" || exit 1; done
elif [ -z "${NNC_CUBLAS:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.1[23] '; then
    # cuBLAS off the library path: a pip wheel's (PyTorch's nvidia-cublas) or a toolkit's
    NNC_CUBLAS=$(find / -xdev \( -name 'libcublas.so.13' -o -name 'libcublas.so.12' \) 2>/dev/null | head -1)
    [ -n "$NNC_CUBLAS" ] && export NNC_CUBLAS && echo "cuBLAS: $NNC_CUBLAS"
fi
if [ $emu = 0 ] && [ -z "${NNC_CUBLASLT:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcublasLt\.so\.1[23] '; then
    # beside that cuBLAS (which loads it itself), else anywhere
    d=$(dirname "${NNC_CUBLAS:-/nonexistent}")
    NNC_CUBLASLT=$(ls "$d"/libcublasLt.so.1[23] 2>/dev/null | head -1)
    [ -n "$NNC_CUBLASLT" ] || NNC_CUBLASLT=$(find / -xdev \( -name 'libcublasLt.so.13' -o -name 'libcublasLt.so.12' \) 2>/dev/null | head -1)
    [ -n "$NNC_CUBLASLT" ] && export NNC_CUBLASLT && echo "cuBLASLt: $NNC_CUBLASLT"
fi
if [ $emu = 0 ] && [ -z "${NNC_NCCL_LIB:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
    # NCCL off the library path: a PyTorch wheel's (nvidia-nccl-cu12/13) or a toolkit's
    NNC_NCCL_LIB=$(find / -xdev -name 'libnccl.so.2' 2>/dev/null | head -1)
    [ -n "$NNC_NCCL_LIB" ] && export NNC_NCCL_LIB && echo "NCCL: $NNC_NCCL_LIB"
fi
if [ $emu = 0 ] && [ -z "${NNC_CUDNN_LIB:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcudnn\.so\.9 '; then
    # cuDNN off the library path: a PyTorch wheel's (nvidia-cudnn-cu12/13) or a toolkit's
    NNC_CUDNN_LIB=$(find / -xdev -name 'libcudnn.so.9' 2>/dev/null | head -1)
    [ -n "$NNC_CUDNN_LIB" ] && export NNC_CUDNN_LIB && echo "cuDNN: $NNC_CUDNN_LIB"
fi
have_dnn=1
[ $emu = 0 ] && [ -z "${NNC_CUDNN_LIB:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcudnn\.so\.9 ' && have_dnn=0
sps() { sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' "$1" | tail -1; }
run() {     # run MODEL ARGS...: the model's GPU executable (its host kernels under --emu), at most $TMO s
    m=$1
    shift
    timeout "$TMO" env NNC_EMU_KERNELS="$G/emu/$m.so" "$G/bin/$m" "$@"
}
TMO=120
t0=$(date +%s)
echo "== 1. runs vs the CPU"
cd "$root/examples" || exit 1
while read -r m args; do
    case $m in ''|'#'*) continue ;; esac
    case $emu$m in 1*cnn*|1*conv*) echo "skip (--emu: convolutions take minutes a batch there): $m"; continue ;; esac
    tag=$m$(echo "$args" | tr -c 'a-z0-9\n' '_' | tr -d '\n')
    a=$(echo "$args" | sed "s|DATA|$D|g")
    if ! run "$m" train $a --seed 1 --save "$work/$tag.w" >"$work/$tag.train" 2>&1; then
        fail "$m train $args: $(tail -n 1 "$work/$tag.train")"; continue
    fi
    r=$(python3 "$root/tests/gpu/compare.py" "$work/$tag.train" "$G/ref/$tag.train") && pass "$m train $args: $r" || fail "$m train $args: $r"
    [ -f "$G/ref/$tag.w" ] || continue
    run "$m" eval --weights "$G/ref/$tag.w" $(echo "$a" | grep -o -- '--data [^ ]*') >"$work/$tag.eval" 2>&1
    r=$(python3 "$root/tests/gpu/compare.py" "$work/$tag.eval" "$G/ref/$tag.eval" 0.002) && pass "$m eval of the CPU's weights: $r" || fail "$m eval of the CPU's weights: $r"
done <"$G/runs.txt"
echo "   ($(( $(date +%s) - t0 )) s)"
echo "== 2. device memory, cuBLASLt, --device, summary"
a="--limit 2048 --data $D --seed 1"
# field N of NNC_CUDA_STATS's line: 1 calls 2 allocations 3 bytes 4 uploads 5 bytes 6 downloads
# 7 bytes 8 batch copies 9 bytes 10 output bytes 11 cuBLAS GEMMs 12 cuBLASLt GEMMs 13 fallbacks
stat() { grep ': cuda: [0-9]* calls' "$1" | tr -c '0-9\n' ' ' | awk -v n="$2" '{print $n}'; }
export NNC_CUDA_STATS=1
if run fashion_mlp train $a --epochs 2 --save "$work/dev.w" >"$work/dev.out" 2>&1; then
    up=$(stat "$work/dev.out" 4) down=$(stat "$work/dev.out" 6)
    [ -n "$up" ] && [ "$up" -gt 0 ] && [ "$down" = "$((2 * up))" ] && [ "$(stat "$work/dev.out" 8)" -gt 0 ] &&
        pass "params resident: $up tensors up once, down $down (2 saves)" ||
        fail "params not resident: $(grep ': cuda: ' "$work/dev.out")"
    # cuBLASLt's epilogues are the evaluate graph's (a train step's bias + activation is a kernel
    # that also stores what the backward pass reads: docs/backend-cuda.md): eval, with and without
    run fashion_mlp eval --weights "$work/dev.w" --data "$D" >"$work/lt.eval" 2>&1
    [ "${NNC_CUBLASLT:-}" = 0 ] || { [ "$(stat "$work/lt.eval" 12)" -gt 0 ] 2>/dev/null && pass "cuBLASLt epilogues (eval): $(stat "$work/lt.eval" 12) GEMMs, $(stat "$work/lt.eval" 13) fell back" || fail "no cuBLASLt GEMM in eval: $(grep ': cuda: ' "$work/lt.eval" || tail -n 1 "$work/lt.eval")"; }
    NNC_CUBLASLT=0 run fashion_mlp eval --weights "$work/dev.w" --data "$D" >"$work/nolt.eval" 2>&1
    r=$(python3 "$root/tests/gpu/compare.py" "$work/lt.eval" "$work/nolt.eval" 0.002) && pass "cuBLASLt's epilogues = cuBLAS + kernel (eval): $r" || fail "cuBLASLt vs cuBLAS + kernel (eval): $r"
    grep ': cuda: ' "$work/dev.out"
    if NNC_CUBLASLT=0 run fashion_mlp train $a --epochs 2 >"$work/nolt.out" 2>&1; then
        r=$(python3 "$root/tests/gpu/compare.py" "$work/dev.out" "$work/nolt.out" 0.002) && pass "cuBLASLt's epilogues = cuBLAS + kernel: $r" || fail "cuBLASLt vs cuBLAS + kernel: $r"
    else
        fail "NNC_CUBLASLT=0 train: $(tail -n 1 "$work/nolt.out")"
    fi
    # CUDA graphs (on by default): captured once per batch size and input buffers, then replayed
    g=$(grep ': cuda: ' "$work/dev.out" | sed -n 's/.*CUDA graphs: \([0-9]*\) captured, \([0-9]*\) launched.*/\1 \2/p')
    set -- $g
    [ "${2:-0}" -gt "${1:-0}" ] && [ "${1:-0}" -gt 0 ] && pass "CUDA graphs: $1 captured, $2 launched" || fail "CUDA graphs not replayed: $(grep ': cuda: ' "$work/dev.out")"
    grep 'note: CUDA graphs off' "$work/dev.out"
    if NNC_CUDA_GRAPHS=0 run fashion_mlp train $a --epochs 2 >"$work/nog.out" 2>&1; then
        r=$(python3 "$root/tests/gpu/compare.py" "$work/dev.out" "$work/nog.out" 0.002) && pass "CUDA graphs = plain launches: $r" || fail "CUDA graphs vs plain launches: $r"
    else
        fail "NNC_CUDA_GRAPHS=0 train: $(tail -n 1 "$work/nog.out")"
    fi
    if run fashion_mlp train $a --epochs 2 --precision bf16 >"$work/bf16.out" 2>&1; then
        grep -q 'products in bf16' "$work/bf16.out" || fail "--precision bf16: $(grep ': cuda: ' "$work/bf16.out")"
        r=$(python3 "$root/tests/gpu/compare.py" "$work/bf16.out" "$work/dev.out" 0.03) && pass "--precision bf16 vs f32: $r" || fail "--precision bf16 vs f32: $r"
    else
        fail "--precision bf16 train: $(tail -n 1 "$work/bf16.out")"
    fi
    # activations stored in bf16 (built with nnc --precision bf16): the GEMMs on bf16 operands,
    # within 3% of the f32 run, and the planned activation bytes below the f32 build's
    if run fashion_mlp_bf16 train $a --epochs 2 >"$work/act16.out" 2>&1; then
        grep -Eq 'activations stored in bf16: [1-9][0-9]* GEMMs on bf16 operands' "$work/act16.out" ||
            fail "bf16 activations: no bf16 GEMM: $(grep ': cuda: ' "$work/act16.out")"
        r=$(python3 "$root/tests/gpu/compare.py" "$work/act16.out" "$work/dev.out" 0.03) && pass "bf16 activations vs f32 (fashion_mlp): $r" || fail "bf16 activations vs f32 (fashion_mlp): $r"
        grep ': cuda: ' "$work/act16.out"
    else
        fail "bf16 activations train (fashion_mlp): $(tail -n 1 "$work/act16.out")"
    fi
    p32=$("$G/bin/fashion_mlp" summary --batch 256 | grep '^planned by the compiler')
    p16=$("$G/bin/fashion_mlp_bf16" summary --batch 256 | grep '^planned by the compiler')
    [ -n "$p16" ] && [ "$p16" != "$p32" ] && pass "bf16 activations planned: $p16 (f32: $p32)" || fail "bf16 activations: summary '$p16' vs '$p32'"
else
    fail "fashion_mlp train for the device checks: $(tail -n 1 "$work/dev.out")"
fi
unset NNC_CUDA_STATS
run fashion_mlp eval --weights "$work/dev.w" --data "$D" --device 99 >"$work/d99" 2>&1
grep -q "error: --device 99: this machine has [0-9]* CUDA device" "$work/d99" && pass "--device 99: $(cat "$work/d99")" || fail "--device 99: $(cat "$work/d99")"
l=$("$G/bin/fashion_mlp" summary --batch 256 | grep '^CUDA device memory at batch 256: ')
[ -n "$l" ] && pass "summary: $l" || fail "summary has no device memory line"
# data-parallel: 1 rank through NCCL equals the single-GPU run (the same kernels; ncclAvg over one
# rank leaves each gradient as it is, so the runs agree to the printed digits): under mpirun -np 1
# where the machine has mpirun, else NNC_NCCL=1 (NCCL's communicator of one rank, without MPI)
if [ $emu = 0 ] && [ -z "${NNC_NCCL_LIB:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libnccl\.so\.2 '; then
    echo "SKIP: 1 rank through NCCL: no libnccl.so.2 on this machine (the bundle cannot carry its 218 MB)"
else
    a1="--limit 2048 --data $D --seed 1 --epochs 2"
    export NNC_CUDA_STATS=1
    if command -v mpirun >/dev/null; then
        how="mpirun -np 1"
        nccl1() { timeout "$TMO" mpirun -np 1 --allow-run-as-root -x LD_LIBRARY_PATH -x NNC_CUDA_STATS \
            -x NNC_EMU_KERNELS="$G/emu/fashion_mlp.so" ${NNC_NCCL_LIB:+-x NNC_NCCL_LIB} ${NNC_CUBLAS:+-x NNC_CUBLAS} \
            ${NNC_CUBLASLT:+-x NNC_CUBLASLT} "$G/bin/fashion_mlp" "$@"; }
    else
        how="NNC_NCCL=1, no mpirun on this machine"
        nccl1() { NNC_NCCL=1 run fashion_mlp "$@"; }
    fi
    if run fashion_mlp train $a1 >"$work/one.out" 2>&1 && nccl1 train $a1 >"$work/nccl1.out" 2>&1; then
        grep -q 'gradient allreduces through NCCL' "$work/nccl1.out" || fail "1 rank through NCCL ($how): no NCCL allreduce: $(grep ': cuda: ' "$work/nccl1.out")"
        r=$(python3 "$root/tests/gpu/compare.py" "$work/nccl1.out" "$work/one.out" 0) && pass "1 rank through NCCL ($how) = 1 GPU: $r" || fail "1 rank through NCCL ($how) vs 1 GPU: $r"
    else
        fail "1 rank through NCCL ($how): $(tail -n 2 "$work/one.out" "$work/nccl1.out" | tr '\n' ' ')"
    fi
    unset NNC_CUDA_STATS
fi
# cuDNN's convolutions (NNC_CUDNN=1: forward, data and filter gradients) against the direct kernels
if [ $have_dnn = 0 ]; then
    echo "SKIP: cuDNN: no libcudnn.so.9 on this machine"
else
    ca="--data $D --seed 1 --epochs 1"
    [ $emu = 1 ] && ca="$ca --limit 16 --batch 8" || ca="$ca --limit 8192"
    if NNC_CUDA_STATS=1 NNC_CUDNN=1 run fashion_cnn train $ca >"$work/dnn.out" 2>&1 &&
        NNC_CUDA_STATS=1 run fashion_cnn train $ca >"$work/direct.out" 2>&1; then
        grep -q '; convolutions: [1-9][0-9]* through cuDNN' "$work/dnn.out" || fail "NNC_CUDNN=1 ran no cuDNN convolution: $(grep ': cuda: ' "$work/dnn.out")"
        r=$(python3 "$root/tests/gpu/compare.py" "$work/dnn.out" "$work/direct.out" 0.002) && pass "cuDNN convolutions = direct kernels: $r" || fail "cuDNN vs direct kernels: $r"
        echo "fashion_cnn training: cuDNN $(sps "$work/dnn.out") samples/s, direct kernels $(sps "$work/direct.out") samples/s"
        grep ': cuda: ' "$work/dnn.out"
    else
        fail "fashion_cnn with and without cuDNN: $(tail -n 2 "$work/dnn.out" "$work/direct.out" | tr '\n' ' ')"
    fi
fi
# fashion_cnn with its activations in bf16 (direct conv and pool kernels on bf16) against the f32
# direct kernels (3%; --emu's 16 samples: 10%, an accuracy step is 6%)
ca="--data $D --seed 1 --epochs 1"
[ $emu = 1 ] && { ca="$ca --limit 16 --batch 8"; tol=0.1; } || { ca="$ca --limit 8192"; tol=0.03; }
[ -s "$work/direct.out" ] || NNC_CUDA_STATS=1 run fashion_cnn train $ca >"$work/direct.out" 2>&1
if NNC_CUDA_STATS=1 run fashion_cnn_bf16 train $ca >"$work/cnn16.out" 2>&1; then
    r=$(python3 "$root/tests/gpu/compare.py" "$work/cnn16.out" "$work/direct.out" $tol) && pass "bf16 activations vs f32 (fashion_cnn): $r" || fail "bf16 activations vs f32 (fashion_cnn): $r"
    echo "fashion_cnn training: bf16 activations $(sps "$work/cnn16.out") samples/s, f32 $(sps "$work/direct.out") samples/s"
else
    fail "bf16 activations train (fashion_cnn): $(tail -n 1 "$work/cnn16.out")"
fi
echo "   ($(( $(date +%s) - t0 )) s)"
if [ $quick = 0 ]; then
    echo "== 3. full trainings"
    TMO=120
    for spec in "fashion_mlp 0.8777 f32" "fashion_mlp 0.8777 bf16" "fashion_mlp_bf16 0.8777 bf16" "fashion_cnn 0.9097 f32"; do
        set -- $spec
        run "$1" train --data "$D" --precision "$3" --save "$work/$1.full.w" >"$work/$1.full" 2>&1 || { fail "$1 train ($3): $(tail -n 1 "$work/$1.full")"; continue; }
        tail -n 2 "$work/$1.full"
        acc=$(run "$1" eval --weights "$work/$1.full.w" --data "$D" 2>&1 | sed -n 's/^accuracy:* *\([0-9.]*\).*/\1/p' | head -1)
        python3 -c "import sys; sys.exit(0 if float('${acc:-0}') >= $2 else 1)" && pass "$1 ($3) test accuracy $acc (CPU's less a point: $2)" || fail "$1 ($3) test accuracy ${acc:-none} < $2"
    done
    echo "   ($(( $(date +%s) - t0 )) s)"
    echo "== 4. bench: training samples/s, nnc (GPU) vs PyTorch (CUDA)"
    TMO=40
    for spec in "mlp_small 60000" "mlp_wide 15360" "cnn 3200"; do
        set -- $spec
        n=$(run "bench_$1" train --data "$D" --limit "$2" --epochs 1 2>&1 | sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' | tail -1)
        n0=$(NNC_CUBLASLT=0 run "bench_$1" train --data "$D" --limit "$2" --epochs 1 2>&1 | sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' | tail -1)
        nb=$(run "bench_$1" train --data "$D" --limit "$2" --epochs 1 --precision bf16 2>&1 | sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' | tail -1)
        nh=$(run "bench_$1_bf16" train --data "$D" --limit "$2" --epochs 1 2>&1 | sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' | tail -1)
        ng=$(NNC_CUDA_GRAPHS=0 run "bench_$1" train --data "$D" --limit "$2" --epochs 1 2>&1 | sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' | tail -1)
        nd=-
        [ "$1" = cnn ] && [ $have_dnn = 1 ] && nd=$(NNC_CUDNN=1 run "bench_$1" train --data "$D" --limit "$2" --epochs 1 2>&1 | sed -n 's/.* \([0-9][0-9]*\) samples\/s.*/\1/p' | tail -1)
        t=$( [ $emu = 0 ] && cd "$G" && timeout 60 python3 torch_cuda.py "$1" "$D" "$2" 2>&1 | sed -n 's/samples_per_s=\([0-9.]*\).*/\1/p')
        echo "bench $1: nnc ${n:-?} samples/s (without cuBLASLt epilogues ${n0:-?}; bf16 products ${nb:-?}; bf16 activations ${nh:-?}; without CUDA graphs ${ng:-?}; convolutions through cuDNN ${nd:-?}), PyTorch ${t:-?} samples/s, ratio $(python3 -c "print(round(${n:-0}/${t:-0},2) if ${t:-0} else '?')")"
    done
fi
echo "== $fails failed ($(( $(date +%s) - t0 )) s)"
[ $fails = 0 ]
