#!/usr/bin/env python3
"""Records a Hugging Face transformers causal LM into attnlab's format v1 (spec/RECORDING.md), layer by layer.

Maps come from eager attention, q and k after rotary embedding from a wrapper around the modeling module's
apply_rotary_pos_emb (Llama-family attention), v from v_proj, hidden states from hooks on the decoder layers
(before the final norm), and logits from the model's output. Each tensor is written to the HDF5 file as soon as
its layer has produced it, so memory holds one layer. See docs/record.md.

usage: record_hf.py MODEL -o OUT.h5 [--ids 1,2,3 | --text TEXT | --chat CHAT.json]... [--generate N]
                    [--what attention,q,k,v,hidden,logits] [--dtype f16|bf16|f32] [--span NAME:A:B]...
Exit status: 0 success, 2 bad usage or input (one line on stderr), 1 internal failure.
"""
import argparse, json, os, sys

WHAT = ("attention", "q", "k", "v", "hidden", "logits")


class BadInput(Exception):
    pass


def die(msg, code=2):
    print(f"record_hf: error: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_ids(s, vocab, where):
    try:
        ids = [int(x) for x in s.split(",")]
    except ValueError:
        raise BadInput(f"{where}: '{s}' is not a comma-separated list of token ids")
    bad = [i for i in ids if not 0 <= i < vocab]
    if not ids or bad:
        raise BadInput(f"{where}: token id {bad[0] if bad else '?'} is outside the vocabulary 0..{vocab - 1}")
    return ids


def parse_span(s):
    parts = s.split(":")
    try:
        name, a, b = parts[0], int(parts[1]), int(parts[2])
        if len(parts) != 3 or not name or a < 0 or b <= a:
            raise ValueError
    except (ValueError, IndexError):
        raise BadInput(f"--span: '{s}' is not NAME:START:END with 0 <= START < END")
    return name, a, b


# ---- storage ----

def to_bf16(x):
    import numpy as np
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


class Writer:
    """Pre-created datasets of shape [N, ...]; put() stores one sample's tensor, converted to the storage type."""

    def __init__(self, path, dtype):
        import h5py
        self.path, self.tmp, self.dtype = path, f"{path}.tmp-{os.getpid()}", dtype
        self.f = h5py.File(self.tmp, "w")

    def create(self, name, shape, rows_per_chunk=64):
        import numpy as np
        chunks = (1,) * (len(shape) - 2) + (min(shape[-2], rows_per_chunk), shape[-1])
        kw = dict(chunks=chunks)
        if self.dtype == "f16":
            kw.update(compression="gzip", compression_opts=1, shuffle=True)
        t = {"f16": np.float16, "bf16": np.uint16, "f32": np.float32}[self.dtype]
        d = self.f.create_dataset(name, shape=shape, dtype=t, **kw)
        if self.dtype == "bf16":
            d.attrs["dtype"] = "bfloat16"
        return d

    def put(self, name, index, x):
        import numpy as np
        x = np.asarray(x, dtype=np.float32)
        if not np.isfinite(x).all():
            raise BadInput(f"{name}: the model produced non-finite values (sample {index[0]})")
        if self.dtype == "f16":
            y = x.astype(np.float16)
            if not np.isfinite(y).all():
                raise BadInput(f"{name}: a value of magnitude {np.abs(x).max():.4g} overflows float16: use --dtype bf16 or f32")
        elif self.dtype == "bf16":
            y = to_bf16(x)
        else:
            y = x
        self.f[name][index] = y

    def finish(self):
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        try:
            self.f.close()
        except Exception:
            pass
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


# ---- model structure ----

def decoder_layers(model):
    for path in ("model.layers", "model.language_model.layers", "model.decoder.layers", "transformer.h", "gpt_neox.layers"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None:
            return list(obj)
    raise BadInput("cannot find the decoder layers (model.layers, transformer.h, ...) of this architecture")


def attention_of(layer):
    for name in ("self_attn", "attn", "attention"):
        if hasattr(layer, name):
            return getattr(layer, name)
    raise BadInput(f"cannot find the attention module of {type(layer).__name__}")


class Recorder:
    """Hooks that write one sample's tensors into the Writer as each layer produces them."""

    def __init__(self, model, layers, writer, what, H, KV, D):
        self.model, self.layers, self.w, self.what = model, layers, writer, what
        self.H, self.KV, self.D = H, KV, D
        self.n, self.T, self.cur = 0, 0, None
        self.handles, self.patched = [], []
        self.got_maps = set()
        self.got_qk = set()
        attns = [attention_of(l) for l in layers]
        for i, (layer, attn) in enumerate(zip(layers, attns)):
            self.handles.append(attn.register_forward_pre_hook(self._enter(i)))
            if "attention" in what:
                self.handles.append(attn.register_forward_hook(self._maps(i)))
            if "v" in what:
                vp = getattr(attn, "v_proj", None)
                if vp is None:
                    raise BadInput(f"{type(attn).__name__} has no v_proj: record without v (--what)")
                self.handles.append(vp.register_forward_hook(self._values(i)))
            if "hidden" in what:
                self.handles.append(layer.register_forward_pre_hook(self._layer_in(i), with_kwargs=True))
        if "hidden" in what:
            self.handles.append(layers[-1].register_forward_hook(self._layer_out(len(layers))))
        if "q" in what or "k" in what:
            mods = {sys.modules[type(a).__module__] for a in attns}
            for mod in mods:
                fn = getattr(mod, "apply_rotary_pos_emb", None)
                if fn is None:
                    raise BadInput(f"{mod.__name__} has no apply_rotary_pos_emb: post-rotary q and k cannot be hooked "
                                   "for this architecture (record without q,k)")
                setattr(mod, "apply_rotary_pos_emb", self._rotary(fn))
                self.patched.append((mod, fn))

    def close(self):
        for h in self.handles:
            h.remove()
        for mod, fn in self.patched:
            setattr(mod, "apply_rotary_pos_emb", fn)

    def _enter(self, i):
        def hook(module, args):
            self.cur = i
        return hook

    def _maps(self, i):
        def hook(module, args, out):
            a = out[1] if isinstance(out, tuple) and len(out) > 1 else None
            if a is not None and hasattr(a, "shape") and a.dim() == 4:
                self.w.put(f"attention/L{i:03d}", (self.n,), a[0, :, :self.T, :self.T].detach().float().cpu().numpy())
                self.got_maps.add(i)
        return hook

    def _values(self, i):
        def hook(module, args, out):
            v = out[0].detach().float().cpu().reshape(out.shape[1], self.KV, self.D).transpose(0, 1)
            self.w.put(f"v/L{i:03d}", (self.n,), v.numpy())
        return hook

    def _layer_in(self, i):
        def hook(module, args, kwargs):
            h = args[0] if args else kwargs.get("hidden_states")
            self.w.put(f"hidden/L{i:03d}", (self.n,), h[0].detach().float().cpu().numpy())
        return hook

    def _layer_out(self, i):
        def hook(module, args, out):
            h = out[0] if isinstance(out, tuple) else out
            self.w.put(f"hidden/L{i:03d}", (self.n,), h[0].detach().float().cpu().numpy())
        return hook

    def _rotary(self, fn):
        def wrapped(q, k, *args, **kwargs):
            qe, ke = fn(q, k, *args, **kwargs)
            i = self.cur
            if i is not None and i not in self.got_qk:
                if qe.shape[-1] != self.D or qe.shape[1] != self.H or ke.shape[1] != self.KV:
                    raise BadInput(f"rotary embedding covers {qe.shape[-1]} of {self.D} head dimensions, or the heads are "
                                   "not laid out [B, H, T, D]: q and k cannot be recorded for this architecture")
                if "q" in self.what:
                    self.w.put(f"q/L{i:03d}", (self.n,), qe[0].detach().float().cpu().numpy())
                if "k" in self.what:
                    self.w.put(f"k/L{i:03d}", (self.n,), ke[0].detach().float().cpu().numpy())
                self.got_qk.add(i)
            return qe, ke
        return wrapped


# ---- inputs ----

def chat_samples(tok, path, generate):
    """Token ids and role spans of each chat in a JSON file (one chat, or a list of chats)."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError) as ex:
        raise BadInput(f"{path}: {ex}")
    chats = [data] if data and isinstance(data[0], dict) else data
    out = []
    for c, msgs in enumerate(chats):
        if not isinstance(msgs, list) or not all(isinstance(m, dict) and "role" in m and "content" in m for m in msgs):
            raise BadInput(f"{path}: chat {c}: expected a list of {{\"role\", \"content\"}} messages")

        def render(k, gen=False):
            try:
                r = tok.apply_chat_template(msgs[:k], tokenize=True, add_generation_prompt=gen)
            except Exception as ex:
                raise BadInput(f"{path}: chat {c}: the chat template cannot render messages 0..{k - 1}: {ex}")
            if not isinstance(r, list):  # a BatchEncoding in newer versions
                r = r["input_ids"]
            if len(r) and isinstance(r[0], list):
                r = r[0]
            return [int(i) for i in r]

        full = render(len(msgs), gen=generate > 0)
        spans, start, seen = {}, 0, {}
        for k, m in enumerate(msgs):
            part = render(k + 1)
            end = len(part)
            if full[:end] != part:  # the template renders a prefix differently: keep the common prefix
                end = next((j for j, (a, b) in enumerate(zip(full, part)) if a != b), min(len(full), len(part)))
                print(f"record_hf: note: {path}: chat {c}: message {k} ends where its rendering stops being a prefix "
                      "of the whole chat", file=sys.stderr)
            role = "response" if m["role"] == "assistant" else str(m["role"])
            seen[role] = seen.get(role, 0) + 1
            name = role if seen[role] == 1 else f"{role}_{seen[role]}"
            if end > start:
                spans[name] = (start, end)
            start = max(start, end)
        out.append((full, spans))
    return out


class Inputs(argparse.Action):
    """--ids, --text and --chat into one list, in command-line order (the order of the samples)."""

    def __call__(self, parser, ns, value, option_string=None):
        ns.inputs = list(ns.inputs) + [(self.dest, value)]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="record_hf.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model folder or hub name (loaded with from_pretrained)")
    ap.add_argument("-o", "--out", required=True, help="output recording (HDF5)")
    ap.add_argument("--ids", action=Inputs, help="token ids, comma-separated; one sample, repeatable")
    ap.add_argument("--text", action=Inputs, help="text, tokenized with special tokens; one sample, repeatable")
    ap.add_argument("--chat", action=Inputs, help="JSON chat (or list of chats) rendered with the chat template")
    ap.add_argument("--generate", type=int, default=0,
                    help="greedy continuation of up to N tokens per input (ends early at end-of-sequence)")
    ap.add_argument("--what", default=",".join(WHAT), help="tensors to store (default: all)")
    ap.add_argument("--dtype", choices=("f16", "bf16", "f32"), default="f16", help="storage type (default f16)")
    ap.add_argument("--span", action="append", default=[], help="NAME:START:END, for every sample; repeatable")
    ap.add_argument("--device", default="cpu", help="where the model runs (default cpu)")
    ap.add_argument("--torch-dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                    help="precision the model runs in (default float32)")
    ap.add_argument("--model-name", help="model attribute (default: MODEL)")
    ap.set_defaults(inputs=[])
    a = ap.parse_args(argv)
    try:
        return record(a)
    except BadInput as ex:
        die(str(ex))


def quiet_transformers():
    """Library chatter (progress bars, deprecation notes) off: an error is one line on stderr."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import warnings
    warnings.filterwarnings("ignore")
    import transformers
    transformers.logging.set_verbosity_error()
    try:
        transformers.utils.logging.disable_progress_bar()
    except AttributeError:
        pass
    return transformers


def token_texts(tok, tokens, lengths):
    """Each token as the text it decodes to ('Ġold' of byte-level BPE is ' old'), "" on padding. A token that ends
    inside a UTF-8 character decodes to U+FFFD alone; the token completing the character carries it."""
    out = []
    for row, n in zip(tokens.tolist(), lengths):
        texts, pend = [], []
        for t in row[:n]:
            pend.append(t)
            s = tok.decode(pend, skip_special_tokens=False, clean_up_tokenization_spaces=False)
            if s.endswith("\ufffd") and len(pend) < 4 and len(texts) + 1 < n:
                texts.append("")  # an incomplete UTF-8 sequence: its text comes with the token that completes it
                continue
            texts.append(s)
            pend = []
        out.append(texts + [""] * (len(row) - n))
    return out


def first_token(tok, tc, firsts):
    """What position 0 holds, recorded rather than guessed: its id and text when every sample starts with the same
    token (else id -1), and whether it is a BOS: the tokenizer's or the config's BOS id, or any special token of the
    tokenizer (SmolLM2's documents start with <|endoftext|> while its config names <|im_start|> as BOS)."""
    same = all(t == firsts[0] for t in firsts)
    bos_ids = {getattr(tc, "bos_token_id", None)}
    if tok is not None:
        bos_ids |= {tok.bos_token_id} | set(getattr(tok, "all_special_ids", []) or [])
    bos_ids.discard(None)
    text = ""
    if same and tok is not None:
        text = tok.decode([firsts[0]], skip_special_tokens=False, clean_up_tokenization_spaces=False)
    return dict(id=int(firsts[0]) if same else -1, text=text if same else "(differs by sample)",
                is_bos=int(same and firsts[0] in bos_ids))


def record(a):
    what = [w for w in a.what.split(",")]
    for w in what:
        if w not in WHAT:
            raise BadInput(f"--what: unknown item '{w}' (known: {','.join(WHAT)})")
    if a.generate < 0:
        raise BadInput("--generate must be >= 0")
    if not a.inputs:
        raise BadInput("no input: give --ids, --text or --chat")
    user_spans = [parse_span(s) for s in a.span]
    import numpy as np
    transformers = quiet_transformers()
    from transformers import AutoConfig

    try:
        cfg = AutoConfig.from_pretrained(a.model)
    except Exception as ex:
        raise BadInput(f"{a.model}: cannot load the model configuration: {ex}")
    tc = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    tok = None
    try:  # also used for /token_text when present
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(a.model)
    except Exception:
        if any(k != "ids" for k, _ in a.inputs):
            raise BadInput(f"{a.model}: --text and --chat need the model's tokenizer, which cannot be loaded")
    # inputs are checked before the weights are loaded
    samples = []
    for kind, val in a.inputs:
        if kind == "ids":
            samples.append((parse_ids(val, tc.vocab_size, "--ids"), {}))
        elif kind == "text":
            samples.append(([int(i) for i in tok(val, add_special_tokens=True)["input_ids"]], {}))
        else:
            samples += chat_samples(tok, val, a.generate)
    limit = getattr(tc, "max_position_embeddings", None)
    longest = max(len(s[0]) for s in samples) + a.generate
    if limit and longest > limit:
        raise BadInput(f"a sample would have {longest} tokens, more than the model's max_position_embeddings {limit}")
    for name, s0, s1 in user_spans:
        if s1 > min(len(s[0]) for s in samples) + a.generate:
            raise BadInput(f"--span {name}: ends at {s1}, beyond the shortest sample")

    import torch
    from transformers import AutoModelForCausalLM
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dkw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    model = AutoModelForCausalLM.from_pretrained(a.model, attn_implementation="eager",
                                                 **{dkw: getattr(torch, a.torch_dtype)}).to(a.device).eval()
    V = model.get_output_embeddings().weight.shape[0]
    H = tc.num_attention_heads
    KV = getattr(tc, "num_key_value_heads", None) or H
    D = getattr(tc, "head_dim", None) or tc.hidden_size // H
    layers = decoder_layers(model)
    L = len(layers)
    if a.generate:
        eos = getattr(model.generation_config, "eos_token_id", None)
        eos = eos if isinstance(eos, int) else (eos[0] if eos else 0)
        grown = []
        for ids, spans in samples:
            x = torch.tensor([ids], device=a.device)
            with torch.no_grad():
                y = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=a.generate, do_sample=False,
                                   pad_token_id=eos)
            full = y[0].tolist()
            spans = dict(spans)
            name = "response" if "response" not in spans else f"response_{sum(k.startswith('response') for k in spans) + 1}"
            spans[name] = (len(ids), len(full))
            grown.append((full, spans))
        samples = grown
    N = len(samples)
    lengths = [len(s[0]) for s in samples]
    T = max(lengths)
    for name, s0, s1 in user_spans:
        if s1 > min(lengths):
            raise BadInput(f"--span {name}: ends at {s1}, beyond the shortest sample ({min(lengths)} tokens)")
    names = []
    for _, sp in samples:
        names += [k for k in sp if k not in names]
    names += [n for n, _, _ in user_spans if n not in names]
    pad = (tok.pad_token_id if tok is not None and tok.pad_token_id is not None else 0)
    tokens = np.full((N, T), pad, np.int32)
    for n, (ids, _) in enumerate(samples):
        tokens[n, :len(ids)] = ids
    first = first_token(tok, tc, tokens[:, 0].tolist())

    w = Writer(a.out, a.dtype)
    rec = None
    try:
        f = w.f
        f.attrs.update(dict(attnlab_format="recording", format_version=1, model=a.model_name or a.model,
                            n_layers=L, n_heads=H, n_kv_heads=KV, head_dim=D, causal=1,
                            first_token_is_bos=first["is_bos"], first_token_id=first["id"],
                            first_token_text=first["text"],
                            source=f"attnlab tools/record_hf.py (transformers {transformers.__version__}, "
                                   f"torch {torch.__version__})"))
        f.create_dataset("tokens", data=tokens)
        if min(lengths) < T:
            f.create_dataset("lengths", data=np.array(lengths, np.int32))
        if tok is not None:
            import h5py
            sdt = h5py.string_dtype("utf-8")
            text = np.array(token_texts(tok, tokens, lengths), dtype=sdt)
            f.create_dataset("token_text", data=text, dtype=sdt)
        if names:
            sp = np.full((N, len(names), 2), -1, np.int32)
            for n, (_, spans) in enumerate(samples):
                for j, nm in enumerate(names):
                    if nm in spans:
                        sp[n, j] = spans[nm]
                for nm, s0, s1 in user_spans:
                    sp[n, names.index(nm)] = (s0, s1)
            f.create_dataset("spans", data=sp)
            f["spans"].attrs["names"] = names
        scale = None
        att0 = attention_of(layers[0])
        if getattr(att0, "scaling", None) is not None and abs(att0.scaling - D ** -0.5) > 1e-12 * D ** -0.5:
            scale = float(att0.scaling)
        for l in range(L + 1):
            if "hidden" in what:
                w.create(f"hidden/L{l:03d}", (N, T, tc.hidden_size))
            if l == L:
                break
            if "attention" in what:
                w.create(f"attention/L{l:03d}", (N, H, T, T))
            for g, h in (("q", H), ("k", KV), ("v", KV)):
                if g in what:
                    d = w.create(f"{g}/L{l:03d}", (N, h, T, D), rows_per_chunk=T)
                    if g == "q" and scale is not None:
                        d.attrs["scale"] = scale
        if "logits" in what:
            w.create("logits", (N, T, V), rows_per_chunk=max(1, 262144 // V))
        rec = Recorder(model, layers, w, what, H, KV, D)
        for n in range(N):
            rec.n, rec.T = n, T
            rec.got_maps.clear(), rec.got_qk.clear()
            x = torch.tensor(tokens[n:n + 1].astype(np.int64), device=a.device)
            with torch.no_grad():
                out = model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False)
                if "attention" in what and len(rec.got_maps) < L:
                    # older transformers return eager maps only when asked: run again (holding all layers' maps)
                    out = model(input_ids=x, attention_mask=torch.ones_like(x), use_cache=False, output_attentions=True)
            if "attention" in what and len(rec.got_maps) < L:
                raise BadInput("the attention modules did not return their maps (is eager attention supported?)")
            if ("q" in what or "k" in what) and len(rec.got_qk) < L:
                raise BadInput("apply_rotary_pos_emb was not called by every layer: q and k cannot be recorded")
            if "logits" in what:
                w.put("logits", (n,), out.logits[0].float().cpu().numpy())
            del out
        rec.close()
        rec = None
        w.finish()
    except BaseException:
        if rec is not None:
            rec.close()
        w.abort()
        raise
    print(f"record_hf: wrote {a.out} ({N} samples, {T} tokens, {L} layers, {a.dtype})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
