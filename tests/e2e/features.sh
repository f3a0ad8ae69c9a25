#!/bin/bash
# features.sh MODEL: tests/e2e/features/MODEL.nn compiles, its parameters and optimizer states get
# the names docs/language.md [layer.naming] and [optimizer] give them (listed in
# features/MODEL.names), its compiled training equals the interpreter's on every loss of every
# epoch, and the first loss falls.
. "$(dirname "$0")/lib.sh"
name=$1
FEAT=$SRC/tests/e2e/features
awk 'BEGIN { srand(7); print "a,b,c,d,y"
             for (i = 0; i < 64; i++) { a = rand(); b = rand(); c = rand(); d = rand()
                                        printf "%.4f,%.4f,%.4f,%.4f,%.4f\n", a, b, c, d, a + 2 * b - c * d } }' > multi.csv
"$NNC" "$FEAT/$name.nn" -o "$name" || fail "nnc $name.nn exited with $?"
"$NNC" "$FEAT/$name.nn" --emit ir > "$name.ir" || fail "nnc --emit ir exited with $?"
# every expected `tensor ROLE NAME` (and `frozen` where listed) is in the module
# (a line `! ROLE NAME` says that tensor must not exist)
while read -r role tname frozen; do
    [ -z "$role" ] || [ "${role#\#}" != "$role" ] && continue
    if [ "$role" = "!" ]; then
        grep -Eq "^tensor $tname [0-9]+ $frozen " "$name.ir" && fail "there should be no $tname tensor '$frozen'"
        continue
    fi
    grep -Eq "^tensor $role [0-9]+ $tname f32.*${frozen:+ frozen}\$" "$name.ir" ||
        { grep "^tensor" "$name.ir"; fail "no $role tensor '$tname'${frozen:+ (frozen)}"; }
done < "$FEAT/$name.names"
echo "ok: tensor names"
./"$name" train --seed 1 > exe.log 2>&1 || { cat exe.log; fail "$name train exited with $?"; }
"$NNC" run "$FEAT/$name.nn" -- train --seed 1 > interp.log 2>&1 || { cat interp.log; fail "nnc run exited with $?"; }
cat exe.log
# the numbers of each epoch line before its timing (losses and metrics)
nums() { sed -n 's/^epoch [0-9/]*: *//p' "$1" | sed 's/ *[0-9.]*s .*//'; }
nums exe.log > exe.nums
nums interp.log > interp.nums
[ -s exe.nums ] || fail "no epoch lines"
paste -d'|' exe.nums interp.nums | awk -F'|' '{
    n = split($1, a, " +"); m = split($2, b, " +"); if (n != m) { print "line " NR ": " $0; bad = 1 }
    for (i = 1; i <= n; i++) if (a[i] ~ /^[-0-9]/) { d = a[i] - b[i]; if (d < 0) d = -d
        s = b[i] < 0 ? -b[i] : b[i]; if (!(d <= 1e-4 * (s > 1 ? s : 1))) { print "epoch " NR ": " a[i] " vs " b[i]; bad = 1 } } }
    END { exit bad }' || fail "executable and interpreter differ"
echo "ok: executable and interpreter agree"
first=$(head -n 1 exe.nums | awk '{ print $2 }') last=$(tail -n 1 exe.nums | awk '{ print $2 }')
check "$last" lt "$first" "last epoch's first loss (first epoch: $first)"
