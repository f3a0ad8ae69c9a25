#!/bin/bash
# Every example compiles to an executable, each within E2E_COMPILE_LIMIT seconds of CPU time
# (nnc's and the linker's, user + system; default 30; one to three seconds on this machine: the
# bound is loose because sanitizer builds are slow; CPU time rather than wall time, so that a
# machine shared with other builds does not fail it), and the executable describes itself
# (`summary`).
. "$(dirname "$0")/lib.sh"
for f in "$EX"/*.nn; do
    name=$(basename "$f" .nn)
    start=$(date +%s.%N)
    /usr/bin/time -o cpu.txt -f "%U %S" "$NNC" "$EX/$name.nn" -o "$name" || fail "nnc $name.nn exited with $?"
    [ -x "$name" ] || fail "nnc $name.nn made no executable"
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    cpu=$(awk 'END { printf "%.2f", $1 + $2 }' cpu.txt)
    echo "compiled $name in ${secs}s (${cpu}s of CPU)"
    check "$cpu" lt "${E2E_COMPILE_LIMIT:-30}" "compile CPU time of $name"
    ./"$name" summary > "$name.summary" || fail "$name summary exited with $?"
    grep -q "^model $name" "$name.summary" || fail "$name summary does not name the model"
done
