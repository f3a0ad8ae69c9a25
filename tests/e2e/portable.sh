#!/bin/bash
# portable.sh NNC SRC WORK: `nnc --portable` builds an executable that runs in a clean environment
# (env -i) from another folder, with OpenBLAS and zlib linked in (ldd lists neither), code for
# x86-64-v3 (no AVX-512 register in the model's object), and says so in --version.
. "$(dirname "$0")/lib.sh"
cp "$EX/xor_train.nn" "$EX/data/xor.csv" .
sed -i 's|"data/xor.csv"|"xor.csv"|' xor_train.nn
"$NNC" --portable xor_train.nn -o xt || fail "nnc --portable exited with $?"
libs=$(ldd ./xt) || fail "ldd failed"
echo "$libs"
echo "$libs" | grep -E 'libopenblas|libz\.so|libgfortran|libquadmath' && fail "the portable executable still needs these shared libraries"
# the model's own code: x86-64-v3 (AVX2), so no zmm register even when this CPU has AVX-512
"$NNC" --portable -c xor_train.nn -o xt.o || fail "nnc --portable -c failed"
n=$(objdump -d xt.o | grep -c '%zmm')
[ "$n" -eq 0 ] || fail "the portable object uses $n AVX-512 (zmm) instructions"
mkdir -p elsewhere && cp xt xor.csv elsewhere/ && cd elsewhere || exit 1
env -i ./xt train --seed 1 --epochs 300 > train.log 2>&1 || { cat train.log; fail "the portable executable failed in env -i"; }
tail -n 1 train.log
env -i ./xt --version | grep -q "for x86-64-v3, portable" || fail "--version does not say portable: $(./xt --version)"
echo "ok: portable executable"
