"""attnlab.record on tiny randomly initialised Llama, Mistral, Qwen2 and Gemma models with grouped-query attention
(made here, no download), running SDPA: q, k (through maps computed from them), v, hidden states and logits
against the same model's eager outputs; layer subsets, maps for some layers only, padded batches, logits positions,
storage types, readable token text; bad input raises AttnlabError with the command line's text and leaves no file.
Runs under the cached torch venv (tests/python/torchenv.py), or skips saying why."""
import torchenv

torchenv.require_torch()
import h5py
import numpy as np
import torch
import transformers
from alcli import check, close, finish, js, tmpdir

import attnlab

d = tmpdir()
L, H, KV, D, V, T = 3, 4, 2, 12, 61, 20
common = dict(vocab_size=V, hidden_size=H * D, intermediate_size=80, num_hidden_layers=L, num_attention_heads=H,
              num_key_value_heads=KV, head_dim=D, max_position_embeddings=64, rms_norm_eps=1e-5,
              tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=3)


def tiny(cls, cfg_cls, **extra):
    torch.manual_seed(0)
    m = cls(cfg_cls(**common, **extra)).eval()
    with torch.no_grad():  # random init gives flat maps: larger q/k projections give them structure
        for layer in m.model.layers:
            layer.self_attn.q_proj.weight.mul_(6)
            layer.self_attn.k_proj.weight.mul_(6)
    m.set_attn_implementation("sdpa")
    return m


def eager(model, ids):
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            return model(ids, output_attentions=True, output_hidden_states=True)
    finally:
        model.set_attn_implementation("sdpa")


def maps_from_qk(q, k, scale):
    """numpy softmax(q k^T * scale) under the causal mask; query head h reads KV head h // (H / KV)."""
    Hq, n = q.shape[1], q.shape[2]
    kk = np.repeat(k.astype(np.float64), Hq // k.shape[1], axis=1)
    s = np.einsum("nhid,nhjd->nhij", q.astype(np.float64), kk) * scale
    s = np.where(np.tri(n, dtype=bool), s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


rng = np.random.default_rng(1)
ids = torch.tensor(rng.integers(4, V, (2, T)))
ids[:, 0] = 1
archs = [("llama", transformers.LlamaForCausalLM, transformers.LlamaConfig, {}),
         ("mistral", transformers.MistralForCausalLM, transformers.MistralConfig, {"sliding_window": None}),
         ("qwen2", transformers.Qwen2ForCausalLM, transformers.Qwen2Config, {}),
         ("gemma", transformers.GemmaForCausalLM, transformers.GemmaConfig, {})]

# 1. every architecture: what SDPA recorded equals the eager model's own tensors
for name, cls, cfg_cls, extra in archs:
    model = tiny(cls, cfg_cls, **extra)
    path = f"{d}/{name}.h5"
    attnlab.record(model, ids, path, what=("q", "k", "v", "hidden", "logits", "attention"), dtype="float32")
    o = eager(model, ids)
    with h5py.File(path) as f:
        check(f.attrs["attn_implementation"] == "sdpa" and f.attrs["n_kv_heads"] == KV and f.attrs["head_dim"] == D
              and f.attrs["first_token_is_bos"] == 1 and f.attrs["first_token_id"] == 1, f"{name}: attributes")
        for l in range(L):
            att = o.attentions[l].numpy()
            check(close(f[f"attention/L{l:03d}"][()], att, 0, 1e-6), f"{name}: maps of layer {l} vs eager")
            qk = maps_from_qk(f[f"q/L{l:03d}"][()], f[f"k/L{l:03d}"][()], f["q"].attrs.get("scale", D ** -0.5))
            check(close(qk, att, 0, 1e-5), f"{name}: softmax(q k^T) of the recorded q, k vs eager maps, layer {l}")
            check(close(f[f"hidden/L{l:03d}"][()], o.hidden_states[l].numpy(), 0, 1e-5), f"{name}: hidden {l}")
            a = model.model.layers[l].self_attn
            with torch.no_grad():
                v = a.v_proj(model.model.layers[l].input_layernorm(torch.tensor(f[f"hidden/L{l:03d}"][()])))
            check(close(f[f"v/L{l:03d}"][()], v.reshape(2, T, KV, D).transpose(1, 2).numpy(), 0, 1e-5),
                  f"{name}: v of layer {l}")
        with torch.no_grad():
            lg = model.lm_head(model.model.norm(torch.tensor(f[f"hidden/L{L:03d}"][()])))
        check(close(lg.numpy(), o.logits.numpy(), 0, 1e-4), f"{name}: the last hidden entry is before the final norm")
        check(close(f["logits"][()], o.logits.numpy(), 0, 1e-5), f"{name}: logits")
    out = js("sinks", path, "--tokens", T, "--positions", 4)
    out_qk = js("sinks", path, "--tokens", T, "--positions", 4, "--from-qk")
    check(close([x["alpha"] for x in out["heads"]], [x["alpha"] for x in out_qk["heads"]], 0, 1e-6),
          f"{name}: attnlab sinks on the maps vs from q, k")

model = tiny(transformers.LlamaForCausalLM, transformers.LlamaConfig)
o = eager(model, ids)

# 2. a layer subset, maps for one layer only, logits at some positions
p = f"{d}/subset.h5"
attnlab.record(model, ids, p, what=("q", "k", "hidden", "logits"), layers=[1, 2], maps_for_layers=[2],
               logits_positions=[0, -1], dtype="float32")
with h5py.File(p) as f, h5py.File(f"{d}/llama.h5") as full:
    check(f.attrs["n_layers"] == 2 and list(f.attrs["recorded_layers"]) == [1, 2] and f.attrs["model_n_layers"] == L,
          "subset attributes")
    check("attention" not in f and list(f["maps"].attrs["layers"]) == [1] and list(f["maps"]) == ["L000"],
          f"maps of one layer go to /maps: {list(f)}")
    check(close(f["maps/L000"][()], o.attentions[2].numpy(), 0, 1e-6), "maps of layer 2 only")
    check(np.array_equal(f["q/L000"][()], full["q/L001"][()]) and np.array_equal(f["k/L001"][()], full["k/L002"][()]),
          "q/k of the recorded layers, renumbered")
    check(np.array_equal(f["hidden/L000"][()], full["hidden/L001"][()]) and
          np.array_equal(f["hidden/L002"][()], full["hidden/L003"][()]), "hidden: inputs of each, output of the last")
    lg = f["logits"][()]
    rows = [t for t in range(T) if np.isfinite(lg[:, t]).all()]
    check(rows == [0, T - 1] and np.isnan(lg[:, 1:T - 1]).all(), f"logits rows stored: {rows}")
    check(close(lg[:, [0, T - 1]], o.logits.numpy()[:, [0, T - 1]], 0, 1e-5), "logits at the positions asked")
for cmd in ("sinks", "heads"):
    n = len(js(cmd, p, "--tokens", T, "--from-qk")["heads"])
    check(n == 2 * H, f"attnlab {cmd} on the layer subset: {n} heads")

# maps in blocks of query rows that do not divide T give the same maps
rec_mod = __import__("attnlab.record", fromlist=["MAP_ROWS"])
rec_mod.MAP_ROWS, rows_before = 7, rec_mod.MAP_ROWS
attnlab.record(model, ids, f"{d}/blocks.h5", what=("q", "k", "attention"), dtype="float32")
rec_mod.MAP_ROWS = rows_before
with h5py.File(f"{d}/blocks.h5") as f:
    check(all(close(f[f"attention/L{l:03d}"][()], o.attentions[l].numpy(), 0, 1e-6) for l in range(L)),
          "maps computed 7 query rows at a time")

# 3. padded batches: left padding, right padding and ragged lists give the unpadded samples' tensors, /lengths
short = ids[1, :12].tolist()
mask = torch.zeros(2, T, dtype=torch.long)
mask[0], mask[1, T - 12:] = 1, 1
lp = torch.full((2, T), 3)
lp[0], lp[1, T - 12:] = ids[0], torch.tensor(short)
for how, kw in (("left-padded", dict(input_ids=lp, attention_mask=mask)),
                ("ragged", dict(input_ids=[ids[0].tolist(), short]))):
    p = f"{d}/pad.h5"
    attnlab.record(model, kw.pop("input_ids"), p, what=("q", "k", "hidden"), dtype="float32", **kw)
    o1 = eager(model, torch.tensor([short]))
    with h5py.File(p) as f:
        check(f["lengths"][()].tolist() == [T, 12] and f["tokens"][1, :12].tolist() == short
              and (f["tokens"][1, 12:] == 0).all(), f"{how}: lengths and tokens")
        q = f["q/L002"][1:, :, :12]
        check(close(maps_from_qk(q, f["k/L002"][1:, :, :12], D ** -0.5), o1.attentions[2].numpy(), 0, 1e-5),
              f"{how}: the short sample's q, k are its own")
        check((f["q/L002"][1, :, 12:] == 0).all(), f"{how}: padding rows hold 0")
        check(close(f["hidden/L001"][0], o.hidden_states[1][0].numpy(), 0, 1e-5), f"{how}: the long sample")
    check(js("sinks", p, "--tokens", 12, "--from-qk")["heads"], f"{how}: attnlab reads it")

# 4. storage types
for dt, kind in (("float16", np.float16), ("bfloat16", np.uint16)):
    p = f"{d}/{dt}.h5"
    attnlab.record(model, ids, p, what=("q", "k"), dtype=dt)
    with h5py.File(p) as f:
        q = f["q/L001"]
        check(q.dtype == kind and (dt != "bfloat16" or q.attrs["dtype"] == "bfloat16"), f"{dt} storage")
        qv = q[()].astype(np.float32) if dt == "float16" else (q[()].astype(np.uint32) << 16).view(np.float32)
        with h5py.File(f"{d}/llama.h5") as full:
            ref = full["q/L001"][()]
        check(close(qv, ref, 1e-2 if dt == "bfloat16" else 1e-3, 1e-3), f"{dt}: values within its rounding")

# 5. token text: readable (decoded, no byte-level markers), and what the first token is
from tokenizers import Tokenizer, decoders, models, pre_tokenizers  # noqa: E402

vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 3}
for w in ["Ġhello", "Ġworld", "hello", "Ġé", ".", "Ġ"]:
    vocab[w] = len(vocab)
tk = Tokenizer(models.BPE(vocab, [], unk_token="<unk>"))
tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tk.decoder = decoders.ByteLevel()
tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
tids = [vocab[w] for w in ["hello", "Ġworld", "Ġhello", "."]]
p = f"{d}/text.h5"
attnlab.record(model, [tids], p, what=("q", "k"), tokenizer=tok)
with h5py.File(p) as f:
    txt = [s.decode() for s in f["token_text"][0]]
    check(txt == ["hello", " world", " hello", "."], f"token_text {txt}")
    check(f.attrs["first_token_is_bos"] == 0 and f.attrs["first_token_id"] == vocab["hello"]
          and f.attrs["first_token_text"] == "hello", "first token: not BOS, its id and text")

# 6. bad input: AttnlabError with the command line's text, nothing written
def bad(what, needle, fn):
    torchenv.bad(d, what, needle, fn)


gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=2, n_head=2, n_embd=16, vocab_size=V)).eval()
bad("a model without rotary q/k", "cannot hook",
    lambda p: attnlab.record(gpt2, ids, p))
bad("float token ids", "input_ids: expected integer token ids", lambda p: attnlab.record(model, ids.float(), p))
bad("3-D token ids", "of shape [2, 20, 1]", lambda p: attnlab.record(model, ids[..., None], p))
bad("an id outside the vocabulary", "token id 61 is outside", lambda p: attnlab.record(model, [[1, 61]], p))
bad("a mask with holes", "not one contiguous run",
    lambda p: attnlab.record(model, ids, p, attention_mask=torch.tensor([[1, 0] * 10, [1] * 20])))
bad("a mask of another shape", "attention_mask: shape [2, 5]",
    lambda p: attnlab.record(model, ids, p, attention_mask=torch.ones(2, 5)))
bad("unknown what", "unknown item 'maps'", lambda p: attnlab.record(model, ids, p, what=("maps",)))
bad("maps of a layer not recorded", "maps_for_layers", lambda p: attnlab.record(model, ids, p, layers=[0],
                                                                                 maps_for_layers=[1]))
bad("a layer out of range", "layer 3 is outside 0..2", lambda p: attnlab.record(model, ids, p, layers=[3]))
bad("neither q/k nor maps", "format v1 needs one", lambda p: attnlab.record(model, ids, p, what=("hidden",)))
bad("an unknown storage type", "dtype 'int8'", lambda p: attnlab.record(model, ids, p, dtype="int8"))
bad("logits positions without logits", "logits_positions",
    lambda p: attnlab.record(model, ids, p, what=("q", "k"), logits_positions=[0]))
mis = tiny(transformers.MistralForCausalLM, transformers.MistralConfig, sliding_window=8)
bad("a sliding window shorter than the sample", "sliding window of 8 tokens", lambda p: attnlab.record(mis, ids, p))
g2 = transformers.Gemma2ForCausalLM(transformers.Gemma2Config(**common)).eval()
bad("soft-capped attention", "soft-capped", lambda p: attnlab.record(g2, ids, p))
big = tiny(transformers.LlamaForCausalLM, transformers.LlamaConfig)
with torch.no_grad():
    big.model.layers[1].self_attn.q_proj.weight.mul_(1e5)
bad("float16 overflow halfway through", "overflows float16", lambda p: attnlab.record(big, ids, p))
check(attnlab.record is not None and callable(attnlab.record), "attnlab.record is callable")

finish("test_record_api")
