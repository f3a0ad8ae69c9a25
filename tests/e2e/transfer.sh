#!/bin/bash
# transfer.sh: train --init-from / --map (runtime/transfer.c), on the transfer-learning examples
# (examples/transfer_source.nn, transfer_fashion.nn, transfer_finetune.nn), in short runs:
#  - the report: loaded / left at the initializer / unused in the file, optimizer state not carried;
#  - the loaded values are the file's, and the frozen part (c1, n1, c2, n2: parameters AND batch-norm
#    statistics) stays bit-identical through a training whose step trains only the head, which changes;
#  - transfer beats chance on the held-out classes 5-9, and fine-tuning (two steps) runs from it;
#  - --map renames; a shape mismatch names both shapes; missing, truncated and corrupt files, a file
#    with nothing in common, bad --map rules and --init-from with --resume fail cleanly.
. "$(dirname "$0")/lib.sh"
"$NNC_PYTHON" "$EX/data/make_fashion_split.py" . > split.log || fail "make_fashion_split.py exited with $?"
for m in transfer_source transfer_fashion transfer_finetune; do compile $m; done
src='npy("fashion04_train_x.npy", "fashion04_train_y.npy")'
small='npy("fashion59_small_x.npy", "fashion59_small_y.npy")'
test59='npy("fashion59_test_x.npy", "fashion59_test_y.npy")'

./transfer_source train --data "$src" --limit 3000 --epochs 1 --save src.st > src.log 2>&1 || { cat src.log; fail "source training"; }
./transfer_fashion train --data "$small" --epochs 10 --init-from src.st --save frozen.st > frozen.log 2>&1 ||
    { cat frozen.log; fail "train --init-from exited with $?"; }
cat frozen.log
grep -q '^init-from src.st: 12 tensors loaded, 4 left at their initializer, 4 in the file unused (24 optimizer-state tensors not carried over)$' frozen.log ||
    fail "the report's counts"
grep -q '^  loaded: *c1.W, c1.b, n1.gamma, n1.beta, n1.running_mean, n1.running_var, c2.W, c2.b,$' frozen.log ||
    fail "the loaded list"
grep -q '^  initializer: head_fc.W, head_fc.b, head_out.W, head_out.b$' frozen.log || fail "the initializer list"
grep -q '^  unused: *fc.W, fc.b, out.W, out.b$' frozen.log || fail "the unused list"
echo "ok: the report"

"$NNC_PYTHON" - src.st frozen.st <<'PY' || fail "the frozen part changed"
import json, struct, sys
def load(p):
    h = open(p, 'rb').read()
    n = struct.unpack('<Q', h[:8])[0]
    meta = json.loads(h[8:8 + n])
    return {k: h[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]] for k, v in meta.items() if k != '__metadata__'}
a, b = load(sys.argv[1]), load(sys.argv[2])
frozen = [k for k in b if k.split('.')[0] in ('c1', 'n1', 'c2', 'n2')]
assert len(frozen) == 12 and 'n1.running_mean' in frozen and 'n2.running_var' in frozen, frozen
changed = [k for k in frozen if a[k] != b[k]]
assert not changed, 'changed: %s' % changed
assert b['head_fc.W'] != b'' and b['head_out.W'] != b'', 'no head'
print('ok: all %d frozen tensors (parameters and batch-norm statistics) bit-identical to the source after training: %s'
      % (len(frozen), ' '.join(frozen)))
PY
./transfer_fashion eval --weights frozen.st --data "$test59" > eval.log || fail "eval"
check "$(metric eval.log accuracy)" gt 0.75 "frozen-feature transfer accuracy on classes 5-9 (100 training images)"

# fine-tuning: both steps from the frozen model's weights (same names: no map, nothing unused)
./transfer_finetune train --data "$small" --epochs 2 --init-from frozen.st --save ft.st > ft.log 2>&1 || { cat ft.log; fail "fine-tune"; }
grep -q '^init-from frozen.st: 16 tensors loaded, 0 left at their initializer, 0 in the file unused' ft.log || { cat ft.log; fail "fine-tune report"; }
grep -Eq '^epoch 2/2: +xent [0-9.]+ ' ft.log || { cat ft.log; fail "fine-tune epochs"; }
echo "ok: fine-tuning starts from the frozen model"

# --map: the same network with c1 named conv1
sed 's/\bc1\b/conv1/g' "$EX/transfer_fashion.nn" > renamed.nn
"$NNC" renamed.nn -o renamed || fail "nnc renamed.nn"
./renamed train --data "$small" --epochs 1 --init-from src.st --map 'c1.*=conv1.*,fc.W=head_fc.W' > map.log 2>&1 || { cat map.log; fail "--map"; }
grep -q 'conv1.W <- c1.W, conv1.b <- c1.b' map.log && grep -q 'head_fc.W <- fc.W' map.log &&
    grep -q '^init-from src.st: 13 tensors loaded, 3 left' map.log || { cat map.log; fail "--map report"; }
echo "ok: --map renames"

# errors
sed 's/conv2d(image, 16, 3)/conv2d(image, 8, 3)/' "$EX/transfer_fashion.nn" > narrow.nn
"$NNC" narrow.nn -o narrow || fail "nnc narrow.nn"
expect_fail "shape mismatch" "error: --init-from 'src.st': 'c1.W' has shape \[3, 3, 1, 16\] in the file, but the model's 'c1.W' is \[3, 3, 1, 8\]" \
    ./narrow train --data "$small" --epochs 1 --init-from src.st
expect_fail "shape mismatch after --map" "'conv1.W' \(mapped from 'c1.W'\) has shape \[3, 3, 1, 16\] in the file, but the model's 'conv1.W' is \[3, 3, 1, 8\]" \
    bash -c "sed 's/\\bc1\\b/conv1/g' narrow.nn > nr.nn && '$NNC' nr.nn -o nr && ./nr train --data '$small' --epochs 1 --init-from src.st --map 'c1.*=conv1.*'"
expect_fail "missing file" "error: cannot open weights file 'nope.st'" ./transfer_fashion train --data "$small" --init-from nope.st
head -c 100 src.st > trunc.st
expect_fail "truncated file" "error: 'trunc.st' is truncated: its header says" ./transfer_fashion train --data "$small" --init-from trunc.st
head -c $(( $(stat -c %s src.st) - 100 )) src.st > short.st
expect_fail "truncated data" "error: 'short.st' is truncated: tensor" ./transfer_fashion train --data "$small" --init-from short.st
printf '\x0e\x00\x00\x00\x00\x00\x00\x00{"a": [1, 2, 3' > bad.st
expect_fail "corrupt header" "error: 'bad.st': bad JSON in the safetensors header" ./transfer_fashion train --data "$small" --init-from bad.st
sed -E 's/\b(c1|n1|c2|n2)\b/x\1/g' "$EX/transfer_fashion.nn" > apart.nn
"$NNC" apart.nn -o apart || fail "nnc apart.nn"
expect_fail "nothing in common" "no tensor of the file matches one of the model's by name \(rename them with --map" \
    ./apart train --data "$small" --init-from src.st
for bad in "c1.*" "=x" "a.*=*.b.*" "a=b,"; do
    ./transfer_fashion train --init-from src.st --map "$bad" > /dev/null 2> err.log
    [ $? = 2 ] && grep -q "error: --map: " err.log || { cat err.log; fail "--map '$bad' is no usage error"; }
done
./transfer_fashion train --init-from src.st --resume src.st > /dev/null 2> err.log
[ $? = 2 ] || { cat err.log; fail "--init-from with --resume"; }
./transfer_fashion train --map 'a=b' > /dev/null 2> err.log
[ $? = 2 ] || { cat err.log; fail "--map without --init-from"; }
echo "ok: bad --map rules and flag combinations are usage errors"
