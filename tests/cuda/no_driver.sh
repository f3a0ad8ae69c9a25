#!/bin/sh
# tests/cuda/no_driver.sh NNC HAVE_CUDA EXAMPLES - a --target cuda executable on a machine without
# the CUDA driver: --help and summary work (they need no GPU); train, eval and predict stop with
# `NAME: error: no CUDA driver found: libcuda.so.1: ...` and exit 1; --device is checked.
nnc=$1 have=$2 ex=$3
if [ "$have" != ON ]; then
    echo "skipped: no CUDA toolkit (NVRTC) found at configure time"
    exit 77
fi
if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    echo "skipped: this machine has a CUDA driver (libcuda.so.1): tests/gpu/run.sh tests it"
    exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$nnc" "$ex/xor_train.nn" --target cuda --gpu-arch sm_80 -o "$tmp/xm" || exit 1
cd "$ex" || exit 1
"$tmp/xm" --help >/dev/null || { echo "FAIL: --help"; exit 1; }
"$tmp/xm" summary >/dev/null || { echo "FAIL: summary"; exit 1; }
for cmd in train eval predict; do
    LD_LIBRARY_PATH= "$tmp/xm" $cmd >"$tmp/out" 2>"$tmp/err"
    rc=$?
    want="xm: error: no CUDA driver found: libcuda.so.1: cannot open shared object file: No such file or directory"
    if [ $rc -ne 1 ] || [ "$(cat "$tmp/err")" != "$want" ]; then
        echo "FAIL: $cmd: exit $rc, stderr:"; cat "$tmp/err"; exit 1
    fi
done
"$tmp/xm" train --device x 2>"$tmp/err"
rc=$?
grep -q "^xm: error: --device 'x': not a GPU index" "$tmp/err" && [ $rc -eq 1 ] || { echo "FAIL: --device x"; cat "$tmp/err"; exit 1; }
echo "ok: $want"
