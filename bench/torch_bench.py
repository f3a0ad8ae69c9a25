"""bench/torch_bench.py - the PyTorch side of bench/bench.py: the networks of bench/models/*.nn,
built the same way (same layers, Glorot-uniform weights and zero biases as nnc's `dense` and
`conv2d`: torch's xavier_uniform_ fans for a conv, C*KH*KW and F*KH*KW, are Keras', same optimizer
and hyper-parameters), on the CPU with Debian's python3-torch. The cnn runs in NCHW (torch's
default memory format, as users run it; nnc's is channels-last).

    torch_bench.py train MODEL DATA_DIR THREADS LIMIT   -> samples_per_s=X loss=Y
    (char_lstm: DATA_DIR holds bench.py's lstm_ids.npy and lstm_next.npy; nn.Embedding(96, 64),
    nn.LSTM(64, 256, num_layers = 2, batch_first = True), nn.Linear(256, 96), Adam 2e-3, batch 32)
    torch_bench.py predict MODEL ROUNDS CALLS           -> predict_us=X

train runs one epoch over the first LIMIT training samples, shuffled, timed from the first batch to
the last step (data loading excluded, as nnc's own clock does). Like nnc, it keeps the images in
their file's type (uint8) and converts each batch to f32 / 255 as it gathers it. predict times
model(x) on one sample under torch.no_grad() with one thread: median over ROUNDS rounds of CALLS
calls. Run with /usr/bin/python3."""
import gzip, sys, time

import numpy as np
import torch

# name: (hidden widths, optimizer, batch) - bench/models/NAME.nn says the same
MODELS = {
    "mlp_small": ([128], "adam", 64),
    "mlp_wide": ([1024, 1024], "momentum", 256),
    "cnn": ([128], "adam", 64),     # conv 32 3x3 relu, conv 64 3x3 relu, maxpool 2, then these
}

def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def build(name):
    hidden, _, _ = MODELS[name]
    layers, k = [torch.nn.Flatten()], 784
    if name == "cnn":
        layers = [torch.nn.Unflatten(1, (1, 28)), torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(),
                  torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten()]
        k = 64 * 12 * 12
    for n in hidden:
        layers += [torch.nn.Linear(k, n), torch.nn.ReLU()]
        k = n
    layers.append(torch.nn.Linear(k, 10))
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return model

def train(name, root, threads, limit):
    _, opt_name, batch = MODELS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.from_numpy(idx(f"{root}/train-images-idx3-ubyte.gz")[:limit].copy())      # uint8 [n, 28, 28]
    y = torch.from_numpy(idx(f"{root}/train-labels-idx1-ubyte.gz")[:limit].astype(np.int64))
    model = build(name)
    if opt_name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    lossf = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    for i in range(0, n, batch):
        ids = perm[i:i + batch]
        xb = x[ids].to(torch.float32).div_(255.0)
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), y[ids])
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    print(f"samples_per_s={n / dt:.1f} loss={loss.item():.4f}")

def predict(name, rounds, calls, threads=1):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = build(name).eval()
    x = torch.rand(1, 28, 28)    # [1, 28, 28]: the cnn's Unflatten makes it [1, 1, 28, 28]
    times = []
    with torch.no_grad():
        for _ in range(calls):
            model(x)
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(calls):
                model(x)
            times.append((time.perf_counter() - t0) / calls)
    times.sort()
    print(f"predict_us={1e6 * times[len(times) // 2]:.3f}")

# ---- tiny_transformer (bench/models/tiny_transformer.nn): embedding, learned positions, 4 pre-norm
# causal blocks (nn.TransformerEncoderLayer: 4 heads, dim 128, feed-forward 512, gelu, no dropout),
# layer norm, a linear head over the vocabulary of 140; Adam 1e-3, batch 32, context 128. DATA_DIR
# holds ids.npy and next.npy (i32 [n, 128]), as the nnc side reads.
class TinyTransformer(torch.nn.Module):
    def __init__(self, vocab=140, dim=128, heads=4, ff=512, layers=4, ctx=128):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.pos = torch.nn.Parameter(torch.randn(ctx, dim) * 0.02)
        self.blocks = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(dim, heads, ff, dropout=0.0, activation="gelu", batch_first=True,
                                             norm_first=True) for _ in range(layers))
        self.ln = torch.nn.LayerNorm(dim)
        self.head = torch.nn.Linear(dim, vocab)
        self.register_buffer("mask", torch.triu(torch.full((ctx, ctx), float("-inf")), diagonal=1))

    def forward(self, ids):
        h = self.emb(ids) + self.pos
        for b in self.blocks:
            h = b(h, src_mask=self.mask)
        return self.head(self.ln(h))

def train_seq(make, root, ids_file, next_file, lr, threads, limit):
    """One epoch of a next-token model over the first LIMIT windows of ROOT/ids_file and
    ROOT/next_file (i32 [n, T]): Adam(lr), batch 32, shuffled, timed from the first step."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.from_numpy(np.load(f"{root}/{ids_file}")[:limit].astype(np.int64))
    y = torch.from_numpy(np.load(f"{root}/{next_file}")[:limit].astype(np.int64))
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lossf = torch.nn.CrossEntropyLoss()
    n, batch = x.shape[0], 32
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    for i in range(0, n, batch):
        ids = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        logits = model(x[ids])
        loss = lossf(logits.reshape(-1, logits.shape[-1]), y[ids].reshape(-1))
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    print(f"samples_per_s={n / dt:.1f} tokens_per_s={n * x.shape[1] / dt:.1f} loss={loss.item():.4f}")

class CharLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(96, 64)
        self.lstm = torch.nn.LSTM(64, 256, num_layers=2, batch_first=True)
        self.out = torch.nn.Linear(256, 96)

    def forward(self, x):
        return self.out(self.lstm(self.emb(x))[0])

def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "train" and a[1] == "tiny_transformer":
        train_seq(TinyTransformer, a[2], "ids.npy", "next.npy", 1e-3, int(a[3]), int(a[4]))
    elif len(a) == 5 and a[0] == "train" and a[1] == "char_lstm":
        train_seq(CharLSTM, a[2], "lstm_ids.npy", "lstm_next.npy", 2e-3, int(a[3]), int(a[4]))
    elif len(a) == 5 and a[0] == "train" and a[1] in MODELS:
        train(a[1], a[2], int(a[3]), int(a[4]))
    elif len(a) in (4, 5) and a[0] == "predict" and a[1] in MODELS:
        predict(a[1], int(a[2]), int(a[3]), int(a[4]) if len(a) == 5 else 1)
    else:
        sys.exit(__doc__)

if __name__ == "__main__":
    main()
