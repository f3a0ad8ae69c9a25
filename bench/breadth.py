"""bench/breadth.py - nnc beside PyTorch on typical course networks beyond bench.py's five.

    /usr/bin/python3 bench/breadth.py [--nnc build/rel/nnc] [--base-nnc OTHER/nnc] [--reps 3]
                                      [--threads 2] [--only logreg,deep_bn,...] [--scale 1.0]
                                      [--data DIR] [--work DIR] [--smoke]
    /usr/bin/python3 bench/breadth.py torch MODEL DATA_DIR THREADS LIMIT   (the PyTorch side alone)

Workloads (bench/models/breadth/NAME.nn; the PyTorch twin of each is below, same layers, Glorot-
uniform weights and zero biases as nnc's dense/conv2d (PyTorch's own init for the GRU, as nnc's
gru), same optimizer, batch, thread count and data: the first LIMIT images of Debian's Fashion-MNIST,
kept as u8 and converted to f32 / 255 per batch on both sides):
  logreg   784 -> 10 softmax regression, SGD 0.1, batch 64
  deep_bn  784-512-256-128-10, each hidden layer dense, batchnorm, ReLU, dropout 0.2; Adam, batch 128
  resnet   3x3 stem 16, residual blocks 16, 32/2, 64/2 with batchnorm, global avgpool; Adam, batch 64
  conv_ae  stride-2 convs 32, 16, stride-2 transposed convs 32, 16, 3x3 sigmoid conv; MSE, Adam, 128
  up_ae    3x3 convs 32, 16 each with maxpool 2, convs 16, 32 each with nearest upsample 2, 3x3
           sigmoid conv; MSE, Adam, batch 128
  gru      the image row by row (28 steps of 28), GRU 128, last state -> dense 10; Adam, batch 64
  vae      MLP VAE 784-512-(20, 20), reparameterised, 20-512-784 sigmoid; BCE sum + KL; Adam, 128
  lenet    d2l's LeNet-5: 5x5 convs 6, 16 with sigmoid and avgpool 2, dense 120, 84, 10; SGD 0.9, 256
  dcgan    examples/dcgan_fashion.nn: a step of the discriminator and one of the generator per batch
           (batchnorm, conv_transpose 4x4 stride 2, LeakyReLU, dropout); Adam 2e-4, batch 64
Every repetition runs each workload's sides back to back, nnc then PyTorch or the other way round
(swapping each repetition), plus the --base-nnc build's executable when given; medians over --reps.
samples/s is each program's own clock over one epoch (data loading excluded); peak RSS is wait4's
ru_maxrss; CPU s is wait4's user + system time of the whole process (what the A/B against
--base-nnc reads: under load it moves far less than wall time). --cpu-rate adds samples per CPU
second of the training loop on both sides: PyTorch's time.process_time() around its loop, nnc's
CPU of the same run for two epochs less that of the one-epoch run (start-up and data loading
cancel); at --threads 1 it estimates the samples/s of a quiet machine. PyTorch runs with bench.py's
"equal kernels" environment (OPENBLAS_CORETYPE of the nnc executables, OPENBLAS_NUM_THREADS =
--threads, OMP_WAIT_POLICY=PASSIVE); its convolutions go to oneDNN (NCHW, its default format).
--smoke: tiny sizes, one repetition: the test suite's check that both sides run and print figures
(asserts nothing about speed). Exit status 1 on any failure.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# name: (training samples of one run at --scale 1, batch)
WORKLOADS = {
    "logreg": (60000, 64), "deep_bn": (15360, 128), "resnet": (1280, 64), "conv_ae": (3840, 128),
    "up_ae": (2560, 128), "gru": (6400, 64), "vae": (15360, 128), "lenet": (7680, 256), "dcgan": (1280, 64),
}


# ---- the PyTorch side ----------------------------------------------------------------------------

def torch_model(name):
    import torch
    nn = torch.nn

    class Residual(nn.Module):
        def __init__(self, c, f, stride):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(c, f, 3, stride, 1), nn.BatchNorm2d(f), nn.ReLU(),
                                   nn.Conv2d(f, f, 3, 1, 1), nn.BatchNorm2d(f))
            self.s = (nn.Identity() if stride == 1 and c == f else
                      nn.Sequential(nn.Conv2d(c, f, 1, stride), nn.BatchNorm2d(f)))

        def forward(self, x):
            return torch.relu(self.a(x) + self.s(x))

    class GRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(28, 128, batch_first=True)
            self.out = nn.Linear(128, 10)

        def forward(self, x):
            return self.out(self.gru(x)[1][0])

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU())
            self.mu, self.logvar = nn.Linear(512, 20), nn.Linear(512, 20)
            self.dec = nn.Sequential(nn.Linear(20, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())

        def forward(self, x):
            h = self.enc(x)
            mu, logvar = self.mu(h), self.logvar(h)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            return self.dec(z), mu, logvar

    def bn_block(k, n):
        return [nn.Linear(k, n), nn.BatchNorm1d(n), nn.ReLU(), nn.Dropout(0.2)]

    if name == "logreg":
        m = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    elif name == "deep_bn":
        m = nn.Sequential(nn.Flatten(), *bn_block(784, 512), *bn_block(512, 256), *bn_block(256, 128),
                          nn.Linear(128, 10))
    elif name == "resnet":
        m = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 16, 3, 1, 1), nn.BatchNorm2d(16), nn.ReLU(),
                          Residual(16, 16, 1), Residual(16, 32, 2), Residual(32, 64, 2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    elif name == "conv_ae":
        m = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 32, 3, 2, 1), nn.ReLU(),
                          nn.Conv2d(32, 16, 3, 2, 1), nn.ReLU(),
                          nn.ConvTranspose2d(16, 32, 3, 2, 1, output_padding=1), nn.ReLU(),
                          nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), nn.ReLU(),
                          nn.Conv2d(16, 1, 3, 1, 1), nn.Sigmoid())
    elif name == "up_ae":
        m = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 16, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 16, 3, 1, 1), nn.ReLU(), nn.Upsample(scale_factor=2),
                          nn.Conv2d(16, 32, 3, 1, 1), nn.ReLU(), nn.Upsample(scale_factor=2),
                          nn.Conv2d(32, 1, 3, 1, 1), nn.Sigmoid())
    elif name == "gru":
        m = GRU()
    elif name == "vae":
        m = VAE()
    elif name == "lenet":
        m = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2),
                          nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    elif name == "dcgan":
        g = nn.Sequential(nn.Linear(100, 7 * 7 * 64), nn.Unflatten(1, (64, 7, 7)), nn.BatchNorm2d(64, momentum=0.2),
                          nn.LeakyReLU(0.2), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32, momentum=0.2),
                          nn.LeakyReLU(0.2), nn.ConvTranspose2d(32, 1, 4, 2, 1), nn.Tanh())
        d = nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 32, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(0.25),
                          nn.Conv2d(32, 64, 3, 2, 1), nn.LeakyReLU(0.2), nn.Dropout(0.25), nn.Flatten(),
                          nn.Linear(3136, 1))
        m = nn.ModuleDict({"g": g, "d": d})
    else:
        raise ValueError(name)
    for mod in m.modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(mod.weight)
            nn.init.zeros_(mod.bias)
    return m


def torch_train(name, root, threads, limit):
    """One epoch over the first LIMIT images, shuffled, timed from the first step to the last."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch_bench import idx
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.from_numpy(idx(f"{root}/train-images-idx3-ubyte.gz")[:limit].copy())  # uint8 [n, 28, 28]
    y = torch.from_numpy(idx(f"{root}/train-labels-idx1-ubyte.gz")[:limit].astype(np.int64))
    m = torch_model(name)
    batch = WORKLOADS[name][1]
    if name == "dcgan":
        g, d = m["g"], m["d"]
        opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    elif name in ("logreg", "lenet"):
        opt = torch.optim.SGD(m.parameters(), lr=0.1 if name == "logreg" else 0.9)
    else:
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    n = x.shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    perm = torch.randperm(n)
    for i in range(0, n, batch):
        ids = perm[i:i + batch]
        xb = x[ids].to(torch.float32).div_(255.0)
        if name == "dcgan":
            # step d: the generator in inference mode (its batchnorm reads the running statistics),
            # no gradient into it; then step g: the discriminator in inference mode (dropout off),
            # no gradient for its weights, as nnc's `step g ... over [generator]`
            real = 2.0 * xb - 1.0
            g.eval()
            d.train()
            with torch.no_grad():
                fake = g(torch.randn(xb.shape[0], 100))
            opt_d.zero_grad(set_to_none=True)
            loss = F.softplus(-d(real)).mean() + F.softplus(d(fake[:, 0])).mean()
            loss.backward()
            opt_d.step()
            g.train()
            d.eval()
            d.requires_grad_(False)
            opt_g.zero_grad(set_to_none=True)
            loss = F.softplus(-d(g(torch.randn(xb.shape[0], 100))[:, 0])).mean()
            loss.backward()
            opt_g.step()
            d.requires_grad_(True)
            continue
        opt.zero_grad(set_to_none=True)
        if name == "vae":
            recon, mu, logvar = m(xb)
            flat = xb.reshape(-1, 784)
            loss = 784.0 * F.binary_cross_entropy(recon, flat) \
                - 0.5 * torch.mean(torch.sum(1.0 + logvar - mu * mu - torch.exp(logvar), dim=1))
        elif name in ("conv_ae", "up_ae"):
            loss = F.mse_loss(m(xb)[:, 0], xb)
        else:
            loss = F.cross_entropy(m(xb), y[ids])
        loss.backward()
        opt.step()
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    print(f"samples_per_s={n / dt:.1f} samples_per_cpu_s={n / dc:.1f} loss={loss.item():.4f}")


# ---- the harness ---------------------------------------------------------------------------------

def run_ru(cmd, env, what):
    """Runs cmd; returns (stdout + stderr, peak RSS MiB, CPU s: user + system) of that child (wait4)."""
    from bench import die
    with tempfile.TemporaryFile("w+") as fo:
        p = subprocess.Popen(cmd, stdout=fo, stderr=subprocess.STDOUT, text=True, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        out = fo.read()
    if code != 0:
        die(f"{what} failed ({code}): {' '.join(cmd)}\n{out}")
    return out, ru.ru_maxrss / 1024.0, ru.ru_utime + ru.ru_stime


def main():
    from bench import die, field, run
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnc", default=os.path.join(os.path.dirname(HERE), "build/release/nnc"))
    ap.add_argument("--base-nnc", help="a second nnc (e.g. a build of the base commit): its CPU time beside")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated: " + ", ".join(WORKLOADS))
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every workload's training samples")
    ap.add_argument("--no-torch", action="store_true", help="nnc (and --base-nnc) only")
    ap.add_argument("--cpu-rate", action="store_true",
                    help="also samples per CPU second of the training loop on both sides (load-robust)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--work", help="folder for the built programs (default: a temporary one)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition: the harness works")
    a = ap.parse_args()
    only = a.only.split(",")
    for w in only:
        if w not in WORKLOADS:
            die(f"--only: no workload {w!r} ({', '.join(WORKLOADS)})")
    if a.reps < 1 or a.threads < 1 or not a.scale > 0:
        die("--reps, --threads and --scale must be positive")
    if a.smoke:
        a.reps = 1
    for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        if not os.path.isfile(os.path.join(a.data, f)):
            die(f"no {f} in {a.data} (install dataset-fashion-mnist, or pass --data)")
    builds = {"nnc": os.path.abspath(a.nnc)}
    if a.base_nnc:
        builds["base"] = os.path.abspath(a.base_nnc)
    for b, path in builds.items():
        if not os.access(path, os.X_OK):
            die(f"no nnc at {path} (build it, or pass --nnc / --base-nnc)")
    work = a.work or tempfile.mkdtemp(prefix="nnc-breadth-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ)
    limit = {w: max(2 * WORKLOADS[w][1], int(WORKLOADS[w][0] * a.scale)) for w in only}
    if a.smoke:
        limit = {w: 2 * WORKLOADS[w][1] for w in only}
    exe = {}
    for b, path in builds.items():
        for w in only:
            exe[b, w] = os.path.join(work, f"{w}.{b}")
            benv = dict(env)
            if b == "base" and "NNC_STDLIB" in env:
                benv.pop("NNC_STDLIB")   # the base build's own stdlib
            run([path, os.path.join(HERE, "models", "breadth", w + ".nn"), "-o", exe[b, w]], env=benv,
                what=f"{b} {w}")
    # bench.py's "equal kernels" environment for PyTorch
    cores = re.findall(r"Core: (\S+)", run([exe["nnc", only[0]], "summary"], env=dict(env, OPENBLAS_VERBOSE="2")))
    torch_env = dict(env, OPENBLAS_NUM_THREADS=str(a.threads))
    torch_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if cores and not env.get("OPENBLAS_CORETYPE"):
        torch_env["OPENBLAS_CORETYPE"] = cores[-1]

    R = {}
    def add(key, v):
        R.setdefault(key, []).append(v)
    t_start = time.perf_counter()
    for rep in range(a.reps):
        for w in only:
            def nnc_side(b):
                def side():
                    out, rss, cpu = run_ru([exe[b, w], "train", "--epochs", "1", "--threads", str(a.threads),
                                            "--limit", str(limit[w]), "--data", a.data, "--seed", "1"],
                                           env, f"{w} train ({b})")
                    s = re.findall(r"([0-9.]+) samples/s", out)
                    if not s or not float(s[-1]) > 0:
                        die(f"no samples/s in the output of {w} train ({b}):\n{out}")
                    add((b, w, "sps"), float(s[-1]))
                    add((b, w, "rss"), rss)
                    add((b, w, "cpu"), cpu)
                    if a.cpu_rate and b == "nnc":
                        # the same run for two epochs: start-up, data loading (the gzip'd IDX
                        # files are inflated up to LIMIT images) and initialisation happen once in
                        # both, so the difference is one epoch of training
                        _, _, cpu2 = run_ru([exe[b, w], "train", "--epochs", "2", "--threads", str(a.threads),
                                             "--limit", str(limit[w]), "--data", a.data, "--seed", "1"],
                                            env, f"{w} train ({b}, two epochs)")
                        if cpu2 > cpu:
                            add((b, w, "spc"), limit[w] / (cpu2 - cpu))
                return side
            def torch_side():
                out, rss, cpu = run_ru([sys.executable, os.path.abspath(__file__), "torch", w, a.data,
                                        str(a.threads), str(limit[w])], torch_env, f"PyTorch {w}")
                add(("torch", w, "sps"), field(out, "samples_per_s", f"PyTorch {w}"))
                add(("torch", w, "rss"), rss)
                add(("torch", w, "cpu"), cpu)
                add(("torch", w, "spc"), field(out, "samples_per_cpu_s", f"PyTorch {w}"))
            sides = [nnc_side(b) for b in builds] + ([] if a.no_torch else [torch_side])
            k = rep % len(sides)
            for side in sides[k:] + sides[:k]:
                side()
        print(f"breadth: repetition {rep + 1}/{a.reps} done ({time.perf_counter() - t_start:.0f} s)", file=sys.stderr)

    med = {k: statistics.median(v) for k, v in R.items()}
    import torch
    sys.stderr.flush()
    print(f"\nnnc vs PyTorch {torch.__version__}, {a.threads} thread(s), median of {a.reps}; OpenBLAS kernels: "
          f"{cores[-1] if cores else '?'}; load average {os.getloadavg()[0]:.1f}\n")
    head = "| workload | samples | nnc samples/s | PyTorch samples/s | ratio | nnc RSS MiB | PyTorch RSS MiB | RSS ratio |"
    if a.base_nnc:
        head += " nnc CPU s | base CPU s | CPU base/nnc |"
    if a.cpu_rate and not a.no_torch:
        head += " nnc samples/CPU-s | PyTorch samples/CPU-s | ratio |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for w in only:
        line = f"| {w} | {limit[w]} | {med['nnc', w, 'sps']:.0f} | "
        if a.no_torch:
            line += "- | - | " + f"{med['nnc', w, 'rss']:.1f} | - | - |"
        else:
            line += (f"{med['torch', w, 'sps']:.0f} | {med['nnc', w, 'sps'] / med['torch', w, 'sps']:.2f}x | "
                     f"{med['nnc', w, 'rss']:.1f} | {med['torch', w, 'rss']:.1f} | "
                     f"{med['nnc', w, 'rss'] / med['torch', w, 'rss']:.3f} |")
        if a.base_nnc:
            line += (f" {med['nnc', w, 'cpu']:.2f} | {med['base', w, 'cpu']:.2f} | "
                     f"{med['base', w, 'cpu'] / med['nnc', w, 'cpu']:.2f}x |")
        if a.cpu_rate and not a.no_torch:
            if ("nnc", w, "spc") in med:
                line += (f" {med['nnc', w, 'spc']:.0f} | {med['torch', w, 'spc']:.0f} | "
                         f"{med['nnc', w, 'spc'] / med['torch', w, 'spc']:.2f}x |")
            else:
                line += f" - | {med['torch', w, 'spc']:.0f} | - |"
        print(line)
    print("\nper repetition (spread of the medians above):")
    for (b, w, f), v in R.items():
        print(f"  {b:5} {w:8} {f:4} " + " ".join(f"{x:.4g}" for x in v))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "torch" and sys.argv[2] in WORKLOADS:
        torch_train(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "torch":
        sys.exit(__doc__)
    else:
        main()
