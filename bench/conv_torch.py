#!/usr/bin/python3
"""conv_torch.py - bench/: PyTorch's time for the layers bench/conv.c measures (forward, and the
backward's data and weight gradients), channels-last and channels-first, float32.

    OMP_NUM_THREADS=2 /usr/bin/python3 bench/conv_torch.py [THREADS] [ROUNDS]
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
torch.set_num_threads(threads)
g = torch.nn.grad


def median_ms(f):
    f()
    t = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        f()
        t.append((time.perf_counter() - t0) * 1e3)
    return sorted(t)[len(t) // 2]


for name, (N, H, W, C, F, K) in [("conv 32 3x3 on 28x28x1", (64, 28, 28, 1, 32, 3)),
                                 ("conv 64 3x3 on 26x26x32", (64, 26, 26, 32, 64, 3))]:
    for fmt in (torch.contiguous_format, torch.channels_last):
        x = torch.rand(N, C, H, W).to(memory_format=fmt)
        w = torch.rand(F, C, K, K).to(memory_format=fmt)
        y = torch.nn.functional.conv2d(x, w)
        dy = torch.rand_like(y).to(memory_format=fmt)
        f = median_ms(lambda: torch.nn.functional.conv2d(x, w))
        d = median_ms(lambda: g.conv2d_input(x.shape, w, dy))
        k = median_ms(lambda: g.conv2d_weight(x, w.shape, dy))
        print("%s, B=%d: torch %-13s fwd %.3f ms  bwd-data %.3f ms  bwd-filter %.3f ms" %
              (name, N, "channels_last" if fmt == torch.channels_last else "NCHW", f, d, k))
