"""attnlab.convert: activations already captured in Python -> a format-v1 recording (spec/RECORDING.md).

- from_transformer_lens(cache, path, ...): a TransformerLens ActivationCache (run_with_cache), batch dimension kept
  or removed: post-rotary q/k (hook_rot_q/k, else hook_q/k), v, hook_pattern maps, the residual stream.
- from_hf(path, attentions=..., input_ids=..., logits=...): Hugging Face output_attentions (a tuple of
  [B, H, T, T], or stacked [L, B, H, T, T]).
- from_dict(d, path, ...): a dict such as an nnsight trace's saved values, in attnlab's own names: "q", "k", "v",
  "attention", "hidden" (per-layer lists/tuples or arrays stacked layer-first, or "q/L000"-style keys), "logits",
  "tokens", "lengths", "token_text".
Tensors may be torch tensors (any device, any strides: each layer is copied to the CPU as it is written) or numpy
arrays. Bad input raises AttnlabError (`attnlab: error: FILE[:DATASET]: reason`) and leaves no file.
"""
import re

import numpy as np

from ._v1 import AttnlabError, Writer, layer_name

GROUPS = ("attention", "q", "k", "v", "hidden")
RANK = {"attention": 4, "q": 4, "k": 4, "v": 4, "hidden": 3}
LAYOUT = {"attention": "[N, H, T, T]", "q": "[N, H, T, D]", "k": "[N, H_kv, T, D]", "v": "[N, H_kv, T, D]",
          "hidden": "[N, T, d_model]"}


def _np(x, file, name):
    """A float32 numpy copy of one layer's tensor (torch on any device, or array-like), or an error."""
    if hasattr(x, "detach"):
        if x.is_complex() or not x.is_floating_point():
            raise AttnlabError(file, f"expected a floating-point tensor, got {x.dtype}", name)
        x = x.detach().float().cpu().numpy()
    a = np.asarray(x)
    if a.dtype.kind != "f":
        raise AttnlabError(file, f"expected a floating-point array, got {a.dtype}", name)
    return a.astype(np.float32, copy=False)


def _layers(v):
    """Per-layer items of a list/tuple or of an array stacked layer-first."""
    if isinstance(v, (list, tuple)):
        return list(v)
    return [v[i] for i in range(v.shape[0])]


def _split_keys(d):
    """{"q/L000": x, ...} keys gathered into {"q": [x, ...]} (layers must run 0..L-1)."""
    out, pat = {}, re.compile(r"^(attention|q|k|v|hidden)/L(\d+)$")
    for key, val in d.items():
        m = pat.match(str(key))
        if m:
            out.setdefault(m.group(1), {})[int(m.group(2))] = val
        else:
            out[key] = val
    for g in GROUPS:
        if isinstance(out.get(g), dict):
            idx = sorted(out[g])
            if idx != list(range(len(idx))):
                raise ValueError(f"{g}: layers {idx} are not 0..{len(idx) - 1}")
            out[g] = [out[g][i] for i in idx]
    return out


class _Shapes:
    """The architecture as the tensors show it, checked layer by layer as each is written."""

    def __init__(self, file, groups, batch):
        self.file, self.groups, self.batch = file, groups, batch
        self.N = self.T = self.H = self.KV = self.D = None
        first = {g: self.shape(g, 0) for g in groups}
        self.L = len(groups.get("attention") or groups.get("q") or groups.get("k") or [])
        if "hidden" in groups and self.L and len(groups["hidden"]) != self.L + 1:
            raise AttnlabError(file, f"{len(groups['hidden'])} residual-stream entries for {self.L} layers "
                               f"(n_layers + 1 expected: embeddings, then each block's output)", "hidden")
        for g in ("q", "k", "v", "attention"):
            if g in groups and len(groups[g]) != self.L:
                raise AttnlabError(file, f"{len(groups[g])} layers, but {self.L} elsewhere", g)
        self.N = next(iter(first.values()))[0]
        if "attention" in first:
            _, self.H, self.T, _ = first["attention"]
        if "q" in first:
            _, self.H, self.T, self.D = first["q"]
        if "k" in first:
            self.KV = first["k"][1]
        if "v" in first:
            self.KV = self.KV or first["v"][1]
            self.D = self.D or first["v"][3]
        if "hidden" in first and self.T is None:
            self.T = first["hidden"][1]

    def shape(self, g, l):
        x = self.groups[g][l]
        s = tuple(int(v) for v in x.shape)
        if not self.batch:
            s = (1,) + s
        if len(s) != RANK[g]:
            raise AttnlabError(self.file, f"shape {list(x.shape)}, expected {LAYOUT[g]}"
                               f"{' without N' if not self.batch else ''}", layer_name(g, l))
        return s

    def expect(self, g, l):
        """The shape layer l of group g must have."""
        return {"attention": (self.N, self.H, self.T, self.T), "q": (self.N, self.H, self.T, self.D),
                "k": (self.N, self.KV, self.T, self.D), "v": (self.N, self.KV, self.T, self.D),
                "hidden": (self.N, self.T, None)}[g]

    def check(self, g, l):
        s, want = self.shape(g, l), self.expect(g, l)
        if g == "attention" and s[2] != s[3]:
            raise AttnlabError(self.file, f"maps are {s[2]} x {s[3]}, expected square [T, T]", layer_name(g, l))
        if any(w is not None and a != w for a, w in zip(s, want)):
            raw, shown = self.groups[g][l].shape, ["d_model" if x is None else x for x in want]
            raise AttnlabError(self.file, f"shape {list(raw)}, expected {shown} {LAYOUT[g]}", layer_name(g, l))
        return s


def write(path, groups, dtype="float32", model="", first_token_is_bos=0, tokens=None, lengths=None, token_text=None,
          logits=None, scale=None, batch=True, source="attnlab.convert", causal=1):
    """Writes `groups` ({"q": [layer tensors], ...}) and the rest as format v1; returns path."""
    file = str(path)
    groups = {g: _layers(v) for g, v in groups.items() if g in GROUPS and v is not None}
    if not groups.get("attention") and not (groups.get("q") and groups.get("k")):
        raise AttnlabError(file, "neither attention maps nor both q and k were given (format v1 needs one)")
    if bool(groups.get("q")) != bool(groups.get("k")):
        raise AttnlabError(file, "q and k must come together", "q" if groups.get("q") else "k")
    sh = _Shapes(file, groups, batch)
    if sh.KV and sh.H % sh.KV:
        raise AttnlabError(file, f"{sh.KV} key heads do not divide {sh.H} query heads", "k/L000")
    with Writer(file, dtype) as w:
        w.attrs(attnlab_format="recording", format_version=1, model=model, n_layers=sh.L, n_heads=sh.H,
                n_kv_heads=sh.KV or sh.H, head_dim=sh.D or 0, causal=int(causal),
                first_token_is_bos=int(bool(first_token_is_bos)), source=source)
        _meta(w, sh, tokens, lengths, token_text, batch)
        for g, items in groups.items():
            for l in range(len(items)):
                s = sh.check(g, l)
                w.create(layer_name(g, l), s, rows_per_chunk=s[-2] if g in ("q", "k", "v") else 64)
                x = _np(items[l], file, layer_name(g, l))
                w.put(layer_name(g, l), (slice(None),), x if batch else x[None])
                items[l] = None  # the caller's object still holds it; this list no longer does
        if scale is not None and "q" in groups:
            w.f["q"].attrs["scale"] = float(scale)
        if logits is not None:
            x = _np(logits, file, "logits")
            x = x if batch else x[None]
            if x.ndim != 3 or x.shape[:2] != (sh.N, sh.T):
                raise AttnlabError(file, f"shape {list(x.shape)}, expected [N={sh.N}, T={sh.T}, V]", "logits")
            w.create("logits", x.shape, rows_per_chunk=1)
            w.put("logits", (slice(None),), x)
    return file


def _meta(w, sh, tokens, lengths, token_text, batch):
    file = w.path
    if tokens is not None:
        t = np.asarray(tokens.detach().cpu() if hasattr(tokens, "detach") else tokens)
        t = t if batch else t[None]
        if t.dtype.kind not in "iu" or t.shape != (sh.N, sh.T):
            raise AttnlabError(file, f"expected integer ids [N={sh.N}, T={sh.T}], got {t.dtype} "
                               f"{list(t.shape)}", "tokens")
        w.data("tokens", t.astype(np.int32))
    if lengths is not None:
        n = np.asarray(lengths.detach().cpu() if hasattr(lengths, "detach") else lengths).reshape(-1)
        if n.shape != (sh.N,) or n.dtype.kind not in "iu" or (n < 1).any() or (n > sh.T).any():
            raise AttnlabError(file, f"expected {sh.N} lengths in 1..{sh.T}, got {n.tolist()}", "lengths")
        w.data("lengths", n.astype(np.int32))
    if token_text is not None:
        rows = [token_text] if not batch else list(token_text)
        if len(rows) != sh.N or any(len(r) != sh.T for r in rows):
            raise AttnlabError(file, f"expected [N={sh.N}, T={sh.T}] strings", "token_text")
        w.strings("token_text", [[str(s) for s in r] for r in rows])


def from_dict(d, path, dtype="float32", model="", first_token_is_bos=0, scale=None, batch=True):
    """A dict in attnlab's names (see the module text) -> format v1. batch=False: tensors have no N axis."""
    try:
        d = _split_keys(dict(d))
    except ValueError as ex:
        raise AttnlabError(str(path), str(ex)) from None
    unknown = [k for k in d if k not in GROUPS + ("logits", "tokens", "lengths", "token_text")]
    if unknown:
        raise AttnlabError(str(path), f"unknown entry '{unknown[0]}' (known: {', '.join(GROUPS)}, logits, tokens, "
                           "lengths, token_text, or q/L000-style names)")
    return write(path, {g: d[g] for g in GROUPS if g in d}, dtype=dtype, model=model,
                 first_token_is_bos=first_token_is_bos, tokens=d.get("tokens"), lengths=d.get("lengths"),
                 token_text=d.get("token_text"), logits=d.get("logits"), scale=scale, batch=batch,
                 source="attnlab.convert.from_dict")


def from_hf(path, attentions=None, input_ids=None, logits=None, dtype="float32", model="", first_token_is_bos=0,
            token_text=None):
    """Hugging Face output_attentions (tuple of [B, H, T, T] per layer, or stacked) -> format v1.
    hidden_states are not taken: their last entry is after the final norm, which format v1 does not store."""
    return write(path, {"attention": attentions}, dtype=dtype, model=model, first_token_is_bos=first_token_is_bos,
                 tokens=input_ids, logits=logits, token_text=token_text, source="attnlab.convert.from_hf")


def _tl_get(cache, key):
    store = getattr(cache, "cache_dict", cache)
    return store[key] if key in store else None


def _bthd(x):
    """TransformerLens [.., T, H, D] -> [.., H, T, D] (a view)."""
    return x.transpose(-3, -2) if hasattr(x, "detach") else np.swapaxes(x, -3, -2)


def from_transformer_lens(cache, path, model=None, tokens=None, logits=None, what=("q", "k", "hidden"),
                          dtype="float32", first_token_is_bos=None):
    """A TransformerLens ActivationCache (or its cache_dict) -> format v1.

    what: any of "q", "k", "v", "attention" (hook_pattern), "hidden" (hook_resid_pre of each block, then the last
    block's hook_resid_post, before ln_final). model: the HookedTransformer, for its name, attention scale, soft-cap
    and tokenizer (BOS). tokens/logits: run_with_cache's input and output. Rotary models store hook_rot_q/k.
    """
    file = str(path)
    store = getattr(cache, "cache_dict", cache)
    batch = getattr(cache, "has_batch_dim", True)
    L = 1 + max((int(m.group(1)) for m in (re.match(r"blocks\.(\d+)\.", k) for k in store) if m), default=-1)
    if L == 0:
        raise AttnlabError(file, "the cache has no blocks.N.* entries: not a TransformerLens ActivationCache")
    cfg = getattr(model, "cfg", None)
    if cfg is not None and getattr(cfg, "attn_scores_soft_cap", -1) > 0 and {"q", "k"} & set(what):
        raise AttnlabError(file, f"attention scores are soft-capped ({cfg.attn_scores_soft_cap}): q and k would not "
                           "give this model's maps (format v1 assumes a plain softmax)")
    rotary = (getattr(cfg, "positional_embedding_type", None) == "rotary" if cfg is not None
              else any(k.endswith("attn.hook_rot_q") for k in store))
    groups = {}
    for g in what:
        groups[g] = [_tl_layer(store, g, l, L, rotary, file) for l in range(L + (g == "hidden"))]
    scale = None
    if cfg is not None:
        a = float(getattr(cfg, "attn_scale", -1) or -1)  # TransformerLens 4: -1 = the default sqrt(d_head)
        s = (1.0 / a if a > 0 else cfg.d_head ** -0.5) if getattr(cfg, "use_attn_scale", True) else 1.0
        if abs(s - cfg.d_head ** -0.5) > 1e-12:
            scale = s
    if first_token_is_bos is None:
        bos = getattr(getattr(model, "tokenizer", None), "bos_token_id", None)
        t = np.asarray(tokens.detach().cpu() if hasattr(tokens, "detach") else tokens) if tokens is not None else None
        first_token_is_bos = int(bos is not None and t is not None and bool((t.reshape(-1, t.shape[-1])[:, 0] == bos).all()))
    name = getattr(cfg, "model_name", "") if cfg is not None else ""
    return write(path, groups, dtype=dtype, model=name or "", first_token_is_bos=first_token_is_bos, tokens=tokens,
                 logits=logits, scale=scale, batch=batch, source="attnlab.convert.from_transformer_lens")


def _tl_layer(store, g, l, L, rotary, file):
    if g == "hidden":
        key = f"blocks.{l}.hook_resid_pre" if l < L else f"blocks.{L - 1}.hook_resid_post"
        names = [key]
    elif g == "attention":
        names = [f"blocks.{l}.attn.hook_pattern"]
    elif g == "v":
        names = [f"blocks.{l}.attn.hook_v"]
    else:
        names = [f"blocks.{l}.attn.hook_rot_{g}" if rotary else f"blocks.{l}.attn.hook_{g}"]
    for key in names:
        if key in store:
            x = store[key]
            return x if g in ("hidden", "attention") else _bthd(x)
    raise AttnlabError(file, f"the cache has no {names[0]}: run_with_cache without names_filter, or one that "
                       "keeps it", layer_name(g, l))
