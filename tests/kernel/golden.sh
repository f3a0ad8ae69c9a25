#!/bin/sh
# golden.sh NNC EXAMPLES GOLDEN [--update] - every example's kernel count per graph, in-place
# updates and planned bytes (nnc --emit plan), against the golden file: a change in fusion or
# placement shows up as a diff to review (and --update to accept).
nnc=$1 ex=$2 golden=$3
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
for f in "$ex"/*.nn; do
    echo "== $(basename "$f")"
    "$nnc" --emit plan "$f" | grep -E '^(plan |total |  updates:)' || { echo "nnc --emit plan $f failed"; exit 1; }
done > "$out" || { cat "$out"; exit 1; }
if [ "$4" = --update ]; then cp "$out" "$golden"; exit 0; fi
diff -u "$golden" "$out"
