#!/bin/sh
# fmt.sh - nnc fmt (lang/fmt.c): for every .nn of the repository that parses, the formatted text
# parses to the same tree (nnc --emit ast, positions aside), keeps every comment, and is a fixed
# point (formatting it again changes nothing); a messy program comes out in the canonical layout
# (a golden below); -w rewrites in place and never loses the file; --check lists what differs.
# usage: fmt.sh NNC SOURCE_DIR
set -u
NNC=$1 SRC=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnc-fmt.XXXXXX") || exit 2
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT INT TERM
fail=0
bad() { echo "FAIL: $*"; fail=1; }
strip() { sed -E 's/[0-9]+:[0-9]+/@/g; s/([^ ]) +/\1/g'; }
# fmt_is NAME WHAT: `nnc fmt $tmp/NAME.nn` prints $tmp/NAME.want (else WHAT and the diff, want then got)
fmt_is() {
    "$NNC" fmt "$tmp/$1.nn" >"$tmp/$1.got" || bad "nnc fmt $1.nn failed"
    cmp -s "$tmp/$1.want" "$tmp/$1.got" || { bad "$2 (want, got):"; diff "$tmp/$1.want" "$tmp/$1.got"; }
}
# pairs NAME: stdin's lines in pairs, '<' before a line of a program, '>' before the line nnc fmt
# makes of it: the program to $tmp/NAME.nn, its layout to $tmp/NAME.want
pairs() {
    cat >"$tmp/$1.pairs"
    sed -n 's/^< //p' "$tmp/$1.pairs" >"$tmp/$1.nn"
    sed -n 's/^> //p' "$tmp/$1.pairs" >"$tmp/$1.want"
}

# every program of the repository: copied, formatted in place in one run (nnc fmt checks each
# result parses to the same tree before writing it), then checked from outside
mkdir "$tmp/all"
n=0
for f in "$SRC"/stdlib/*.nn "$SRC"/examples/*.nn "$SRC"/examples/*/*.nn "$SRC"/tests/*/*.nn "$SRC"/tests/*/*/*.nn; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    cp "$f" "$tmp/all/$n.nn"
    echo "$f" >"$tmp/all/$n.name"
done
"$NNC" fmt -w "$tmp"/all/*.nn 2>"$tmp/err"
grep 'internal error' "$tmp/err" && bad "nnc fmt would have changed a program's meaning"
grep -o "^$tmp/all/[0-9]*\.nn" "$tmp/err" | sort -u >"$tmp/unparsed"
ok=0 orig="" copies=""
for i in $(seq 1 $n); do
    grep -qx "$tmp/all/$i.nn" "$tmp/unparsed" && continue
    ok=$((ok + 1))
    orig="$orig $(cat "$tmp/all/$i.name")" copies="$copies $tmp/all/$i.nn"
done
# every comment kept, verbatim and in order (the paths have no spaces: tests/ and examples/ names)
grep -ho '#.*$' $orig | sed 's/[[:space:]]*$//' >"$tmp/a"
grep -ho '#.*$' $copies | sed 's/[[:space:]]*$//' >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" || { bad "fmt loses or changes comments:"; diff "$tmp/a" "$tmp/b" | head; }
[ $ok -ge 200 ] || bad "only $ok of $n programs formatted (expected the stdlib, examples and tests)"
"$NNC" fmt --check "$tmp"/all/*.nn >"$tmp/out" 2>/dev/null
[ -s "$tmp/out" ] && { bad "fmt is not idempotent on:"; cat "$tmp/out"; }
# the tree, compared from outside, for the stdlib and the examples (positions and the spacing of
# a dimension form's text aside)
for i in $(seq 1 $n); do
    f=$(cat "$tmp/all/$i.name")
    case $f in "$SRC"/stdlib/*|"$SRC"/examples/*) ;; *) continue ;; esac
    "$NNC" --emit ast "$f" | strip >"$tmp/a"
    "$NNC" --emit ast "$tmp/all/$i.nn" | strip >"$tmp/b"
    [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" || { bad "fmt changes the tree of $f:"; diff "$tmp/a" "$tmp/b" | head -20; }
done
echo "ok: $ok programs of $n formatted, keeping their tree and comments, and fixed points"

# the canonical layout, from a messy program
cat >"$tmp/messy.nn" <<'NN'


use nn
# a layer
layer   block( x : f32[ B , K ] ,units:N,
  act:fn=relu )->f32[B,N]{
      param W:f32[K,N]=glorot_uniform   # weights
  param b :f32[N] = zeros
    h=act( x@W+b )
  y2 = -h [ : , 0 : 2 ]  # a slice
  -y2*2
}



model  m {
input x:f32[B,4]
   target label:i32[B]
  h = block(x,8)
  logits=dense(h,3)   # three classes
  output probs=softmax(logits)
  loss cross_entropy(logits,label)
  train {
    data csv("d.csv",label="label")
  optimizer adam(lr=1e-3)
    batch 8 epochs 2 metrics accuracy
  }
}
NN
cat >"$tmp/want.nn" <<'NN'
use nn
# a layer
layer block(x: f32[B, K], units: N,
            act: fn = relu) -> f32[B, N] {
  param W: f32[K, N] = glorot_uniform  # weights
  param b: f32[N] = zeros
  h  = act(x @ W + b)
  y2 = -h[:, 0:2]                      # a slice
  -y2 * 2
}

model m {
  input  x: f32[B, 4]
  target label: i32[B]
  h      = block(x, 8)
  logits = dense(h, 3)  # three classes
  output probs = softmax(logits)
  loss   cross_entropy(logits, label)
  train {
    data      csv("d.csv", label = "label")
    optimizer adam(lr = 1e-3)
    batch 8  epochs 2  metrics accuracy
  }
}
NN
"$NNC" fmt "$tmp/messy.nn" >"$tmp/got.nn" || bad "nnc fmt messy.nn failed"
cmp -s "$tmp/want.nn" "$tmp/got.nn" || { bad "the canonical layout differs (want, got):"; diff "$tmp/want.nn" "$tmp/got.nn"; }

# a closing brace on a statement's line goes on a line of its own, and a statement after an opening
# brace whose block goes on goes to the next line (the indentation shows the nesting); a block opened and closed on one line stays as written; the comment stays with the
# statement
printf 'fn f(x: f32[B]) -> f32[B] { x }\nmodel m {\n  input x: f32[B, 2]\n  train {\n    data csv("a.csv")\n    batch 2 }\n  output y = f(x[:, 0]) }  # c\n' >"$tmp/brace.nn"
printf 'fn f(x: f32[B]) -> f32[B] { x }\nmodel m {\n  input x: f32[B, 2]\n  train {\n    data csv("a.csv")\n    batch 2\n  }\n  output y = f(x[:, 0])  # c\n}\n' >"$tmp/brace.want"
printf 'model n { input x: f32[B, 2]  # c\n  output y = x\n}\nfn g(x: f32[B]) -> f32[B] { x }\n' >>"$tmp/brace.nn"
printf 'model n {\n  input  x: f32[B, 2]    # c\n  output y = x\n}\nfn g(x: f32[B]) -> f32[B] { x }\n' >>"$tmp/brace.want"
fmt_is brace "closing braces on a statement's line"

# several results [fn.results]: `-> (T, U)`, `return (a, b)`, a last expression `a, b`, and a
# destructuring binding, whose names align with the bindings around it like one name
pairs results <<'NN'
< layer enc( x:f32[B,K],latent:L )->(f32[B,L],f32[B,L]) {
> layer enc(x: f32[B, K], latent: L) -> (f32[B, L], f32[B, L]) {
<   return(x[:,0:latent],x[:,0:latent]*2)
>   return (x[:, 0:latent], x[:, 0:latent] * 2)
< }
> }
< fn halves(x:f32[B,2*N]){ x[:,0:N],x[:,N:] }
> fn halves(x: f32[B, 2 * N]) { x[:, 0:N], x[:, N:] }
< model m {
> model m {
<   input x:f32[B,4]
>   input x: f32[B, 4]
<   h=x
>   h          = x
<   mu ,logvar=enc( h,2 )
>   mu, logvar = enc(h, 2)
<   (a,_) = halves(x)
>   (a, _)     = halves(x)
<   output y=mu+logvar+a
>   output y = mu + logvar + a
< }
> }
NN
fmt_is results "several results' layout"
"$NNC" fmt --check "$tmp/results.want" >/dev/null || bad "the layout of several results is not a fixed point"

# --check: lists the files that differ, exit 1; 0 when all are formatted
cp "$tmp/want.nn" "$tmp/ok.nn"
"$NNC" fmt --check "$tmp/ok.nn" >"$tmp/out" || bad "--check on a formatted file exited non-zero"
[ -s "$tmp/out" ] && bad "--check printed something for a formatted file"
"$NNC" fmt --check "$tmp/ok.nn" "$tmp/messy.nn" >"$tmp/out"
[ $? -eq 1 ] || bad "--check with an unformatted file did not exit 1"
[ "$(cat "$tmp/out")" = "$tmp/messy.nn" ] || bad "--check listed '$(cat "$tmp/out")', want $tmp/messy.nn"

# -w: rewrites in place, keeps the mode, leaves no temporary file; nothing to do on a formatted file
cp "$tmp/messy.nn" "$tmp/w.nn"; chmod 640 "$tmp/w.nn"
"$NNC" fmt -w "$tmp/w.nn" || bad "fmt -w failed"
cmp -s "$tmp/w.nn" "$tmp/want.nn" || bad "fmt -w did not write the canonical layout"
[ "$(stat -c %a "$tmp/w.nn")" = 640 ] || bad "fmt -w changed the mode to $(stat -c %a "$tmp/w.nn")"
ls "$tmp" | grep -q 'fmt-' && bad "fmt -w left a temporary file: $(ls "$tmp")"
# a syntax error: diagnosed, exit 1, the file untouched
printf 'model m {\n  x = (1 +\n}\n' >"$tmp/syntax.nn"; cp "$tmp/syntax.nn" "$tmp/syntax.orig"
"$NNC" fmt -w "$tmp/syntax.nn" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || bad "fmt -w of a syntax error exited $rc, want 1"
grep -q 'syntax.nn:[0-9]*:[0-9]*: error' "$tmp/err" || { bad "no diagnostic for the syntax error:"; cat "$tmp/err"; }
cmp -s "$tmp/syntax.nn" "$tmp/syntax.orig" || bad "fmt -w changed a file with a syntax error"
# a folder it cannot write in: an error, the file untouched, exit 1
if [ "$(id -u)" != 0 ]; then
    mkdir "$tmp/ro"; cp "$tmp/messy.nn" "$tmp/ro/m.nn"; chmod 555 "$tmp/ro"
    "$NNC" fmt -w "$tmp/ro/m.nn" 2>"$tmp/err"; rc=$?
    [ $rc -eq 1 ] || bad "fmt -w in a read-only folder exited $rc, want 1"
    grep -q "error: cannot write beside" "$tmp/err" || { bad "no clear error for the read-only folder:"; cat "$tmp/err"; }
    cmp -s "$tmp/ro/m.nn" "$tmp/messy.nn" || bad "fmt -w in a read-only folder changed the file"
fi
"$NNC" fmt -w - </dev/null 2>/dev/null && bad "fmt -w - (stdin) accepted"
"$NNC" fmt --bogus "$tmp/ok.nn" 2>/dev/null && bad "fmt --bogus accepted"
"$NNC" fmt "$tmp/missing.nn" 2>"$tmp/err" && bad "fmt of a missing file exited 0"
grep -q "cannot open '$tmp/missing.nn'" "$tmp/err" || { bad "no clear error for a missing file:"; cat "$tmp/err"; }
# stdin
"$NNC" fmt - <"$tmp/messy.nn" | cmp -s - "$tmp/want.nn" || bad "fmt - (stdin) differs"

[ $fail -eq 0 ] && echo "ok: nnc fmt"
exit $fail
