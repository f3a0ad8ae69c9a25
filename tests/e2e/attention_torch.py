"""attention_torch.py WORK_DIR NNC [exe|interp [L]] - stdlib's attention against PyTorch (float64 reference).

One model holds multi_head_attention (no mask, causal, and with a padding mask),
scaled_dot_product_attention (causal, and with a boolean mask) and encoder_block (pre- and post-norm) and
decoder_block (nn.TransformerEncoderLayer, gelu, with a causal mask), encoder_block with a padding
mask (src_key_padding_mask) and positional_encoding (the
PyTorch tutorial's) on one input; its output is their
concatenation. The initial weights are nnc's own: one epoch with --lr 0 saves them unchanged
(init.st). Then
- forward: `predict --weights init.st` equals nn.MultiheadAttention / scaled dot-product attention
  with those weights (loaded into torch's own modules, PyTorch's layout);
- gradients: one full-batch SGD step with lr = 1 from the same seed leaves init - grad in the saved
  weights (after.st), compared with torch.autograd's gradient of the same MSE loss.
Relative errors below 1e-4 (forward) and 1e-3 (gradients) of the largest entry. Run by
tests/e2e/attention_vs_torch.sh; the compiled executable and `nnc run` (the interpreter) both.
L: the sequence length (default 6); tests/e2e/attention_causal.sh runs it at 70, where the
compiled causal attention skips blocks of its masked triangle (compiler/passes/causal.c: 32-row
blocks, a row's columns up to a multiple of 32).
"""
import json, os, struct, subprocess, sys
import numpy as np
import torch as T

work, nnc = sys.argv[1], sys.argv[2]
os.chdir(work)
rng = np.random.default_rng(3)
B, D = 4, 8
L = int(sys.argv[4]) if len(sys.argv) > 4 else 6

src = """use nn
model attn {
  input  x: f32[B, LL, 8]
  target y: f32[B, LL, 80]
  param P: f32[8] = uniform(-1.0, 1.0)
  m = padding_mask(i32(x[:, :, 0] > -0.5), pad = 0)          # bool[B, 1, 1, 6]
  a = multi_head_attention(x, 2, 8)
  c = multi_head_attention(x, 4, 8, causal = true)
  p = masked_multi_head_attention(x, m, 2, 8)
  q = split_heads(x * P, 2)
  k = split_heads(x, 2)
  v = split_heads(x + P, 2)
  s1 = merge_heads(scaled_dot_product_attention(q, k, v, causal = true))
  s2 = merge_heads(masked_attention(q, k, v, m))
  pre = encoder_block(x, 2, 16)
  post = encoder_block(x, 2, 16, norm_first = false)
  dec = decoder_block(x, 2, 16)
  mpost = encoder_block(x, 2, 16, norm_first = false, mask = m)
  o = concat(concat(concat(a, c, axis = 2), concat(p, s1, axis = 2), axis = 2), s2, axis = 2)
  o = concat(concat(o, pre, axis = 2), concat(post, dec, axis = 2), axis = 2)
  o = concat(o, mpost, axis = 2)
  o = concat(o, positional_encoding(x), axis = 2)
  output o
  loss mse(o, y)
  train {
    data npy("x.npy", "y.npy")
    optimizer sgd(lr = 1.0)
    batch 4  epochs 1
  }
}
"""
open("attn.nn", "w").write(src.replace("LL", str(L)))
x = rng.normal(size=(B, L, D)).astype(np.float32)
x[:, 0, 0] = 1.0          # every query may see key 0: no row fully masked (torch gives NaN there)
x[0, 3, 0] = -2.0         # and some keys are padding
y = rng.normal(size=(B, L, 10 * D)).astype(np.float32)
np.save("x.npy", x)
np.save("y.npy", y)


def load_st(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    head = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                             dtype=np.float32).reshape(v["shape"]).copy()
            for k, v in head.items() if k != "__metadata__"}


def sdpa(q, k, v, attn_mask=None, is_causal=False):
    """F.scaled_dot_product_attention as torch 2's documentation defines it (this torch, 1.13,
    predates the function): boolean attn_mask True = attend, is_causal = a lower-triangular one."""
    s = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if is_causal:
        s = s.masked_fill(~T.ones(s.shape[-2], s.shape[-1], dtype=T.bool).tril(), float("-inf"))
    if attn_mask is not None:
        s = s.masked_fill(~attn_mask, float("-inf"))
    return T.softmax(s, dim=-1) @ v


def torch_model(w):
    """The same network in torch, float64, its parameters leaf tensors named as nnc's."""
    P = {k: T.tensor(v, dtype=T.float64, requires_grad=True) for k, v in w.items()}
    xt = T.tensor(x, dtype=T.float64)
    keep = xt[:, :, 0] > -0.5                                         # [B, L]

    def mha(name, heads, attn_mask=None, key_padding_mask=None):
        m = T.nn.MultiheadAttention(D, heads, batch_first=True, dtype=T.float64)
        with T.no_grad():
            for s in ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"):
                dst = m.in_proj_weight if s == "in_proj_weight" else m.in_proj_bias if s == "in_proj_bias" \
                    else m.out_proj.weight if s == "out_proj.weight" else m.out_proj.bias
                dst.copy_(P[name + "." + s.replace(".", "_")])
        out = m(xt, xt, xt, need_weights=False, attn_mask=attn_mask, key_padding_mask=key_padding_mask)[0]
        return out, m

    a, ma = mha("a", 2)
    causal_mask = T.triu(T.ones(L, L, dtype=T.bool), diagonal=1)    # True = masked (MHA's convention)
    c, mc = mha("c", 4, attn_mask=causal_mask)
    p, mp = mha("p", 2, key_padding_mask=~keep)
    split = lambda t: t.reshape(B, L, 2, D // 2).transpose(1, 2)
    merge = lambda t: t.transpose(1, 2).reshape(B, L, D)
    q, k, v = split(xt * P["P"]), split(xt), split(xt + P["P"])
    s1 = merge(sdpa(q, k, v, is_causal=True))
    s2 = merge(sdpa(q, k, v, attn_mask=keep[:, None, None, :]))
    blocks = {}
    for name, norm_first, mask, kpm in (("pre", True, None, None), ("post", False, None, None),
                                        ("dec.block", True, causal_mask, None), ("mpost", False, None, ~keep)):
        m = T.nn.TransformerEncoderLayer(D, 2, 16, dropout=0.0, activation="gelu", batch_first=True,
                                         norm_first=norm_first, dtype=T.float64)
        with T.no_grad():
            for tn, t in m.named_parameters():
                nn_name = name + "." + tn.replace("out_proj.weight", "out_proj_weight").replace(
                    "out_proj.bias", "out_proj_bias").replace("linear1.weight", "linear1.W").replace(
                    "linear2.weight", "linear2.W").replace(".bias", ".b" if "linear" in tn else ".beta").replace(
                    "norm1.weight", "norm1.gamma").replace("norm2.weight", "norm2.gamma")
                if "in_proj_bias" in tn:
                    nn_name = name + ".self_attn.in_proj_bias"
                if "out_proj.bias" in tn:
                    nn_name = name + ".self_attn.out_proj_bias"
                v = w[nn_name]
                t.copy_(T.tensor(v.T if nn_name.endswith(".W") else v, dtype=T.float64))
        blocks[name] = (m, m(xt, src_mask=mask, src_key_padding_mask=kpm))
    # the PyTorch tutorial's PositionalEncoding (sin at even features, cos at odd)
    pos = T.arange(L, dtype=T.float64)[:, None]
    div = T.exp(T.arange(0, D, 2, dtype=T.float64) * (-np.log(10000.0) / D))
    pe = T.zeros(L, D, dtype=T.float64)
    pe[:, 0::2], pe[:, 1::2] = T.sin(pos * div), T.cos(pos * div)
    o = T.cat([a, c, p, s1, s2] + [blocks[n][1] for n in ("pre", "post", "dec.block", "mpost")] + [xt + pe], dim=2)
    mods = {"a": ma, "c": mc, "p": mp}
    mods.update({n: m for n, (m, _) in blocks.items()})
    return o, P, mods


def grads_of(P, mods, o):
    loss = ((o - T.tensor(y, dtype=T.float64)) ** 2).mean()
    loss.backward()
    g = {"P": P["P"].grad.numpy()}
    for n, m in mods.items():
        if isinstance(m, T.nn.TransformerEncoderLayer):
            for tn, t in m.named_parameters():
                key = n + "." + tn.replace("out_proj.weight", "out_proj_weight").replace(
                    "out_proj.bias", "out_proj_bias").replace("linear1.weight", "linear1.W").replace(
                    "linear2.weight", "linear2.W").replace("norm1.weight", "norm1.gamma").replace(
                    "norm2.weight", "norm2.gamma")
                key = key.replace("in_proj_bias", "in_proj_bias")
                if key.endswith(".bias"):
                    key = key[:-5] + (".b" if "linear" in key else ".beta")
                g[key] = t.grad.numpy().T if key.endswith(".W") else t.grad.numpy()
            continue
        g[n + ".in_proj_weight"] = m.in_proj_weight.grad.numpy()
        g[n + ".in_proj_bias"] = m.in_proj_bias.grad.numpy()
        g[n + ".out_proj_weight"] = m.out_proj.weight.grad.numpy()
        g[n + ".out_proj_bias"] = m.out_proj.bias.grad.numpy()
    return g


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(1e-6, np.max(np.abs(b))))


bad = 0
mode = sys.argv[3] if len(sys.argv) > 3 else "exe"
if mode == "exe":
    subprocess.run([nnc, "attn.nn", "-o", "attn"], check=True)
    run = lambda *a: subprocess.run(["./attn", *a], check=True, stdout=subprocess.DEVNULL)
else:
    run = lambda *a: subprocess.run([nnc, "run", "attn.nn", "--", *a], check=True, stdout=subprocess.DEVNULL)
run("train", "--lr", "0", "--seed", "5", "--threads", "1", "--save", "init.st", "--force")
run("train", "--lr", "1", "--seed", "5", "--threads", "1", "--save", "after.st", "--force")
run("predict", "--weights", "init.st", "x.npy", "-o", "out.npy", "--force")
w0, w1 = load_st("init.st"), load_st("after.st")
o, P, mods = torch_model(w0)
got = np.load("out.npy").reshape(B, L, 10 * D)
names = ["mha", "mha causal", "mha padding mask", "sdpa causal", "sdpa bool mask", "encoder block (pre-norm)",
         "encoder block (post-norm)", "decoder block (causal, pre-norm)",
         "encoder block (post-norm, padding mask)", "positional_encoding"]
for i, nm in enumerate(names):
    e = rel(got[:, :, i * D:(i + 1) * D], o.detach().numpy()[:, :, i * D:(i + 1) * D])
    ok = e < 1e-4
    bad += not ok
    print(f"{'ok' if ok else 'FAIL'}: forward of {nm}: relative error {e:.1e}")
g = grads_of(P, mods, o)
for n, gt in g.items():
    e = rel(w0[n] - w1[n], gt)
    ok = e < 1e-3
    bad += not ok
    print(f"{'ok' if ok else 'FAIL'}: gradient of {n}: relative error {e:.1e}")
sys.exit(1 if bad else 0)
