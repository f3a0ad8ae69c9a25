#!/bin/bash
# install.sh NNC SRC WORK BUILD_DIR: an installed nnc (cmake --install into a fresh prefix) finds
# its standard library (PREFIX/share/nnc/stdlib) and runtime (PREFIX/lib/nnc/libnnc_rt.a)
# relative to itself, with no help from the build or source tree, and builds a working model.
. "$(dirname "$0")/lib.sh"
BUILD=$1
cmake --install "$BUILD" --prefix "$WORK/prefix" > install.log 2>&1 || { cat install.log; fail "cmake --install failed"; }
P=$WORK/prefix
[ -x "$P/bin/nnc" ] && [ -f "$P/lib/nnc/libnnc_rt.a" ] && [ -f "$P/share/nnc/stdlib/nn.nn" ] ||
    fail "the install is missing bin/nnc, lib/nnc/libnnc_rt.a or share/nnc/stdlib/nn.nn"
cp "$EX/xor_train.nn" "$EX/data/xor.csv" .
sed -i 's|"data/xor.csv"|"xor.csv"|' xor_train.nn
env -u NNC_STDLIB -u NNC_RUNTIME_LIB "$P/bin/nnc" -v xor_train.nn -o xt 2> nnc.log || { cat nnc.log; fail "the installed nnc failed"; }
grep "standard library\|link:" nnc.log
grep -q "standard library: $P/bin/../share/nnc/stdlib" nnc.log || fail "the installed nnc did not use its own stdlib"
grep -q "$P/bin/../lib/nnc/libnnc_rt.a" nnc.log || fail "the installed nnc did not link its own runtime"
./xt train --seed 1 > train.log || fail "the model built by the installed nnc failed to train"
tail -n 1 train.log
echo "ok: installed nnc works"
