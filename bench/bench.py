"""bench/bench.py - training speed and memory of nnc side by side with PyTorch, in the same run.

For each network: compile it with nnc, then alternate nnc and PyTorch runs (REPS each, so machine
noise hits both alike) of one epoch on the same data, thread count and batch size; report the median
samples/s and the peak resident memory of each, and their ratios (nnc / PyTorch: > 1 is faster for
speed, < 1 is leaner for memory). Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 bench/bench.py [--nnc build/release/nnc] [--reps 5] [--threads 1] [--limit 60000]
"""
import argparse, os, re, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

def run(cmd):
    """Run cmd; return (stdout, seconds, peak RSS in MiB) of that child alone."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = "", ""
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    out, err = p.stdout.read(), p.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({code}):\n{out}\n{err}")
    return out, dt, ru.ru_maxrss / 1024.0

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nnc", default=os.path.join(ROOT, "build/release/nnc"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=60000)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="nnc-bench-")
    exe = os.path.join(tmp, "fashion_mlp")
    t0 = time.perf_counter()
    subprocess.run([a.nnc, os.path.join(ROOT, "examples/fashion_mlp.nn"), "-o", exe], check=True)
    compile_s = time.perf_counter() - t0

    nnc_sps, nnc_rss, torch_sps, torch_rss = [], [], [], []
    for _ in range(a.reps):
        out, _, rss = run([exe, "train", "--epochs", "1", "--batch", "64", "--threads", str(a.threads),
                           "--limit", str(a.limit), "--data", a.data, "--seed", "1"])
        m = re.findall(r"([0-9.]+) samples/s", out)
        if not m:
            sys.exit(f"bench: no samples/s in nnc's output:\n{out}")
        nnc_sps.append(float(m[-1])); nnc_rss.append(rss)
        out, _, rss = run([sys.executable, os.path.join(HERE, "torch_mlp.py"), a.data, str(a.threads), str(a.limit)])
        torch_sps.append(float(re.search(r"samples_per_s=([0-9.]+)", out).group(1))); torch_rss.append(rss)

    med = statistics.median
    print(f"fashion_mlp (784-256-10, dropout, Adam, batch 64), {a.limit} samples, {a.threads} thread(s), "
          f"median of {a.reps}; nnc compile {compile_s:.2f}s")
    print(f"{'':12}{'samples/s':>12}{'peak RSS MiB':>14}")
    print(f"{'nnc':12}{med(nnc_sps):12.0f}{med(nnc_rss):14.1f}")
    print(f"{'pytorch':12}{med(torch_sps):12.0f}{med(torch_rss):14.1f}")
    print(f"{'nnc/pytorch':12}{med(nnc_sps) / med(torch_sps):12.2f}{med(nnc_rss) / med(torch_rss):14.2f}")

main()
