"""attnlab.record: records a Hugging Face transformers causal LM into format v1 with its own attention left on.

Post-rotary queries and keys come from a wrapper around the modeling module's `apply_rotary_pos_emb` (Llama,
Mistral, Qwen2, SmolLM2, Gemma), so SDPA or flash attention keep running and no T x T map is materialised unless
asked for; maps of the layers in `maps_for_layers` are computed here from the captured q and k, a block of query
rows at a time. Each layer's tensors are written as soon as the layer has run; logits only for the positions asked.
Samples run one at a time, unpadded, and are stored right-padded with /lengths (spec/RECORDING.md).
`python -m attnlab.record` is the command line (attnlab/record_cli.py). See docs/record.md.
"""
import sys
import types

import numpy as np

from ._v1 import AttnlabError, Writer, layer_name

WHAT = ("attention", "q", "k", "v", "hidden", "logits")
DEFAULT_WHAT = ("q", "k", "hidden", "logits")
MAP_ROWS = 256  # query rows of one head per block when maps are computed from q and k: [MAP_ROWS, T] floats


# ---- inputs ----

def _ints(x, what, file):
    """A list of ints from a list/tuple/range/array/tensor, or an error naming `what`."""
    try:
        arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
    except Exception as ex:
        raise AttnlabError(file, f"cannot read it as integers ({ex})", what) from None
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise AttnlabError(file, f"expected a list of integers, got {arr.dtype} of shape {list(arr.shape)}", what)
    return [int(v) for v in arr]


def _samples(input_ids, attention_mask, vocab, file):
    """Each sample's valid token ids (a list of lists) from a tensor/array [N, T] or [T], or a list of lists."""
    if isinstance(input_ids, (list, tuple)) and input_ids and isinstance(input_ids[0], (list, tuple, np.ndarray)) \
            or isinstance(input_ids, (list, tuple)) and input_ids and hasattr(input_ids[0], "detach"):
        rows = [_ints(r, "input_ids", file) for r in input_ids]
        mask = None
    else:
        arr = _array(input_ids, "input_ids", file)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.dtype.kind not in "iu":
            raise AttnlabError(file, f"expected integer token ids [N, T] or [T], got {arr.dtype} of shape "
                               f"{list(arr.shape)}", "input_ids")
        rows = [[int(v) for v in r] for r in arr]
        mask = None if attention_mask is None else _mask(attention_mask, arr.shape, file)
    if mask is not None:
        rows = [_unpad(r, m, n, file) for n, (r, m) in enumerate(zip(rows, mask))]
    if not rows or any(len(r) == 0 for r in rows):
        raise AttnlabError(file, "no tokens (an empty sample)", "input_ids")
    for n, r in enumerate(rows):
        bad = [t for t in r if not 0 <= t < vocab]
        if bad:
            raise AttnlabError(file, f"sample {n}: token id {bad[0]} is outside the vocabulary 0..{vocab - 1}",
                               "input_ids")
    return rows


def _array(x, what, file):
    """numpy view of a CPU tensor / array (a tensor elsewhere is copied to the CPU: ids are small)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception as ex:
        raise AttnlabError(file, f"cannot read it as an array ({ex})", what) from None


def _mask(attention_mask, shape, file):
    m = _array(attention_mask, "attention_mask", file)
    if m.shape != tuple(shape) and not (m.ndim == 1 and (1,) + m.shape == tuple(shape)):
        raise AttnlabError(file, f"shape {list(m.shape)} differs from input_ids' {list(shape)}", "attention_mask")
    m = m.reshape(shape)
    if not np.isin(m, (0, 1)).all():
        raise AttnlabError(file, "expected 0/1 values", "attention_mask")
    return m.astype(bool)


def _unpad(row, m, n, file):
    """The tokens under a mask of ones that form one run (left or right padding); anything else is refused."""
    idx = np.flatnonzero(m)
    if idx.size == 0 or idx[-1] - idx[0] + 1 != idx.size:
        raise AttnlabError(file, f"sample {n}: the ones of the mask are not one contiguous run (left or right "
                           "padding)", "attention_mask")
    return row[idx[0]:idx[-1] + 1]


def _layer_list(x, L, what, file, default):
    if x is None:
        return list(default)
    got = sorted(set(_ints([x] if isinstance(x, int) else x, what, file)))
    bad = [l for l in got if not 0 <= l < L]
    if bad:
        raise AttnlabError(file, f"layer {bad[0]} is outside 0..{L - 1}", what)
    return got


# ---- the model ----

def decoder_layers(model, name):
    for path in ("model.layers", "model.language_model.layers", "model.decoder.layers", "transformer.h",
                 "gpt_neox.layers"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return list(obj)
    raise AttnlabError(name, f"cannot find the decoder layers (model.layers, transformer.h, ...) of "
                       f"{type(model).__name__}: the recorder cannot hook this architecture")


def attention_of(layer, name):
    for attr in ("self_attn", "attn", "attention"):
        if hasattr(layer, attr):
            return getattr(layer, attr)
    raise AttnlabError(name, f"cannot find the attention module of {type(layer).__name__}: the recorder cannot "
                       "hook this architecture")


def model_name(model):
    cfg = getattr(model, "config", None)
    return getattr(cfg, "_name_or_path", None) or type(model).__name__


class Arch:
    """What the recorder needs to know of the model: sizes, layers, attention modules, rotary modules, scale."""

    def __init__(self, model):
        self.name = model_name(model)
        cfg = getattr(model, "config", None)
        if cfg is None:
            raise AttnlabError(self.name, f"{type(model).__name__} has no .config: not a transformers model")
        tc = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
        self.cfg = tc
        self.layers = decoder_layers(model, self.name)
        self.attns = [attention_of(l, self.name) for l in self.layers]
        self.L = len(self.layers)
        self.H = tc.num_attention_heads
        self.KV = getattr(tc, "num_key_value_heads", None) or self.H
        self.D = getattr(tc, "head_dim", None) or tc.hidden_size // self.H
        self.d_model = tc.hidden_size
        emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
        self.vocab = emb.weight.shape[0] if emb is not None else tc.vocab_size
        out = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
        self.V = out.weight.shape[0] if out is not None else tc.vocab_size
        self.scale = float(getattr(self.attns[0], "scaling", self.D ** -0.5))
        self.impl = getattr(cfg, "_attn_implementation", None) or "unknown"
        self.limit = getattr(tc, "max_position_embeddings", None)

    def check_plain_softmax(self, T):
        """The spec's q/k contract: plain scaled causal softmax (no soft-capping, no sliding window within T)."""
        cap = getattr(self.cfg, "attn_logit_softcapping", None)
        if cap:
            raise AttnlabError(self.name, f"attention logits are soft-capped ({cap}): recorded q and k would not "
                               "give this model's maps (format v1 assumes a plain softmax)")
        for i, a in enumerate(self.attns):
            w = self.window(i, a)
            if w and T > w:
                raise AttnlabError(self.name, f"layer {i} attends through a sliding window of {w} tokens, shorter "
                                   f"than the {T} recorded: q and k would not give its maps")
        if self.limit and T > self.limit:
            raise AttnlabError(self.name, f"a sample has {T} tokens, more than max_position_embeddings {self.limit}")

    def window(self, i, attn):
        """Layer i's sliding window: the module's own (Qwen2, Gemma 2), else the config's (Mistral) unless
        layer_types makes the layer full attention."""
        if hasattr(attn, "sliding_window"):
            return attn.sliding_window
        types = getattr(self.cfg, "layer_types", None)
        if types is not None and i < len(types) and types[i] != "sliding_attention":
            return None
        return getattr(self.cfg, "sliding_window", None)

    def rotary_modules(self):
        mods = []
        for a in self.attns:
            mod = sys.modules.get(type(a).__module__)
            if getattr(mod, "apply_rotary_pos_emb", None) is None:
                raise AttnlabError(self.name, f"{type(a).__name__} ({type(a).__module__}) applies no "
                                   "apply_rotary_pos_emb: the recorder cannot hook its post-rotary q and k")
            if mod not in mods:
                mods.append(mod)
        return mods


# ---- hooks ----

class Hooks:
    """Forward hooks and the rotary wrapper for one recording; each writes into the Writer as its layer runs."""

    def __init__(self, rec, arch):
        self.rec, self.arch = rec, arch
        self.cur = None
        self.handles, self.patched = [], []
        self.seen = {}

    def __enter__(self):
        r, a = self.rec, self.arch
        for j, l in enumerate(r.layers):
            attn = a.attns[l]
            self.handles.append(attn.register_forward_pre_hook(self._enter(j)))
            if "v" in r.what:
                vp = getattr(attn, "v_proj", None)
                if vp is None:
                    raise AttnlabError(a.name, f"{type(attn).__name__} has no v_proj: record without v")
                self.handles.append(vp.register_forward_hook(self._values(j)))
            if "hidden" in r.what:
                self.handles.append(a.layers[l].register_forward_pre_hook(self._layer_in(j), with_kwargs=True))
        if "hidden" in r.what:
            self.handles.append(a.layers[r.layers[-1]].register_forward_hook(self._layer_out(len(r.layers))))
        if r.need_qk:
            for mod in a.rotary_modules():
                fn = mod.apply_rotary_pos_emb
                mod.apply_rotary_pos_emb = self._rotary(fn)
                self.patched.append((mod, fn))
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        for mod, fn in reversed(self.patched):
            mod.apply_rotary_pos_emb = fn
        return False

    def _mark(self, key):
        self.seen[key] = self.seen.get(key, 0) + 1

    def _enter(self, j):
        def hook(module, args):
            self.cur = j
        return hook

    def _values(self, j):
        def hook(module, args, out):
            r = self.rec
            v = out[0].detach().float().cpu().reshape(out.shape[1], self.arch.KV, self.arch.D).transpose(0, 1)
            r.w.put(layer_name("v", j), (r.n, slice(None), slice(0, r.len)), v.numpy())
            self._mark(("v", j))
        return hook

    def _layer_in(self, j):
        def hook(module, args, kwargs):
            h = args[0] if args else kwargs.get("hidden_states")
            self.rec.put_hidden(j, h)
            self._mark(("hidden", j))
        return hook

    def _layer_out(self, j):
        def hook(module, args, out):
            self.rec.put_hidden(j, out[0] if isinstance(out, (tuple, list)) else out)
            self._mark(("hidden", j))
        return hook

    def _rotary(self, fn):
        def wrapped(q, k, *args, **kwargs):
            qe, ke = fn(q, k, *args, **kwargs)
            j, self.cur = self.cur, None
            if j is not None:
                self.rec.put_qk(j, qe, ke)
                self._mark(("qk", j))
            return qe, ke
        return wrapped


# ---- the recording ----

class Recording:
    """State of one record() call: what is stored where, and the per-layer writers the hooks call."""

    def __init__(self, arch, w, what, layers, maps, T):
        self.arch, self.w, self.what, self.layers, self.maps, self.T = arch, w, what, layers, maps, T
        self.need_qk = bool({"q", "k"} & set(what)) or bool(maps)
        self.maps_group = "attention" if maps and len(maps) == len(layers) else "maps"
        self.n, self.len = 0, 0

    def put_hidden(self, j, h):
        self.w.put(layer_name("hidden", j), (self.n, slice(0, self.len)), h[0].detach().float().cpu().numpy())

    def put_qk(self, j, qe, ke):
        a = self.arch
        if tuple(qe.shape) != (1, a.H, self.len, a.D) or tuple(ke.shape) != (1, a.KV, self.len, a.D):
            raise AttnlabError(a.name, f"apply_rotary_pos_emb returned q {list(qe.shape)} and k {list(ke.shape)}, "
                               f"not [1, {a.H}, {self.len}, {a.D}] and [1, {a.KV}, {self.len}, {a.D}]: the recorder "
                               "cannot hook this architecture's q and k")
        rows = (self.n, slice(None), slice(0, self.len))
        if "q" in self.what:
            self.w.put(layer_name("q", j), rows, qe[0].detach().float().cpu().numpy())
        if "k" in self.what:
            self.w.put(layer_name("k", j), rows, ke[0].detach().float().cpu().numpy())
        if self.layers[j] in self.maps:
            self.put_maps(self.maps_name(j), qe[0], ke[0])

    def maps_name(self, j):
        idx = j if self.maps_group == "attention" else self.maps.index(self.layers[j])
        return layer_name(self.maps_group, idx)

    def put_maps(self, name, q, k):
        """softmax(q k^T * scale) under the causal mask, in float32, MAP_ROWS query rows of one head at a time."""
        import torch
        a, T = self.arch, self.len
        q, k = q.detach().float(), k.detach().float()
        for h in range(a.H):
            kh = k[h // (a.H // a.KV)]  # [T, D]: query head h reads KV head h / (H / KV)
            for r0 in range(0, T, MAP_ROWS):
                r1 = min(T, r0 + MAP_ROWS)
                s = torch.matmul(q[h, r0:r1], kh[:r1].transpose(0, 1)) * a.scale  # [rows, r1]
                s = s.masked_fill(torch.ones(r1 - r0, r1, dtype=torch.bool, device=s.device).triu(r0 + 1),
                                  float("-inf"))
                p = torch.softmax(s, dim=-1, dtype=torch.float32).cpu().numpy()
                out = np.zeros((r1 - r0, self.T), np.float32)  # [rows, T]: keys past the row are 0
                out[:, :r1] = p
                self.w.put(name, (self.n, h, slice(r0, r1)), out)


def _logit_rows(positions, length, T):
    """Absolute rows of one sample for the positions asked (negative: from its end); None: all rows."""
    if positions is None:
        return list(range(length))
    rows = sorted({p + length if p < 0 else p for p in positions})
    return [p for p in rows if 0 <= p < length]


def token_texts(tokenizer, ids):
    """Readable text of each token: the decoded text it adds after the tokens before it (no byte-level markers)."""
    out = []
    for i in range(len(ids)):
        lo = max(0, i - 4)
        before = tokenizer.decode(ids[lo:i], clean_up_tokenization_spaces=False) if i > lo else ""
        whole = tokenizer.decode(ids[lo:i + 1], clean_up_tokenization_spaces=False)
        c = 0
        while c < min(len(before), len(whole)) and before[c] == whole[c]:
            c += 1
        out.append(whole[c:])
    return out


def _first_token(tokenizer, arch, rows):
    bos = getattr(tokenizer, "bos_token_id", None) if tokenizer is not None else None
    if bos is None and tokenizer is None:
        bos = getattr(arch.cfg, "bos_token_id", None)
    first = {r[0] for r in rows}
    fid = first.pop() if len(first) == 1 else -1
    attrs = dict(first_token_is_bos=int(bos is not None and all(r[0] == bos for r in rows)), first_token_id=fid)
    if tokenizer is not None and fid >= 0:
        attrs["first_token_text"] = tokenizer.decode([fid], clean_up_tokenization_spaces=False)
    return attrs


def _spans(spans, N, file):
    """A dict NAME: (start, end) for every sample, or one such dict per sample -> (names, int32 [N, S, 2])."""
    per = [spans] * N if isinstance(spans, dict) else list(spans)
    if len(per) != N:
        raise AttnlabError(file, f"{len(per)} span dicts for {N} samples", "spans")
    names = []
    for d in per:
        names += [k for k in d if k not in names]
    sp = np.full((N, len(names), 2), -1, np.int32)
    for n, d in enumerate(per):
        for name, se in d.items():
            sp[n, names.index(name)] = se
    return names, sp


def _versions():
    import torch
    try:
        import transformers
        tv = transformers.__version__
    except Exception:
        tv = "?"
    return f"attnlab.record (transformers {tv}, torch {torch.__version__})"


def _create(w, rec, arch, N, T, logits):
    """Every float dataset, up front (rows never written read as 0, logits rows not asked as NaN)."""
    nl = len(rec.layers)
    for j in range(nl + 1):
        if "hidden" in rec.what:
            w.create(layer_name("hidden", j), (N, T, arch.d_model))
        if j == nl:
            break
        for g, h in (("q", arch.H), ("k", arch.KV), ("v", arch.KV)):
            if g in rec.what:
                w.create(layer_name(g, j), (N, h, T, arch.D), rows_per_chunk=T)
    for i, l in enumerate(rec.maps):
        w.create(layer_name(rec.maps_group, i if rec.maps_group == "maps" else rec.layers.index(l)), (N, arch.H, T, T))
    if rec.maps_group == "maps" and rec.maps:
        w.f["maps"].attrs["layers"] = np.array([rec.layers.index(l) for l in rec.maps], np.int32)
    if "q" in rec.what and abs(arch.scale - arch.D ** -0.5) > 1e-12 * arch.D ** -0.5:
        w.f["q"].attrs["scale"] = arch.scale
    if logits:
        w.create("logits", (N, T, arch.V), rows_per_chunk=1, fill=np.float32("nan"))


def record(model, input_ids, path, what=DEFAULT_WHAT, layers=None, maps_for_layers=None, logits_positions=None,
           dtype="float16", attention_mask=None, tokenizer=None, spans=None, name=None):
    """Records `model` (a transformers causal LM, eval mode) on `input_ids` into the format-v1 file `path`.

    what: any of "q", "k", "v", "hidden", "logits", "attention" ("attention" = maps of every recorded layer).
    layers: model layers to record (default all); a subset is stored as L000.. in order, with root attribute
        recorded_layers. maps_for_layers: layers whose maps are computed from q and k (default none, or all with
        "attention"); all recorded layers -> /attention, fewer -> /maps (attribute layers) beside q and k.
    logits_positions: positions whose logits are stored (negative: from each sample's end; default all); rows
        not asked hold NaN. dtype: storage, "float16" (gzip), "bfloat16" or "float32".
    input_ids: [N, T] / [T] tensor or array, or a list of token-id lists (samples of different lengths);
        attention_mask: 0/1 [N, T] whose ones form one run per sample (left or right padding).
    tokenizer: for /token_text and the first token's text. spans: {name: (start, end)} or one dict per sample.
    Raises AttnlabError (text `attnlab: error: FILE[:DATASET]: reason`); nothing is written then.
    """
    import torch
    file = str(path)
    what = (what,) if isinstance(what, str) else tuple(what)
    for x in what:
        if x not in WHAT:
            raise AttnlabError(file, f"unknown item '{x}' (known: {', '.join(WHAT)})", "what")
    arch = Arch(model)
    rows = _samples(input_ids, attention_mask, arch.vocab, file)
    N, T = len(rows), max(len(r) for r in rows)
    layers = _layer_list(layers, arch.L, "layers", file, range(arch.L))
    if not layers:
        raise AttnlabError(file, "no layer to record", "layers")
    maps = _layer_list(maps_for_layers, arch.L, "maps_for_layers", file, layers if "attention" in what else ())
    if set(maps) - set(layers):
        raise AttnlabError(file, f"layer {sorted(set(maps) - set(layers))[0]} is not among the recorded layers",
                           "maps_for_layers")
    if not maps and not {"q", "k"} <= set(what):
        raise AttnlabError(file, "record q and k, or maps (maps_for_layers): format v1 needs one of them", "what")
    want_logits = "logits" in what
    pos = None if logits_positions is None else _ints(
        [logits_positions] if isinstance(logits_positions, int) else logits_positions, "logits_positions", file)
    if pos is not None and not want_logits:
        raise AttnlabError(file, "logits positions are given, but 'logits' is not in what", "logits_positions")
    arch.check_plain_softmax(T)
    if spans is not None:
        span_names, span_rows = _spans(spans, N, file)
    device = next(model.parameters()).device
    with Writer(path, dtype) as w:
        rec = Recording(arch, w, what, layers, maps, T)
        lengths = [len(r) for r in rows]
        pad = getattr(tokenizer, "pad_token_id", None) if tokenizer is not None else None
        tokens = np.full((N, T), pad if pad is not None else 0, np.int32)
        for n, r in enumerate(rows):
            tokens[n, :len(r)] = r
        w.attrs(attnlab_format="recording", format_version=1, model=name or arch.name, n_layers=len(layers),
                n_heads=arch.H, n_kv_heads=arch.KV, head_dim=arch.D, causal=1, source=_versions(),
                attn_implementation=arch.impl, **_first_token(tokenizer, arch, rows))
        if len(layers) < arch.L:
            w.attrs(recorded_layers=np.array(layers, np.int32), model_n_layers=arch.L)
        w.data("tokens", tokens)
        if min(lengths) < T:
            w.data("lengths", np.array(lengths, np.int32))
        if tokenizer is not None:
            w.strings("token_text", [token_texts(tokenizer, r) + [""] * (T - len(r)) for r in rows])
        if spans is not None:
            w.data("spans", span_rows)
            w.f["spans"].attrs["names"] = span_names
        _create(w, rec, arch, N, T, want_logits)
        if want_logits and pos is not None:
            w.f["logits"].attrs["positions"] = np.array(pos, np.int64)
        with Hooks(rec, arch) as hooks, torch.no_grad():
            for n, r in enumerate(rows):
                rec.n, rec.len = n, len(r)
                hooks.seen.clear()
                x = torch.tensor([r], dtype=torch.long, device=device)
                lrows = _logit_rows(pos, len(r), T) if want_logits else []
                _forward(model, x, lrows, rec, want_logits)
                _check_hooks(hooks, rec, arch)
    return file


def _forward(model, x, lrows, rec, want_logits):
    import torch
    if not want_logits:
        base = getattr(model, "base_model", None)
        (base if base is not None and base is not model else model)(input_ids=x, use_cache=False)
        return
    if not lrows:
        model(input_ids=x, use_cache=False, logits_to_keep=1)
        return
    keep = torch.tensor(lrows, dtype=torch.long, device=x.device)
    out = model(input_ids=x, use_cache=False, logits_to_keep=keep)
    lg = out.logits[0]  # [P, V]
    if lg.shape[0] != len(lrows):  # a model that ignores logits_to_keep returns every row
        lg = lg[keep]
    for i, t in enumerate(lrows):
        rec.w.put("logits", (rec.n, t), lg[i].float().cpu().numpy())


def _check_hooks(hooks, rec, arch):
    nl = len(rec.layers)
    if rec.need_qk:
        missed = [rec.layers[j] for j in range(nl) if hooks.seen.get(("qk", j)) != 1]
        if missed:
            raise AttnlabError(arch.name, f"layer {missed[0]} did not call apply_rotary_pos_emb exactly once: the "
                               "recorder cannot hook this model's q and k")
    if "hidden" in rec.what and any(hooks.seen.get(("hidden", j)) != 1 for j in range(nl + 1)):
        raise AttnlabError(arch.name, "the decoder layers were not each called once: hidden states cannot be "
                           "recorded for this model")
    if "v" in rec.what and any(hooks.seen.get(("v", j)) != 1 for j in range(nl)):
        raise AttnlabError(arch.name, "v_proj was not called once per layer: values cannot be recorded")


class _CallableModule(types.ModuleType):
    """`attnlab.record(...)` works whether attnlab.record names this module or the function."""

    def __call__(self, *args, **kwargs):
        return record(*args, **kwargs)


if __name__ == "__main__":
    from attnlab.record_cli import main
    sys.exit(main())
else:
    sys.modules[__name__].__class__ = _CallableModule
