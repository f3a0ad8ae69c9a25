"""torch_pool.py - PyTorch references for nnc's channels-last pooling and resampling builtins,
through torch's NCHW pools and F.interpolate. Shared by grad_torch.py and pool_values.py."""
import torch

F = torch.nn.functional


def pool(kind, x, k, s, pad):
    """channels-last pooling through torch's NCHW pools: explicit (TensorFlow-split) padding, -inf
    for max; avg = window sums / real-element counts (count_include_pad=False)"""
    xc = x.permute(0, 3, 1, 2)
    if kind == "max":
        return F.max_pool2d(F.pad(xc, pad, value=float("-inf")), k, s).permute(0, 2, 3, 1)
    sums = F.avg_pool2d(F.pad(xc, pad), k, s, divisor_override=1)
    cnt = F.avg_pool2d(F.pad(torch.ones_like(xc), pad), k, s, divisor_override=1)
    return (sums / cnt).permute(0, 2, 3, 1)


def up(x, f, mode):
    """channels-last upsampling by factor f ("nearest" or "bilinear", align_corners=False)"""
    kw = {"align_corners": False} if mode == "bilinear" else {}
    return F.interpolate(x.permute(0, 3, 1, 2), scale_factor=f, mode=mode, **kw).permute(0, 2, 3, 1)
