#!/usr/bin/env python3
"""diag_json.py - `nnc check --diagnostics-format=json` (lang/diag.c): for a sample of the golden
bad programs of tests/lang (X.nn with its X.err), every line nnc writes on stderr is one JSON
object with the documented members, and the objects say exactly what the text diagnostics of
X.err say: the same errors in the same order, with the same file, line, column, message, notes
and hints. Plus a plain error (no source place), a bad format name and the text default.

usage: diag_json.py NNC  (run from anywhere; nnc runs inside tests/lang like golden.sh)
"""
import json
import os
import re
import subprocess
import sys

NNC = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
ENV = dict(os.environ, NNC_STDLIB="../../stdlib", NO_COLOR="1")   # relative, as golden.sh
KEYS = ["file", "line", "column", "span", "severity", "message", "notes", "hints"]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def parse_text(text):
    """The errors of a text diagnostic as [{file, line, column, message, notes, hints}]."""
    errs = []
    for line in text.splitlines():
        m = re.match(r"^(\S+?):(\d+):(\d+): (error|note): (.*)$", line)
        if m and m.group(4) == "error":
            errs.append(dict(file=m.group(1), line=int(m.group(2)), column=int(m.group(3)),
                             message=m.group(5), notes=[], hints=[]))
        elif m and errs:
            errs[-1]["notes"].append(dict(file=m.group(1), line=int(m.group(2)),
                                          column=int(m.group(3)), message=m.group(5)))
        elif line.startswith("nnc: error: "):
            errs.append(dict(file=None, line=None, column=None, message=line[12:], notes=[], hints=[]))
        elif line.startswith("note: ") and errs:
            errs[-1]["notes"].append(dict(file=None, line=None, column=None, message=line[6:]))
        elif line.startswith("hint: ") and errs:
            errs[-1]["hints"].append(line[6:])
    return errs


def run_json(args):
    p = subprocess.run([NNC] + args, cwd=HERE, env=ENV, capture_output=True, timeout=60)
    objs = []
    for i, raw in enumerate(p.stderr.decode("utf-8").splitlines()):
        try:
            o = json.loads(raw)
        except ValueError as e:
            fail(f"nnc {' '.join(args)}: stderr line {i + 1} is not JSON ({e}): {raw[:120]}")
            continue
        if not isinstance(o, dict) or list(o.keys()) != KEYS:
            fail(f"nnc {' '.join(args)}: members {list(o.keys()) if isinstance(o, dict) else o}, want {KEYS}")
            continue
        if o["severity"] != "error" or not isinstance(o["message"], str):
            fail(f"bad severity/message in {raw}")
        if o["file"] is not None:
            sp = o["span"]
            if not (isinstance(o["line"], int) and isinstance(o["column"], int) and o["line"] >= 1
                    and o["column"] >= 1 and isinstance(sp, dict) and sp["offset"] >= 0 and sp["length"] >= 0):
                fail(f"bad place in {raw}")
        objs.append(o)
    return p.returncode, objs


names = sorted(f[:-4] for f in os.listdir(HERE) if f.endswith(".err") and os.path.exists(os.path.join(HERE, f[:-4] + ".nn")))
sample = names[::6] + [n for n in ("call.unknown", "call.duplicate", "lex.utf8", "syntax.recovery",
                                   "scope.undefined.course", "builtin.assert") if n in names]
checked = 0
for name in dict.fromkeys(sample):
    with open(os.path.join(HERE, name + ".err"), encoding="utf-8", errors="replace") as f:
        want = parse_text(f.read())
    rc, got = run_json(["check", "--diagnostics-format=json", name + ".nn"])
    if rc != 1:
        fail(f"{name}: exit {rc}, want 1")
    stripped = [{k: v for k, v in o.items() if k not in ("span", "severity")} for o in got]
    for o in stripped:
        o["notes"] = [{k: v for k, v in n.items() if k != "span"} for n in o["notes"]]
    if stripped != want:
        fail(f"{name}: JSON diagnostics differ from {name}.err:\n  json {stripped}\n  text {want}")
    checked += 1
print(f"ok: {checked} bad programs, JSON diagnostics agree with the text ones")

# one span checked by hand: call.unknown.nn's 'tt' (line 7, column 14, 2 bytes)
rc, got = run_json(["check", "--diagnostics-format", "json", "call.unknown.nn"])
if not got or got[0]["span"]["length"] != 2 or got[0]["hints"] != ["did you mean 't'?"]:
    fail(f"call.unknown.nn: {got}")
else:
    src = open(os.path.join(HERE, "call.unknown.nn"), "rb").read()
    sp = got[0]["span"]
    if src[sp["offset"]:sp["offset"] + sp["length"]] != b"tt":
        fail(f"span {sp} does not cover 'tt'")
# no source place: a missing file
rc, got = run_json(["check", "--diagnostics-format=json", "no_such_file.nn"])
if rc != 1 or len(got) != 1 or got[0]["file"] is not None or "no_such_file.nn" not in got[0]["message"]:
    fail(f"missing file: rc {rc}, {got}")
# a good program: nothing at all
rc, got = run_json(["check", "--diagnostics-format=json", "model.ok.nn"])
if rc != 0 or got:
    fail(f"model.ok.nn: rc {rc}, {got}")
# an unknown format is a usage error; text stays the default
p = subprocess.run([NNC, "check", "--diagnostics-format=xml", "model.ok.nn"], cwd=HERE, env=ENV, capture_output=True)
if p.returncode != 1 or b"unknown --diagnostics-format 'xml'" not in p.stderr:
    fail(f"--diagnostics-format=xml: rc {p.returncode}, {p.stderr!r}")
p = subprocess.run([NNC, "check", "call.unknown.nn"], cwd=HERE, env=ENV, capture_output=True)
if not p.stderr.startswith(b"call.unknown.nn:7:14: error:"):
    fail(f"the text format changed: {p.stderr[:80]!r}")

# a note with no error (a file with two models): a standalone object, severity "note"
import tempfile
with tempfile.TemporaryDirectory() as tmp:
    two = os.path.join(tmp, "two.nn")
    with open(two, "w") as f:
        f.write("model a {\n  input x: f32[B, 2]\n  output y = x\n}\nmodel b {\n  input x: f32[B, 2]\n  output y = x * 2\n}\n")
    p = subprocess.run([NNC, "--diagnostics-format=json", "--emit", "ir", two], env=ENV, capture_output=True, timeout=60)
    lines = p.stderr.decode().splitlines()
    try:
        objs = [json.loads(l) for l in lines]
    except ValueError:
        objs = None
    if p.returncode != 0 or not objs or len(objs) != 1 or objs[0]["severity"] != "note" or "building 'b'" not in objs[0]["message"]:
        fail(f"two models: rc {p.returncode}, stderr {lines}")

if failures:
    sys.exit(1)
print("ok: nnc --diagnostics-format=json")
