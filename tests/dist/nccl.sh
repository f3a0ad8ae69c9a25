#!/bin/bash
# nccl.sh NNC SRC_DIR WORK_DIR HAVE_CUDA FAKEDIR EMU_H - a `--target cuda` executable trained
# data-parallel with `mpirun -np 2`, its gradients reduced by runtime/nccl.c, ON THE EMULATOR
# (tests/cuda/emu: the kernels on the CPU, FAKEDIR's libcuda.so.1 with two devices, and its
# test-only libnccl.so.2 that reduces over MPI on the host). It checks the host side of the GPU
# path, not NCCL or a GPU (tests/gpu/run.sh does that on a GPU machine):
#   - 2 ranks: the ranks stay bit-identical (--check-sync 1, the params brought back from the
#     device), each rank on its own device (its local rank's), one NCCL group of allreduces per
#     step; the training equals the CPU executable's 2-rank MPI run (the weights within 1e-4)
#   - 1 rank through NCCL (mpirun -np 1) equals the plain single-GPU run exactly
#   - --precision bf16: the gradients still reduced in f32, the ranks in sync
#   - NNC_NCCL=1: a one-rank communicator without MPI equals the single-GPU run too
#   - a stopped rank ends the run through the watchdog (--dist-timeout)
#   - runtime/nccl.c against the toolkit's nccl.h, and the real libnccl.so.2's calls up to the
#     ncclCommInitRank that fails without a GPU
#   - --device N overrides the local rank's device
#   - no libnccl.so.2 (NNC_NCCL_LIB naming a missing file): a message naming it, exit 1
. "$(dirname "$0")/../e2e/lib.sh"
HAVE=$1 FAKE=$2 EMU=$3
[ "$HAVE" = ON ] || { echo "SKIP: no CUDA toolkit (NVRTC) found at configure time"; exit 77; }
command -v mpirun > /dev/null || { echo "SKIP: mpirun not found (Debian: apt install openmpi-bin libopenmpi-dev)"; exit 77; }
export OMPI_MCA_rmaps_base_oversubscribe=1
MPI=(mpirun --oversubscribe --allow-run-as-root -x LD_LIBRARY_PATH -x NNC_EMU_KERNELS -x NNC_EMU_STATS
     -x NNC_EMU_DEVICES -x NNC_NCCL_LIB -x NNC_CUDA_STATS -np)
export NNC_EMU_DEVICES=2 NNC_NCCL_LIB=${NNC_NCCL_LIB:-libnccl.so.2}

"$NNC" "$EX/iris.nn" --target cuda --gpu-arch sm_80 -o gpu || fail "nnc --target cuda"
"$NNC" "$EX/iris.nn" --emit cuda -o k.cu || fail "nnc --emit cuda"
"$NNC" "$EX/iris.nn" -o cpu || fail "nnc iris.nn"
grep -q '^allreduce [1-9]' k.cu || fail "the schedule has no allreduce step"
${CXX:-c++} -O1 -shared -fPIC -include "$EMU" -x c++ k.cu -o k.so || fail "the kernels do not compile for the host"
export NNC_EMU_KERNELS=$PWD/k.so
W=$PWD
# 96 samples, global batch 16: 6 steps an epoch
T=(train --threads 1 --limit 96 --batch 16 --seed 5 --epochs 3)
strip() { sed -E '/^time: /d; /: cuda: [0-9]+ calls/d; /^emu/d; s/  [0-9.]+s  [0-9]+ samples\/s//; s/, [0-9]+ threads?//' "$1"; }

# 2 ranks through the emulated NCCL against the CPU executable's 2 ranks over MPI
LD_LIBRARY_PATH=$FAKE NNC_EMU_STATS=1 NNC_CUDA_STATS=1 "${MPI[@]}" 2 "$W/gpu" "${T[@]}" --check-sync 1 --save "$W/g2.st" \
    > "$W/g2.log" 2> "$W/g2.err" || { cat "$W/g2.log" "$W/g2.err"; fail "2 ranks through NCCL"; }
cat "$W/g2.log"
mpirun --oversubscribe --allow-run-as-root -np 2 "$W/cpu" "${T[@]}" --save "$W/c2.st" > "$W/c2.log" 2>&1 || { cat "$W/c2.log"; fail "2 CPU ranks"; }
grep -q "^allreduce: 18 steps through NCCL" "$W/g2.log" || fail "the GPU run's allreduces are not NCCL's"
for r in 0 1; do
    grep -q "^emu nccl: rank $r of 2 on device $r: [0-9]* allreduces in 18 groups" "$W/g2.err" ||
        { cat "$W/g2.err"; fail "rank $r: not on device $r, or not one NCCL group a step"; }
done
grep -q "gradient allreduces through NCCL (f32)" "$W/g2.err" || fail "the CUDA runtime counted no NCCL allreduce"
strip "$W/g2.log" | grep -v '^allreduce:' > "$W/g2.txt"
strip "$W/c2.log" | grep -v '^allreduce:' > "$W/c2.txt"
cmp -s "$W/g2.txt" "$W/c2.txt" || { diff "$W/g2.txt" "$W/c2.txt"; fail "2 emulated GPU ranks differ from 2 CPU ranks"; }
# the weights within float noise: the emulated kernels call the C library's expf where the CPU
# backend has nnc's own exp (compiler/ir/ir_math.h), a few ulp apart
close "$W/g2.st" "$W/c2.st" 1e-4
echo "ok: 2 ranks through NCCL stay in sync, each on its own device, and equal 2 CPU ranks over MPI"

# --precision bf16: the products on bf16, the gradients still reduced as f32 (the emulator's NCCL
# refuses any other type), the ranks in sync
LD_LIBRARY_PATH=$FAKE NNC_EMU_STATS=1 "${MPI[@]}" 2 "$W/gpu" "${T[@]}" --epochs 1 --precision bf16 --check-sync 1 \
    > "$W/bf.log" 2> "$W/bf.err" || { cat "$W/bf.log" "$W/bf.err"; fail "2 ranks with --precision bf16"; }
[ "$(grep -c '^emu nccl: rank [01] of 2 on device [01]: [0-9]* allreduces in 6 groups' "$W/bf.err")" = 2 ] ||
    { cat "$W/bf.err"; fail "bf16: not one f32 NCCL group a step on each rank"; }
echo "ok: --precision bf16 on 2 ranks: f32 gradients through NCCL, ranks in sync"

# 1 rank through NCCL (MPI up, a world of one) equals the single-GPU run without MPI
LD_LIBRARY_PATH=$FAKE NNC_EMU_STATS=1 "${MPI[@]}" 1 "$W/gpu" "${T[@]}" --save "$W/g1n.st" > "$W/g1n.log" 2> "$W/g1n.err" ||
    { cat "$W/g1n.log" "$W/g1n.err"; fail "1 rank through NCCL"; }
grep -q "^emu nccl: rank 0 of 1 on device 0: [0-9]* allreduces in 18 groups" "$W/g1n.err" ||
    { cat "$W/g1n.err"; fail "1 rank: no NCCL group a step"; }
LD_LIBRARY_PATH=$FAKE "$W/gpu" "${T[@]}" --save "$W/g1.st" > "$W/g1.log" 2>&1 || { cat "$W/g1.log"; fail "single GPU"; }
strip "$W/g1n.log" > "$W/g1n.txt"
strip "$W/g1.log" > "$W/g1.txt"
cmp -s "$W/g1n.txt" "$W/g1.txt" || { diff "$W/g1n.txt" "$W/g1.txt"; fail "1 rank through NCCL differs from 1 GPU"; }
cmp -s "$W/g1n.st" "$W/g1.st" || fail "the weights of 1 rank through NCCL differ from 1 GPU's"
echo "ok: 1 rank through NCCL equals the single-GPU run"
# the same without MPI: NNC_NCCL=1, a communicator of one rank (tests/gpu/run.sh's way where the GPU
# machine has no mpirun)
LD_LIBRARY_PATH=$FAKE NNC_EMU_STATS=1 NNC_NCCL=1 "$W/gpu" "${T[@]}" --save "$W/g1x.st" > "$W/g1x.log" 2> "$W/g1x.err" ||
    { cat "$W/g1x.log" "$W/g1x.err"; fail "NNC_NCCL=1"; }
grep -q "^emu nccl: rank 0 of 1 on device 0: [0-9]* allreduces in 18 groups" "$W/g1x.err" ||
    { cat "$W/g1x.err"; fail "NNC_NCCL=1: no NCCL group a step"; }
cmp -s "$W/g1x.st" "$W/g1.st" || fail "the weights of NNC_NCCL=1 differ from 1 GPU's"
echo "ok: NNC_NCCL=1 (1 rank through NCCL without MPI) equals the single-GPU run"

# --device overrides the local rank: both ranks on device 1
LD_LIBRARY_PATH=$FAKE NNC_EMU_STATS=1 "${MPI[@]}" 2 "$W/gpu" "${T[@]}" --epochs 1 --device 1 > "$W/d.log" 2> "$W/d.err" ||
    { cat "$W/d.err"; fail "--device 1 on 2 ranks"; }
[ "$(grep -c '^emu nccl: rank [01] of 2 on device 1:' "$W/d.err")" = 2 ] || { cat "$W/d.err"; fail "--device 1 not used"; }
echo "ok: --device 1 puts both ranks on device 1"

# a local rank without a GPU
LD_LIBRARY_PATH=$FAKE NNC_EMU_DEVICES=1 "${MPI[@]}" 2 "$W/gpu" "${T[@]}" --epochs 1 > "$W/nogpu.log" 2> "$W/nogpu.err" &&
    fail "2 ranks on 1 device succeeded"
grep -q "local rank 1 has no GPU: this machine has 1 CUDA device" "$W/nogpu.err" || { cat "$W/nogpu.err"; fail "no-GPU message"; }
echo "ok: a local rank without a GPU: $(grep -m1 'local rank 1' "$W/nogpu.err")"

# no NCCL library
LD_LIBRARY_PATH=$FAKE NNC_NCCL_LIB=/nonexistent/libnccl.so.2 "${MPI[@]}" 2 "$W/gpu" "${T[@]}" --epochs 1 \
    > "$W/nonccl.log" 2> "$W/nonccl.err" && fail "2 ranks without NCCL succeeded"
grep -q "error: rank [01] of 2: data-parallel training on GPUs needs NCCL, and /nonexistent/libnccl.so.2 could not be loaded" \
    "$W/nonccl.err" || { cat "$W/nonccl.err"; fail "no-NCCL message"; }
echo "ok: without NCCL: $(grep -m1 'needs NCCL' "$W/nonccl.err" | cut -c1-140)..."
# a single process never opens NCCL
LD_LIBRARY_PATH=$FAKE NNC_NCCL_LIB=/nonexistent/libnccl.so.2 "$W/gpu" "${T[@]}" --epochs 1 > "$W/one.log" 2>&1 ||
    { cat "$W/one.log"; fail "a single GPU process needed NCCL"; }
echo "ok: a single process runs without NCCL"

# a stopped rank: the other ends within --dist-timeout (the watchdog covers the NCCL calls and the
# wait for a step NCCL reduces, besides MPI's collectives), not a hang
LD_LIBRARY_PATH=$FAKE "${MPI[@]}" 2 "$W/gpu" train --threads 1 --limit 96 --batch 8 --epochs 20000 --dist-timeout 3 \
    > "$W/stop.log" 2> "$W/stop.err" &
run=$!
rank_pid() {    # the pid of rank $1 of that run
    for p in $(pgrep -f "$W/gpu train --threads 1 --limit 96 --batch 8"); do
        [ "$(tr '\0' '\n' < /proc/$p/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = "$1" ] && echo "$p"
    done
}
for _ in $(seq 1 100); do grep -q '^training' "$W/stop.log" 2>/dev/null && break; sleep 0.1; done
sleep 1
victim=$(rank_pid 1)
[ -n "$victim" ] || { kill $run; fail "rank 1 not found"; }
kill -STOP "$victim"
t0=$(date +%s)
wait $run
rc=$?
dt=$(( $(date +%s) - t0 ))
kill -KILL "$victim" 2> /dev/null
[ $rc -ne 0 ] || fail "a stopped rank: mpirun exited 0"
[ $dt -le 60 ] || fail "a stopped rank: the run took $dt s to end"
grep -q "no answer from the other processes for 3 s in" "$W/stop.err" || { head "$W/stop.err"; fail "no watchdog message"; }
echo "ok: a stopped rank ends the run after $dt s: $(grep -m1 -o 'no answer from the other processes for 3 s in [^:]*' "$W/stop.err")"

# the real NCCL where this machine has it (no GPU here): runtime/nccl.c's types and constants agree
# with nccl.h; the library opens, its version is accepted, rank 0's ncclGetUniqueId works, and the
# ncclCommInitRank that fails on the emulator (not a GPU) is named with NCCL's own error string
H=${NNC_CUDA_INCLUDE:-/usr/local/cuda/include}
if [ -f "$H/nccl.h" ]; then
    ${CC:-cc} -std=c17 -fsyntax-only -Werror -DNNC_NCCL_H_CHECK -I"$H" -I"$SRC/runtime" "$SRC/runtime/nccl.c" ||
        fail "runtime/nccl.c disagrees with $H/nccl.h"
    echo "ok: runtime/nccl.c agrees with $H/nccl.h"
else
    echo "SKIP: no nccl.h in $H"
fi
real=$(ldconfig -p 2>/dev/null | sed -n 's/.*libnccl\.so\.2 .*=> //p' | head -1)
if [ -n "$real" ]; then
    LD_LIBRARY_PATH=$FAKE NNC_NCCL_LIB=$real "${MPI[@]}" 1 "$W/gpu" "${T[@]}" --epochs 1 > "$W/real.log" 2> "$W/real.err" &&
        fail "the real NCCL on the emulator succeeded"
    grep -q "error: rank 0 of 1: ncclCommInitRank(one rank per GPU) failed: NCCL error [0-9]*: ." "$W/real.err" ||
        { cat "$W/real.err"; fail "the real NCCL's failure on the emulator"; }
    echo "ok: the real $real: $(grep -m1 'ncclCommInitRank' "$W/real.err")"
else
    echo "SKIP: no libnccl.so.2 on this machine's library path (the real NCCL's calls)"
fi
echo "PASS"
