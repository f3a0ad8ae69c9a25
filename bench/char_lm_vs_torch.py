#!/usr/bin/python3
"""char_lm_vs_torch.py - a character language model trained by nnc and by PyTorch, same steps.

Compiles examples/MODEL.nn (char_lstm, char_gru or char_rnn: embedding -> recurrent layers ->
dense, trained on `text(seq = T)`), trains it with `./MODEL train --limit N --epochs E`, then
trains the same network in PyTorch (nn.Embedding, nn.LSTM / nn.GRU / nn.RNN with num_layers and
batch_first, nn.Linear) for the same number of steps on the same windows, and evaluates both on
the same validation windows (the last floor(N * F) of the N, F the model's `validation`):

    /usr/bin/python3 bench/char_lm_vs_torch.py [--model char_lstm] [--limit 1600] [--epochs 3]
                                               [--threads 1] [--nnc build/release/nnc]
                                               [--hidden H] [--seq T] [--keep DIR]

--hidden / --seq train a copy of the model with H recurrent units / windows of T characters (a
smaller network for a loaded machine; the output says so). It prints both validation losses (mean cross-entropy, nats per character) and their ratio.

Same setup on both sides: windows, vocabulary and split from scripts/text_data.py (the runtime's
rules), batch and Adam learning rate from the model's train block (Adam's betas 0.9/0.999, eps
1e-8 on both), batches of the shuffled training windows with a smaller last batch, so
ceil(train / batch) steps an epoch. Initialisation as stdlib's: embedding uniform(-0.05, 0.05),
recurrent weights and biases uniform(+-1/sqrt(H)) (PyTorch's default, which stdlib copies), dense
Glorot-uniform weights and zero bias. The random draws (initial weights, shuffles) differ: the
two runs are alike in distribution, not bit for bit, so a ratio near 1 is the result, not 1.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import text_data  # noqa: E402


def parse_model(path):
    """The network of a char_* example: T, V, D, the recurrent layers, batch, lr, validation."""
    src = open(path).read()
    m = {}
    m["T"] = int(re.search(r"input\s+\w+\s*:\s*i32\[B,\s*(\d+)\]", src).group(1))
    e = re.search(r"embedding\(\s*\w+\s*,\s*(\d+)\s*,\s*(\d+)\s*\)", src)
    m["V"], m["D"] = int(e.group(1)), int(e.group(2))
    rec = re.findall(r"=\s*(lstm|gru|rnn)\(\s*\w+\s*,\s*(\d+)\s*\)", src)
    if not rec or len({k for k, _ in rec}) != 1 or len({h for _, h in rec}) != 1:
        raise SystemExit("%s: expected one kind of recurrent layer (lstm, gru or rnn) of one width"
                         % path)
    m["cell"], m["H"], m["layers"] = rec[0][0], int(rec[0][1]), len(rec)
    d = re.search(r"dense\(\s*\w+\s*,\s*(\d+)\s*\)", src)
    if int(d.group(1)) != m["V"]:
        raise SystemExit("%s: the dense layer's width is not the vocabulary size" % path)
    m["batch"] = int(re.search(r"\bbatch\s+(\d+)", src).group(1))
    m["lr"] = float(re.search(r"adam\(\s*lr\s*=\s*([0-9.eE+-]+)\s*\)", src).group(1))
    v = re.search(r"\bvalidation\s+([0-9.]+)", src)
    m["val"] = float(v.group(1)) if v else 0.0
    if "text(" not in src and not re.search(r"data\s+text\b", src):
        raise SystemExit("%s: not trained on text data" % path)
    return m


class CharLM(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[m["cell"]]
        self.emb = torch.nn.Embedding(m["V"], m["D"])
        self.rnn = cls(m["D"], m["H"], num_layers=m["layers"], batch_first=True)
        self.out = torch.nn.Linear(m["H"], m["V"])
        torch.nn.init.uniform_(self.emb.weight, -0.05, 0.05)   # stdlib embedding
        # self.rnn keeps PyTorch's uniform(+-1/sqrt(H)) init: stdlib's rnn/lstm/gru copy it
        torch.nn.init.xavier_uniform_(self.out.weight)          # stdlib dense: glorot_uniform
        torch.nn.init.zeros_(self.out.bias)

    def forward(self, ids):
        h, _ = self.rnn(self.emb(ids))
        return self.out(h)


def model_source(a, work):
    """examples/MODEL.nn, or a copy in work with --hidden / --seq changed (the same network)."""
    src = os.path.join(ROOT, "examples", a.model + ".nn")
    if not a.hidden and not a.seq:
        return src
    s = open(src).read()
    if a.hidden:
        s = re.sub(r"(=\s*(?:lstm|gru|rnn)\(\s*\w+\s*,\s*)\d+(\s*\))", r"\g<1>%d\2" % a.hidden, s)
    if a.seq:
        s = re.sub(r"(i32\[B,\s*)\d+(\])", r"\g<1>%d\2" % a.seq, s)
        s = re.sub(r"text\(\s*seq\s*=\s*\d+\s*\)", "text(seq = %d)" % a.seq, s)
    out = os.path.join(work, a.model + ".nn")
    open(out, "w").write(s)
    return out


def nnc_start(a, src, work):
    """Compiles src and starts its training (the caller waits with nnc_finish)."""
    exe = os.path.join(work, a.model)
    st = os.path.join(work, a.model + ".st")
    subprocess.run([a.nnc, src, "-o", exe], check=True)
    cmd = [exe, "train", "--limit", str(a.limit), "--epochs", str(a.epochs), "--threads",
           str(a.threads), "--save", st, "--force", "--json"]
    print("nnc:", " ".join(cmd), flush=True)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True), time.time(), exe, st


def nnc_finish(job):
    p, t0, exe, st = job
    out, _ = p.communicate()
    secs = time.time() - t0
    if p.returncode != 0:
        raise SystemExit("nnc's training failed (status %d)" % p.returncode)
    epochs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    val = [e["val_loss"] for e in epochs if "val_loss" in e]
    if not val:
        raise SystemExit("nnc printed no val_loss:\n" + out)
    return val[-1], secs, exe, st


def torch_train(a, m):
    text = text_data.read()
    vocab = text_data.vocabulary(text, m["V"])
    x, y = text_data.windows(text_data.encode(text, vocab), m["T"])
    x, y = x[:a.limit], y[:a.limit]                       # --limit keeps the first N windows
    tr, va = text_data.split(len(x), m["T"], m["T"], m["val"])
    xt, yt = torch.from_numpy(x[tr.start:tr.stop]).long(), torch.from_numpy(y[tr.start:tr.stop]).long()
    xv, yv = torch.from_numpy(x[va.start:va.stop]).long(), torch.from_numpy(y[va.start:va.stop]).long()
    torch.manual_seed(a.seed)
    net = CharLM(m)
    opt = torch.optim.Adam(net.parameters(), lr=m["lr"], betas=(0.9, 0.999), eps=1e-8)
    lossf = torch.nn.CrossEntropyLoss()
    B, V = m["batch"], m["V"]
    steps = 0
    t0 = time.time()
    for ep in range(a.epochs):
        order = torch.randperm(len(xt))
        tot = 0.0
        for i in range(0, len(xt), B):
            idx = order[i:i + B]
            logits = net(xt[idx])
            loss = lossf(logits.reshape(-1, V), yt[idx].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
            steps += 1
        with torch.no_grad():
            vl = sum(lossf(net(xv[i:i + B]).reshape(-1, V), yv[i:i + B].reshape(-1)).item()
                     * len(xv[i:i + B]) for i in range(0, len(xv), B)) / len(xv)
        print("torch epoch %d/%d: loss %.6f  val_loss %.6f" % (ep + 1, a.epochs, tot / len(xt), vl),
              flush=True)
    return vl, time.time() - t0, steps, len(xt), len(xv)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="char_lstm", help="examples/MODEL.nn (char_lstm, char_gru, char_rnn)")
    ap.add_argument("--limit", type=int, default=1600, help="windows used (the first N), as --limit")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1, help="PyTorch's seed")
    ap.add_argument("--nnc", default=os.path.join(ROOT, "build", "release", "nnc"))
    ap.add_argument("--hidden", type=int, help="a copy of the model with this many recurrent units")
    ap.add_argument("--seq", type=int, help="a copy of the model reading windows of this many characters")
    ap.add_argument("--keep", help="a folder to keep the executable and its weights in")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    work = a.keep or tempfile.mkdtemp(prefix="charlm.")
    os.makedirs(work, exist_ok=True)
    src = model_source(a, work)
    m = parse_model(src)
    print("%s%s: %d-layer %s, %d units, embedding %d, vocabulary %d, T %d, batch %d, adam lr %g, "
          "validation %g" % (a.model, " (copy: %s)" % src if a.hidden or a.seq else "", m["layers"], m["cell"], m["H"], m["D"], m["V"], m["T"],
                             m["batch"], m["lr"], m["val"]), flush=True)
    job = nnc_start(a, src, work)              # both train at once (each on --threads threads)
    tv, ts, steps, ntr, nva = torch_train(a, m)
    print("torch: val_loss %.4f  (%.0f s)" % (tv, ts), flush=True)
    nv, ns, exe, st = nnc_finish(job)
    print("nnc:   val_loss %.4f  (%.0f s)" % (nv, ns), flush=True)
    print("\n%d training windows, %d validation windows of %d characters; %d epochs = %d steps "
          "of batch %d (%d per epoch)" % (ntr, nva, m["T"], a.epochs, steps, m["batch"],
                                          math.ceil(ntr / m["batch"])))
    print("validation loss (nats per character): nnc %.4f  PyTorch %.4f  ratio nnc/PyTorch %.4f"
          % (nv, tv, nv / tv))
    print("weights: %s (generate: %s generate --weights %s)" % (st, exe, st))


if __name__ == "__main__":
    main()
