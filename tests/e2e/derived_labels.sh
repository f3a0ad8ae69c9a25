#!/bin/bash
# derived_labels.sh: transfer learning onto classes made from the labels (finetune_frozen.nn's
# "footwear or not"): a model whose loss reads the i32 target only through classes it makes from
# it (odd = i32(label % 2), 2 classes of 4) is no 2-class classifier of the labels, so training
# does not stop at 'label 3 is out of range for a classifier of 2 classes'; and --init-from of a
# checkpoint whose head has another width names the fix (rename the layer, or --map it away).
. "$(dirname "$0")/lib.sh"
cat > four.nn <<'NN'
use nn
model four {
  input  x: f32[B, 2]
  target label: i32[B]
  h    = dense(x, 8, act = tanh)
  head = dense(h, 4)
  output probs = softmax(head)
  loss cross_entropy(head, label)
  train { data csv("four.csv", label = "label") optimizer adam(lr = 1e-2) batch 8 epochs 3 }
}
NN
sed -e 's/model four/model odd/' -e 's/  head = dense(h, 4)/  head = dense(h, 2)/' \
    -e 's/cross_entropy(head, label)/cross_entropy(head, i32(label % 2))/' four.nn > odd.nn
sed -e 's/model four/model odd2/' -e 's/  head = dense(h, 4)/  new_head = dense(h, 2)/' -e 's/softmax(head)/softmax(new_head)/' \
    -e 's/cross_entropy(head, label)/cross_entropy(new_head, i32(label % 2))/' four.nn > odd2.nn
printf 'a,b,label\n' > four.csv
for i in $(seq 0 39); do printf '%d.%d,-%d.5,%d\n' $((i % 3)) $i $((i % 5)) $((i % 4)) >> four.csv; done
for m in four odd odd2; do "$NNC" $m.nn -o $m || fail "nnc $m.nn exited with $?"; done
./four train --save four.st > four.log 2>&1 || { cat four.log; fail "four train exited with $?"; }
./odd train > odd.log 2>&1 || { cat odd.log; fail "a model training on classes made from its labels: exit $?"; }
grep -q "out of range" odd.log && fail "the labels were checked against the 2-way output"
grep -q accuracy odd.log && fail "the 2-way output got an accuracy against the 4-class labels"
./odd summary | grep -q "classify" && fail "odd is summarised as a classifier"
./four summary | grep -q "classify 4 classes" || fail "four is no longer a 4-class classifier"
./odd train --init-from four.st > init.log 2>&1 && fail "--init-from with the head's shape changed succeeded"
cat init.log
grep -q "hint: .*rename the layer" init.log || fail "no hint to rename the new head"
./odd train --init-from four.st --map 'head.W=unused.head.W,head.b=unused.head.b' > map.log 2>&1 ||
    { cat map.log; fail "--map the head away: exit $?"; }
./odd2 train --init-from four.st > init2.log 2>&1 || { cat init2.log; fail "a renamed new head: exit $?"; }
grep -q "unused: *head.W, head.b" init2.log || fail "the old head is not reported unused"
echo "ok: classes made from the labels; a new head under --init-from"
