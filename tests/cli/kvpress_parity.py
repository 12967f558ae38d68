"""Runs kvpress 0.5.5's presses on given prompt q/k/v and writes the kept keys per (method, ratio, sample, layer,
KV head) as JSON. Runs inside the kvpress virtual environment (torch, kvpress; no h5py): test_kvpress.py calls it.

Usage: python kvpress_parity.py IN.npz GATES.tsv OUT.json
IN.npz: q [N, L, H, P, D], k and v [N, L, Hkv, P, D] (queries and keys after rotary embedding, as recorded),
scale, ratios, methods (attnlab method strings, one per press below).

The presses see the recording's queries through a stand-in attention module: q_proj is the identity on hidden
states that are the queries themselves, and the rotary embedding is the identity (cos 1, sin 0), so "pre-RoPE"
queries are the recorded ones, as attnlab's expected attention takes them. Attention maps are passed to the
presses that read them (SnapKV, PyramidKV, TOVA, ObservedAttention), computed here as softmax(scale q k^T) in
float32 under the causal mask."""
import json
import sys
import types

import numpy as np
import torch
from kvpress import (AdaKVPress, DuoAttentionPress, ExpectedAttentionPress, KnormPress, ObservedAttentionPress,
                     PyramidKVPress, SnapKVPress, StreamingLLMPress, TOVAPress)


class Rotary(torch.nn.Module):
    def forward(self, x, position_ids):
        n, d = position_ids.shape[-1], x.shape[-1]
        return torch.ones(1, n, d, dtype=x.dtype), torch.zeros(1, n, d, dtype=x.dtype)


def module(L, H, Hkv, D, l):
    m = torch.nn.Module()
    m.config = types.SimpleNamespace(num_attention_heads=H, num_key_value_heads=Hkv, num_hidden_layers=L,
                                     _attn_implementation="sdpa")
    m.head_dim, m.layer_idx = D, l
    m.q_proj = torch.nn.Identity()
    m.rotary_emb = Rotary()
    return m


def opts(spec):
    name, _, args = spec.partition(":")
    kv = dict(a.split("=", 1) for a in args.split(",") if "=" in a)
    base = [a for a in args.split(",") if a and "=" not in a]
    return name, (base[0] if base else None), kv


def scorer(name, kv, r):
    if name == "streaming":
        return StreamingLLMPress(compression_ratio=r, n_sink=int(kv.get("sink", 4)))
    if name == "knorm":
        return KnormPress(compression_ratio=r)
    if name == "snapkv":
        return SnapKVPress(compression_ratio=r, window_size=int(kv.get("window", 64)), kernel_size=int(kv.get("kernel", 5)))
    if name == "pyramid":
        return PyramidKVPress(compression_ratio=r, window_size=int(kv.get("window", 64)),
                              kernel_size=int(kv.get("kernel", 5)), beta=int(kv.get("beta", 20)))
    if name == "tova":
        return TOVAPress(compression_ratio=r)
    if name == "observed":
        return ObservedAttentionPress(compression_ratio=r)
    if name == "expected":
        return ExpectedAttentionPress(compression_ratio=r, n_sink=int(kv.get("sink", 4)), use_covariance=kv.get("cov", "1") == "1",
                                      use_vnorm=kv.get("vnorm", "1") == "1", epsilon=float(kv.get("eps", 0)))
    raise ValueError(spec)


def kept_by_gather(keys, out):
    """Indices of the kept keys: each returned key row matched to the input row it equals (tie-free inputs)."""
    res = []
    for g in range(keys.shape[1]):
        src, got = keys[0, g], out[0, g]
        idx = [int(torch.nonzero((src == row).all(-1))[0, 0]) for row in got]
        res.append(sorted(idx))
    return res


def kept_by_mask(m, Hkv, P):
    masked = np.zeros((Hkv, P), bool)
    if hasattr(m, "masked_key_indices"):
        _, h, s = m.masked_key_indices
        masked[h.numpy(), s.numpy()] = True
    return [sorted(np.nonzero(~masked[g])[0].tolist()) for g in range(Hkv)]


def run(spec, r, q, k, v, scale, gates, L, l):
    H, P, D = q.shape
    Hkv = k.shape[0]
    m = module(L, H, Hkv, D, l)
    qt, kt, vt = (torch.from_numpy(x)[None] for x in (q, k, v))
    logits = qt @ kt.repeat_interleave(H // Hkv, 1).transpose(-1, -2) * scale
    logits = logits.masked_fill(~torch.tril(torch.ones(P, P, dtype=torch.bool)), float("-inf"))
    att = torch.softmax(logits, -1, dtype=torch.float32)
    hidden = qt.transpose(1, 2).reshape(1, P, H * D)
    name, base, kv = opts(spec)
    if name == "duo":
        press = DuoAttentionPress(head_compression_ratio=r)
        DuoAttentionPress.load_attention_pattern = staticmethod(
            lambda model: (int(kv.get("sink", 4)), int(kv.get("recent", 64)), gates))
        press.post_init_from_model(types.SimpleNamespace(device="cpu"))
        press.compress(m, hidden, kt, vt, att, {})
        return kept_by_mask(m, Hkv, P)
    if name == "adakv":
        press = AdaKVPress(press=scorer(base, kv, r), alpha_safeguard=float(kv.get("alpha", 0.2)))
        press.compress(m, hidden, kt, vt, att, {})
        return kept_by_mask(m, Hkv, P)
    press = scorer(name, kv, r)
    ko, _ = press.compress(m, hidden, kt, vt, att, {})
    return kept_by_gather(kt, ko)


def main():
    z = np.load(sys.argv[1])
    gates = np.clip(np.loadtxt(sys.argv[2], delimiter="\t", ndmin=2), 0, 1)
    q, k, v, scale = z["q"], z["k"], z["v"], float(z["scale"])
    N, L = q.shape[:2]
    out = []
    for spec in [str(s) for s in z["methods"]]:
        for r in [float(x) for x in z["ratios"]]:
            for n in range(N):
                for l in range(L):
                    for g, keys in enumerate(run(spec, r, q[n, l], k[n, l], v[n, l], scale, gates, L, l)):
                        out.append(dict(method=spec, ratio=r, sample=n, layer=l, kv_head=g, keys=keys))
    json.dump(out, open(sys.argv[3], "w"))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
