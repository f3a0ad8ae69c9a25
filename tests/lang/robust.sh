#!/bin/sh
# robust.sh - nnc must answer any input with diagnostics and exit status 1: never a crash, a hang,
# or a sanitizer report. Feeds binary garbage, invalid UTF-8, files cut in the middle of a string or
# a number, nesting 10,000 deep, huge numbers, very long lines, a missing file and a directory.
#
#   tests/lang/robust.sh NNC          (ctest passes the nnc it built)
#
# With NNC_SANITIZE set to the path of an nnc built with -DNNC_SANITIZE=ON, that one is tested
# instead. Big inputs are generated under a temporary folder and removed at the end.
set -u
NNC=${NNC_SANITIZE:-${1:?usage: robust.sh NNC}}
[ -x "$NNC" ] || { echo "robust.sh: '$NNC' is not an executable" >&2; exit 2; }
T=$(mktemp -d "${TMPDIR:-/tmp}/nnc-robust.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
export NO_COLOR=1
fails=0
n=0

# expect NAME PATTERN COUNT FILE: `nnc check FILE` exits 1 within 60 s, stderr matches PATTERN
# (COUNT times, or any number for `any`), stdout is empty, and there is no sanitizer report.
# expect_args NAME PATTERN COUNT ARGS...: the same for `nnc ARGS...`.
expect() {
    name=$1 pat=$2 count=$3 file=$4
    expect_args "$name" "$pat" "$count" check "$file"
}
expect_args() {
    name=$1 pat=$2 count=$3
    shift 3
    n=$((n + 1))
    timeout 60 "$NNC" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    got=$(grep -c -e "$pat" "$T/err")
    why=""
    [ $rc -eq 124 ] && why="timed out"
    [ -z "$why" ] && [ $rc -ne 1 ] && why="exit status $rc, expected 1"
    [ -z "$why" ] && [ "$got" -eq 0 ] && why="no diagnostic matching '$pat'"
    [ -z "$why" ] && [ "$count" != any ] && [ "$got" -ne "$count" ] && why="'$pat' printed $got times, expected $count"
    grep -q -e "AddressSanitizer" -e "LeakSanitizer" -e "runtime error:" "$T/err" && why="sanitizer report"
    [ -s "$T/out" ] && why="unexpected output on stdout"
    if [ -n "$why" ]; then
        echo "FAIL $name: $why"
        head -c 2000 "$T/err" | sed 's/^/    /'
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}

# -- bytes that are not a program
for seed in 1 2 3 4 5; do
    head -c 65536 /dev/urandom >"$T/garbage$seed.nn"
    expect "binary garbage #$seed" ': error: ' any "$T/garbage$seed.nn"
done
printf 'model m {\n  x = "a\377b"\n  y = \303\251\n}\n' >"$T/utf8.nn"
expect "invalid UTF-8 in a string" 'invalid UTF-8 byte 0xFF' 1 "$T/utf8.nn"
expect "non-ASCII outside strings" 'non-ASCII character U+00E9' 1 "$T/utf8.nn"
printf '# \300\257 overlong\nmodel m { }\n' >"$T/utf8c.nn"
expect "invalid UTF-8 in a comment" 'invalid UTF-8 byte 0xC0' 1 "$T/utf8c.nn"
printf 'mo\000del m {\000}\n' >"$T/nul.nn"
expect "NUL bytes" 'invalid character 0x00' any "$T/nul.nn"
printf 'model m {\n  x = "no end' >"$T/midstring.nn"
expect "end of file in a string" 'unterminated string literal at end of file' 1 "$T/midstring.nn"
printf 'model m {\n  x = 1.5e' >"$T/midnumber.nn"
expect "end of file in a number" "invalid suffix 'e'" 1 "$T/midnumber.nn"

# -- nesting 10,000 deep: one error, no stack overflow
deep() { awk -v n=10000 -v o="$1" -v c="$2" 'BEGIN { s = ""; for (i = 0; i < n; i++) s = s o; printf "model m {\n  x = %s1", s; s = ""; for (i = 0; i < n; i++) s = s c; printf "%s\n}\n", s }'; }
deep '(' ')' >"$T/parens.nn"
expect "10,000 parentheses" 'nesting too deep' 1 "$T/parens.nn"
deep '[' ']' >"$T/brackets.nn"
expect "10,000 brackets" 'nesting too deep' 1 "$T/brackets.nn"
deep '-' '' >"$T/minus.nn"
expect "10,000 unary minus" 'nesting too deep' 1 "$T/minus.nn"
deep 'f(' ')' >"$T/calls.nn"
expect "10,000 nested calls" 'nesting too deep' 1 "$T/calls.nn"
awk 'BEGIN { printf "fn f() {\n"; for (i = 0; i < 10000; i++) printf "for i in 0..1 {\n"; for (i = 0; i < 10000; i++) printf "}\n"; printf "}\n" }' >"$T/blocks.nn"
expect "10,000 nested blocks" 'nesting too deep' 1 "$T/blocks.nn"
awk 'BEGIN { printf "model m {\n  x = a"; for (i = 0; i < 100000; i++) printf " + a"; printf "\n}\n" }' >"$T/chain.nn"
expect "100,000-term sum" 'nesting too deep' 1 "$T/chain.nn"

# -- huge literals: each reported once, in linear time
{ printf 'model m {\n  x = '; yes 9 | tr -d '\n' | head -c 15000000; printf '\n}\n'; } >"$T/bignum.nn"
expect "15 MB integer" 'integer literal too large' 1 "$T/bignum.nn"
{ printf 'model m {\n  x = 1e'; yes 9 | tr -d '\n' | head -c 15000000; printf '\n}\n'; } >"$T/bigexp.nn"
expect "15 MB exponent" 'real literal out of range' 1 "$T/bigexp.nn"
{ yes 9 | tr -d '\n' | head -c 100000000; } >"$T/100mb.nn"
expect "100 MB number (over the size limit)" 'is too large' 1 "$T/100mb.nn"
rm -f "$T/100mb.nn"
truncate -s 1G "$T/1gb.nn" 2>/dev/null && expect "1 GB file (sparse)" 'is too large' 1 "$T/1gb.nn"
rm -f "$T/1gb.nn"

# -- very long lines
{ printf 'model m {\n  x = '; yes 'a +' | tr -d '\n' | head -c 6000000; printf ' a\n}\n'; } >"$T/longline.nn"
expect "6 MB line of tokens" 'too many tokens' 1 "$T/longline.nn"
{ printf 'model m {\n  # '; yes 'comment' | tr -d '\n' | head -c 10000000; printf '\n  x = $\n}\n'; } >"$T/longcomment.nn"
expect "10 MB comment, then an error" "unexpected character '\\$'" 1 "$T/longcomment.nn"
{ printf 'model m {\n  x = '; yes 'b' | tr -d '\n' | head -c 10000000; printf ' $\n}\n'; } >"$T/longident.nn"
expect "10 MB identifier, then an error" "unexpected character '\\$'" 1 "$T/longident.nn"

# -- many errors: at most 20 are printed, then one "too many errors"
awk 'BEGIN { printf "model m {\n"; for (i = 0; i < 200; i++) printf "  x = )\n"; printf "}\n" }' >"$T/many.nn"
expect "200 syntax errors (20 shown)" 'many.nn:[0-9]*:[0-9]*: error: ' 20 "$T/many.nn"
expect "200 syntax errors (one 'too many')" 'too many errors' 1 "$T/many.nn"

# -- files that cannot be read
expect "missing file" "cannot open '$T/missing.nn': No such file or directory" 1 "$T/missing.nn"
mkdir "$T/dir.nn"
expect "a directory" 'is a directory' 1 "$T/dir.nn"
printf 'model m { }\n' >"$T/unreadable.nn"
chmod 000 "$T/unreadable.nn"
if [ ! -r "$T/unreadable.nn" ]; then   # root reads anything: skip there
    expect "an unreadable file" "cannot open '.*': Permission denied" 1 "$T/unreadable.nn"
fi
printf 'use no_such_module\n' >"$T/use.nn"
expect "a missing module" "module 'no_such_module' not found" 1 "$T/use.nn"

# -- the command line
expect_args "unknown option" "unknown option '--emti'" 1 --emti "$T/use.nn"
expect_args "unknown option, with a suggestion" "did you mean '--emit'" 1 --emti "$T/use.nn"
expect_args "unknown --emit kind" "unknown --emit kind 'asm'" 1 --emit asm "$T/use.nn"
expect_args "no input file" 'no input file' 1 -O1
expect_args "option without its value" "option '-o' needs a value" 1 "$T/use.nn" -o
expect_args "two input files" 'more than one input file' 1 "$T/use.nn" "$T/use.nn"

echo "$((n - fails))/$n passed"
[ $fails -eq 0 ]
