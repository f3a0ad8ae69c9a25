"""packed_gemm.py WORK_DIR NNC - packed recurrent weights (runtime/packed_gemm.c) against unpacked.

Each model is a recurrent stack over x: f32[B, 20, 6] (20 steps: each W_hh is used 20 times
forward and 19-20 times backward, more than llvm.c's PACK_MIN_USES = 16), loss sum(o * R). Checks:
- `nnc --emit llvm` calls nnc_sgemm_packed, and in the training graph some calls pack again
  (repack = 1: the first use in a call and after the optimizer wrote the weight);
- 2 epochs of 4 SGD steps (lr 0.05) give the same weights, to 1e-5 of each tensor's largest entry,
  with packing (the default) as with NNC_PACKED_GEMM=0, at 1 and at 2 threads (2 threads split
  the 4H = 64 columns into two packed blocks); a packed copy left stale after an update would be
  off by the step (lr x gradient; the check below fails by orders of magnitude then); and `predict` from the trained weights gives the
  same outputs, to 1e-5.
Skipped (exit 0 with a note) where libdnnl.so.2 lacks the packed sgemm: then there is nothing to
compare (both runs are nnc_sgemm).
"""
import ctypes, json, os, struct, subprocess, sys
import numpy as np

work, nnc = os.path.abspath(sys.argv[1]), sys.argv[2]
os.makedirs(work, exist_ok=True)
os.chdir(work)
try:
    lib = ctypes.CDLL("libdnnl.so.2")
    getattr(lib, "_ZN4dnnl4impl3cpu13sgemm_computeEPKcS3_PKlS5_S5_PKfS5_S7_S5_S7_PfS5_")
except (OSError, AttributeError):
    print("skip: no oneDNN packed sgemm (libdnnl.so.2) on this machine")
    sys.exit(0)

rng = np.random.default_rng(1)
N, TT, K = 16, 20, 6
np.save("x.npy", rng.normal(size=(N, TT, K)).astype(np.float32))
np.save("y.npy", np.zeros(N, np.float32))
CASES = {
    "case_lstm": (["o = lstm(x, 16)"], 16),
    "case_lstm2": (["a = lstm(x, 16)", "o = lstm(a, 8, sequences = false)"], 8),
    "case_gru": (["o = gru(x, 16, sequences = false)"], 16),
}


def lit(a):
    return "[" + ", ".join(lit(v) for v in a) + "]" if np.ndim(a) else "%.4f" % float(a)


def tensors(path):
    """name -> array of a checkpoint's f32 tensors (safetensors: a JSON header, then the data)"""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    out = {}
    for k, v in json.loads(b[8:8 + n]).items():
        if k != "__metadata__" and v["dtype"] == "F32":
            s, e = v["data_offsets"]
            out[k] = np.frombuffer(b[8 + n + s:8 + n + e], "<f4").reshape(v["shape"]).astype(np.float64)
    return out


bad = 0
for exe, (body, H) in CASES.items():
    seq = "sequences = false" not in body[-1]
    R = np.round(rng.normal(size=(TT, H) if seq else (H,)), 3)
    src = ("use nn\nmodel %s {\n  input x: f32[B, %d, %d]\n  target y: f32[B]\n%s\n  output o\n"
           "  loss sum(o * %s)\n  train {\n    data npy(\"x.npy\", \"y.npy\")\n    optimizer sgd(lr = 0.05)\n"
           "    batch 4  epochs 2\n  }\n}\n") % (exe, TT, K, "\n".join("  " + l for l in body), lit(R))
    open(exe + ".nn", "w").write(src)
    subprocess.run([nnc, exe + ".nn", "-o", exe], check=True)
    subprocess.run([nnc, exe + ".nn", "--emit", "llvm", "-O0", "-o", exe + ".ll"], check=True)
    ll = open(exe + ".ll").read()
    calls = [l for l in ll.splitlines() if "call" in l and ".matmul" in l and "packed" in l]
    if "declare void @nnc_sgemm_packed" not in ll or not any(l.rstrip().endswith("i32 1)") for l in calls):
        print("FAIL: %s: the emitted code does not call nnc_sgemm_packed with a repack" % exe)
        bad += 1
        continue
    for threads in ("1", "2"):
        w = {}
        for mode in ("packed", "plain"):
            env = dict(os.environ)
            if mode == "plain":
                env["NNC_PACKED_GEMM"] = "0"
            st = "%s.%s.%s.st" % (exe, mode, threads)
            subprocess.run(["./" + exe, "train", "--threads", threads, "--seed", "3", "--save", st], env=env,
                           check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["./" + exe, "predict", "--threads", threads, "--weights", st, "x.npy", "-o", st + ".o.npy"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            w[mode] = (tensors(st), np.load(st + ".o.npy"))
        (wp, op), (wq, oq) = w["packed"], w["plain"]
        werr = max(np.max(np.abs(wp[k] - wq[k])) / max(1e-3, np.max(np.abs(wq[k]))) for k in wq)
        moved = max(np.max(np.abs(wq[k])) for k in wq)
        oerr = np.max(np.abs(op - oq))
        ok = sorted(wp) == sorted(wq) and werr < 1e-5 and oerr < 1e-5 and moved > 0
        bad += not ok
        print("%s: %s, %s threads: weights relative difference %.1e, outputs %.1e" % (
            "ok" if ok else "FAIL", exe, threads, werr, oerr))
sys.exit(1 if bad else 0)
