"""attnlab.convert without torch (Debian's python3, numpy and h5py): dicts shaped like an nnsight trace's saved
values and like a TransformerLens ActivationCache's cache_dict ([B, T, H, D] hooks), Hugging Face attention tuples;
attnlab reads each file, and its statistics from the converted q/k equal those of the maps softmax(q k^T) gives;
bad input (wrong shape, integer data, missing hooks, mismatched layers) raises AttnlabError and leaves no file."""
import torchenv  # the paths and bad(); no torch here
import h5py
import numpy as np
from alcli import check, close, finish, js, tmpdir

from attnlab import convert

d = tmpdir()
rng = np.random.default_rng(5)
N, L, H, KV, T, D, dm = 2, 3, 4, 2, 24, 8, 16


def softmax_qk(q, k, scale):
    kk = np.repeat(k.astype(np.float64), q.shape[1] // k.shape[1], axis=1)
    s = np.einsum("nhid,nhjd->nhij", q.astype(np.float64), kk) * scale
    s = np.where(np.tri(T, dtype=bool), s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


q = [rng.standard_normal((N, H, T, D)).astype(np.float32) * 2 for _ in range(L)]
k = [rng.standard_normal((N, KV, T, D)).astype(np.float32) * 2 for _ in range(L)]
for x in k:
    x[:, :, 0] *= 4  # a key that draws attention: sinks at position 0
maps = [softmax_qk(q[l], k[l], D ** -0.5).astype(np.float32) for l in range(L)]
hidden = [rng.standard_normal((N, T, dm)).astype(np.float32) for _ in range(L + 1)]
tokens = rng.integers(0, 100, (N, T))


def alphas(path, *extra):
    out = js("sinks", path, "--tokens", T, "--positions", T, *extra)
    return np.array([x["alpha"] for x in out["heads"]])


# 1. an nnsight-style dict in attnlab's names: per-layer lists, stacked arrays, q/L000 keys
a = convert.from_dict({"q": q, "k": np.stack(k), "attention": maps, "hidden": hidden, "tokens": tokens},
                      f"{d}/dict.h5")
with h5py.File(a) as f:
    check(f.attrs["n_layers"] == L and f.attrs["n_kv_heads"] == KV and f.attrs["head_dim"] == D, "attributes")
    check(np.array_equal(f["q/L001"][()], q[1]) and np.array_equal(f["hidden/L003"][()], hidden[3]), "data")
ref = alphas(a)
check(close(alphas(a, "--from-qk"), ref, 0, 1e-5), "sinks from q/k = sinks from the maps")
check(js("sinks", a, "--tokens", T)["sink_rate"][0] > 0, "the planted sink is found")
b = convert.from_dict({f"q/L{l:03d}": q[l] for l in range(L)} | {f"k/L{l:03d}": k[l] for l in range(L)},
                      f"{d}/keys.h5", dtype="bfloat16")
with h5py.File(b) as f:
    check(f["q/L002"].dtype == np.uint16 and f["q/L002"].attrs["dtype"] == "bfloat16", "bfloat16 storage")
check(close(alphas(b, "--from-qk"), ref, 0, 2e-2), "bfloat16 q/k: the same sinks within its rounding")
one = convert.from_dict({"q": [x[0] for x in q], "k": [x[0] for x in k]}, f"{d}/one.h5", batch=False)
with h5py.File(one) as f:
    check(f["q/L000"].shape == (1, H, T, D) and alphas(one, "--from-qk").shape == (L * H, T), "batch=False: N = 1")

# 2. a TransformerLens-shaped cache_dict ([B, T, H, D] hooks, post-rotary hook_rot_q/k)
cache = {}
for l in range(L):
    cache[f"blocks.{l}.attn.hook_rot_q"] = np.ascontiguousarray(q[l].transpose(0, 2, 1, 3))
    cache[f"blocks.{l}.attn.hook_rot_k"] = np.ascontiguousarray(k[l].transpose(0, 2, 1, 3))
    cache[f"blocks.{l}.attn.hook_q"] = np.zeros_like(cache[f"blocks.{l}.attn.hook_rot_q"])  # pre-rotary: unused
    cache[f"blocks.{l}.attn.hook_pattern"] = maps[l]
    cache[f"blocks.{l}.hook_resid_pre"] = hidden[l]
cache[f"blocks.{L - 1}.hook_resid_post"] = hidden[L]
tl = convert.from_transformer_lens(cache, f"{d}/tl.h5", tokens=tokens, what=("q", "k", "attention", "hidden"))
with h5py.File(tl) as f:
    check(np.array_equal(f["q/L002"][()], q[2]) and np.array_equal(f["k/L000"][()], k[0]), "hook_rot_q/k, [N,H,T,D]")
    check(np.array_equal(f["hidden/L000"][()], hidden[0]) and np.array_equal(f["hidden/L003"][()], hidden[3]),
          "resid_pre of each block, then the last resid_post")
check(close(alphas(tl, "--from-qk"), ref, 0, 1e-5) and close(alphas(tl), ref, 0, 0), "TransformerLens-shaped sinks")

# 3. Hugging Face output_attentions
hf = convert.from_hf(f"{d}/hf.h5", attentions=tuple(maps), input_ids=tokens, logits=np.zeros((N, T, 7), np.float32))
check(close(alphas(hf), ref, 0, 0) and h5py.File(hf)["logits"].shape == (N, T, 7), "from_hf")


# 4. bad input
def bad(what, needle, fn):
    torchenv.bad(d, what, needle, fn)


bad("q of the wrong rank", "q/L001: shape [2, 4, 24]", lambda p: convert.from_dict(
    {"q": [q[0], q[1][..., 0], q[2]], "k": k}, p))
bad("k with another length", "k/L002: shape [2, 2, 23, 8]", lambda p: convert.from_dict(
    {"q": q, "k": [k[0], k[1], k[2][:, :, 1:]]}, p))
bad("integer q", "q/L000: expected a floating-point array, got int64", lambda p: convert.from_dict(
    {"q": [x.astype(np.int64) for x in q], "k": k}, p))
bad("q without k", "q and k must come together", lambda p: convert.from_dict({"q": q, "attention": maps}, p))
bad("nothing to analyse", "neither attention maps nor both q and k", lambda p: convert.from_dict({"hidden": hidden}, p))
bad("layers that disagree", "2 layers, but 3 elsewhere", lambda p: convert.from_dict({"q": q, "k": k[:2]}, p))
bad("a missing hook", "no blocks.1.attn.hook_rot_k", lambda p: convert.from_transformer_lens(
    {x: v for x, v in cache.items() if x != "blocks.1.attn.hook_rot_k"}, p))
bad("non-square maps", "maps are 24 x 12", lambda p: convert.from_hf(p, attentions=[m[..., :12] for m in maps]))
bad("an unknown entry", "unknown entry 'queries'", lambda p: convert.from_dict({"queries": q}, p))
bad("non-finite values", "non-finite", lambda p: convert.from_dict({"attention": [maps[0], maps[1] * np.nan, maps[2]]},
                                                                   p))
bad("tokens of another shape", "tokens: expected integer ids [N=2, T=24]", lambda p: convert.from_dict(
    {"attention": maps, "tokens": tokens[:, :5]}, p))

finish("test_convert")
