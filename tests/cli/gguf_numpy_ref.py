"""A float64 numpy forward pass of a llama-family GGUF model, written from the GGUF conventions with the `gguf`
package's reader and dequantisation (nothing of attnlab's): llama.cpp's rope layouts (llama: q/k rows
interleaved, pairs (2i, 2i+1); qwen2: split halves), GQA, RMSNorm, SwiGLU, tied or separate output."""
import numpy as np


def load(path):
    import gguf
    from gguf.quants import dequantize
    r = gguf.GGUFReader(path)
    f = {k: v.contents() for k, v in r.fields.items() if not k.startswith("tokenizer.ggml.")}
    arch = f["general.architecture"]
    cfg = dict(arch=arch, L=f[f"{arch}.block_count"], d=f[f"{arch}.embedding_length"], H=f[f"{arch}.attention.head_count"],
               Hkv=f.get(f"{arch}.attention.head_count_kv", f[f"{arch}.attention.head_count"]),
               eps=f.get(f"{arch}.attention.layer_norm_rms_epsilon", 1e-5), base=f.get(f"{arch}.rope.freq_base", 10000.0))
    W = {}
    for t in r.tensors:
        a = dequantize(t.data, t.tensor_type).astype(np.float64)
        W[t.name] = a.reshape(a.shape[-1]) if len(t.shape) == 1 else a.reshape(-1, a.shape[-1])
    return cfg, W


def rmsnorm(x, g, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g


def rope(x, pos, base, interleaved):
    """x [T, nh, hd]."""
    hd = x.shape[-1]
    inv = base ** (-np.arange(0, hd, 2) / hd)  # [hd/2]
    ang = pos[:, None] * inv[None, :]  # [T, hd/2]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    y = x.copy()
    if interleaved:
        a, b = x[..., 0::2], x[..., 1::2]
        y[..., 0::2], y[..., 1::2] = a * c - b * s, a * s + b * c
    else:
        a, b = x[..., :hd // 2], x[..., hd // 2:]
        y[..., :hd // 2], y[..., hd // 2:] = a * c - b * s, a * s + b * c
    return y


def to_split_half(x):
    """[..., hd] from the interleaved order (2i + j) to split halves (j * hd/2 + i)."""
    return np.concatenate([x[..., 0::2], x[..., 1::2]], -1)


def forward(cfg, W, ids):
    """Returns maps [L, H, T, T], q [L, H, T, hd], k [L, Hkv, T, hd] (split-half order), logits [T, V]."""
    T, d, H, Hkv = len(ids), cfg["d"], cfg["H"], cfg["Hkv"]
    hd, il = d // H, cfg["arch"] == "llama"
    x = W["token_embd.weight"][ids]
    pos = np.arange(T, dtype=np.float64)
    maps, qs, ks = [], [], []
    for l in range(cfg["L"]):
        p = f"blk.{l}."
        h = rmsnorm(x, W[p + "attn_norm.weight"], cfg["eps"])
        q, k, v = (h @ W[p + f"attn_{n}.weight"].T + W.get(p + f"attn_{n}.bias", 0) for n in "qkv")
        q = rope(q.reshape(T, H, hd), pos, cfg["base"], il)
        k = rope(k.reshape(T, Hkv, hd), pos, cfg["base"], il)
        v = v.reshape(T, Hkv, hd)
        kk, vv = np.repeat(k, H // Hkv, axis=1), np.repeat(v, H // Hkv, axis=1)
        s = np.einsum("thd,shd->hts", q, kk) / np.sqrt(hd)
        s = np.where(np.tril(np.ones((T, T), bool))[None], s, -np.inf)
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", a, vv).reshape(T, d)
        x = x + o @ W[p + "attn_output.weight"].T
        h = rmsnorm(x, W[p + "ffn_norm.weight"], cfg["eps"])
        g, u = h @ W[p + "ffn_gate.weight"].T, h @ W[p + "ffn_up.weight"].T
        x = x + (g / (1 + np.exp(-g)) * u) @ W[p + "ffn_down.weight"].T
        maps.append(a)
        qs.append(np.transpose(to_split_half(q) if il else q, (1, 0, 2)))
        ks.append(np.transpose(to_split_half(k) if il else k, (1, 0, 2)))
    out = W.get("output.weight", W["token_embd.weight"])
    logits = rmsnorm(x, W["output_norm.weight"], cfg["eps"]) @ out.T
    return np.array(maps), np.array(qs), np.array(ks), logits
