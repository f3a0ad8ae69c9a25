#!/bin/bash
# around_render.sh - the learning-curve SVG renders in a real browser: headless chromium draws
# curves.svg to a PNG, whose pixels hold the training curve's blue and the validation curve's
# orange where the SVG's polylines put them. Skips (exit 77) when chromium is not installed.
. "$(dirname "$0")/lib.sh"
PY=${NNC_PYTHON:-/usr/bin/python3}
command -v chromium > /dev/null || { echo "SKIP: chromium is not installed"; exit 77; }
"$PY" -c "import PIL" 2> /dev/null || { echo "SKIP: python3 has no PIL to read the PNG"; exit 77; }
compile iris
./iris train --epochs 6 --val-split 0.2 --history h.csv > t.log 2>&1 || { cat t.log; fail "train exited with $?"; }
./iris plot h.csv -o curves.svg || fail "plot exited with $?"
size=$("$PY" -c "import xml.etree.ElementTree as E; r = E.parse('curves.svg').getroot(); print(r.get('width') + ',' + r.get('height'))")
HOME=$PWD timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$size" \
    --screenshot="$PWD/shot.png" "file://$PWD/curves.svg" > chromium.log 2>&1
[ -s shot.png ] || { tail chromium.log; fail "chromium wrote no screenshot"; }
"$PY" - curves.svg shot.png <<'PYEOF' || fail "the rendered plot does not show the curves"
import sys, xml.etree.ElementTree as ET
from PIL import Image
img = Image.open(sys.argv[2]).convert("RGB")
S = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
def near(c, want, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(c, want))
checked = 0
for g in root.iter(S + "g"):
    name = g.get("data-name")
    if g.get("class") != "series" or name not in ("loss", "val_loss"):
        continue
    line = g.find(S + "polyline")
    want = tuple(int(line.get("stroke")[i:i + 2], 16) for i in (1, 3, 5))
    # each vertex of the curve: a pixel of the curve's colour within 2 px (the markers sit there)
    for p in line.get("points").split():
        x, y = (float(v) for v in p.split(","))
        hit = any(near(img.getpixel((int(x) + dx, int(y) + dy)), want)
                  for dx in range(-2, 3) for dy in range(-2, 3))
        assert hit, (name, x, y, want)
        checked += 1
# and the page is not blank: a fair share of non-background pixels
w, h = img.size
ink = sum(1 for x in range(0, w, 3) for y in range(0, h, 3) if img.getpixel((x, y))[0] < 200)
assert ink > 300, ink
print("ok: chromium drew", checked, "curve points;", ink, "dark samples")
PYEOF
echo PASS
