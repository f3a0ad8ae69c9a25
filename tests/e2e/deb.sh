#!/bin/bash
# deb.sh NNC SRC WORK BUILD_DIR: `cpack -G DEB` in the build folder makes nnc_VERSION_ARCH.deb with
# nnc, the runtime, the stdlib, the header and the man pages under /usr, the Depends the README
# names; unpacked into a scratch root (dpkg -x), its nnc runs, finds its own stdlib and runtime,
# and builds a model that trains.
. "$(dirname "$0")/lib.sh"
BUILD=$1
command -v cpack >/dev/null && command -v dpkg-deb >/dev/null || { echo "skip: no cpack or dpkg-deb"; exit 77; }
(cd "$BUILD" && cpack -G DEB -B "$WORK/pkg") > cpack.log 2>&1 || { cat cpack.log; fail "cpack -G DEB failed"; }
deb=$(ls "$WORK"/pkg/nnc_*_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { cat cpack.log; fail "no nnc_*.deb in $WORK/pkg"; }
echo "package: $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $6}' > files.txt
for f in ./usr/bin/nnc ./usr/lib/nnc/libnnc_rt.a ./usr/share/nnc/stdlib/nn.nn ./usr/share/nnc/stdlib/optim.nn \
         ./usr/include/nnc/nnc_abi.h ./usr/share/man/man1/nnc.1 ./usr/share/man/man1/nnc-model.1; do
    grep -qx "$f" files.txt || { cat files.txt; fail "the package lacks $f"; }
done
grep -v '^\./usr/' files.txt | grep -v '^\./$' && fail "the package installs outside /usr"
[ "$(dpkg-deb -f "$deb" Package)" = nnc ] || fail "Package is not nnc"
dep=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $dep"
for p in libllvm14 libopenblas-dev zlib1g-dev libpng-dev c-compiler; do
    echo "$dep" | grep -q "$p" || fail "Depends lacks $p"
done
# oneDNN: the executables' convolutions open it at run time (runtime/conv_dnnl.c), recommended
dpkg-deb -f "$deb" Recommends | grep -q libdnnl2 || fail "Recommends lacks libdnnl2"
dpkg -x "$deb" root || fail "dpkg -x failed"
"$WORK/root/usr/bin/nnc" --version | grep -q "^nnc " || fail "the packaged nnc --version failed"
cp "$EX/xor_train.nn" "$EX/data/xor.csv" .
sed -i 's|"data/xor.csv"|"xor.csv"|' xor_train.nn
env -u NNC_STDLIB -u NNC_RUNTIME_LIB "$WORK/root/usr/bin/nnc" -v xor_train.nn -o xt 2> nnc.log || { cat nnc.log; fail "the packaged nnc failed to build a model"; }
grep -q "standard library: $WORK/root/usr/bin/../share/nnc/stdlib" nnc.log || { cat nnc.log; fail "the packaged nnc did not use its own stdlib"; }
./xt train --seed 1 > train.log || fail "the model built by the packaged nnc failed to train"
tail -n 1 train.log
echo "ok: Debian package"
