"""rnn_torch.py WORK_DIR NNC [STEPS [CASES]] - stdlib's recurrent layers (rnn, lstm, gru, their reverse and
bidirectional forms, a 2-layer stack, a given initial state, and the _state layers' every result:
lstm_state's outputs, h_n and c_n, an instance handing (h, c) on between two pieces of a sequence) against PyTorch's nn.RNN, nn.LSTM and
nn.GRU with the same weights (float64 reference).

Each case is one model `o = <layers>(x)`, loss sum(o * R) for a fixed literal R. It is trained one
epoch from its random init to get a checkpoint, whose parameters are then overwritten with
PyTorch's weights (the same layout: W_ih [G*H, K], W_hh [G*H, H], b_ih, b_hh). From that
checkpoint `predict` gives the forward output, and one more full-batch SGD step with lr = 1
(--resume) leaves W - dloss/dW in the saved weights: both are compared with torch (forward
within 1e-5, gradients within 1e-4 of the largest entry). For a few cases, three elements of every
parameter are also moved by +-0.01 and the central difference of the loss (from `predict`) is
compared with nnc's own gradient. Run by tests/e2e/rnn_vs_torch.sh.

STEPS (default 5) is the sequence length; CASES (comma-separated names) runs only those cases.
tests/e2e/rnn_vs_torch_long.sh runs a few at 20 steps: from 16 uses of a weight on, the
recurrent products share one packed copy of it (runtime/packed_gemm.c), which 5 steps never reach.
"""
import json, os, struct, subprocess, sys
import numpy as np
import torch as T

work, nnc = os.path.abspath(sys.argv[1]), sys.argv[2]
os.makedirs(work, exist_ok=True)
os.chdir(work)
T.manual_seed(0)
rng = np.random.default_rng(0)
B, TT, K = 3, int(sys.argv[3]) if len(sys.argv) > 3 else 5, 4
ONLY = sys.argv[4].split(",") if len(sys.argv) > 4 else None


def lit(a):
    if np.ndim(a) == 0:
        return "%.9e" % float(a)
    return "[" + ", ".join(lit(v) for v in a) + "]"


def read_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return b, n, json.loads(b[8:8 + n])


def tensors(path):
    b, n, head = read_st(path)
    out = {}
    for k, v in head.items():
        if k != "__metadata__" and v["dtype"] == "F32":
            s, e = v["data_offsets"]
            out[k] = np.frombuffer(b[8 + n + s:8 + n + e], "<f4").reshape(v["shape"]).astype(np.float64)
    return out


def patch(src, dst, values):
    """src's checkpoint with the tensors named in values replaced (same shapes)"""
    b, n, head = read_st(src)
    b = bytearray(b)
    for k, a in values.items():
        s, e = head[k]["data_offsets"]
        raw = np.asarray(a, "<f4").tobytes()
        if len(raw) != e - s:
            sys.exit("rnn_torch: %s: %d bytes, checkpoint has %d" % (k, len(raw), e - s))
        b[8 + n + s:8 + n + e] = raw
    open(dst, "wb").write(bytes(b))


def torch_layer(kind, K_, H, bidir=False):
    cls = {"rnn": T.nn.RNN, "lstm": T.nn.LSTM, "gru": T.nn.GRU}[kind]
    return cls(K_, H, batch_first=True, bidirectional=bidir).double()


def names(prefix, mod, suffix=""):
    """nnc parameter name -> torch parameter of direction suffix ('' or '_reverse')"""
    return {prefix + "." + n: getattr(mod, t + "_l0" + suffix) for n, t in
            (("W_ih", "weight_ih"), ("W_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"))}


# Each case: (name, nnc body lines producing `o`, torch function of (x) -> o, dict nnc name -> torch tensor)
cases = []


def simple(kind, H, seq=True, reverse=False):
    m = torch_layer(kind, K, H, bidir=reverse)   # a reverse layer = the reverse half of a bidirectional one
    sfx = "_reverse" if reverse else ""
    call = "%s(x, %d%s%s)" % (kind, H, "" if seq else ", sequences = false", ", reverse = true" if reverse else "")

    def f(x):
        y, hn = m(x)
        if kind == "lstm":
            hn = hn[0]
        if reverse:
            return y[:, :, H:] if seq else hn[1]
        return y if seq else hn[0]
    cases.append(("%s%s%s" % (kind, "_rev" if reverse else "", "" if seq else "_last"), ["o = " + call], f, names("o", m, sfx)))


for kind in ("rnn", "lstm", "gru"):
    simple(kind, 3)
    simple(kind, 3, seq=False)
    simple(kind, 2, reverse=True)
for kind in ("lstm", "gru", "rnn"):    # bidirectional
    H = 3
    m = torch_layer(kind, K, H, bidir=True)
    p = {}
    p.update(names("o.fwd", m))
    p.update(names("o.bwd", m, "_reverse"))
    cases.append(("bi" + kind, ["o = bi%s(x, %d)" % (kind, H)], lambda x, m=m: m(x)[0], p))
# a 2-layer LSTM stack (nn.LSTM(num_layers = 2) is two such layers) and a GRU with a given h0
l1, l2 = torch_layer("lstm", K, 4), torch_layer("lstm", 4, 3)
p = names("a", l1)
p.update(names("o", l2))
cases.append(("lstm_2layer", ["a = lstm(x, 4)", "o = lstm(a, 3)"], lambda x: l2(l1(x)[0])[0], p))
g0 = torch_layer("gru", K, 3)
P0 = np.round(rng.normal(size=(K, 3)), 3)
Pt = T.tensor(P0, requires_grad=True)   # h0 = tanh(x[:, 0, :] @ P): its gradient reaches P
p = names("o", g0)
p["P"] = Pt
cases.append(("gru_h0", ["param P: f32[%d, 3] = %s" % (K, lit(P0)), "o = gru(x, 3, h0 = tanh(x[:, 0, :] @ P))"],
              lambda x: g0(x, T.tanh(x[:, 0, :] @ Pt).unsqueeze(0))[0], p))
c0m = torch_layer("lstm", K, 3)
p = names("o", c0m)
cases.append(("lstm_c0", ["o = lstm(x, 3, sequences = false, h0 = x[:, 1, 0:3], c0 = x[:, 2, 1:4])"],
              lambda x: c0m(x, (x[:, 1, 0:3].unsqueeze(0).contiguous(), x[:, 2, 1:4].unsqueeze(0).contiguous()))[1][0][0], p))

# padded sequences: mask = (x is not padding), as Keras' mask_zero, against torch's
# pack_padded_sequence / pad_packed_sequence (zeros at padded steps of the output, h_n the state
# after each sequence's last real step; the reverse direction starts at it)
LENS = [5, 3, 1]
MASK = "mask = abs(x[:, :, 0]) > 0.0"


def packed(m, kind, lens, seq, half=None, H=None):
    def f(x):
        pk = T.nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        y, hn = m(pk)
        y = T.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=TT)[0]
        if kind == "lstm":
            hn = hn[0]
        if half == "rev":
            return y[:, :, H:] if seq else hn[1]
        return y if seq else (T.cat([hn[0], hn[1]], 1) if half == "bi" else hn[0])
    return f


for kind, H, seq, rev in (("lstm", 3, True, False), ("lstm", 3, False, False), ("gru", 3, False, False),
                          ("rnn", 2, True, False), ("gru", 2, True, True), ("lstm", 2, False, True)):
    m = torch_layer(kind, K, H, bidir=rev)
    call = "%s(x, %d%s%s, mask = mask)" % (kind, H, "" if seq else ", sequences = false", ", reverse = true" if rev else "")
    cases.append(("masked_%s%s%s" % (kind, "_rev" if rev else "", "" if seq else "_last"), [MASK, "o = " + call],
                  packed(m, kind, LENS, seq, "rev" if rev else None, H), names("o", m, "_reverse" if rev else ""), LENS))
m = torch_layer("gru", K, 2, bidir=True)
p = names("o.fwd", m)
p.update(names("o.bwd", m, "_reverse"))
cases.append(("masked_bigru_last", [MASK, "o = bigru(x, 2, sequences = false, mask = mask)"],
              packed(m, "gru", LENS, False, "bi"), p, LENS))

# the _state layers [fn.results]: o is every result side by side, [B, T*H + H (+ H)]: the steps'
# states, h_n (and c_n), so the forward and the gradients of each result are compared
def flat(*ts):
    return T.cat([t.reshape(t.shape[0], -1) for t in ts], 1)


FLAT = "o = concat([reshape(out, [B, -1]), h, c], axis = 1)"
m = torch_layer("lstm", K, 3)
cases.append(("lstm_state", ["out, h, c = lstm_state(x, 3, h0 = x[:, 1, 0:3], c0 = x[:, 2, 1:4])", FLAT],
              lambda x, m=m: (lambda y, hc: flat(y, hc[0][0], hc[1][0]))(
                  *m(x, (x[:, 1, 0:3].unsqueeze(0).contiguous(), x[:, 2, 1:4].unsqueeze(0).contiguous()))),
              names("lstm_state", m)))
m = torch_layer("lstm", K, 3)
cases.append(("masked_lstm_state", [MASK, "out, h, c = lstm_state(x, 3, mask = mask)", FLAT],
              lambda x, m=m: (lambda y, hc: flat(T.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=TT)[0],
                                                 hc[0][0], hc[1][0]))(
                  *m(T.nn.utils.rnn.pack_padded_sequence(x, LENS, batch_first=True, enforce_sorted=False))),
              names("lstm_state", m), LENS))
# one instance over the sequence in two pieces (1 step, then the rest), the second starting from
# the first's (h, c): torch's one call over the whole sequence
m = torch_layer("lstm", K, 3)
cases.append(("lstm_state_handoff", ["enc = lstm_state(units = 3)", "a, h1, c1 = enc(x[:, 0:1, :])",
                                     "b, h, c = enc(x[:, 1:%d, :], h0 = h1, c0 = c1)" % TT,
                                     "out = concat([a, b], axis = 1)", FLAT],
              lambda x, m=m: (lambda y, hc: flat(y, hc[0][0], hc[1][0]))(*m(x)), names("enc", m)))
m = torch_layer("gru", K, 2, bidir=True)
cases.append(("gru_state_rev", ["out, h = gru_state(x, 2, reverse = true)",
                                "o = concat([reshape(out, [B, -1]), h], axis = 1)"],
              lambda x, m=m: (lambda y, hn: flat(y[:, :, 2:], hn[1]))(*m(x)), names("gru_state", m, "_reverse")))
m = torch_layer("rnn", K, 3)
cases.append(("rnn_state", ["out, h = rnn_state(x, 3, h0 = x[:, 0, 1:4])",
                            "o = concat([reshape(out, [B, -1]), h], axis = 1)"],
              lambda x, m=m: (lambda y, hn: flat(y, hn[0]))(*m(x, x[:, 0, 1:4].unsqueeze(0).contiguous())),
              names("rnn_state", m)))

FD_CASES = ("lstm", "gru_last", "rnn_rev", "bilstm", "masked_lstm", "lstm_state")
X = rng.normal(size=(B, TT, K)).astype(np.float32)
np.save("x.npy", X)
np.save("y.npy", np.zeros(B, np.float32))
bad = 0
X0 = X
if ONLY:
    missing = set(ONLY) - {c[0] for c in cases}
    if missing:
        sys.exit("rnn_torch.py: no case " + ", ".join(sorted(missing)))
    cases = [c for c in cases if c[0] in ONLY]
for name, body, f, params, *lens in cases:
    X = X0.copy()
    xfile = "x.npy"
    if lens:    # padded: the steps past each length are zeros
        for i, n in enumerate(lens[0]):
            X[i, n:, :] = 0.0
        xfile = "x_%s.npy" % name
        np.save(xfile, X)
    xt = T.tensor(X, dtype=T.float64)
    with T.no_grad():
        want = f(xt).numpy()
    R = np.round(rng.normal(size=want.shape[1:]), 3)
    src = "use nn\nmodel case_%s {\n  input x: f32[B, %d, %d]\n  target y: f32[B]\n%s\n  output o\n" \
          "  loss sum(o * %s)\n  train {\n    data npy(\"%s\", \"y.npy\")\n    optimizer sgd(lr = 1.0)\n" \
          "    batch %d  epochs 1\n  }\n}\n" % (name, TT, K, "\n".join("  " + l for l in body), lit(R), xfile, B)
    open(name + ".nn", "w").write(src)
    run = lambda *a: subprocess.run(list(a), check=True, stdout=subprocess.DEVNULL)
    run(nnc, name + ".nn", "-o", name)
    run("./" + name, "train", "--threads", "1", "--save", name + ".0.st")
    w0 = {k: v.detach().numpy() for k, v in params.items()}
    patch(name + ".0.st", name + ".1.st", w0)
    run("./" + name, "predict", "--weights", name + ".1.st", xfile, "-o", name + ".o.npy")
    got = np.load(name + ".o.npy")
    ferr = np.max(np.abs(got - want))
    ok = ferr < 1e-5
    # gradients: one more epoch of SGD, lr = 1
    run("./" + name, "train", "--threads", "1", "--resume", name + ".1.st", "--epochs", "2", "--save", name + ".2.st")
    after = tensors(name + ".2.st")
    for v in params.values():
        v.grad = None
    xg = T.tensor(X, dtype=T.float64)
    (f(xg) * T.tensor(R)).sum().backward()
    gerr = 0.0
    for k, v in params.items():
        g = v.grad.numpy()
        e = np.max(np.abs((w0[k] - after[k]) - g)) / max(1e-3, np.max(np.abs(g)))
        gerr = max(gerr, e)
    ok = ok and gerr < 1e-4
    # finite differences of nnc's own forward (predict with one weight moved by +-eps) against
    # nnc's gradient, for a few elements of every parameter
    fderr = 0.0
    if name in FD_CASES:
        eps = 1e-2
        for k in params:
            g_nnc = w0[k] - after[k]
            for _ in range(3):
                idx = tuple(int(rng.integers(n)) for n in w0[k].shape)
                lv = []
                for sgn in (1, -1):
                    w = {q: v.copy() for q, v in w0.items()}
                    w[k][idx] += sgn * eps
                    patch(name + ".0.st", name + ".fd.st", w)
                    run("./" + name, "predict", "--weights", name + ".fd.st", xfile, "-o", name + ".fd.npy")
                    lv.append(float((np.load(name + ".fd.npy").astype(np.float64) * R).sum()))
                fd = (lv[0] - lv[1]) / (2 * eps)
                fderr = max(fderr, abs(fd - g_nnc[idx]) / (1e-2 + abs(g_nnc[idx])))
        ok = ok and fderr < 2e-2
    bad += not ok
    print("%s: %s: forward max error %.1e, gradient relative error %.1e%s" % (
        "ok" if ok else "FAIL", name, ferr, gerr, ", finite differences %.1e" % fderr if name in FD_CASES else ""))
sys.exit(1 if bad else 0)
