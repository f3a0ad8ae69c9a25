#!/bin/sh
# tests/cuda/ptx.sh NNC PTXAS HAVE_CUDA MODEL.nn [NNC-FLAGS...] - every kernel of MODEL compiles
# through NVRTC (nnc --emit ptx FLAGS) and assembles with ptxas, for sm_80 and sm_90. With
# `--precision bf16` the PTX must hold the bf16 conversions (cvt.rn.bf16.f32). Exit 77 (skipped)
# without the CUDA toolkit.
nnc=$1 ptxas=$2 have=$3 model=$4
shift 4
if [ "$have" != ON ]; then
    echo "skipped: no CUDA toolkit (NVRTC, ptxas) found at configure time"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for arch in sm_80 sm_90; do
    "$nnc" "$model" --emit ptx --gpu-arch $arch "$@" -o "$tmp/m.ptx" || { echo "FAIL: nnc --emit ptx $arch $*"; exit 1; }
    case " $* " in *" bf16 "*)
        grep -q "cvt.rn.bf16.f32" "$tmp/m.ptx" || { echo "FAIL: --precision bf16 and no bf16 conversion in the PTX"; exit 1; } ;;
    esac
    grep -q "^.target $arch" "$tmp/m.ptx" || { echo "FAIL: the PTX is not for $arch"; exit 1; }
    n=$(grep -c "^.visible .entry" "$tmp/m.ptx")
    [ "$n" -gt 0 ] || { echo "FAIL: no kernels in the PTX"; exit 1; }
    "$ptxas" -arch=$arch "$tmp/m.ptx" -o "$tmp/m.cubin" || { echo "FAIL: ptxas -arch=$arch"; exit 1; }
    echo "$arch: $n kernels, NVRTC + ptxas ok${*:+ ($*)}"
done
