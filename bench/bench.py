"""bench/bench.py - nnc's speed and memory beside PyTorch's, in one run, as ratios of medians.

    /usr/bin/python3 bench/bench.py [--nnc build/release/nnc] [--reps 5] [--threads 2] [--smoke]
                                    [--only mlp_small,mlp_wide,predict,cnn]

Workloads (bench/models/*.nn; bench/torch_bench.py builds the same networks, same initialisation
scheme, optimizer, batch, thread count and data: Debian's Fashion-MNIST):
  mlp_small  784-128-10 ReLU, Adam, batch 64: training samples/s and peak RSS
  mlp_wide   784-1024-1024-10 ReLU, SGD + momentum, batch 256: samples/s, peak RSS, and achieved
             GEMM GFLOP/s beside OpenBLAS's own sgemm on the same shapes (bench/sgemm.c)
  predict    mlp_small at batch 1 through the `nnc -c` embedding (bench/predict.c), against
             PyTorch's model(x) under no_grad and the memory bound (streaming the weights once)
  cnn        conv 32 3x3 ReLU -> conv 64 3x3 ReLU -> maxpool 2 -> dense 128 ReLU -> dense 10, Adam,
             batch 64: training samples/s, peak RSS, the convolutions' GFLOP/s (forward
             2*OH*OW*KH*KW*C*F per sample and layer, x3 for a training step), and batch-1 predict
             latency (bench/predict.c on cnn.nn) beside PyTorch's, on one thread and (--threads
             > 1) on --threads threads both. PyTorch runs it in NCHW, its
             default memory format and what its users run (nnc computes channels-last).
  tiny_transformer  a decoder-only character transformer (4 causal pre-norm blocks, 4 heads, dim 128,
             context 128), Adam, batch 32: training tokens/s beside nn.TransformerEncoderLayer's, on
             random ids (NPY, written here; speed does not depend on the text)
  char_lstm  (only with --only) a 2-layer LSTM character model, embedding 64, LSTM 256 x 2, dense 96,
             Adam, batch 32, windows of T = 128 characters of Debian's fortunes-es (written by this
             script): training tokens/s (samples/s x 128) beside PyTorch's nn.LSTM (num_layers = 2)
  compile    nnc's time to build each model's executable
--only picks workloads (comma-separated; default all); compile is timed for the models built.
Every repetition runs every measurement once, nnc and PyTorch alternating (who goes first swaps
each repetition), so a burst of load on the machine hits both sides; medians over --reps.
Training speed is each program's own clock over one epoch (data loading excluded); peak RSS is
wait4's ru_maxrss of the whole process. PyTorch runs twice per repetition:
  equal kernels  with OPENBLAS_CORETYPE set to the kernels the nnc executables run (runtime/blas.c),
                 so both sides use the same OpenBLAS kernels, OPENBLAS_NUM_THREADS = --threads
                 (torch.set_num_threads does not reach OpenBLAS) and OMP_WAIT_POLICY=PASSIVE (else
                 its spinning OpenMP threads starve its OpenBLAS threads at 2 threads on 2 cores);
  as installed   in the environment bench.py was started in, less those three variables: what a user
                 running Debian's PyTorch gets (OpenBLAS's own CPU detection and thread count,
                 libgomp's default spinning); torch.set_num_threads(--threads) as on the other side.
                 It trains on a tenth of the samples (at least 20 batches): its spinning threads make
                 it up to 20x slower, and samples/s is a per-step rate either way.
The three runs (nnc, PyTorch equal kernels, PyTorch as installed) rotate their order each repetition.

--smoke: tiny sizes and one repetition (seconds): the test suite's check that the harness works
and both sides produce numbers; it asserts nothing about speed. Exit status 1 on any failure.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# One train step's GEMMs of mlp_wide at batch B, as the generated code calls cblas_sgemm (row-major
# TA, TB, M, N, K): forward x W1, h1 W2, h2 W3; backward dh2 = dz3 W3^T, dW3 = h2^T dz3,
# dh1 = dz2 W2^T, dW2 = h1^T dz2, dW1 = x^T dz1 (no gradient for the input).
def wide_gemms(B):
    return [("n", "n", B, 1024, 784), ("n", "n", B, 1024, 1024), ("n", "n", B, 10, 1024),
            ("n", "t", B, 1024, 10), ("t", "n", 1024, 10, B),
            ("n", "t", B, 1024, 1024), ("t", "n", 1024, 1024, B), ("t", "n", 784, 1024, B)]

def die(msg):
    sys.exit(f"bench: {msg}")

def run(cmd, env=None, what=None):
    """Runs cmd; returns its stdout + stderr; a failure ends the bench with its output."""
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        die(f"{what or cmd[0]} failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    return p.stdout + p.stderr

def run_rss(cmd, env=None, what=None):
    """Runs cmd; returns (stdout, peak RSS in MiB of that child alone, via wait4)."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if p.returncode != 0:
        die(f"{what or cmd[0]} failed ({p.returncode}): {' '.join(cmd)}\n{out}\n{err}")
    return out, ru.ru_maxrss / 1024.0

def field(out, name, what):
    m = re.findall(name + r"=([0-9.]+)", out)
    if not m:
        die(f"no {name}= in the output of {what}:\n{out}")
    v = float(m[-1])
    if not v > 0:
        die(f"{what}: {name}={v} is not positive")
    return v

def lstm_windows(corpus, work, limit):
    """char_lstm's data: windows of 129 characters of the corpus (the folder's UTF-8 files, *.u8),
    as ids of the 95 most frequent characters (96: any other), split into ids and
    next ids, i32 [N, 128] in work/lstm_{ids,next}.npy"""
    import numpy as np
    from collections import Counter
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".u8")) if os.path.isdir(corpus) else []
    text = "".join(open(os.path.join(corpus, f), encoding="utf-8", errors="replace").read() for f in files)
    if len(text) < 129 * limit:
        die(f"the corpus {corpus} has {len(text)} characters; char_lstm needs {129 * limit} (install "
            "fortunes-es, or pass --corpus)")
    ids = {c: i for i, (c, _) in enumerate(Counter(text).most_common(95))}
    seq = np.array([ids.get(c, 95) for c in text[:129 * limit]], np.int32).reshape(limit, 129)
    np.save(os.path.join(work, "lstm_ids.npy"), seq[:, :128])
    np.save(os.path.join(work, "lstm_next.npy"), seq[:, 1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnc", default=os.path.join(ROOT, "build/release/nnc"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--small-limit", type=int, default=60000, help="mlp_small training samples")
    ap.add_argument("--wide-limit", type=int, default=15360, help="mlp_wide training samples")
    ap.add_argument("--cnn-limit", type=int, default=3200, help="cnn training samples")
    ap.add_argument("--tt-limit", type=int, default=640, help="tiny_transformer training sequences")
    ap.add_argument("--lstm-limit", type=int, default=640, help="char_lstm training windows")
    ap.add_argument("--corpus", default="/usr/share/games/fortunes/es", help="char_lstm text (a folder)")
    ap.add_argument("--only", default="mlp_small,mlp_wide,predict,cnn,tiny_transformer",
                    help="comma-separated workloads: mlp_small, mlp_wide, predict, cnn, tiny_transformer")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--work", help="folder for the built programs (default: a temporary one)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition: the harness works")
    a = ap.parse_args()
    predict_rounds, predict_calls, sgemm_rounds, cnn_calls = 21, 2000, 9, 100
    if a.smoke:
        a.reps, a.small_limit, a.wide_limit, a.cnn_limit, a.tt_limit, a.lstm_limit = 1, 640, 512, 128, 32, 64
        predict_rounds, predict_calls, sgemm_rounds, cnn_calls = 3, 20, 1, 5
    only = a.only.split(",")
    for w in only:
        if w not in ("mlp_small", "mlp_wide", "predict", "cnn", "tiny_transformer", "char_lstm"):
            die(f"--only: no workload {w!r} (mlp_small, mlp_wide, predict, cnn, tiny_transformer, char_lstm)")
    if a.reps < 1 or a.threads < 1:
        die("--reps and --threads must be positive")

    nnc = os.path.abspath(a.nnc)
    if not os.access(nnc, os.X_OK):
        die(f"no nnc at {nnc} (build it, or pass --nnc)")
    rtlib = os.environ.get("NNC_RUNTIME_LIB") or os.path.join(os.path.dirname(nnc), "libnnc_rt.a")
    if not os.path.isfile(rtlib):
        die(f"no runtime library at {rtlib}")
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        if not os.path.isfile(os.path.join(a.data, f)):
            die(f"no {f} in {a.data} (install dataset-fashion-mnist, or pass --data)")
    cc = os.environ.get("CC", "cc").split()
    # a sanitizer build's runtime needs the sanitizers in every program linked with it
    cflags = os.environ.get("BENCH_CFLAGS", "").split()
    work = a.work or tempfile.mkdtemp(prefix="nnc-bench-")
    os.makedirs(work, exist_ok=True)
    libs = [rtlib, "-lopenblas", "-lpng16", "-lz", "-lm", "-lpthread"]
    env = dict(os.environ)

    # ---- build: the executables (timed per repetition below), the embedding, the C helpers
    built = [m for m in ("mlp_small", "mlp_wide", "cnn", "tiny_transformer", "char_lstm")
             if m in only or (m == "mlp_small" and "predict" in only)]
    if "char_lstm" in only:
        lstm_windows(a.corpus, work, a.lstm_limit)
    models = {m: os.path.join(HERE, "models", m + ".nn") for m in built}
    exe = {m: os.path.join(work, m) for m in models}
    # predict.c against a model: `nnc -c --prefix bm` in a folder of its own (bm.h, bm.o)
    def build_predict(m):
        d = os.path.join(work, "predict_" + m)
        os.makedirs(d, exist_ok=True)
        run([nnc, models[m], "-c", "--prefix", "bm", "-o", os.path.join(d, "bm.o")], what=f"nnc -c {m}")
        run(cc + ["-std=c17", "-O2", "-march=native", *cflags, "-I", d, "-I", os.path.join(ROOT, "runtime"),
                  os.path.join(HERE, "predict.c"), os.path.join(d, "bm.o"), *libs, "-o", os.path.join(d, "predict")],
            what=f"building predict.c for {m}")
        return os.path.join(d, "predict")
    pred_models = (["mlp_small"] if "predict" in only else []) + (["cnn"] if "cnn" in only else [])
    pred_exe = {m: build_predict(m) for m in pred_models}
    if "mlp_wide" in only:
        run(cc + ["-std=c17", "-O2", *cflags, "-I", os.path.join(ROOT, "runtime"), os.path.join(HERE, "sgemm.c"),
                  *libs, "-o", os.path.join(work, "sgemm")], what="building sgemm.c")

    R = {k: [] for k in ("compile_small", "compile_wide", "compile_cnn", "n_small", "t_small", "d_small",
                         "n_small_rss", "t_small_rss", "n_wide", "t_wide", "d_wide", "n_wide_rss", "t_wide_rss",
                         "sgemm", "n_pred", "bound", "t_pred", "d_pred", "n_cnn", "t_cnn", "d_cnn", "n_cnn_rss",
                         "t_cnn_rss", "n_cnn_pred", "t_cnn_pred", "d_cnn_pred", "cnn_bound", "n_cnn_pred_t", "t_cnn_pred_t", "compile_tt", "n_tt", "t_tt",
                         "n_tt_rss", "t_tt_rss", "compile_lstm", "n_lstm", "t_lstm")}
    def compile_all():
        for m in built:
            key = {"mlp_small": "compile_small", "mlp_wide": "compile_wide", "cnn": "compile_cnn",
                   "tiny_transformer": "compile_tt", "char_lstm": "compile_lstm"}[m]
            t0 = time.perf_counter()
            run([nnc, models[m], "-o", exe[m]], what=f"nnc {m}")
            R[key].append(time.perf_counter() - t0)
    compile_all()

    # the OpenBLAS kernels the executables end up with (after runtime/blas.c's check)
    cores = re.findall(r"Core: (\S+)", run([exe[built[0]], "summary"], env=dict(env, OPENBLAS_VERBOSE="2")))
    core = cores[-1] if cores else None
    # torch.set_num_threads sets PyTorch's own (OpenMP) threads, not OpenBLAS's: without this its
    # GEMMs would run on all cores while nnc's run on --threads
    torch_env = dict(env, OPENBLAS_NUM_THREADS=str(a.threads))
    # PyTorch's OpenMP threads spin after each parallel region (libgomp's default), starving its own
    # OpenBLAS threads on a 2-core machine: mlp_small at 2 threads ran at ~450 samples/s that way,
    # ~8,000 with passive waiting. Compare against PyTorch at its best, not at that pathology.
    torch_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if core and not env.get("OPENBLAS_CORETYPE"):
        torch_env["OPENBLAS_CORETYPE"] = core
    # PyTorch as a user runs it: none of the above
    default_env = {k: v for k, v in env.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                                              "OMP_WAIT_POLICY")}
    dcores = re.findall(r"Core: (\S+)", run([sys.executable, "-c", "import torch"],
                                             env=dict(default_env, OPENBLAS_VERBOSE="2"), what="import torch"))
    default_core = dcores[-1] if dcores else None
    def rotated(sides, rep):
        k = rep % len(sides)
        return sides[k:] + sides[:k]

    shapes = [",".join(map(str, g)) for g in wide_gemms(256)]
    wide_flops = sum(2.0 * M * N * K for _, _, M, N, K in wide_gemms(256)) / 256   # per sample
    # cnn.nn's convolutions per sample and training step: forward 2*OH*OW*KH*KW*C*F, x3 with both backwards
    cnn_conv_fwd = 2.0 * 26 * 26 * 3 * 3 * 1 * 32 + 2.0 * 24 * 24 * 3 * 3 * 32 * 64
    cnn_flops = 3 * cnn_conv_fwd
    # the batch-1 forward's multiply-adds: both convolutions and both dense layers (the pooling,
    # bias and ReLU not counted, so the bound below is lower than any real forward)
    cnn_fwd_flops = cnn_conv_fwd + 2.0 * 9216 * 128 + 2.0 * 128 * 10
    py = sys.executable
    tb = os.path.join(HERE, "torch_bench.py")
    if "tiny_transformer" in only:
        # random character ids over the model's vocabulary of 140, windows of 128 and the next ids
        run([py, "-c", "import numpy as np; r = np.random.default_rng(0); "
             f"s = r.integers(1, 140, size=({a.tt_limit}, 129)).astype(np.int32); "
             f"np.save({os.path.join(work, 'ids.npy')!r}, s[:, :128]); "
             f"np.save({os.path.join(work, 'next.npy')!r}, s[:, 1:])"], what="writing tiny_transformer's data")
    t_start = time.perf_counter()
    for rep in range(a.reps):
        if rep > 0:
            compile_all()
        for m, k, limit in (("mlp_small", "small", a.small_limit), ("mlp_wide", "wide", a.wide_limit),
                            ("cnn", "cnn", a.cnn_limit)):
            if m not in only:
                continue
            def nnc_side():
                out, rss = run_rss([exe[m], "train", "--epochs", "1", "--threads", str(a.threads), "--limit",
                                    str(limit), "--data", a.data, "--seed", "1"], env=env, what=f"{m} train")
                s = re.findall(r"([0-9.]+) samples/s", out)
                if not s:
                    die(f"no samples/s in the output of {m} train:\n{out}")
                R["n_" + k].append(float(s[-1]))
                R["n_" + k + "_rss"].append(rss)
            def torch_side():
                out, rss = run_rss([py, tb, "train", m, a.data, str(a.threads), str(limit)], env=torch_env,
                                   what=f"torch_bench.py train {m}")
                R["t_" + k].append(field(out, "samples_per_s", f"torch {m}"))
                R["t_" + k + "_rss"].append(rss)
            def torch_default():
                batch = 256 if m == "mlp_wide" else 64
                short = min(limit, max(limit // 10, 20 * batch))
                out, _ = run_rss([py, tb, "train", m, a.data, str(a.threads), str(short)], env=default_env,
                                 what=f"torch_bench.py train {m} (as installed)")
                R["d_" + k].append(field(out, "samples_per_s", f"torch {m} (as installed)"))
            for side in rotated([nnc_side, torch_side, torch_default], rep):
                side()
        if "char_lstm" in only:
            def nnc_lstm():
                out = run([exe["char_lstm"], "train", "--epochs", "1", "--threads", str(a.threads), "--limit",
                           str(a.lstm_limit), "--seed", "1", "--data",
                           os.path.join(work, "lstm_ids.npy") + "," + os.path.join(work, "lstm_next.npy")],
                          env=env, what="char_lstm train")
                s = re.findall(r"([0-9.]+) samples/s", out)
                if not s:
                    die(f"no samples/s in the output of char_lstm train:\n{out}")
                R["n_lstm"].append(128 * float(s[-1]))
            def torch_lstm():
                out = run([py, tb, "train", "char_lstm", work, str(a.threads), str(a.lstm_limit)], env=torch_env,
                          what="torch_bench.py train char_lstm")
                R["t_lstm"].append(128 * field(out, "samples_per_s", "torch char_lstm"))
            for side in rotated([nnc_lstm, torch_lstm], rep):
                side()
        if "tiny_transformer" in only:
            def nnc_tt():
                data = os.path.join(work, "ids.npy") + "," + os.path.join(work, "next.npy")
                out, rss = run_rss([exe["tiny_transformer"], "train", "--epochs", "1", "--threads", str(a.threads),
                                    "--data", data, "--seed", "1"], env=env, what="tiny_transformer train")
                s = re.findall(r"([0-9.]+) samples/s", out)
                if not s:
                    die(f"no samples/s in the output of tiny_transformer train:\n{out}")
                R["n_tt"].append(float(s[-1]) * 128)
                R["n_tt_rss"].append(rss)
            def torch_tt():
                out, rss = run_rss([py, tb, "train", "tiny_transformer", work, str(a.threads), str(a.tt_limit)],
                                   env=torch_env, what="torch_bench.py train tiny_transformer")
                R["t_tt"].append(field(out, "tokens_per_s", "torch tiny_transformer"))
                R["t_tt_rss"].append(rss)
            for side in rotated([nnc_tt, torch_tt], rep):
                side()
        if "mlp_wide" in only:
            out, _ = run_rss([os.path.join(work, "sgemm"), str(a.threads), str(sgemm_rounds), *shapes], env=env,
                             what="sgemm")
            R["sgemm"].append(field(out, "gflops", "sgemm"))
        for m, k in (("mlp_small", "pred"), ("cnn", "cnn_pred")):
            if m not in pred_exe:
                continue
            calls = str(predict_calls if m == "mlp_small" else cnn_calls)
            def nnc_pred():
                out, _ = run_rss([pred_exe[m], str(predict_rounds), calls], env=env, what=f"predict {m}")
                R["n_" + k].append(field(out, "predict_us", f"predict {m}"))
                if m == "mlp_small":
                    R["bound"].append(field(out, "bound_us", "predict"))
                elif (peak := float(re.search(r"peak_gflops=([0-9.]+)", out).group(1))) > 0:
                    # cnn's machine bound at batch 1, one core: its flops at the core's measured FMA
                    # peak plus one pass over its weights (4.8 MB, mostly the dense layer's); no
                    # bound where predict.c has no vector FMA to measure the peak with (prints 0)
                    R["cnn_bound"].append(cnn_fwd_flops / peak / 1e3 + field(out, "bound_us", "predict"))
            def torch_pred():
                out, _ = run_rss([py, tb, "predict", m, str(predict_rounds), calls],
                                 env=dict(torch_env, OPENBLAS_NUM_THREADS="1"), what=f"torch_bench.py predict {m}")
                R["t_" + k].append(field(out, "predict_us", f"torch predict {m}"))
            def torch_pred_default():
                out, _ = run_rss([py, tb, "predict", m, str(predict_rounds), calls],
                                 env=default_env, what=f"torch_bench.py predict {m} (as installed)")
                R["d_" + k].append(field(out, "predict_us", f"torch predict {m} (as installed)"))
            sides = [nnc_pred, torch_pred, torch_pred_default]
            if m == "cnn" and a.threads > 1:
                # batch 1 on a.threads threads, both sides: nnc's forward gets a pool (its convs run
                # in bands of output rows), PyTorch torch.set_num_threads(a.threads)
                def nnc_pred_t():
                    out, _ = run_rss([pred_exe[m], str(predict_rounds), calls, str(a.threads)], env=env,
                                     what=f"predict {m} {a.threads} threads")
                    R["n_cnn_pred_t"].append(field(out, "predict_us", f"predict {m} threads"))
                def torch_pred_t():
                    out, _ = run_rss([py, tb, "predict", m, str(predict_rounds), calls, str(a.threads)],
                                     env=dict(torch_env, OPENBLAS_NUM_THREADS=str(a.threads)),
                                     what=f"torch_bench.py predict {m} {a.threads} threads")
                    R["t_cnn_pred_t"].append(field(out, "predict_us", f"torch predict {m} threads"))
                sides += [nnc_pred_t, torch_pred_t]
            for side in rotated(sides, rep):
                side()
        print(f"bench: repetition {rep + 1}/{a.reps} done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)

    med = {k: statistics.median(v) for k, v in R.items() if v}
    def row(name, x, y, unit, ratio, target=""):
        print(f"| {name} | {x} | {y} | {ratio} | {target} |")
    sys.stderr.flush()
    print(f"\nnnc vs PyTorch {getattr(__import__('torch'), '__version__', '?')}, {a.threads} thread(s), median of "
          f"{a.reps}; OpenBLAS kernels: {core or '?'} (PyTorch as installed: {default_core or '?'}); "
          f"mlp_small {a.small_limit} samples, mlp_wide {a.wide_limit}, cnn {a.cnn_limit}, tiny_transformer {a.tt_limit}; {' '.join(only)}\n")
    print("| figure | nnc | PyTorch / limit | ratio | target |")
    print("|---|---|---|---|---|")
    if "mlp_small" in only:
        row("mlp_small train samples/s (PyTorch: equal kernels)", f"{med['n_small']:.0f}", f"{med['t_small']:.0f}",
            "", f"{med['n_small'] / med['t_small']:.2f}x", ">= 6x")
        row("mlp_small train samples/s (PyTorch: as installed)", f"{med['n_small']:.0f}", f"{med['d_small']:.0f}",
            "", f"{med['n_small'] / med['d_small']:.2f}x", "")
        row("mlp_small peak RSS MiB", f"{med['n_small_rss']:.1f}", f"{med['t_small_rss']:.1f}", "",
            f"{med['n_small_rss'] / med['t_small_rss']:.3f}", "<= 0.2")
    if "mlp_wide" in only:
        row("mlp_wide train samples/s (PyTorch: equal kernels)", f"{med['n_wide']:.0f}", f"{med['t_wide']:.0f}", "",
            f"{med['n_wide'] / med['t_wide']:.2f}x", ">= 3x")
        row("mlp_wide train samples/s (PyTorch: as installed)", f"{med['n_wide']:.0f}", f"{med['d_wide']:.0f}", "",
            f"{med['n_wide'] / med['d_wide']:.2f}x", "")
        gn, gt = med["n_wide"] * wide_flops / 1e9, med["t_wide"] * wide_flops / 1e9
        row("mlp_wide GEMM GFLOP/s vs PyTorch", f"{gn:.1f}", f"{gt:.1f}", "", f"{gn / gt:.2f}x", "")
        row("mlp_wide GEMM GFLOP/s vs sgemm (same shapes)", f"{gn:.1f}", f"{med['sgemm']:.1f}", "",
            f"{gn / med['sgemm']:.2f}", ">= 0.85")
        row("mlp_wide peak RSS MiB", f"{med['n_wide_rss']:.1f}", f"{med['t_wide_rss']:.1f}", "",
            f"{med['n_wide_rss'] / med['t_wide_rss']:.3f}", "<= 0.2")
    if "predict" in only:
        row("predict batch 1 us vs PyTorch (equal kernels)", f"{med['n_pred']:.2f}", f"{med['t_pred']:.2f}", "",
            f"{med['t_pred'] / med['n_pred']:.2f}x faster", "")
        row("predict batch 1 us vs PyTorch (as installed)", f"{med['n_pred']:.2f}", f"{med['d_pred']:.2f}", "",
            f"{med['d_pred'] / med['n_pred']:.2f}x faster", "")
        row("predict batch 1 us vs memory bound", f"{med['n_pred']:.2f}", f"{med['bound']:.2f}", "",
            f"{med['n_pred'] / med['bound']:.2f}", "<= 1.1")
        # each repetition's forward and bound come from one process, rounds alternating: the
        # median of those ratios never divides by a bound measured under another load
        own = statistics.median(p / b for p, b in zip(R["n_pred"], R["bound"]))
        row("predict / memory bound, median of each repetition's own ratio", "", "", "", f"{own:.3f}", "")
    if "cnn" in only:
        row("cnn train samples/s (PyTorch NCHW: equal kernels)", f"{med['n_cnn']:.0f}", f"{med['t_cnn']:.0f}", "",
            f"{med['n_cnn'] / med['t_cnn']:.2f}x", ">= 2x")
        row("cnn train samples/s (PyTorch NCHW: as installed)", f"{med['n_cnn']:.0f}", f"{med['d_cnn']:.0f}", "",
            f"{med['n_cnn'] / med['d_cnn']:.2f}x", "")
        gn, gt = med["n_cnn"] * cnn_flops / 1e9, med["t_cnn"] * cnn_flops / 1e9
        row("cnn conv GFLOP/s (train) vs PyTorch", f"{gn:.1f}", f"{gt:.1f}", "", f"{gn / gt:.2f}x", "")
        row("cnn peak RSS MiB", f"{med['n_cnn_rss']:.1f}", f"{med['t_cnn_rss']:.1f}", "",
            f"{med['n_cnn_rss'] / med['t_cnn_rss']:.3f}", "<= 0.5")
        row("cnn predict batch 1 us vs PyTorch (equal kernels)", f"{med['n_cnn_pred']:.1f}",
            f"{med['t_cnn_pred']:.1f}", "", f"{med['n_cnn_pred'] / med['t_cnn_pred']:.3f}", "<= 0.1")
        row("cnn predict batch 1 us vs PyTorch (as installed)", f"{med['n_cnn_pred']:.1f}",
            f"{med['d_cnn_pred']:.1f}", "", f"{med['n_cnn_pred'] / med['d_cnn_pred']:.3f}", "")
        if "cnn_bound" in med:
            row("cnn predict batch 1 us vs the machine's bound (FMA peak + weights once)", f"{med['n_cnn_pred']:.1f}",
                f"{med['cnn_bound']:.1f}", "", f"{med['n_cnn_pred'] / med['cnn_bound']:.2f}", "")
            row("cnn: the machine's bound vs PyTorch (equal kernels): the least ratio any forward can reach",
                f"{med['cnn_bound']:.1f}", f"{med['t_cnn_pred']:.1f}", "",
                f"{med['cnn_bound'] / med['t_cnn_pred']:.3f}", "")
        if "n_cnn_pred_t" in med:
            row(f"cnn predict batch 1 us, {a.threads} threads both (equal kernels)", f"{med['n_cnn_pred_t']:.1f}",
                f"{med['t_cnn_pred_t']:.1f}", "", f"{med['n_cnn_pred_t'] / med['t_cnn_pred_t']:.3f}", "")
    if "tiny_transformer" in only:
        row("tiny_transformer train tokens/s (PyTorch: equal kernels)", f"{med['n_tt']:.0f}", f"{med['t_tt']:.0f}",
            "", f"{med['n_tt'] / med['t_tt']:.2f}x", ">= 2x")
        row("tiny_transformer peak RSS MiB", f"{med['n_tt_rss']:.1f}", f"{med['t_tt_rss']:.1f}", "",
            f"{med['n_tt_rss'] / med['t_tt_rss']:.3f}", "")
    if "char_lstm" in only:
        row(f"char_lstm train tokens/s, batch 32, T = 128 (PyTorch nn.LSTM: equal kernels)", f"{med['n_lstm']:.0f}",
            f"{med['t_lstm']:.0f}", "", f"{med['n_lstm'] / med['t_lstm']:.2f}x", ">= 2x")
    names = {"mlp_small": "compile_small", "mlp_wide": "compile_wide", "cnn": "compile_cnn",
             "tiny_transformer": "compile_tt", "char_lstm": "compile_lstm"}
    row(f"compile s ({', '.join(built)})", ", ".join(f"{med[names[m]]:.2f}" for m in built), "-", "", "-", "<= 1 s")
    print("\nper repetition (spread of the medians above):")
    for k, v in R.items():
        if v:
            print(f"  {k:14} " + " ".join(f"{x:.4g}" for x in v))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
