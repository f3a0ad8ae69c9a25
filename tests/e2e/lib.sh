# lib.sh - shared helpers of the end-to-end tests (sourced by each tests/e2e/*.sh).
# Each test runs as: TEST.sh NNC SRC_DIR WORK_DIR [ARGS...]; it compiles examples from
# SRC_DIR/examples with NNC into WORK_DIR (fresh) and runs the executables there.
set -u
NNC=$1
SRC=$2
WORK=$3
shift 3
EX=$SRC/examples
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# compile NAME: examples/NAME.nn -> ./NAME
compile() {
    "$NNC" "$EX/$1.nn" -o "$1" || fail "nnc $1.nn exited with $?"
    [ -x "$1" ] || fail "nnc $1.nn made no executable"
}

# metric FILE NAME: the value of a `NAME: value` line of an eval report
metric() {
    sed -n "s/^$2: *\([-0-9.eE+]*\).*/\1/p" "$1" | head -n 1
}

# check VALUE OP BOUND WHAT: a numeric comparison (OP: ge gt le lt) that fails the test
check() {
    awk -v v="$1" -v b="$3" -v op="$2" 'BEGIN {
        if (v == "") exit 1
        if (op == "ge") exit !(v + 0 >= b + 0); if (op == "gt") exit !(v + 0 > b + 0)
        if (op == "le") exit !(v + 0 <= b + 0); if (op == "lt") exit !(v + 0 < b + 0)
        exit 1 }' || fail "$4: got '$1', want $2 $3"
    echo "ok: $4 = $1 ($2 $3)"
}

# epoch_losses FILE: the loss of every `epoch N/M: loss X` line, one per line
epoch_losses() {
    sed -n 's/^epoch [0-9]*\/[0-9]*: *loss \([-0-9.eE+naif]*\).*/\1/p' "$1"
}

# expect_fail WHAT PATTERN CMD...: CMD exits 1, its stderr matches PATTERN,
# and nothing crashed (no sanitizer report)
expect_fail() {
    local what=$1 pat=$2
    shift 2
    "$@" > out.log 2> err.log
    local rc=$?
    cat err.log
    [ $rc -eq 1 ] || fail "$what: exit status $rc, want 1"
    grep -Eq "$pat" err.log || fail "$what: stderr does not match '$pat'"
    grep -q "AddressSanitizer\|runtime error:\|Segmentation" err.log && fail "$what: crashed"
    echo "ok: $what"
}

# close A.st B.st RTOL: every tensor of two safetensors files equal within RTOL of its scale
# (RTOL 0: bit-identical)
close() {
    "${NNC_PYTHON:-/usr/bin/python3}" - "$@" <<'PYEOF' || fail "weights $1 and $2 differ (rtol $3)"
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    return {k: np.frombuffer(d[v["data_offsets"][0]:v["data_offsets"][1]],
                             dtype=np.float32 if v["dtype"] == "F32" else np.int32)
            for k, v in h.items() if k != "__metadata__"}
a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
for k in a:
    err = float(np.abs(a[k].astype(np.float64) - b[k]).max()) if a[k].size else 0.0
    scale = float(np.abs(a[k]).max()) if a[k].size else 0.0
    print(f"  {k}: max |diff| {err:.3g} (scale {scale:.3g})")
    assert err <= tol * max(scale, 1e-30), k
PYEOF
    echo "ok: $1 ~ $2 (rtol $3)"
}
