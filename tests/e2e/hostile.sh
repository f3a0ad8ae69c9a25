#!/bin/bash
# hostile.sh - hostile inputs for the executables (not the compiler): CSV fields that are NaN,
# infinite or empty, NPY files with bad headers and NaN samples, IDX files with no samples or a
# zero dim, text that is only a byte-order mark or a binary, a --prompt that is not UTF-8,
# absurd flag values, and a truncated checkpoint to resume from. Each must exit with a clear
# message naming the place (status 1; 2 for a usage error), never a signal. Then a small seeded
# mutation fuzz of a weights file, a CSV, an NPY file and a text file: whatever the bytes, the
# executable exits 0, 1 or 2 (with 'error' in its message when not 0), never by a signal.
. "$(dirname "$0")/lib.sh"

# expect CODE PATTERN CMD...: CMD exits with CODE and its stderr matches PATTERN (grep -E)
expect() {
    local code=$1 pat=$2
    shift 2
    "$@" > out.txt 2> err.txt
    local rc=$?
    [ $rc = "$code" ] || fail "$*: exit $rc, want $code: $(head -c 400 err.txt)"
    grep -Eq -- "$pat" err.txt || fail "$*: no message '$pat': $(head -c 400 err.txt)"
    echo "ok: $* -> $code: $(head -n 1 err.txt)"
}

# refused: each line of stdin is 'DATA PATTERN': `./iris train --data DATA --epochs 1` exits 1 with
# a message matching PATTERN (grep -E)
refused() {
    local data pat
    while read -r data pat; do
        expect 1 "$pat" ./iris train --data "$data" --epochs 1 < /dev/null
    done
}

compile iris
compile fashion_mlp
cp "$EX/data/iris.csv" .
./iris train --epochs 2 --save w.st > /dev/null 2>&1 || fail "iris train --save"

# ---- CSV ----
awk 'NR == 5 { $0 = "5.1,nan,1.4,0.2,0" } 1' iris.csv > nan.csv
awk 'NR == 5 { $0 = "5.1,-inf,1.4,0.2,0" } 1' iris.csv > inf.csv
awk 'NR == 5 { $0 = "5.1,,1.4,0.2,0" } 1' iris.csv > emptyf.csv
head -n 1 iris.csv > header.csv
expect 1 "nan.csv:5: field 2 is not a number: 'nan'" ./iris train --data nan.csv --epochs 1
expect 1 "inf.csv:5: field 2 is not a number: '-inf'" ./iris train --data inf.csv --epochs 1
expect 1 "emptyf.csv:5: field 2 is not a number: ''" ./iris train --data emptyf.csv --epochs 1
# a categorical feature given as words (Keras' StringLookup column) is named as such
awk 'NR == 5 { $0 = "5.1,wide,1.4,0.2,0" } 1' iris.csv > word.csv
expect 1 "word.csv:5: field 2 is not a number: 'wide' \\(only the label column may hold names: give a categorical feature as integer ids" ./iris train --data word.csv --epochs 1
expect 1 "'header.csv' has no data rows" ./iris train --data header.csv --epochs 1
expect 1 "nan.csv:5: field 2 is not a number: 'nan'" ./iris predict --weights w.st nan.csv
# numbers are decimal: C's strtod forms (hexadecimal, inf, nan) are refused, naming the field
awk 'NR == 5 { $0 = "5.1,0x10,1.4,0.2,0" } 1' iris.csv > hex.csv
awk 'NR == 5 { $0 = "5.1,3.5,1.4,infinity,0" } 1' iris.csv > infty.csv
expect 1 "hex.csv:5: field 2 is not a number: '0x10' \(a CSV number is decimal: hexadecimal is not read\)" ./iris train --data hex.csv --epochs 1
expect 1 "infty.csv:5: field 4 is not a number: 'infinity' \(a data value must be finite\)" ./iris predict --weights w.st infty.csv
# the decimal forms a CSV writer uses are all read: .5, 5., 1e0, 1E+0, +5, -0.0
awk 'NR == 5 { $0 = ".51E+1,+3.5,1.4e0,0.2,0" } NR == 6 { $0 = "4.,3.0,-0.0,2E-1,0" } 1' iris.csv > forms.csv
./iris eval --weights w.st --data forms.csv > forms.txt 2>&1 || fail "decimal forms refused: $(cat forms.txt)"
echo "ok: the decimal forms .5, 5., 1e0, 1E+0, +5, -0.0 are read"

# blank lines are skipped, not samples
awk 'NR == 5 { print "" } { print } END { print ""; print "" }' iris.csv > blank.csv
./iris eval --weights w.st --data blank.csv > blank.txt 2>&1 || fail "blank lines: $(cat blank.txt)"
grep -q '^samples: 150' blank.txt || fail "blank lines counted as samples: $(head -n 2 blank.txt)"
echo "ok: blank lines in a CSV are skipped"

# ---- NPY ----
"$NNC_PYTHON" - <<'PY' || fail "cannot write the NPY files"
import numpy as np
x = np.random.default_rng(0).random((10, 4)).astype(np.float32)
np.save("x.npy", x)
np.save("y.npy", np.zeros(10, np.int32))
d = open("x.npy", "rb").read()
open("cplx.npy", "wb").write(d.replace(b"'descr': '<f4'", b"'descr': '<c8'"))
open("fort.npy", "wb").write(d.replace(b"'fortran_order': False", b"'fortran_order': True "))
open("negshape.npy", "wb").write(d.replace(b"(10, 4)", b"(10, -4)"))
open("hugeshape.npy", "wb").write(d.replace(b"(10, 4)", b"(99999999999, 4)"))
open("nodescr.npy", "wb").write(d.replace(b"{'descr'", b"{'dexcr'"))
open("hlen.npy", "wb").write(d[:8] + b"\xff\xff" + d[10:])
x[3, 1] = np.nan
np.save("xnan.npy", x)
PY
refused <<'EOF'
cplx.npy,y.npy 'cplx.npy': NPY dtype '<c8' is not supported
fort.npy,y.npy 'fort.npy': only C-order NPY arrays are supported
negshape.npy,y.npy 'negshape.npy': bad NPY shape
hugeshape.npy,y.npy 'hugeshape.npy' is truncated: its header promises 399999999996 values
nodescr.npy,y.npy 'nodescr.npy': NPY header has no descr
hlen.npy,y.npy 'hlen.npy' is truncated \(in its NPY header\)
EOF
expect 1 "'xnan.npy': sample 3 \(counting from 0\) holds nan" ./iris predict --weights w.st xnan.npy

# ---- the files of a data set: each one named is read, or the run is refused naming it ----
# (a third file for a model of two tensors was ignored without a word; a second CSV too; an
# empty item of the list read the current folder as a file)
"$NNC_PYTHON" - <<'PY' || fail "cannot write the data-set files"
import numpy as np
np.save("x0.npy", np.zeros((0, 4), np.float32))
np.save("y0.npy", np.zeros(0, np.int32))
np.save("y9.npy", np.zeros(9, np.int32))
np.save("yhalf.npy", np.full(10, 0.5, np.float32))
np.save("x3.npy", np.zeros((10, 3), np.float32))
PY
head -c 100 x.npy > xcut.npy
head -c 7 x.npy > xcut7.npy
: > empty.npy
mkdir -p dir.npy
refused <<'EOF'
x.npy,y.npy,x.npy the data names 3 files, but the model takes 2 arrays \(input '.*', target '.*'\), so 'x.npy' would be ignored
x.npy the data names one file \('x.npy'\), but the model takes 2 arrays \(input '.*', target '.*'\)
x.npy,,y.npy --data 'x.npy,,y.npy': file 2 of the list is empty
x.npy,y.npy, --data 'x.npy,y.npy,': file 3 of the list is empty
x.npy,y.npy,x.npy,y.npy,x.npy names 5 files, but a data source takes at most 4
iris.csv,iris.csv a CSV holds the features and the label column in one file, so 'iris.csv' would be ignored
x.npy,iris.csv 'iris.csv' is a CSV file, but the list's first file 'x.npy' is an NPY file
x.npy,w.st 'w.st' is not a .npy file, but the list's first file 'x.npy' is an NPY file
x0.npy,y0.npy 'x0.npy' holds no samples
x.npy,y9.npy 'y9.npy' holds 9 samples, but the data before it 10
x.npy,yhalf.npy 'yhalf.npy'.* 0.5
x3.npy,y.npy 'x3.npy' has shape \[10,3\] \(3 values per sample\), but input '.*' is f32\[B,4\]
xcut.npy,y.npy 'xcut.npy' is truncated
xcut7.npy,y.npy 'xcut7.npy' is truncated \(in its NPY header\)
empty.npy,y.npy 'empty.npy' is empty \(0 bytes\), not an NPY file
dir.npy,y.npy 'dir.npy' is a directory, not a regular file
xnan.npy,y.npy 'xnan.npy': sample 3 \(counting from 0\) holds nan
EOF
expect 1 "--data ',x.npy,y.npy': file 1 of the list is empty" ./iris eval --weights w.st --data ,x.npy,y.npy
expect 1 "'xnan.npy': sample 3 \(counting from 0\) holds nan" ./iris eval --weights w.st --data xnan.npy,y.npy

# a u8 0/1 mask feeding an f32 target is read as it is, not as pixels (every 1 became 1/255);
# 0..255 pixels feeding a target are still scaled, and so are 0/1 inputs
cat > mask.nn <<'NN'
use nn
model mask {
  input  x: f32[B, 4, 4]
  target m: f32[B, 4, 4]
  p = reshape(dense(flatten(x), 16, act = sigmoid), [B, 4, 4])
  output o = p
  loss   target_mean = mean(m) + 0.0 * mean(p)
  loss   input_mean = mean(x) + 0.0 * mean(p)
  train { data npy("mx.npy", "mm.npy") optimizer sgd batch 4 epochs 1 }
}
NN
"$NNC_PYTHON" -c "
import numpy as np
np.save('mx.npy', np.ones((8, 4, 4), np.uint8)); np.save('mm.npy', np.ones((8, 4, 4), np.uint8))
np.save('mp.npy', np.full((8, 4, 4), 255, np.uint8))" || fail "cannot write the mask files"
"$NNC" mask.nn -o mask || fail "nnc mask.nn"
./mask train > mask.txt 2>&1 || fail "mask train: $(cat mask.txt)"
grep -q "target_mean 1.000000  input_mean 0.003922" mask.txt || fail "a u8 0/1 target mask: $(tail -n 1 mask.txt)"
./mask train --data mx.npy,mp.npy > maskp.txt 2>&1 || fail "mask train pixels: $(cat maskp.txt)"
grep -q "target_mean 1.000000" maskp.txt || fail "u8 0..255 target pixels: $(tail -n 1 maskp.txt)"
echo "ok: a u8 0/1 target mask is read as 0/1, pixels and inputs are scaled"

# numpy's other dtypes are converted: float16, big-endian arrays (numpy writes '>f4' for
# x.astype('>f4')), int8/16/64, uint16, bool; the predictions equal those of the same values as '<f4'
"$NNC_PYTHON" - <<'PY' || fail "cannot write the NPY dtype files"
import numpy as np
x = np.random.default_rng(1).random((10, 4)).astype(np.float16).astype(np.float32) * 8
np.save("ref.npy", x)
for name, dt in [("f2", "<f2"), ("bf2", ">f2"), ("bf4", ">f4"), ("bf8", ">f8"), ("f8", "<f8")]:
    np.save(name + ".npy", x.astype(dt))
k = np.floor(x).astype(np.float32)
np.save("refi.npy", k)
for name, dt in [("i1", "i1"), ("i2", "<i2"), ("bi4", ">i4"), ("bi8", ">i8"), ("bu2", ">u2"), ("u4", "<u4")]:
    np.save(name + ".npy", k.astype(dt))
np.save("refb.npy", (x > 4).astype(np.float32))
np.save("b1.npy", x > 4)
h = np.array([[1.0, -2.5, 65504.0, 6e-8]], np.float16)   # a subnormal and the largest half
np.save("halfx.npy", h)
np.save("halfref.npy", h.astype(np.float32))
PY
./iris predict --weights w.st ref.npy -o ref.csv 2> err.txt || fail "predict ref.npy: $(cat err.txt)"
./iris predict --weights w.st refi.npy -o refi.csv 2> err.txt || fail "predict refi.npy: $(cat err.txt)"
./iris predict --weights w.st refb.npy -o refb.csv 2> err.txt || fail "predict refb.npy: $(cat err.txt)"
./iris predict --weights w.st halfref.npy -o halfref.csv 2> err.txt || fail "predict halfref.npy: $(cat err.txt)"
check_npy() {
    ./iris predict --weights w.st "$1.npy" -o "$1.csv" 2> err.txt || fail "predict $1.npy: $(cat err.txt)"
    cmp -s "$1.csv" "$2.csv" || fail "$1.npy: predictions differ from the same values as <f4: $(head -n 3 "$1.csv")"
}
for n in f2 bf2 bf4 bf8 f8; do check_npy $n ref; done
for n in i1 i2 bi4 bi8 bu2 u4; do check_npy $n refi; done
check_npy b1 refb
check_npy halfx halfref
echo "ok: NPY float16, big-endian, int8/16/64, uint16/32 and bool arrays give the predictions of the same values as <f4"
"$NNC_PYTHON" -c "
import numpy as np
np.save('c16.npy', np.zeros((10, 4), np.complex64).astype('>c16'))
np.save('f2nan.npy', np.array([[1, np.nan, 2, 3]], np.float16))" || fail "cannot write c16.npy"
expect 1 "'c16.npy': NPY dtype '>c16' is not supported" ./iris predict --weights w.st c16.npy
expect 1 "'f2nan.npy': sample 0 \(counting from 0\) holds nan" ./iris predict --weights w.st f2nan.npy

# ---- IDX ----
"$NNC_PYTHON" - <<'PY' || fail "cannot write the IDX files"
import struct
open("zero.idx", "wb").write(struct.pack(">IIII", 0x803, 0, 28, 28))
open("zl.idx", "wb").write(struct.pack(">II", 0x801, 0))
open("dim0.idx", "wb").write(struct.pack(">IIII", 0x803, 5, 0, 28))
PY
expect 1 "'zero.idx' holds no samples" ./fashion_mlp train --data 'idx("zero.idx", "zl.idx")'
expect 1 "the data names 3 files, but the model takes 2 arrays \\(input 'image', target 'label'\\), so 'zl.idx' would be ignored" \
    ./fashion_mlp train --data zero.idx,zl.idx,zl.idx
expect 1 "'x.npy' is an NPY file, but the list's first file 'zero.idx' is an IDX file" \
    ./fashion_mlp train --data zero.idx,x.npy
expect 1 "'dim0.idx' holds samples of shape \[0,28\] \(0 values\)" ./fashion_mlp train --data dim0.idx,zl.idx
# a .gz cut inside its deflate stream unpacks to nothing, without a zlib error: it said "not an IDX
# file (bad magic: file too short)"; an empty file likewise
"$NNC_PYTHON" - <<'PY' || fail "cannot write the cut .gz"
import gzip, struct
g = gzip.compress(struct.pack(">IIII", 0x803, 5, 28, 28) + bytes(5 * 784))
open("cut.idx.gz", "wb").write(g[:len(g) // 2])
PY
: > empty.idx
expect 1 "'cut.idx.gz' is too short to be an IDX file \(0 bytes once unpacked: a truncated .gz file\?\)" ./fashion_mlp train --data cut.idx.gz,zl.idx
expect 1 "'empty.idx' is too short to be an IDX file \(0 bytes\)" ./fashion_mlp train --data empty.idx,zl.idx

# ---- absurd flag values: usage errors (status 2) that name the flag ----
expect 2 "--batch expects a positive integer, got '0'" ./iris train --batch 0
expect 2 "--lr expects a non-negative number .*, got 'nan'" ./iris train --lr nan
expect 2 "--lr expects a non-negative number .*, got '1e400'" ./iris train --lr 1e400
expect 2 "--lr expects a non-negative number \(at most 3.4e38, f32's largest\), got '1e39'" ./iris train --lr 1e39
expect 2 "--epochs expects a positive integer, got '-1'" ./iris train --epochs -1
expect 2 "--limit expects a positive integer, got '99999999999999999999'" ./iris train --limit 99999999999999999999
expect 2 "--val-split expects a number in \[0, 1\), got 'nan'" ./iris train --val-split nan
# a validation split too small to hold out a sample says so (it trained without validation silently)
expect 0 "note: a validation split of 0.001 of 105 samples holds out none" ./iris train --val-split 0.001 --epochs 1
# a --limit beyond the data uses all of it
./iris train --limit 1000000000 --epochs 1 > lim.txt 2>&1 || fail "--limit 1000000000: $(cat lim.txt)"
grep -q 'on 105 samples' lim.txt || fail "--limit beyond the data: $(head -n 2 lim.txt)"
echo "ok: --limit beyond the data uses all of it"

# ---- checkpoints ----
head -c 1000 w.st > trunc.st
: > empty.st
expect 1 "'trunc.st' is truncated: tensor" ./iris train --resume trunc.st --epochs 3
# bytes after the last tensor (a file appended to, two checkpoints joined) were ignored: the first
# file's weights were read as if nothing were wrong
cat w.st w.st > joined.st
{ cat w.st; printf 'garbage'; } > tail.st
expect 1 "'joined.st' has [0-9]+ bytes after its last tensor's data" ./iris eval --weights joined.st
expect 1 "'tail.st' has 7 bytes after its last tensor's data" ./iris train --resume tail.st --epochs 3
expect 1 "'tail.st' has 7 bytes after its last tensor's data" ./iris train --init-from tail.st --epochs 1
expect 1 "'empty.st' is not a safetensors file" ./iris train --resume empty.st --epochs 3
# a NaN (or infinity) in a weights file is refused, naming the tensor and element: eval of it
# printed "loss: nan" with status 0, and --resume / --init-from trained from it
/usr/bin/python3 - <<'PY' || fail "writing nan.st"
import json, math, struct
raw = open("w.st", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + n])
name = sorted(k for k in hdr if k != "__metadata__")[0]
at = 8 + n + hdr[name]["data_offsets"][0] + 4
open("nan.st", "wb").write(raw[:at] + struct.pack("<f", math.nan) + raw[at + 4:])
open("inf.st", "wb").write(raw[:at] + struct.pack("<f", -math.inf) + raw[at + 4:])
open("nan_name.txt", "w").write(name)
PY
nn=$(cat nan_name.txt)
expect 1 "'nan.st': tensor '$nn' holds nan at element 1 \(counting from 0\)" ./iris eval --weights nan.st
expect 1 "'inf.st': tensor '$nn' holds -inf at element 1" ./iris train --resume inf.st --epochs 3
expect 1 "--init-from 'nan.st': tensor '$nn' holds nan at element 1" ./iris train --init-from nan.st --epochs 1
expect 1 "'nan.st': tensor '$nn' holds nan" ./iris predict --weights nan.st iris.csv
# a tensor named twice in the header (JSON allows it): one copy was taken silently
/usr/bin/python3 - <<'PY' || fail "writing dup.st"
import json, struct
raw = open("w.st", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
text = raw[8:8 + n].decode()
name = sorted(k for k in json.loads(text) if k != "__metadata__")[0]
entry = json.dumps({name: json.loads(text)[name]})[1:-1]
hdr = (text.rstrip()[:-1] + ", " + entry + "}").encode()
open("dup.st", "wb").write(struct.pack("<Q", len(hdr)) + hdr + raw[8 + n:])
PY
expect 1 "'dup.st': tensor '$nn' appears twice in the safetensors header" ./iris eval --weights dup.st
expect 1 "'dup.st': tensor '$nn' appears twice" ./iris train --init-from dup.st --epochs 1

# ---- text and generate ----
"$NNC" "$SRC/tests/e2e/text/charlm.nn" -o charlm || fail "nnc charlm.nn"
"$NNC_PYTHON" -c "
import random
random.seed(1)
open('corpus.txt', 'w').write(''.join(random.choice('abcdefgh \u00f1\u00e1\n') for _ in range(3000)))
" || fail "cannot write the corpus"
./charlm train --data corpus.txt --epochs 1 --save lm.st > /dev/null 2>&1 || fail "charlm train"
printf '\xef\xbb\xbf' > bom.txt
head -c 3000 "$(command -v sh)" > binary.txt
expect 1 "'bom.txt' is empty: no text to learn from" ./charlm train --data bom.txt
expect 1 "'binary.txt': (a NUL byte|invalid UTF-8) at byte" ./charlm train --data binary.txt
expect 1 "'binary.txt': (a NUL byte|invalid UTF-8) at byte" ./charlm eval --weights lm.st binary.txt
expect 1 "'--prompt': invalid UTF-8 at byte 0" ./charlm generate --weights lm.st --prompt $'\xff\xfe'
expect 1 "the prompt's character U\+0001 \(character 3\) is not in the model's vocabulary" \
    ./charlm generate --weights lm.st --prompt $'ab\x01'
expect 2 "--temperature expects a non-negative number .*, got 'inf'" ./charlm generate --weights lm.st --temperature inf
expect 2 "--length expects a whole number from 0 to 100000000, got '-1'" ./charlm generate --weights lm.st --length -1

# ---- seeded mutation fuzz: never a signal ----
cp "$EX/data/iris.csv" seed.csv
cp x.npy seed.npy
cp corpus.txt seed.txt
"$NNC_PYTHON" - <<'PY' || fail "the fuzz found a crash (see above)"
import random, subprocess, sys
random.seed(2026)
cases = [("w.st", "f.st", ["./iris", "eval", "--weights", "f.st", "--threads", "1"]),
         ("seed.csv", "f.csv", ["./iris", "train", "--data", "f.csv", "--epochs", "1", "--threads", "1"]),
         ("seed.npy", "f.npy", ["./iris", "predict", "--weights", "w.st", "f.npy", "--threads", "1"]),
         ("lm.st", "g.st", ["./charlm", "generate", "--weights", "g.st", "--length", "10", "--threads", "1"]),
         ("seed.txt", "f.txt", ["./charlm", "train", "--data", "f.txt", "--epochs", "1", "--threads", "1"])]
bad = 0
for src, name, cmd in cases:
    data = open(src, "rb").read()
    for it in range(25):
        d = bytearray(data)
        for _ in range(random.randint(1, 4)):
            r = random.random()
            if r < 0.5 and d:
                d[random.randrange(len(d))] = random.randrange(256)
            elif r < 0.7:
                d = d[:random.randrange(len(d) + 1)]
            else:
                i = random.randrange(len(d) + 1)
                d[i:i] = b"".join(random.choice([b"9", b"-", b'"', b"{", b"[", b"e", b"\x00", b",", b"\n"])
                                  for _ in range(random.randint(1, 5)))
        open(name, "wb").write(bytes(d))
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        if p.returncode not in (0, 1, 2) or (p.returncode and b"error" not in p.stderr):
            bad += 1
            kept = "crash%d_%s" % (bad, name)
            open(kept, "wb").write(bytes(d))
            print("FAIL: %s on a mutated %s (kept as %s): exit %d: %s"
                  % (" ".join(cmd), src, kept, p.returncode, p.stderr[-300:]), file=sys.stderr)
    print("ok: %s: 25 mutations of %s, no crash" % (" ".join(cmd[:2]), src))
sys.exit(1 if bad else 0)
PY
echo "ok: hostile inputs"
