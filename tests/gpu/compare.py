"""tests/gpu/compare.py GPU_OUT CPU_OUT [REL] - the numbers the runtime prints (loss, accuracy, mse,
mae, ... as `name value` or `name: value`; times and throughputs left out) equal within REL
relative or REL absolute (default 0.03: a GPU sums in another order than OpenBLAS, and training
amplifies the difference step by step). Prints the first difference; exit 1 when there is one."""
import re, sys

SKIP = {"samples", "time", "threads", "epoch", "batch", "epochs"}
PAT = re.compile(r"([A-Za-z_]+):?\s+(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\b")

def numbers(path):
    out = []
    for line in open(path, errors="replace"):
        if line.startswith("time:") or ": cuda: " in line:     # NNC_CUDA_STATS's counts
            continue
        line = re.sub(r"\s[\d.]+s\s+\d+ samples/s", "", line)
        for name, v in PAT.findall(line):
            if name.lower() not in SKIP:
                out.append((name, float(v)))
    return out

g, c = numbers(sys.argv[1]), numbers(sys.argv[2])
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.03
if len(g) != len(c) or not g:
    print(f"different outputs: {len(g)} numbers on the GPU, {len(c)} on the CPU")
    sys.exit(1)
for (ng, vg), (nc, vc) in zip(g, c):
    if ng != nc or abs(vg - vc) > tol * max(1.0, abs(vc)):
        print(f"{ng}: GPU {vg} vs CPU {vc} ({nc})")
        sys.exit(1)
print(f"{len(g)} numbers equal within {tol}")
