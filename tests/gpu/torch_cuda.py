"""tests/gpu/torch_cuda.py MODEL DATA_DIR LIMIT - bench/torch_bench.py's training on CUDA: the same
network, initialisation, optimizer and batch (torch_bench.MODELS), the images uploaded once as
uint8 and each batch converted on the GPU, timed from the first batch to the last step with the
device synchronised (a warm-up of 3 steps first, as nnc's first step also pays its start-up
outside its clock only for PyTorch here). Prints samples_per_s=X loss=Y."""
import sys, time

import numpy as np
import torch

import torch_bench as tb

def main():
    name, root, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    _, opt_name, batch = tb.MODELS[name]
    dev = torch.device("cuda")
    torch.manual_seed(1)
    x = torch.from_numpy(tb.idx(f"{root}/train-images-idx3-ubyte.gz")[:limit].copy()).to(dev)
    y = torch.from_numpy(tb.idx(f"{root}/train-labels-idx1-ubyte.gz")[:limit].astype(np.int64)).to(dev)
    model = tb.build(name).to(dev)
    opt = (torch.optim.Adam(model.parameters(), lr=1e-3) if opt_name == "adam"
           else torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
    lossf = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    def step(ids):
        xb = x[ids].to(torch.float32).div_(255.0)
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), y[ids])
        loss.backward()
        opt.step()
        return loss
    for i in range(3):
        step(torch.arange(i * batch, (i + 1) * batch, device=dev) % n)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    perm = torch.randperm(n, device=dev)
    for i in range(0, n, batch):
        loss = step(perm[i:i + batch])
    torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print(f"samples_per_s={n / dt:.1f} loss={loss.item():.4f}")

main()
