#!/bin/bash
# opt_levels.sh NNC SRC_DIR WORK_DIR NAME [DIR]: fusion and planning change no result at any LLVM
# optimisation level. The example trains for 2 epochs on 128 samples through the reference
# interpreter (`nnc run`) and compiled at -O0, -O1, -O2 and -O3; every epoch's loss must agree to
# 1e-4 relative (OpenBLAS and the vectorised loops sum in other orders than the interpreter).
. "$(dirname "$0")/../e2e/lib.sh"
name=$1
if [ -n "${2:-}" ]; then EX=$2; fi     # DIR: where NAME.nn is (default: examples/)
flags=(train --seed 1 --epochs 2 --limit 128 --threads 1)
"$NNC" run "$EX/$name.nn" -- "${flags[@]}" > interp.log 2>&1 ||
    { cat interp.log; fail "nnc run $name.nn -- ${flags[*]} exited with $?"; }
epoch_losses interp.log > interp.losses
[ "$(wc -l < interp.losses)" = 2 ] || { cat interp.log; fail "no epoch losses from the interpreter"; }
for o in 0 1 2 3; do
    "$NNC" -O$o "$EX/$name.nn" -o "$name.O$o" || fail "nnc -O$o $name.nn exited with $?"
    ./"$name.O$o" "${flags[@]}" > O$o.log 2>&1 || { cat O$o.log; fail "$name -O$o exited with $?"; }
    epoch_losses O$o.log > O$o.losses
    paste O$o.losses interp.losses | awk -v o=$o '{
        d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2
        if (!(d <= 1e-4 * (s > 1 ? s : 1))) { print "-O" o " epoch " NR ": " $1 " vs " $2; bad = 1 } }
        END { exit bad || NR != 2 }' || fail "-O$o and the interpreter differ"
done
echo "ok: $name: -O0..-O3 agree with the interpreter"
