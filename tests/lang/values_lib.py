"""values_lib.py - what the *_values.py tests (stdlib, builtin, norm) share: the work folder and
the nnc to run, writing inputs (text, CSV, safetensors weights), running nnc, reading its output
(CSV, saved weights), and the check that counts and prints each comparison.

    import values_lib as V
    V.setup("stdlib_values.py")     # reads NNC and WORK_DIR from the command line
    ...
    V.check(name, got, want)        # one line per check: 'ok: ...' or 'FAIL: ...'
    V.finish()                      # 'N passed, N failed'; exit 1 on any failure
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np

NNC, WORK = None, None
passed, failed = 0, 0


def setup(script):
    """NNC and WORK_DIR from the command line (returned too); makes WORK_DIR."""
    global NNC, WORK
    if len(sys.argv) != 3:
        sys.exit("usage: %s NNC WORK_DIR" % script)
    NNC, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(WORK, exist_ok=True)
    return NNC, WORK


def check(name, got, want, rtol=2e-5, atol=2e-6, equal_nan=False):
    """got and want agree within rtol/atol: every got finite, or with equal_nan NaN where want is"""
    global passed, failed
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        ok, err = False, "shape %s, want %s" % (got.shape, want.shape)
    elif equal_nan:
        ok = bool(np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True))
        err = "max abs error %.3g" % float(np.nanmax(np.abs(got - want))) if got.size else ""
    else:
        ok = bool(np.all(np.isfinite(got)) and np.allclose(got, want, rtol=rtol, atol=atol))
        err = "max abs error %.3g" % float(np.max(np.abs(got - want))) if got.size else ""
    if ok:
        passed += 1
        print("ok: %s (%s)" % (name, err))
    else:
        failed += 1
        print("FAIL: %s: %s\n  got  %s\n  want %s" % (name, err, got.ravel()[:12], want.ravel()[:12]))


def run(args, what):
    """nnc ARGS in WORK: its stdout, or None (a failure, counted) when it exits non-zero"""
    global failed
    r = subprocess.run([NNC] + args, cwd=WORK, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        failed += 1
        print("FAIL: %s: nnc %s exited %d\n%s%s" % (what, " ".join(args), r.returncode, r.stdout, r.stderr))
        return None
    return r.stdout


def finish():
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


def write(name, text):
    with open(os.path.join(WORK, name), "w") as f:
        f.write(text)


def write_csv(name, header, rows):
    write(name, ",".join(header) + "\n" + "".join(",".join("%.9g" % v for v in r) + "\n" for r in rows))


def save_weights(name, tensors):
    """A safetensors file, as docs/cli.md describes it."""
    hdr, data = {}, b""
    for k, v in tensors.items():
        raw = np.asarray(v, "<f4").tobytes()
        hdr[k] = {"dtype": "F32", "shape": list(np.shape(v)), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(WORK, name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def load_weights(name):
    """The F32 tensors of a safetensors file in WORK, as float64 arrays by name."""
    b = open(os.path.join(WORK, name), "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr, data = json.loads(b[8:8 + n]), b[8 + n:]
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__" or v["dtype"] != "F32":
            continue
        lo, hi = v["data_offsets"]
        out[k] = np.frombuffer(data[lo:hi], "<f4").reshape(v["shape"]).astype(np.float64)
    return out


def parse_csv(text):
    """nnc's CSV output: the header's names and the rows as a float array"""
    lines = text.strip().split("\n")
    head = lines[0].split(",")
    return head, np.array([[float(v) for v in l.split(",")] for l in lines[1:]])


def columns(head, rows, name):
    """The columns of one output: NAME or NAME_0, NAME_1, ..."""
    idx = [i for i, h in enumerate(head) if h == name or (h.startswith(name + "_") and h[len(name) + 1:].isdigit())]
    return rows[:, idx]
