# tests/cuda/emu_build.sh - sourced by the emulator tests (emu.sh, resident.sh, bf16.sh) after they
# set nnc, have, ex, model and emu: skips (77) without a CUDA toolkit, builds the model's --target
# cuda executable ($tmp/gpu), its CUDA source compiled for the host with cuda_emu.h ($tmp/k.so)
# and the CPU executable ($tmp/cpu) in a fresh $tmp (removed at exit), then enters $ex.
# $emu_flags (if set): more nnc flags for the two CUDA builds (bf16act.sh: --precision bf16).
if [ "$have" != ON ]; then
    echo "skipped: no CUDA toolkit (NVRTC) found at configure time"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$nnc" "$ex/$model.nn" --target cuda --gpu-arch sm_80 ${emu_flags:-} -o "$tmp/gpu" || exit 1
"$nnc" "$ex/$model.nn" --emit cuda ${emu_flags:-} -o "$tmp/k.cu" || exit 1
"$nnc" "$ex/$model.nn" -o "$tmp/cpu" || exit 1
${CXX:-c++} -O1 -shared -fPIC -include "$emu" -x c++ "$tmp/k.cu" -o "$tmp/k.so" ||
    { echo "FAIL: the source does not compile for the host"; exit 1; }
cd "$ex" || exit 1
