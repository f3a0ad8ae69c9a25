#!/bin/bash
# interp_vs_exe.sh NAME: the compiled executable's training equals the reference interpreter's
# (`nnc run`): same seed, same data -> the same loss after every epoch, to 1e-4 relative.
. "$(dirname "$0")/lib.sh"
name=$1
compile "$name"
flags=(train --seed 1 --epochs 2 --limit 256)
./"$name" "${flags[@]}" > exe.log 2>&1 || { cat exe.log; fail "$name ${flags[*]} exited with $?"; }
"$NNC" run "$EX/$name.nn" -- "${flags[@]}" > interp.log 2>&1 ||
    { cat interp.log; fail "nnc run $name.nn -- ${flags[*]} exited with $?"; }
epoch_losses exe.log > exe.losses
epoch_losses interp.log > interp.losses
[ -s exe.losses ] || { cat exe.log; fail "no epoch losses in the executable's output"; }
paste exe.losses interp.losses
[ "$(wc -l < exe.losses)" = "$(wc -l < interp.losses)" ] || fail "different numbers of epochs"
paste exe.losses interp.losses | awk '{
    d = $1 - $2; if (d < 0) d = -d; s = $2 < 0 ? -$2 : $2
    if (!(d <= 1e-4 * (s > 1 ? s : 1))) { print "epoch " NR ": " $1 " vs " $2; bad = 1 } }
    END { exit bad }' || fail "executable and interpreter losses differ"
echo "ok: $name: executable and interpreter agree on $(wc -l < exe.losses) epochs"
