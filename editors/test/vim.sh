#!/bin/sh
# vim.sh - editors/vim: a .nn file gets filetype nn, and the syntax groups of known places of a
# sample are right (keywords, train's keywords only inside train { }, strings, comments, numbers).
# usage: vim.sh SOURCE_DIR   (exit 77 when vim is not installed)
set -u
command -v vim >/dev/null 2>&1 || { echo "skip: vim is not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnc-vim.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
cat >"$tmp/s.nn" <<'NN'
# a comment
model m {
  h = dense(x, 3, act = relu) * 2.5e-3
  train {
    data csv("d.csv", label = "y\n")
    batch 64  epochs 2
  }
}
fn f(step: int) -> int { step + 1 }
NN
# line col -> syntax group of the place, one per line of out
cat >"$tmp/probe.vim" <<'VIM'
let s:probes = [[1, 3], [2, 1], [2, 7], [3, 7], [3, 31], [3, 34], [4, 3], [5, 5], [5, 14], [5, 33], [6, 5], [6, 11], [6, 15], [9, 4], [9, 12], [9, 33], [9, 6], [9, 26]]
let s:out = ['filetype ' . &filetype]
for [l, c] in s:probes
  call add(s:out, l . ':' . c . ' ' . synIDattr(synID(l, c, 1), 'name'))
endfor
call writefile(s:out, $OUT)
qa!
VIM
OUT="$tmp/out" timeout 20 vim -u NONE -i NONE -N -es \
    --cmd "set rtp^=$1/editors/vim" --cmd 'filetype on' --cmd 'syntax on' \
    -c "source $tmp/probe.vim" "$tmp/s.nn" </dev/null >/dev/null 2>&1
cat >"$tmp/want" <<'W'
filetype nn
1:3 nnComment
2:1 nnDecl
2:7 nnDeclName
3:7 nnCall
3:31 nnOperator
3:34 nnFloat
4:3 nnTrain
5:5 nnTrainKeyword
5:14 nnString
5:33 nnEscape
6:5 nnTrainKeyword
6:11 nnInteger
6:15 nnTrainKeyword
9:4 nnDeclName
9:12 nnType
9:33 nnInteger
9:6 
9:26 
W
if ! cmp -s "$tmp/want" "$tmp/out"; then
    echo "FAIL: syntax groups differ (want, got):"
    diff "$tmp/want" "$tmp/out"
    exit 1
fi
echo "ok: vim filetype and syntax"
