#!/bin/bash
# Every example compiles to an executable, each within E2E_COMPILE_LIMIT seconds (default 30;
# about one second on an idle machine: the bound is loose because test machines are shared and
# sanitizer builds are slow), and the executable describes itself (`summary`).
. "$(dirname "$0")/lib.sh"
for f in "$EX"/*.nn; do
    name=$(basename "$f" .nn)
    start=$(date +%s.%N)
    compile "$name"
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
    echo "compiled $name in ${secs}s"
    check "$secs" lt "${E2E_COMPILE_LIMIT:-30}" "compile time of $name"
    ./"$name" summary > "$name.summary" || fail "$name summary exited with $?"
    grep -q "^model $name" "$name.summary" || fail "$name summary does not name the model"
done
