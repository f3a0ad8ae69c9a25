#!/bin/bash
# gan_shared.sh: examples/gan_shared.nn, a GAN whose discriminator is one layer instance
# (docs/language.md [layer.instance], [train.step.mode]):
#  - the module and the weights file hold one copy of the discriminator (d.*), nothing else of it;
#  - step d's graph updates only the discriminator and its optimizer state: no generator
#    parameter and no generator batch-norm statistic; step g's does update the generator's
#    statistics (the generator is trained there, in training mode) and no discriminator parameter;
#  - run for real: a model with only step d, trained one epoch and then resumed for a second,
#    leaves every generator tensor (parameters and running statistics) bit-identical while the
#    discriminator's change;
#  - the executable's losses equal the reference interpreter's (nnc run), both steps, 2 epochs.
. "$(dirname "$0")/lib.sh"
compile gan_shared
"$NNC" "$EX/gan_shared.nn" --emit ir > gan.ir || fail "nnc --emit ir exited with $?"

# tensor index -> name; the update results of one graph, as names
names() { sed -n 's/^tensor [a-z]* \([0-9]*\) \([^ ]*\) .*/\1 \2/p' gan.ir; }
updates() {
    sed -n "/^graph $1 {/,/^}/s/^  update \([0-9]*\) = .*/\1/p" gan.ir |
        while read -r i; do names | awk -v i="$i" '$1 == i { print $2 }'; done
}
nd=$(grep -c '^tensor param [0-9]* d\.' gan.ir)
[ "$nd" = 4 ] || fail "want the 4 parameters of one discriminator (d.*), found $nd"
grep -E '^tensor param [0-9]+ d_[0-9]' gan.ir && fail "a second discriminator"
echo "ok: one discriminator: $(grep '^tensor param [0-9]* d\.' gan.ir | awk '{ print $4 }' | tr '\n' ' ')"

updates train.d > d.upd
updates train.g > g.upd
[ -s d.upd ] && [ -s g.upd ] || fail "no update results in the train graphs"
grep '^g\.' d.upd && fail "step d updates generator tensors (above)"
grep -q '^d\.h\.W$' d.upd || fail "step d does not update d.h.W"
grep -q '^g\.h_2\.batchnorm\.running_mean$' g.upd || fail "step g does not update the generator's statistics"
grep -E '^d\.[^.]*\.[^.]*$' g.upd && fail "step g updates discriminator parameters (above)"
echo "ok: step d updates $(wc -l < d.upd) tensors, none of the generator; step g updates the generator's statistics"

# the full model trains and its weights file has one discriminator
./gan_shared train --limit 640 --epochs 1 --save full.st > full.log 2>&1 || { cat full.log; fail "train exited with $?"; }
cat full.log
"$NNC_PYTHON" - full.st <<'PY' || fail "weights file"
import json, struct, sys
h = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', h[:8])[0]
keys = [k for k in json.loads(h[8:8 + n]) if k != '__metadata__']
d = sorted(k for k in keys if k.startswith('d.') and '.adam.' not in k)
assert d == ['d.dense.W', 'd.dense.b', 'd.h.W', 'd.h.b'], d
print('ok: the weights file holds one discriminator:', ' '.join(d))
PY

# only step d, for real: the generator must not change at all
sed '/step g:/d' "$EX/gan_shared.nn" > gan_d.nn
"$NNC" gan_d.nn -o gan_d || fail "nnc gan_d.nn exited with $?"
./gan_d train --limit 640 --epochs 1 --save e1.st > d1.log 2>&1 || { cat d1.log; fail "train exited with $?"; }
./gan_d train --limit 640 --epochs 2 --resume e1.st --save e2.st > d2.log 2>&1 || { cat d2.log; fail "resume exited with $?"; }
"$NNC_PYTHON" - e1.st e2.st <<'PY' || fail "step d changed the generator"
import json, struct, sys
def load(p):
    h = open(p, 'rb').read()
    n = struct.unpack('<Q', h[:8])[0]
    meta = json.loads(h[8:8 + n])
    return {k: h[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]]
            for k, v in meta.items() if k != '__metadata__'}
a, b = load(sys.argv[1]), load(sys.argv[2])
g = sorted(k for k in a if k.startswith('g.'))
assert 'g.h_2.batchnorm.running_mean' in g and 'g.h.W' in g, g
same = [k for k in g if a[k] == b[k]]
assert same == g, 'changed: %s' % sorted(set(g) - set(same))
assert a['d.h.W'] != b['d.h.W'], 'the discriminator did not train'
print('ok: an epoch of step d leaves all %d generator tensors bit-identical: %s' % (len(g), ' '.join(g)))
PY

# the executable trains as the reference interpreter does (both steps, every epoch's losses)
flags=(train --seed 1 --epochs 2 --limit 256)
./gan_shared "${flags[@]}" > exe.log 2>&1 || { cat exe.log; fail "train exited with $?"; }
"$NNC" run "$EX/gan_shared.nn" -- "${flags[@]}" > interp.log 2>&1 || { cat interp.log; fail "nnc run exited with $?"; }
nums() { sed -n 's/^epoch [0-9/]*: *//p' "$1" | sed -E 's/ +[0-9.]+s +[0-9]+ samples\/s$//'; }
nums exe.log > exe.nums
nums interp.log > interp.nums
[ "$(wc -l < exe.nums)" = 2 ] && grep -Eq '^d_loss [0-9.]+ +g_loss [0-9.]+$' exe.nums ||
    { cat exe.log; fail "want 2 epoch lines with d_loss and g_loss"; }
paste -d'|' exe.nums interp.nums | awk -F'|' '{
    n = split($1, a, " +"); m = split($2, b, " +"); if (n != m) { print "line " NR ": " $0; bad = 1 }
    for (i = 1; i <= n; i++) if (a[i] ~ /^[-0-9]/) { d = a[i] - b[i]; if (d < 0) d = -d
        s = b[i] < 0 ? -b[i] : b[i]; if (!(d <= 1e-4 * (s > 1 ? s : 1))) { print "epoch " NR ": " a[i] " vs " b[i]; bad = 1 } } }
    END { exit bad }' || fail "executable and interpreter differ"
echo "ok: executable and interpreter agree: $(tr '\n' ';' < exe.nums)"
