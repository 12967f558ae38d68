"""`python -m attnlab.record` (and its wrapper tools/record_hf.py) on a small randomly initialised Llama with
grouped-query attention and a word-level tokenizer with a chat template, both made here (no download). The model
runs with SDPA while recording; the maps (computed from the captured q and k), q, k, v, hidden states and logits
agree with the same model's eager outputs, `attnlab sinks` on the maps agrees with numpy softmax(q k^T) from the
recorded q and k; chat spans, generation, dtypes, bad input (exit 2, one `attnlab: error:` line, no file).
Runs under the cached torch venv (tests/python/torchenv.py), or skips saying why."""
import json, os, subprocess, sys

import torchenv

torchenv.require_torch()
import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers
import numpy as np
import h5py
from alcli import *

TOOL = ["-m", "attnlab.record"]
d = tmpdir()
L, H, KV, D, V = 3, 4, 2, 12, 61

# ---- a model and a tokenizer, made locally ----
cfg = transformers.LlamaConfig(vocab_size=V, hidden_size=H * D, intermediate_size=80, num_hidden_layers=L,
                               num_attention_heads=H, num_key_value_heads=KV, max_position_embeddings=64,
                               rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                               pad_token_id=3)
torch.manual_seed(0)
model = transformers.LlamaForCausalLM(cfg)
with torch.no_grad():  # random init gives flat maps: larger q/k projections give them structure
    for layer in model.model.layers:
        layer.self_attn.q_proj.weight.mul_(6)
        layer.self_attn.k_proj.weight.mul_(6)
mdir = f"{d}/model"
model.save_pretrained(mdir)
words = ["<unk>", "<s>", "</s>", "<pad>", "[system]", "[user]", "[assistant]", "[end]"] + [f"w{i}" for i in range(V - 8)]
tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
ft = transformers.PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                          pad_token="<pad>")
ft.chat_template = ("{{ bos_token }} {% for m in messages %}[{{ m['role'] }}] {{ m['content'] }} [end] {% endfor %}"
                    "{% if add_generation_prompt %}[assistant] {% endif %}")
ft.save_pretrained(mdir)
model = transformers.AutoModelForCausalLM.from_pretrained(mdir, attn_implementation="eager").eval()


def tool(*args):
    env = dict(os.environ, PYTHONPATH=os.path.join(torchenv.SRC, "python"))
    p = subprocess.run([sys.executable, *TOOL, mdir, *map(str, args)], capture_output=True, text=True, timeout=600,
                       env=env)
    return p.returncode, p.stdout, p.stderr


def rec(path, *args):
    rc, out, err = tool("-o", path, *args)
    check(rc == 0 and os.path.isfile(path), f"record_hf {args}: exit {rc}: {err.strip()[-400:]}")
    return h5py.File(path, "r")


def maps_from_qk(q, k, scale):
    """numpy softmax(q k^T * scale) under the causal mask; query head h reads KV head h // (H / KV)."""
    N, Hq, T, _ = q.shape
    kk = np.repeat(k.astype(np.float64), Hq // k.shape[1], axis=1)
    s = np.einsum("nhid,nhjd->nhij", q.astype(np.float64), kk) * scale
    s = np.where(np.tri(T, dtype=bool), s, -np.inf)
    s -= s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def sinks_alpha(path, T):
    out = js("sinks", path, "--tokens", T, "--positions", T)
    a = np.zeros((L, H, T))
    for x in out["heads"]:
        a[x["layer"], x["head"]] = x["alpha"]
    return a


ids = [[1, 5, 9, 12, 30, 7, 44, 2, 19, 23, 8, 50, 13, 27, 33, 41, 11, 60, 9, 9],
       [1, 8, 8, 9, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55]]
T = 20
args = [x for s in ids for x in ("--ids", ",".join(map(str, s)))]

# 1. float32: every tensor against the model's own outputs
f = rec(f"{d}/r32.h5", *args, "--dtype", "f32", "--what", "attention,q,k,v,hidden,logits")
rc, out, err = run("info", f"{d}/r32.h5", "--format", "json")
check(rc == 0, f"attnlab info: {err.strip()}")
check(f.attrs["n_kv_heads"] == KV and f.attrs["head_dim"] == D and f.attrs["first_token_is_bos"] == 1, "attributes")
check(f["tokens"][()].tolist() == ids and "lengths" not in f, "tokens")
for n in range(2):
    x = torch.tensor([ids[n]])
    with torch.no_grad():
        o = model(x, output_attentions=True, output_hidden_states=True)
    for l in range(L):
        check(close(f[f"attention/L{l:03d}"][n], o.attentions[l][0].numpy(), 0, 1e-5), f"sample {n} maps layer {l}")
        check(close(f[f"hidden/L{l:03d}"][n], o.hidden_states[l][0].numpy(), 0, 1e-5), f"sample {n} hidden {l}")
        att = model.model.layers[l].self_attn
        with torch.no_grad():
            hin = torch.tensor(f[f"hidden/L{l:03d}"][n])
            v = att.v_proj(model.model.layers[l].input_layernorm(hin)).reshape(T, KV, D).transpose(0, 1)
        check(close(f[f"v/L{l:03d}"][n], v.numpy(), 0, 1e-5), f"sample {n} v layer {l}")
    with torch.no_grad():
        lg = model.lm_head(model.model.norm(torch.tensor(f[f"hidden/L{L:03d}"][n])))
    check(close(lg.numpy(), o.logits[0].numpy(), 0, 1e-4), f"sample {n}: hidden/L{L:03d} is not before the final norm")
    check(close(f["logits"][n], o.logits[0].numpy(), 0, 1e-5), f"sample {n} logits")
q, k = f["q/L000"][()], f["k/L000"][()]
check(q.shape == (2, H, T, D) and k.shape == (2, KV, T, D), f"q/k shapes {q.shape} {k.shape}")
qk_maps = np.stack([maps_from_qk(f[f"q/L{l:03d}"][()], f[f"k/L{l:03d}"][()], D ** -0.5) for l in range(L)], 1)
check(close(qk_maps, np.stack([f[f"attention/L{l:03d}"][()] for l in range(L)], 1), 0, 1e-5),
      "softmax(q k^T) of the recorded q, k is not the recorded maps")
a_file = sinks_alpha(f"{d}/r32.h5", T)
check(close(a_file, alpha(qk_maps).mean(0), 1e-5, 1e-7), "attnlab sinks on the maps vs numpy alpha from q, k")
f.close()
qkonly = rec(f"{d}/qk.h5", *args, "--dtype", "f32", "--what", "q,k")
check(sorted(qkonly) == ["k", "q", "token_text", "tokens"],
      f"--what q,k wrote {sorted(qkonly)}")
qkonly.close()
check(close(sinks_alpha(f"{d}/qk.h5", T), a_file, 1e-5, 1e-7), "attnlab sinks from q/k alone differs from the maps")

# 2. float16 (default, gzip) and bfloat16: smaller files, the same statistics within their rounding
for dt in ("f16", "bf16"):
    f = rec(f"{d}/r_{dt}.h5", *args, "--what", "attention,q,k", *(["--dtype", dt] if dt != "f16" else []))
    a = f["attention/L001"]
    if dt == "f16":
        check(a.dtype == np.float16 and a.compression == "gzip", "f16 storage")
        qs, ks = f["q/L001"][()].astype(np.float32), f["k/L001"][()].astype(np.float32)
    else:
        check(a.dtype == np.uint16 and a.attrs["dtype"] == "bfloat16", "bf16 storage")
        up = lambda u: (u.astype(np.uint32) << 16).view(np.float32)
        qs, ks = up(f["q/L001"][()]), up(f["k/L001"][()])
    f.close()
    tol = 3e-3 if dt == "f16" else 3e-2
    check(close(sinks_alpha(f"{d}/r_{dt}.h5", T)[1], alpha(maps_from_qk(qs, ks, D ** -0.5)).mean(0), 0, tol),
          f"{dt}: sinks on the maps vs numpy from the stored q, k")

# 3. a chat rendered with the template: spans per message; generation adds the response span
chat = [{"role": "system", "content": "w1 w2 w3"}, {"role": "user", "content": "w4 w5"},
        {"role": "assistant", "content": "w6 w7 w8 w9"}]
json.dump(chat, open(f"{d}/chat.json", "w"))
json.dump([chat[:2], chat[:2]], open(f"{d}/chat2.json", "w"))
with rec(f"{d}/chat.h5", "--chat", f"{d}/chat.json") as f:
    names = [s.decode() if isinstance(s, bytes) else s for s in f["spans"].attrs["names"]]
    sp = f["spans"][0].tolist()
    toks = f["tokens"][0].tolist()
    check(names == ["system", "user", "response"], f"span names {names}")
    check(sp == [[0, 6], [6, 10], [10, 16]] and len(toks) == 16, f"spans {sp} of {len(toks)} tokens")
    txt = [s.decode() if isinstance(s, bytes) else s for s in f["token_text"][0]]
    check(txt[:3] == ["<s>", " [system]", " w1"], f"token_text {txt[:3]}")


def greedy(seq, n):
    """model.generate's greedy rule: n tokens, or fewer when the end-of-sequence token (2) comes."""
    seq = list(seq)
    for _ in range(n):
        with torch.no_grad():
            seq.append(int(model(torch.tensor([seq])).logits[0, -1].argmax()))
        if seq[-1] == 2:
            break
    return seq


with rec(f"{d}/gen.h5", "--chat", f"{d}/chat2.json", "--generate", 6, "--ids", "1,9,9,9") as f:
    names = [s.decode() if isinstance(s, bytes) else s for s in f["spans"].attrs["names"]]
    check(names == ["system", "user", "response"], f"generation span names {names}")
    toks, sp = f["tokens"][()], f["spans"][()].tolist()
    lens = f["lengths"][()].tolist() if "lengths" in f else [toks.shape[1]] * 3
    g0 = greedy(toks[0, :11].tolist(), 6)
    g2 = greedy([1, 9, 9, 9], 6)
    check(toks[0, :lens[0]].tolist() == g0 and toks[2, :lens[2]].tolist() == g2, "--generate is not greedy")
    check(lens == [len(g0), len(g0), len(g2)] and (toks[2, lens[2]:] == 3).all(), f"lengths {lens}, padding {toks[2].tolist()}")
    txt = [s.decode() if isinstance(s, bytes) else s for s in f["token_text"][2]]
    check(txt[lens[2]:] == [""] * (toks.shape[1] - lens[2]), f"padding has empty token_text: {txt}")
    check(f.attrs["first_token_id"] == 1 and f.attrs["first_token_text"] == "<s>" and f.attrs["first_token_is_bos"] == 1,
          f"first token recorded: {dict(f.attrs)}")
    check(sp[0] == [[0, 6], [6, 10], [11, len(g0)]] and sp[2] == [[-1, -1], [-1, -1], [4, len(g2)]], f"generation spans {sp}")
with rec(f"{d}/text.h5", "--text", "w3 w4 w5", "--what", "q,k,logits,hidden") as f:
    check(f["tokens"][0].tolist() == [11, 12, 13] and sorted(f) == ["hidden", "k", "logits", "q", "token_text", "tokens"],
          "--text tokens or --what")

# 3b. readable tokens and the first token, with a byte-level BPE tokenizer (GPT-2 style 'Ġold'), made here
sys.path.insert(0, os.path.join(torchenv.SRC, "python"))
from attnlab import record as rh
from tokenizers import ByteLevelBPETokenizer
bl = ByteLevelBPETokenizer()
bl.train_from_iterator(["the old lighthouse keeper", "an old map", "caf\u00e9 \u2013 \u00df"] * 20, vocab_size=300,
                       special_tokens=["<|endoftext|>", "<|im_start|>"])
bt = transformers.PreTrainedTokenizerFast(tokenizer_object=bl._tokenizer, eos_token="<|endoftext|>")
eot = bt.convert_tokens_to_ids("<|endoftext|>")
ids = [eot] + bt("the old lighthouse keeper", add_special_tokens=False)["input_ids"]
texts = rh.token_texts(bt, ids)
check("".join(texts) == "<|endoftext|>the old lighthouse keeper" and not any("\u0120" in t for t in texts),
      f"token_text decoded per token: {texts}")
first = rh._first_token(bt, None, [ids, ids])
check(first["first_token_id"] == eot and first["first_token_text"] == "<|endoftext|>",
      f"first token of SmolLM2-like documents: {first}")
check(rh._first_token(bt, None, [ids, ids[1:]])["first_token_id"] == -1, "first tokens that differ: id -1")

# 4. bad input: exit 2, one line, no file left behind
for extra, needle in ((["--ids", "1,61"], "outside the vocabulary"), (["--ids", "1,x"], "not a comma-separated"),
                      (["--what", "maps"], "unknown item"), ([], "no input"),
                      (["--ids", "1,2", "--span", "a:1:9"], "beyond the shortest"),
                      (["--ids", ",".join(["5"] * 65)], "max_position_embeddings"),
                      (["--chat", f"{d}/missing.json"], "missing.json")):
    rc, out, err = tool("-o", f"{d}/bad.h5", *extra)
    check(rc == 2 and len(err.strip().splitlines()) == 1 and err.startswith("attnlab: error: ") and needle in err,
          f"bad input {extra}: exit {rc}, {err.strip()[-300:]}")
    check(not any(x.startswith("bad.h5") for x in os.listdir(d)), f"bad input {extra}: output left behind")

# 5. tools/record_hf.py is a thin wrapper of the same command line
p = subprocess.run([sys.executable, os.path.join(torchenv.SRC, "tools", "record_hf.py"), mdir, "-o", f"{d}/wrap.h5", *args,
                    "--what", "q,k", "--dtype", "f32"], capture_output=True, text=True, timeout=600)
check(p.returncode == 0, f"tools/record_hf.py: exit {p.returncode}: {p.stderr.strip()[-300:]}")
if p.returncode == 0:
    with h5py.File(f"{d}/wrap.h5") as a, h5py.File(f"{d}/qk.h5") as b:
        check(np.array_equal(a["q/L002"][()], b["q/L002"][()]), "tools/record_hf.py records what attnlab.record does")

finish("test_record_cli")
