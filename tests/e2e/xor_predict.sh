#!/bin/bash
# xor.nn's literal weights compute XOR exactly: predict on the four inputs gives 0 1 1 0.
# First as examples/README.md documents it, with no weights file (every parameter's values are in
# the model); then with a weights file written here in safetensors form (the literals of xor.nn),
# which also checks that the runtime reads weights under the parameter names lowering gives them.
. "$(dirname "$0")/lib.sh"
compile xor
# the README's command: ./xor predict data/xor_inputs.csv (relative to examples/)
(cd "$EX" && "$WORK/xor" predict data/xor_inputs.csv) > pred0.csv || fail "xor predict without --weights exited with $?"
got=$(tail -n +2 pred0.csv | tr '\n' ' ')
[ "$(head -n 1 pred0.csv)" = y ] || fail "xor predict header: $(head -n 1 pred0.csv)"
[ "$got" = "0 1 1 0 " ] || fail "xor predictions without weights: got '$got', want '0 1 1 0 '"
echo "ok: xor predicts $got from its literals"
"$NNC" run "$EX/xor.nn" -- predict "$EX/data/xor_inputs.csv" > pred0_interp.csv ||
    fail "nnc run xor.nn predict (no --weights) exited with $?"
cmp -s pred0.csv pred0_interp.csv || fail "interpreter and executable predictions without weights differ"
"$NNC_PYTHON" - xor.safetensors <<'PY' || fail "cannot write the weights file"
import json, struct, sys
t = {"W": ([2, 2], [1, 1, 1, 1]), "b": ([2], [0, -1]), "U": ([2], [1, -2]), "c": ([], [0])}
hdr, data = {}, b""
for k, (shape, vals) in t.items():
    raw = struct.pack("<%df" % len(vals), *vals)
    hdr[k] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(hdr).encode()
h += b" " * ((8 - len(h) % 8) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(h)) + h + data)
PY
printf 'a,b\n0,0\n0,1\n1,0\n1,1\n' > four.csv
./xor predict --weights xor.safetensors four.csv > pred.csv || fail "xor predict exited with $?"
got=$(tail -n +2 pred.csv | tr '\n' ' ')
[ "$got" = "0 1 1 0 " ] || fail "xor predictions: got '$got', want '0 1 1 0 '"
echo "ok: xor predicts $got"
# the interpreter computes the same
"$NNC" run "$EX/xor.nn" -- predict --weights xor.safetensors four.csv > pred_interp.csv ||
    fail "nnc run xor.nn predict exited with $?"
cmp -s pred.csv pred_interp.csv || fail "interpreter and executable predictions differ"
echo "ok: nnc run gives the same predictions"
