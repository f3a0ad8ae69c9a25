#!/bin/bash
# cli_safety.sh: the driver never destroys the user's files and never ignores a problem quietly
# (compiler/driver/main.c, compiler/driver/pipeline.c, compiler/passes/optim.c): an output that is the input is refused;
# an input without .nn needs -o for an executable; stdout write errors are reported; options the
# command would ignore are errors; -c names its header from the object; files get the usual mode;
# several models get a note; two steps over one parameter keep one optimizer state set each.
. "$(dirname "$0")/lib.sh"
umask 022


cp "$EX/xor.nn" .
cp xor.nn model.txt
sum=$(cksum < xor.nn)

# 1. the output is the input: refused, and the source is untouched
expect_fail "-o the input" "nnc: error: the output 'xor.nn' would overwrite the input" "$NNC" xor.nn -o xor.nn
expect_fail "-o ./the input" "would overwrite the input" "$NNC" xor.nn -o ./xor.nn
ln -s xor.nn link.nn
expect_fail "-o a link to the input" "would overwrite the input" "$NNC" link.nn -o xor.nn
expect_fail "--emit ir -o the input" "would overwrite the input" "$NNC" --emit ir xor.nn -o xor.nn
expect_fail "--emit types -o the input" "would overwrite the input" "$NNC" --emit types xor.nn -o xor.nn
[ "$(cksum < xor.nn)" = "$sum" ] || fail "xor.nn was changed"
expect_fail "no .nn and no -o" "nnc: error: cannot name the executable: 'model.txt' does not end in \.nn" "$NNC" model.txt
grep -q "hint: .*-o" err.log || fail "no hint to use -o"
[ "$(cksum < model.txt)" = "$sum" ] || fail "model.txt was changed"
"$NNC" model.txt -o fromtxt || fail "model.txt -o fromtxt exited with $?"
[ -x fromtxt ] || fail "no executable from model.txt -o fromtxt"
"$NNC" -c model.txt || fail "nnc -c model.txt exited with $?"
[ -f model.txt.o ] && [ -f model.txt.h ] && [ "$(cksum < model.txt)" = "$sum" ] || fail "-c model.txt: want model.txt.o + .h"
cp xor.nn m.h
expect_fail "-c whose header is the input" "the output 'm.h' would overwrite the input" "$NNC" -c m.h -o m.o
[ "$(cksum < m.h)" = "$sum" ] && [ ! -e m.o ] || fail "-c m.h -o m.o changed m.h or wrote m.o"
# an output that is a folder: refused before any work, nothing written beside it
mkdir -p outdir hdr.h
expect_fail "-o a folder" "nnc: error: cannot write outdir: it is a folder" "$NNC" xor.nn -o outdir
grep -q "hint: name the output file inside it: -o outdir/NAME" err.log || fail "no hint for -o a folder"
expect_fail "--emit ir -o a folder" "cannot write outdir/: it is a folder" "$NNC" --emit ir xor.nn -o outdir/
expect_fail "-c whose header is a folder" "cannot write hdr.h: it is a folder" "$NNC" -c xor.nn -o hdr.o
[ -z "$(ls -A outdir)" ] && [ -z "$(ls -A hdr.h)" ] && [ ! -e outdir.tmp ] && [ ! -e hdr.o ] || fail "-o a folder left files"
# -o - is standard output, for text only: an executable or object there is an error, no file '-'
expect_fail "-o - for an executable" "nnc: error: -o -: an executable cannot go to standard output" "$NNC" xor.nn -o -
expect_fail "-c -o -" "an object file cannot go to standard output" "$NNC" -c xor.nn -o -
[ ! -e ./- ] || fail "-o - wrote a file named '-'"
# an output that is a device or a FIFO: refused before any work and left as it was (the rename
# of the temporary file would replace the special file itself: /dev/null, as root)
mkfifo fifo.out
expect_fail "-o a FIFO" "nnc: error: cannot write fifo.out: it is not a regular file" "$NNC" xor.nn -o fifo.out
expect_fail "--emit ir -o a FIFO" "it is not a regular file" "$NNC" --emit ir xor.nn -o fifo.out
[ -p fifo.out ] || fail "-o a FIFO replaced it"
if [ "$(id -u)" = 0 ] && mknod null.out c 1 3 2>/dev/null; then
    expect_fail "-o a character device" "cannot write null.out: it is not a regular file" "$NNC" xor.nn -o null.out
    expect_fail "-c -o a character device" "it is not a regular file" "$NNC" -c xor.nn -o null.out
    [ -c null.out ] || fail "-o a device replaced it"
fi

# 3. stdout write errors
if [ -w /dev/full ]; then
    for args in "--emit ir xor.nn" "--emit ast xor.nn" "--emit types xor.nn" "--help" "--version"; do
        # shellcheck disable=SC2086
        expect_fail "nnc $args > /dev/full" "^nnc: error: writing to standard output failed: No space left on device" \
            bash -c "\"\$0\" $args > /dev/full" "$NNC"
    done
fi

# 2. --help says what docs/nnc.md says: llvm and obj write a file, ir prints unless -o is given
"$NNC" --help > help.txt || fail "nnc --help exited with $?"
grep -q "ast, types and ir print to stdout unless -o is given" help.txt && grep -q "llvm and obj write a file" help.txt ||
    fail "nnc --help does not say that llvm writes a file"

# 4. -o with ast/types writes the file; check/run reject -o; -c -o X.h is refused
"$NNC" --emit ast xor.nn -o a.txt > out.log || fail "--emit ast -o exited with $?"
[ ! -s out.log ] && grep -q "^(program" a.txt || fail "--emit ast -o a.txt did not write a.txt (or printed)"
"$NNC" --emit types xor.nn -o t.txt > out.log || fail "--emit types -o exited with $?"
[ ! -s out.log ] && grep -q "param" t.txt || fail "--emit types -o t.txt did not write t.txt (or printed)"
expect_fail "check -o" "nnc: error: -o has no effect with nnc check" "$NNC" check xor.nn -o x
expect_fail "run -o" "nnc: error: -o has no effect with nnc run" "$NNC" run -o x xor.nn summary
[ ! -e x ] || fail "check/run -o made x"
expect_fail "-c -o weird.h" "nnc: error: -c writes an object file and its header; 'weird.h'" "$NNC" -c xor.nn -o weird.h
[ ! -e weird.h ] && [ ! -e weird.h.h ] || fail "-c -o weird.h wrote weird.h or weird.h.h"
"$NNC" -c xor.nn -o obj.bin || fail "-c -o obj.bin exited with $?"
[ -f obj.bin ] && [ -f obj.bin.h ] || fail "-c -o obj.bin: want obj.bin + obj.bin.h"

# 5. the usual modes: 0666 & ~umask for files, 0777 & ~umask for executables
"$NNC" -c xor.nn && "$NNC" --emit llvm xor.nn && "$NNC" xor.nn || fail "nnc xor.nn exited with $?"
for f in xor.o xor.h xor.ll:644 xor:755; do
    name=${f%%:*} want=${f#*:}
    [ "$want" = "$f" ] && want=644
    got=$(stat -c %a "$name")
    [ "$got" = "$want" ] || fail "$name has mode $got, want $want (umask 022)"
done
echo "ok: modes"

# 6. several models: a note names the one built
cat > two.nn <<'M'
use nn
model first {
  input x: f32[B, 2]
  output p = dense(x, 1)
}
model second {
  input x: f32[B, 2]
  output p = dense(x, 3)
}
M
"$NNC" two.nn -o two 2> err.log || fail "nnc two.nn exited with $?"
cat err.log
grep -q "^nnc: note: two.nn has models first, second; building 'second' (choose with --model)$" err.log ||
    fail "no note on which of several models is built"
"$NNC" two.nn --model first -o two 2> err.log || fail "nnc two.nn --model first exited with $?"
[ ! -s err.log ] || fail "a note although --model was given"
"$NNC" xor.nn -o xor 2> err.log && [ ! -s err.log ] || fail "a note for a file with one model"

# 7. two steps over the same parameters: one optimizer state set per step
cat > steps.nn <<'M'
use nn
model steps {
  input x: f32[B, 4]
  target y: f32[B, 1]
  h = dense(x, 8, act = relu)
  p = dense(h, 1)
  output p
  loss a = mse(p, y)
  loss b = mae(p, y)
  train {
    data csv("d.csv", label = "y")
    step s1: minimize a with adam(lr = 1e-2)
    step s2: minimize b over p with adam(lr = 1e-2)
    batch 4; epochs 2; metrics mse
  }
}
M
printf 'a,b,c,d,y\n1,2,3,4,1\n2,3,4,5,0\n1,1,1,1,1\n0,0,0,0,0\n' > d.csv
"$NNC" --emit ir steps.nn > steps.ir || fail "--emit ir steps.nn exited with $?"
sed -n 's/^tensor state [0-9]* \([^ ]*\) .*/\1/p' steps.ir | tr '\n' ' ' > got.states
want="h.W.adam.m h.W.adam.v h.b.adam.m h.b.adam.v p.W.s1.adam.m p.W.s1.adam.v p.b.s1.adam.m p.b.s1.adam.v p.W.s2.adam.m p.W.s2.adam.v p.b.s2.adam.m p.b.s2.adam.v "
[ "$(cat got.states)" = "$want" ] || fail "optimizer states are: $(cat got.states); want $want"
grep -q 'name="p.W.s2.adam.m"' steps.ir || fail "the train.s2 graph does not read p.W.s2.adam.m"
"$NNC" steps.nn -o steps || fail "nnc steps.nn exited with $?"
./steps train --epochs 2 > train.log 2>&1 || { cat train.log; fail "steps train exited with $?"; }
grep -q "^epoch 2/2" train.log || fail "steps did not train 2 epochs"
echo "ok: one optimizer state set per step"
# -o never destroys a user's file that is no earlier output of nnc (docs/nnc.md "Output files"):
# an executable or object replaces only an ELF file, LLVM IR only LLVM IR, -c's header only nnc's
# header, a text dump only an earlier text dump (never an ELF file or a .nn source); --force lifts it
cp "$EX/xor.nn" x2.nn
printf 'my notes\n' > notes.txt
sum=$(cksum < notes.txt)
expect_fail "exe over a text file" "cannot write notes.txt: the file exists and is not an executable" "$NNC" x2.nn -o notes.txt
grep -q "hint: .*--force" err.log || fail "no --force hint"
expect_fail "-c over a text file" "is not an object file" "$NNC" -c x2.nn -o notes.txt
expect_fail "--emit llvm over a text file" "is not LLVM IR" "$NNC" --emit llvm x2.nn -o notes.txt
# a text dump replaced any file but an ELF file or a .nn source: the user's notes, a data CSV
for kind in ast types ir kernels plan dot dot=ir cuda; do
    expect_fail "--emit $kind over a text file" "cannot write notes.txt: .* not a text output of nnc --emit" \
        "$NNC" --emit $kind x2.nn -o notes.txt
    "$NNC" --emit $kind x2.nn -o dump.$kind && "$NNC" --emit $kind x2.nn -o dump.$kind ||
        fail "--emit $kind over its previous dump: exit $?"
done
[ "$(cksum < notes.txt)" = "$sum" ] || fail "notes.txt was changed"
printf '/* my header */\n' > mine.h
expect_fail "-c's header over the user's header" "cannot write mine.h: .* not a C header nnc wrote" "$NNC" -c x2.nn -o mine.o
[ -e mine.o ] && fail "-c wrote the object though its header was refused"
expect_fail "--emit types over a .nn" "cannot write xor.nn: .* a program's source" "$NNC" --emit types x2.nn -o xor.nn
expect_fail "--emit ir over a .nn" "a program's source" "$NNC" --emit ir x2.nn -o xor.nn
"$NNC" x2.nn -o x2 && "$NNC" x2.nn -o x2 || fail "an executable over the previous one: exit $?"
expect_fail "--emit ir over an executable" "cannot write x2: .* an executable or object file" "$NNC" --emit ir x2.nn -o x2
"$NNC" --emit ir x2.nn -o x2.ir && "$NNC" --emit ir x2.nn -o x2.ir || fail "a dump over the previous dump: exit $?"
"$NNC" --emit llvm x2.nn -o x2.ll && "$NNC" --emit llvm x2.nn -o x2.ll || fail "LLVM IR over LLVM IR: exit $?"
"$NNC" -c x2.nn -o x2.o && "$NNC" -c x2.nn -o x2.o || fail "-c over its own object and header: exit $?"
"$NNC" x2.nn -o notes.txt --force || fail "--force: exit $?"
head -c 4 notes.txt | grep -q ELF || fail "--force did not replace notes.txt"
expect_fail "--force with check" "error: .*force has no effect with nnc check" "$NNC" check --force x2.nn
echo "ok: -o replaces only nnc's own outputs"
# a FIFO nobody writes to is an error at once, not a wait forever; a pipe with its writer reads
mkfifo nowriter.nn
expect_fail "a FIFO without a writer" "'nowriter.nn' is a FIFO and nothing was written to it" timeout 20 "$NNC" check nowriter.nn
"$NNC" check /dev/stdin < x2.nn || fail "nnc check /dev/stdin < x2.nn exited with $?"
cat x2.nn | "$NNC" check /dev/stdin || fail "nnc check /dev/stdin from a pipe exited with $?"
echo "ok: FIFO inputs"

# nnc fmt: a FIFO without a writer is an error, not a wait forever (it blocked in fopen); -w on a
# symbolic link rewrites the target and keeps the link (it replaced the link with a plain file)
expect_fail "fmt of a FIFO without a writer" "'nowriter.nn' is a FIFO and nothing was written to it" timeout 20 "$NNC" fmt nowriter.nn
expect_fail "fmt -w of a FIFO without a writer" "'nowriter.nn' is a FIFO and nothing was written to it" timeout 20 "$NNC" fmt -w nowriter.nn
mkdir -p adir.nn
expect_fail "fmt -w of a folder" "'adir.nn' is a directory, not a source file" "$NNC" fmt -w adir.nn
printf 'use nn\nmodel   lk {\n input x: f32[B,4]\n output y=x\n}\n' > target.nn
ln -sf target.nn link.nn
"$NNC" fmt -w link.nn || fail "fmt -w link.nn exited with $?"
[ -L link.nn ] || fail "fmt -w replaced the symbolic link link.nn with a file"
grep -q '^model lk {' target.nn || fail "fmt -w link.nn did not format its target: $(cat target.nn)"
echo "ok: fmt: FIFO, folder, symbolic link"
echo "ok: cli_safety"
