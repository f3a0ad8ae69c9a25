#!/bin/sh
# tests/cuda/bundle.sh NNC HAVE_CUDA BUNDLE_SH EXAMPLES - scripts/cuda_bundle.sh on a --target cuda
# executable: the folder holds its libraries, the executable resolves them there (rpath $ORIGIN),
# and it runs --help and summary under `env -i` (no PATH, no LD_LIBRARY_PATH).
nnc=$1 have=$2 bundle=$3 ex=$4
if [ "$have" != ON ]; then
    echo "skipped: no CUDA toolkit (NVRTC) found at configure time"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$nnc" "$ex/xor_train.nn" --target cuda --gpu-arch sm_80 -o "$tmp/xm" || exit 1
sh "$bundle" "$tmp/b" "$tmp/xm" >/dev/null || { echo "FAIL: cuda_bundle.sh"; exit 1; }
ls "$tmp/b"/libopenblas.so* >/dev/null 2>&1 || { echo "FAIL: OpenBLAS not copied"; ls "$tmp/b"; exit 1; }
ldd "$tmp/b/xm" | grep openblas | grep -q "$tmp/b/" || { echo "FAIL: the bundle's OpenBLAS is not the one used:"; ldd "$tmp/b/xm"; exit 1; }
(cd "$tmp/b" && env -i ./xm --help >/dev/null) || { echo "FAIL: env -i ./xm --help"; exit 1; }
(cd "$ex" && env -i "$tmp/b/xm" summary >/dev/null) || { echo "FAIL: env -i ./xm summary"; exit 1; }
echo "ok: $(ls "$tmp/b" | tr '\n' ' ')"
