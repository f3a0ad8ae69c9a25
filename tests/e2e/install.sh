#!/bin/bash
# install.sh NNC SRC WORK BUILD_DIR: an installed nnc (cmake --install into a fresh prefix) finds
# its standard library (PREFIX/share/nnc/stdlib) and runtime (PREFIX/lib/nnc/libnnc_rt.a)
# relative to itself, with no help from the build or source tree, and builds a working model;
# the man pages are installed and render; a staged install (DESTDIR) puts everything under the
# prefix inside DESTDIR; `--version` of nnc and of the model (its source's SHA-256).
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
# --version: nnc's, and the model's with the hash of the source it was compiled from
"$P/bin/nnc" --version | grep -q "^nnc [0-9][0-9.]* (LLVM " || fail "nnc --version: $("$P/bin/nnc" --version)"
./xt --version > version.txt || fail "./xt --version exited non-zero"
cat version.txt
hash=$(sha256sum xor_train.nn | cut -d' ' -f1)
grep -q "^model xor_train from xor_train.nn (sha256 $hash)$" version.txt || fail "./xt --version does not give the source's sha256 $hash"
grep -q "^compiled by nnc [0-9.]* (LLVM [0-9.]*) for " version.txt || fail "./xt --version does not name the nnc that compiled it"
echo "# changed" >> xor_train.nn
env -u NNC_STDLIB -u NNC_RUNTIME_LIB "$P/bin/nnc" xor_train.nn -o xt2 || fail "rebuild failed"
./xt2 --version | grep -q "$hash" && fail "the hash did not change with the source"
# the man pages
for m in nnc nnc-model; do
    [ -f "$P/share/man/man1/$m.1" ] || fail "man page $m.1 not installed"
    if command -v man >/dev/null; then
        MANWIDTH=80 man -l "$P/share/man/man1/$m.1" 2>/dev/null | grep -q "^NAME" || fail "man -l $m.1 does not render"
    fi
done
grep -qF '\-\-portable' "$P/share/man/man1/nnc.1" || fail "nnc.1 does not document --portable"
grep -qF '\-\-version' "$P/share/man/man1/nnc-model.1" || fail "nnc-model.1 does not document --version"
# a staged install: DESTDIR=D puts PREFIX's tree under D, nothing elsewhere
DESTDIR="$WORK/stage" cmake --install "$BUILD" --prefix /usr/local > stage.log 2>&1 || { cat stage.log; fail "DESTDIR install failed"; }
for f in bin/nnc lib/nnc/libnnc_rt.a share/nnc/stdlib/nn.nn share/man/man1/nnc.1 share/man/man1/nnc-model.1 include/nnc/nnc_abi.h; do
    [ -e "$WORK/stage/usr/local/$f" ] || fail "DESTDIR install lacks usr/local/$f"
done
[ "$(ls "$WORK/stage")" = usr ] || fail "DESTDIR install wrote outside the prefix: $(ls "$WORK/stage")"
"$WORK/stage/usr/local/bin/nnc" --version > /dev/null || fail "the staged nnc does not run"
echo "ok: installed nnc works"
