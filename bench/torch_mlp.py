"""bench/torch_mlp.py - the PyTorch side of bench/run.sh: the same network as
examples/fashion_mlp.nn (784-256 relu, dropout 0.2, 10; Adam 1e-3; batch 64), trained on the same
Fashion-MNIST files for one epoch on the CPU. Prints one line: `samples_per_s=X peak_rss_mb=Y`.
Run with Debian's /usr/bin/python3 (python3-torch)."""
import gzip, resource, sys, time

import numpy as np
import torch

def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    x = torch.from_numpy(idx(f"{root}/train-images-idx3-ubyte.gz")[:limit].astype(np.float32) / 255.0)
    y = torch.from_numpy(idx(f"{root}/train-labels-idx1-ubyte.gz")[:limit].astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Dropout(0.2), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    t0 = time.perf_counter()
    perm = torch.randperm(n)
    for i in range(0, n, 64):
        idxs = perm[i:i + 64]
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x[idxs]), y[idxs])
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"samples_per_s={n / dt:.1f} peak_rss_mb={rss:.1f} loss={loss.item():.4f}")

main()
