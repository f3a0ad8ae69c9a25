#!/bin/bash
# An executable large enough is generated in two parts on two threads (docs/backend-llvm.md
# "Compile time"): -v names both parts and the link takes two objects; two builds are the same
# bytes; the executable trains to exactly the loss of the one-part build (NNC_CODEGEN_THREADS=1);
# -c still writes one object that defines every symbol. char_rnn's unrolled time loop becomes
# loops of calls; without them (NNC_ROLL=0) its part functions get a third object, compiled at
# -O0; all three train to the one-part build's loss.
. "$(dirname "$0")/lib.sh"
cp "$EX/brackets.nn" . && mkdir -p data && cp "$EX"/data/brackets_x.npy "$EX"/data/brackets_y.npy data/ \
    || fail "copying brackets"
"$NNC" -v brackets.nn -o two 2> v.txt || fail "nnc brackets.nn exited with $?"
grep -q "^nnc: llvm: part 1: [1-9]" v.txt || fail "brackets was not generated in two parts: $(grep 'llvm:' v.txt)"
[ "$(grep '^nnc: link:' v.txt | grep -o '/nnc-[A-Za-z0-9]*\.o' | sort -u | wc -l)" = 2 ] \
    || fail "the link does not take two objects: $(grep '^nnc: link:' v.txt)"
"$NNC" brackets.nn -o two_again || fail "the second build exited with $?"
cmp -s two two_again || fail "two builds of brackets differ"
NNC_CODEGEN_THREADS=1 "$NNC" -v brackets.nn -o one 2> v1.txt || fail "the one-part build exited with $?"
grep -q "llvm: part" v1.txt && fail "NNC_CODEGEN_THREADS=1 still split the object"
for e in one two; do
    ./$e train --epochs 1 --limit 256 --threads 1 --seed 3 > $e.txt 2>&1 || fail "$e train exited with $?"
done
l1=$(sed -n 's/.*loss \([0-9.]*\).*/\1/p' one.txt | tail -n 1)
l2=$(sed -n 's/.*loss \([0-9.]*\).*/\1/p' two.txt | tail -n 1)
[ -n "$l1" ] && [ "$l1" = "$l2" ] || fail "losses differ: one part '$l1', two parts '$l2'"
"$NNC" -c brackets.nn -o lib.o || fail "nnc -c exited with $?"
for s in desc forward evaluate train_step workspace_size; do
    nm lib.o | grep -q " [TR] brackets_$s$" || fail "-c object does not define brackets_$s"
done
cp "$EX/char_rnn.nn" . || fail "copying char_rnn"
"$NNC" -v char_rnn.nn -o rnn 2> r.txt || fail "nnc char_rnn.nn exited with $?"
grep -q "^nnc: llvm: graph train.main: [0-9]* calls, [1-9][0-9]* of them in [1-9][0-9]* loops" r.txt \
    || fail "char_rnn's time loop was not rolled: $(grep 'llvm: graph' r.txt)"
NNC_ROLL=0 "$NNC" -v char_rnn.nn -o rnn3 2> r3.txt || fail "nnc char_rnn.nn (NNC_ROLL=0) exited with $?"
grep -q "^nnc: llvm: graph train.main: [0-9]* calls, 0 of them in 0 loops" r3.txt \
    || fail "NNC_ROLL=0 still rolled: $(grep 'llvm: graph' r3.txt)"
grep -q "^nnc: llvm: part 2: [1-9]" r3.txt || fail "char_rnn's graph parts have no part of their own: $(grep 'llvm: part' r3.txt)"
[ "$(grep '^nnc: link:' r3.txt | grep -o '/nnc-[A-Za-z0-9]*\.o' | sort -u | wc -l)" = 3 ] \
    || fail "the link does not take three objects: $(grep '^nnc: link:' r3.txt)"
NNC_CODEGEN_THREADS=1 "$NNC" char_rnn.nn -o rnn1 || fail "the one-part char_rnn build exited with $?"
for e in rnn rnn1 rnn3; do
    ./$e train --epochs 1 --limit 64 --threads 1 --seed 3 > $e.txt 2>&1 || fail "$e train exited with $?"
done
r=$(sed -n 's/.*loss \([0-9.]*\).*/\1/p' rnn.txt | tail -n 1)
r1=$(sed -n 's/.*loss \([0-9.]*\).*/\1/p' rnn1.txt | tail -n 1)
r3=$(sed -n 's/.*loss \([0-9.]*\).*/\1/p' rnn3.txt | tail -n 1)
[ -n "$r1" ] && [ "$r1" = "$r3" ] && [ "$r1" = "$r" ] \
    || fail "char_rnn losses differ: one part '$r1', three parts unrolled '$r3', rolled '$r'"
# the linker: gold when binutils has it, $NNC_LD names another, a wrong name is an error that
# leaves the output as it was
if command -v ld.gold > /dev/null; then
    grep -q '^nnc: link: .* -fuse-ld=gold ' v.txt || fail "ld.gold is here but the link does not use it: $(grep '^nnc: link:' v.txt)"
fi
NNC_LD=bfd "$NNC" -v brackets.nn -o bfd 2> vb.txt || fail "the NNC_LD=bfd build exited with $?"
grep -q -- '-fuse-ld=bfd' vb.txt || fail "NNC_LD=bfd is not passed on: $(grep '^nnc: link:' vb.txt)"
./bfd train --epochs 1 --limit 256 --threads 1 --seed 3 > bfd.txt 2>&1 || fail "bfd train exited with $?"
lb=$(sed -n 's/.*loss \([0-9.]*\).*/\1/p' bfd.txt | tail -n 1)
[ "$lb" = "$l1" ] || fail "the BFD-linked executable's loss '$lb' is not '$l1'"
cp two kept
NNC_LD=mold2 "$NNC" brackets.nn -o kept 2> bad.txt && fail "NNC_LD=mold2 was accepted"
grep -q "NNC_LD is 'mold2'" bad.txt || fail "no message naming NNC_LD: $(cat bad.txt)"
cmp -s two kept || fail "a failed link changed the output file"
echo "ok (loss $l1, char_rnn $r1)"
