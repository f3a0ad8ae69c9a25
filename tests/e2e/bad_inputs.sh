#!/bin/bash
# Bad inputs of every kind give a clear message and exit status 1, and lose no file:
# a malformed program and a shape error (nnc: file:line:col: error, existing output untouched),
# a missing data file and a corrupt weights file (the executable: NAME: error: ...).
. "$(dirname "$0")/lib.sh"
BAD=$(dirname "$0")/bad
[ "${BAD#/}" != "$BAD" ] || BAD=$OLDPWD/$BAD


for case in malformed shape max_batch; do
    echo "precious $case" > "$case.out"
    expect_fail "$case.nn" "$case\.nn:[0-9]+:[0-9]+: error: " "$NNC" "$BAD/$case.nn" -o "$case.out"
    [ "$(cat "$case.out")" = "precious $case" ] || fail "$case.nn: the existing output file was changed"
    ls | grep -q "$case.out.*tmp\|nnc-" && fail "$case.nn: a temporary file was left behind"
done
echo "ok: outputs untouched"

# a stdlib assert [builtin.assert]: the message, and a note at the user's call, from check and build
for cmd in check build; do
    if [ $cmd = check ]; then set -- "$NNC" check "$BAD/dropout_rate.nn"; else set -- "$NNC" "$BAD/dropout_rate.nn" -o dr; fi
    expect_fail "dropout rate ($cmd)" "nn\.nn:[0-9]+:[0-9]+: error: dropout's rate must be at least 0 and below 1" "$@"
    grep -Eq "dropout_rate\.nn:7:7: note: in this call of dropout" err.log || fail "dropout rate ($cmd): no note at the call"
done
[ -e dr ] && fail "dropout rate: an executable was written"

# a good compile over an existing file replaces it atomically, and leaves no temporary behind
"$NNC" "$BAD/missing_data.nn" -o missing_data || fail "missing_data.nn does not compile"
ls | grep -q "nnc-\|\.tmp" && fail "a temporary file was left behind"
expect_fail "missing data file" "missing_data: error: .*no_such_file\.csv" ./missing_data train

compile xor
printf 'not a safetensors file' > corrupt.safetensors
printf 'a,b\n0,1\n' > one.csv
expect_fail "corrupt weights file" "xor: error: .*corrupt\.safetensors" ./xor predict --weights corrupt.safetensors one.csv
expect_fail "missing weights file" "xor: error: .*nowhere\.safetensors" ./xor predict --weights nowhere.safetensors one.csv
