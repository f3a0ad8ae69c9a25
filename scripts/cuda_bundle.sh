#!/bin/sh
# scripts/cuda_bundle.sh OUTDIR EXE... - a folder that runs `nnc --target cuda` executables on a
# machine without this one's libraries (a GPU machine without LLVM, OpenBLAS or a package
# registry): each EXE and every shared library ldd shows it needs, except the C library's own
# (libc, libm, libpthread, libdl, librt, the dynamic loader: the target's glibc, which must be at
# least this machine's version, serves those). CUDA executables are linked with rpath $ORIGIN, so
# they find the copies beside them; the driver (libcuda.so.1) and cuBLAS are the GPU machine's
# (runtime/cuda.c opens them at run time; $NNC_CUBLAS names a cuBLAS off the library path).
set -e
[ $# -ge 2 ] || { echo "usage: $0 OUTDIR EXE..." >&2; exit 2; }
out=$1
shift
mkdir -p "$out"
for exe in "$@"; do
    [ "$(cd "$(dirname "$exe")" && pwd)" = "$(cd "$out" && pwd)" ] || cp "$exe" "$out/"
    ldd "$exe" | awk '/=> \// { print $3 }' | while read -r lib; do
        case $(basename "$lib") in
        libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
        *) [ -e "$out/$(basename "$lib")" ] || cp -L "$lib" "$out/" ;;
        esac
    done
done
ls "$out"
