#!/usr/bin/python3
"""dp_scaling.py - data-parallel training over MPI on one machine (docs/distributed.md).

For each benchmark model, one epoch of training measured as the executable reports it (samples/s
of the epoch line; with 2 ranks the global samples over rank 0's clock):

  1 rank  --threads 1      the baseline
  2 ranks --threads 1      mpirun -np 2: the same global batch split in two
  1 rank  --threads 2      the fair comparison on a 2-core machine: the same two cores as threads
  base    --threads 1      (with --base-nnc) the same model built by an nnc without the allreduce
                           pass: the A/B of what the always-compiled allreduce costs one process

and the allreduce's share of a 2-rank step (the runtime's clock, the `allreduce:` line). Every
repetition runs every configuration once, in an order that rotates, so load hits all of them; the
table shows medians. Then the cost model of docs/distributed.md for the same models: bytes reduced
per step (4 x trainable parameters), a ring allreduce's 2(N-1)/N x bytes / bandwidth plus
2(N-1) x latency, against the measured 1-rank step time split N ways.

    /usr/bin/python3 bench/dp_scaling.py [--nnc build/rel/nnc] [--base-nnc OTHER/nnc] [--reps 3]
        [--only mlp_small,mlp_wide] [--work DIR] [--ab-only]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {  # model: (file, --limit, global batch)
    "mlp_small": ("models/mlp_small.nn", 12800, 64),
    "mlp_wide": ("models/mlp_wide.nn", 5120, 256),
    "cnn": ("models/cnn.nn", 640, 64),
}
MPI = ["mpirun", "-np", "2", "--oversubscribe", "--allow-run-as-root"]
BANDWIDTHS = [(1, "1 Gbit/s Ethernet"), (10, "10 Gbit/s"), (25, "25 Gbit/s"), (100, "100 Gbit/s InfiniBand")]
LATENCY = 10e-6     # per message of the ring, seconds (a TCP/RDMA ballpark)


LAST_CPU = [0.0]    # user + system CPU seconds of the last run() (its process and children)


def run(cmd, env=None):
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    LAST_CPU[0] = ru.ru_utime + ru.ru_stime
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited with {p.returncode}:\n{text}")
    return text


def samples_per_s(out):
    m = re.findall(r"^epoch \d+/\d+:.*?([0-9.]+) samples/s", out, re.M)
    if not m:
        sys.exit("no epoch line in:\n" + out)
    return float(m[-1])


def allreduce_share(out):
    m = re.search(r"^allreduce: (\d+) steps, (.*?) a step, ([0-9.]+) s of ([0-9.]+) s training \(([0-9.]+)%\)", out, re.M)
    return (float(m.group(5)), m.group(2)) if m else (float("nan"), "?")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nnc", default=os.path.join(HERE, "..", "build", "rel", "nnc"))
    ap.add_argument("--base-nnc", help="an nnc without the allreduce pass, for the 1-process A/B")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", default="mlp_small,mlp_wide")
    ap.add_argument("--work")
    ap.add_argument("--ab-only", action="store_true",
                    help="only the 1-process A/B against --base-nnc (1 rank, 1 thread, both builds)")
    a = ap.parse_args()
    if not shutil.which("mpirun"):
        sys.exit("mpirun not found (Debian: apt install openmpi-bin libopenmpi-dev)")
    work = a.work or tempfile.mkdtemp(prefix="nnc-dp-")
    os.makedirs(work, exist_ok=True)
    names = a.only.split(",")
    load = open("/proc/loadavg").read().split()[:3]
    print(f"# dp_scaling: {a.reps} repetitions, load average before {' '.join(load)}, {os.cpu_count()} CPUs")
    results = {}
    for name in names:
        src, limit, batch = MODELS[name]
        exe = os.path.join(work, name)
        run([a.nnc, os.path.join(HERE, src), "-o", exe])
        base = None
        if a.base_nnc:
            base = exe + "_base"
            run([a.base_nnc, os.path.join(HERE, src), "-o", base])
        summ = json.loads(run([exe, "summary", "--json"]))
        train = ["train", "--epochs", "1", "--limit", str(limit), "--batch", str(batch), "--seed", "1"]
        configs = {
            "1 rank, 1 thread": [exe] + train + ["--threads", "1"],
            "2 ranks, 1 thread each": MPI + [exe] + train + ["--threads", "1"],
            "1 rank, 2 threads": [exe] + train + ["--threads", "2"],
        }
        if base:
            configs["base nnc, 1 rank, 1 thread"] = [base] + train + ["--threads", "1"]
        if a.ab_only:
            if not base:
                sys.exit("--ab-only needs --base-nnc")
            configs = {k: v for k, v in configs.items() if k in ("1 rank, 1 thread", "base nnc, 1 rank, 1 thread")}
        keys = list(configs)
        sps = {k: [] for k in keys}
        cpu = {k: [] for k in keys}
        share, per_step = [], "?"
        for rep in range(a.reps):
            order = keys[rep % len(keys):] + keys[:rep % len(keys)]
            for k in order:
                out = run(configs[k])
                sps[k].append(samples_per_s(out))
                cpu[k].append(LAST_CPU[0])
                if k.startswith("2 ranks"):
                    s, per_step = allreduce_share(out)
                    share.append(s)
        results[name] = (summ, batch, {k: statistics.median(v) for k, v in sps.items()},
                         statistics.median(share) if share else float("nan"), per_step,
                         {k: statistics.median(v) for k, v in cpu.items()})
    load = open("/proc/loadavg").read().split()[:3]
    print(f"# load average after {' '.join(load)}\n")
    print("| model | params | config | samples/s (median) | vs 1 rank 1 thread | CPU s (median, whole process) |")
    print("|---|---|---|---|---|---|")
    for name, (summ, batch, med, sh, per_step, cpu) in results.items():
        ref = med["1 rank, 1 thread"]
        for k, v in med.items():
            extra = f"; allreduce {sh:.1f}% of the run ({per_step} a step)" if k.startswith("2 ranks") else ""
            print(f"| {name} | {summ['trainable']:,} | {k} | {v:,.0f} | {v / ref:.2f}x{extra} | {cpu[k]:.2f} |")
    if a.ab_only:
        return
    print("\n# cost model: step time at N ranks = t1(B)/N + 2(N-1)/N * 4P / bandwidth + 2(N-1) * "
          f"{LATENCY * 1e6:.0f} us; t1 = the measured 1-rank, 1-thread step at the global batch\n")
    print("| model | bytes/step | N | " + " | ".join(f"{b} Gbit/s" for b, _ in BANDWIDTHS) + " |")
    print("|---|---|---|" + "---|" * len(BANDWIDTHS))
    for name, (summ, batch, med, sh, per_step, _) in results.items():
        nbytes = 4 * summ["trainable"]
        t1 = batch / med["1 rank, 1 thread"]
        for n in (2, 4, 8, 16):
            cells = []
            for gbit, _ in BANDWIDTHS:
                t_ar = 2 * (n - 1) / n * nbytes / (gbit * 1e9 / 8) + 2 * (n - 1) * LATENCY
                t = t1 / n + t_ar
                cells.append(f"{t1 / t:.1f}x ({100 * t_ar / t:.0f}% comm)")
            print(f"| {name} | {nbytes / 1e6:.2f} MB | {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
