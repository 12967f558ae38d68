"""`python -m attnlab.record`: records a Hugging Face transformers causal LM into format v1 (attnlab.record).

Loads the model with its default attention implementation (SDPA) unless --attn-implementation says otherwise, a
GGUF file through transformers' gguf_file= (needs gguf and accelerate), tokenizes --text/--chat/--text-file with
the model's tokenizer, optionally generates a greedy continuation, then records sample by sample. See docs/record.md.
Exit status: 0 success, 2 bad usage or input (one line `attnlab: error: ...` on stderr), 1 internal failure.
"""
import argparse
import json
import os
import sys

from ._v1 import AttnlabError

WHAT = ("attention", "q", "k", "v", "hidden", "logits")


def parse_ints(s, opt, lo=None, hi=None):
    try:
        vals = [int(x) for x in s.split(",")]
    except ValueError:
        raise AttnlabError(opt, f"'{s}' is not a comma-separated list of integers") from None
    bad = [v for v in vals if (lo is not None and v < lo) or (hi is not None and v > hi)]
    if bad:
        raise AttnlabError(opt, f"{bad[0]} is outside {lo}..{hi}")
    return vals


def parse_span(s):
    parts = s.split(":")
    try:
        name, a, b = parts[0], int(parts[1]), int(parts[2])
        if len(parts) != 3 or not name or a < 0 or b <= a:
            raise ValueError
    except (ValueError, IndexError):
        raise AttnlabError("--span", f"'{s}' is not NAME:START:END with 0 <= START < END") from None
    return name, a, b


def chat_samples(tok, path, generate):
    """Token ids and role spans of each chat in a JSON file (one chat, or a list of chats)."""
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError) as ex:
        raise AttnlabError(path, str(ex)) from None
    chats = [data] if data and isinstance(data[0], dict) else data
    out = []
    for c, msgs in enumerate(chats):
        if not isinstance(msgs, list) or not all(isinstance(m, dict) and "role" in m and "content" in m for m in msgs):
            raise AttnlabError(path, f"chat {c}: expected a list of {{\"role\", \"content\"}} messages")
        full = render(tok, msgs, len(msgs), generate > 0, path, c)
        spans, start, seen = {}, 0, {}
        for k, m in enumerate(msgs):
            part = render(tok, msgs, k + 1, False, path, c)
            end = len(part)
            if full[:end] != part:  # the template renders a prefix differently: keep the common prefix
                end = next((j for j, (a, b) in enumerate(zip(full, part)) if a != b), min(len(full), len(part)))
                print(f"attnlab: note: {path}: chat {c}: message {k} ends where its rendering stops being a prefix "
                      "of the whole chat", file=sys.stderr)
            role = "response" if m["role"] == "assistant" else str(m["role"])
            seen[role] = seen.get(role, 0) + 1
            name = role if seen[role] == 1 else f"{role}_{seen[role]}"
            if end > start:
                spans[name] = (start, end)
            start = max(start, end)
        out.append((full, spans))
    return out


def render(tok, msgs, k, gen, path, c):
    try:
        r = tok.apply_chat_template(msgs[:k], tokenize=True, add_generation_prompt=gen)
    except Exception as ex:
        raise AttnlabError(path, f"chat {c}: the chat template cannot render messages 0..{k - 1}: {ex}") from None
    if not isinstance(r, list):  # a BatchEncoding in newer versions
        r = r["input_ids"]
    if len(r) and isinstance(r[0], list):
        r = r[0]
    return [int(i) for i in r]


class Inputs(argparse.Action):
    """--ids, --text, --text-file and --chat into one list, in command-line order (the order of the samples)."""

    def __call__(self, parser, ns, value, option_string=None):
        ns.inputs = list(ns.inputs) + [(self.dest, value)]


def parser():
    ap = argparse.ArgumentParser(prog="python -m attnlab.record", description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="model folder or hub name (from_pretrained), or a .gguf file")
    ap.add_argument("-o", "--out", required=True, help="output recording (HDF5, format v1)")
    ap.add_argument("--ids", action=Inputs, help="token ids, comma-separated; one sample, repeatable")
    ap.add_argument("--text", action=Inputs, help="text, tokenized with special tokens; one sample, repeatable")
    ap.add_argument("--text-file", action=Inputs, help="a UTF-8 text file, tokenized like --text; repeatable")
    ap.add_argument("--chat", action=Inputs, help="JSON chat (or list of chats) rendered with the chat template")
    ap.add_argument("--max-tokens", type=int, default=0, help="keep the first N tokens of each input (0: all)")
    ap.add_argument("--generate", type=int, default=0,
                    help="greedy continuation of up to N tokens per input (ends early at end-of-sequence)")
    ap.add_argument("--what", default="q,k,hidden,logits",
                    help="tensors to store, any of attention,q,k,v,hidden,logits (default q,k,hidden,logits)")
    ap.add_argument("--layers", help="layers to record, comma-separated (default: all)")
    ap.add_argument("--maps-layers", help="layers whose attention maps are stored, computed from q and k")
    ap.add_argument("--logits-positions", help="positions whose logits are stored; negative counts from the end "
                    "(default: all)")
    ap.add_argument("--dtype", choices=("f16", "bf16", "f32", "float16", "bfloat16", "float32"), default="f16",
                    help="storage type (default f16, gzip-compressed)")
    ap.add_argument("--span", action="append", default=[], help="NAME:START:END, for every sample; repeatable")
    ap.add_argument("--device", default="cpu", help="where the model runs (default cpu)")
    ap.add_argument("--torch-dtype", choices=("float32", "bfloat16", "float16"), default="float32",
                    help="precision the model runs in (default float32)")
    ap.add_argument("--attn-implementation", help="sdpa (default), eager, flash_attention_2, ...: the model's own "
                    "attention keeps running while q and k are recorded")
    ap.add_argument("--gguf-file", help="GGUF file inside MODEL's folder (transformers' gguf_file=)")
    ap.add_argument("--model-name", help="model attribute (default: MODEL)")
    ap.set_defaults(inputs=[])
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    try:
        return run(a)
    except AttnlabError as ex:
        print(str(ex), file=sys.stderr)
        return 2


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


def load(a):
    """(config, tokenizer or None, kwargs for from_pretrained) of MODEL; a .gguf path loads through gguf_file=."""
    try:
        quiet_transformers()
        import torch  # noqa: F401
    except ImportError as ex:
        raise AttnlabError(a.model, f"recording needs torch and transformers, which {sys.executable} cannot import "
                           f"({ex}); `make torch-venv` builds a venv with them") from None
    from transformers import AutoConfig, AutoTokenizer
    src, kw = a.model, {}
    if a.gguf_file:
        kw["gguf_file"] = a.gguf_file
    elif a.model.endswith(".gguf"):
        if not os.path.isfile(a.model):
            raise AttnlabError(a.model, "No such file")
        src, kw["gguf_file"] = os.path.dirname(os.path.abspath(a.model)), os.path.basename(a.model)
    try:
        cfg = AutoConfig.from_pretrained(src, **kw)
    except Exception as ex:
        raise AttnlabError(a.model, f"cannot load the model configuration: {str(ex).splitlines()[0]}") from None
    try:
        tok = AutoTokenizer.from_pretrained(src, **kw)
    except Exception:
        tok = None
    return src, cfg, tok, kw


def samples_of(a, tok, vocab):
    if not a.inputs:
        raise AttnlabError("--ids", "no input: give --ids, --text, --text-file or --chat")
    if tok is None and any(k != "ids" for k, _ in a.inputs):
        raise AttnlabError(a.model, "--text, --text-file and --chat need the model's tokenizer, which cannot be "
                           "loaded")
    samples = []
    for kind, val in a.inputs:
        if kind == "ids":
            samples.append((parse_ids(val, vocab), {}))
        elif kind in ("text", "text_file"):
            if kind == "text_file":
                try:
                    with open(val, encoding="utf-8") as fh:
                        val = fh.read()
                except (OSError, UnicodeDecodeError) as ex:
                    raise AttnlabError(val, str(ex)) from None
            samples.append(([int(i) for i in tok(val, add_special_tokens=True)["input_ids"]], {}))
        else:
            samples += chat_samples(tok, val, a.generate)
    if a.max_tokens < 0:
        raise AttnlabError("--max-tokens", "must be >= 0")
    if a.max_tokens:
        samples = [(ids[:a.max_tokens], {k: (s, min(e, a.max_tokens)) for k, (s, e) in sp.items() if s < a.max_tokens})
                   for ids, sp in samples]
    return samples


def parse_ids(s, vocab):
    ids = parse_ints(s, "--ids")
    bad = [i for i in ids if not 0 <= i < vocab]
    if bad:
        raise AttnlabError("--ids", f"token id {bad[0]} is outside the vocabulary 0..{vocab - 1}")
    return ids


def generate(model, samples, n, device):
    import torch
    eos = getattr(model.generation_config, "eos_token_id", None)
    eos = eos if isinstance(eos, int) else (eos[0] if eos else 0)
    grown = []
    for ids, spans in samples:
        x = torch.tensor([ids], device=device)
        with torch.no_grad():
            y = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=n, do_sample=False,
                               pad_token_id=eos)
        full = y[0].tolist()
        spans = dict(spans)
        name = "response" if "response" not in spans else f"response_{sum(k.startswith('response') for k in spans) + 1}"
        spans[name] = (len(ids), len(full))
        grown.append((full, spans))
    return grown


def run(a):
    what = a.what.split(",")
    for w in what:
        if w not in WHAT:
            raise AttnlabError("--what", f"unknown item '{w}' (known: {','.join(WHAT)})")
    if a.generate < 0:
        raise AttnlabError("--generate", "must be >= 0")
    user_spans = [parse_span(s) for s in a.span]
    layers = parse_ints(a.layers, "--layers", 0) if a.layers else None
    maps = parse_ints(a.maps_layers, "--maps-layers", 0) if a.maps_layers else None
    pos = parse_ints(a.logits_positions, "--logits-positions") if a.logits_positions else None
    src, cfg, tok, kw = load(a)
    tc = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    samples = samples_of(a, tok, tc.vocab_size)  # inputs are checked before the weights are loaded
    limit = getattr(tc, "max_position_embeddings", None)
    longest = max(len(s[0]) for s in samples) + a.generate
    if limit and longest > limit:
        raise AttnlabError(a.model, f"a sample would have {longest} tokens, more than the model's "
                           f"max_position_embeddings {limit}")
    for name, s0, s1 in user_spans:
        if s1 > min(len(s[0]) for s in samples) + a.generate:
            raise AttnlabError("--span", f"{name}: ends at {s1}, beyond the shortest sample")
    import torch
    from transformers import AutoModelForCausalLM
    if a.attn_implementation:
        kw["attn_implementation"] = a.attn_implementation
    try:
        model = AutoModelForCausalLM.from_pretrained(src, dtype=getattr(torch, a.torch_dtype), **kw)
    except Exception as ex:
        raise AttnlabError(a.model, f"cannot load the model: {str(ex).splitlines()[0]}") from None
    model = model.to(a.device).eval()
    if a.generate:
        samples = generate(model, samples, a.generate, a.device)
    shortest = min(len(s[0]) for s in samples)
    for name, s0, s1 in user_spans:
        if s1 > shortest:
            raise AttnlabError("--span", f"{name}: ends at {s1}, beyond the shortest sample ({shortest} tokens)")
    spans = [dict(sp, **{n: (s0, s1) for n, s0, s1 in user_spans}) for _, sp in samples]
    from .record import record
    record(model, [ids for ids, _ in samples], a.out, what=what, layers=layers, maps_for_layers=maps,
           logits_positions=pos, dtype=a.dtype, tokenizer=tok, spans=spans if any(spans) else None,
           name=a.model_name or a.model)
    T = max(len(s[0]) for s in samples)
    print(f"attnlab: wrote {a.out} ({len(samples)} samples, {T} tokens, {a.dtype})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
