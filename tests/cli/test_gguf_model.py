"""`attnlab record` on a real GGUF model (SmolLM2-135M-Instruct Q4_1, fetched on demand): maps, q, k and logits
against a float64 numpy forward pass written from the GGUF conventions with the `gguf` package's
dequantisation (tests/cli/gguf_numpy_ref.py); provenance attributes, token text, spans of a chat, stop at end
of turn; unsupported architecture and bad inputs exit 2."""
import json, os, sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from alcli import bad, check, finish, run, tmpdir  # noqa: E402
import ggufkit as gk  # noqa: E402

gguf = gk.gguf_package()
import gguf_numpy_ref as ref  # noqa: E402

M = gk.smollm2()
d = tmpdir()
text = "The lighthouse keeper counted 17 ships before dawn; none of them stopped."

# 1. parity with the numpy forward: maps, q, k (split-half order), logits to 1e-4
out = os.path.join(d, "r.h5")
rc, _, err = run("record", M, "--text", text, "-o", out, "-q", timeout=900)
check(rc == 0, f"record --text: {err.strip()}")
f = h5py.File(out)
ids = f["tokens"][0]
cfg, W = ref.load(M)
maps, q, k, logits = ref.forward(cfg, W, ids)
L = cfg["L"]
got_maps = np.array([f[f"attention/L{l:03d}"][0] for l in range(L)])
got_q = np.array([f[f"q/L{l:03d}"][0] for l in range(L)])
got_k = np.array([f[f"k/L{l:03d}"][0] for l in range(L)])
for name, a, b in [("maps", got_maps, maps), ("q", got_q, q), ("k", got_k, k), ("logits", f["logits"][0], logits)]:
    diff = np.abs(a - b).max()
    print(f"{name}: max |attnlab - numpy float64| = {diff:.3g} (scale {np.abs(b).max():.3g})")
    check(diff < 1e-4 * max(1.0, np.abs(b).max() / 10), f"{name} agree with the numpy forward: max diff {diff:.3g}")
check(f.attrs["architecture"] == "llama" and f.attrs["quantization"].startswith("Q4_1"), f"provenance attributes {dict(f.attrs)}")
check(f.attrs["model_name"] == "Smollm2 135M 8k Lc100K Mix1 Ep2" and f.attrs["first_token_is_bos"] == 0, "model_name, no BOS added")
check("".join(t.decode() for t in f["token_text"][0]) == text, "token_text decodes back to the text")
f.close()

# 2. a chat: spans per role (the template's default system message first), generation stops at <|im_end|>
chat = os.path.join(d, "chat.json")
json.dump([{"role": "user", "content": "Name one planet."}], open(chat, "w"))
out2 = os.path.join(d, "chat.h5")
rc, _, err = run("record", M, "--chat", chat, "--generate", 8, "--what", "q,k", "-o", out2, "-q", timeout=900)
check(rc == 0, f"record --chat: {err.strip()}")
with h5py.File(out2) as g:
    names = [n.decode() if isinstance(n, bytes) else n for n in g["spans"].attrs["names"]]
    sp = g["spans"][0]
    toks = g["tokens"][0]
    n = int(g["lengths"][0]) if "lengths" in g else len(toks)
    txt = "".join(t.decode() for t in g["token_text"][0][:n])
    check(names == ["system", "user", "response"], f"span names {names}")
    check(txt.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM") and "<|im_start|>user\nName one planet.<|im_end|>\n" in txt,
          f"chat rendered as the template does: {txt[:160]!r}")
    check(sp[0][0] == 0 and sp[0][1] == sp[1][0] and sp[2][1] == n, f"spans tile the sample: {sp.tolist()} (length {n})")
    check(toks[n - 1] == 2 or n == sp[2][0] + 8, f"generation ends at <|im_end|> (token 2) or after 8 tokens: last {toks[n - 1]}")
    check(2 not in toks[sp[2][0]:n - 1], "nothing is generated after <|im_end|>")

# 3. errors
bad(["record", M, "--drift", chat, "--prefix", "1", "-o", os.path.join(d, "x.h5")], "drift on GGUF", "llama2.c")
bad(["record", M, "--ids", "1,99999999", "-o", os.path.join(d, "x.h5")], "id outside the vocabulary", outdir=None)
blob = open(M, "rb").read(1 << 16)
arch = gk.build([gk.kv_str("general.architecture", "gptneox")], [("token_embd.weight", [32, 2], 0, bytes(256))])
ap = os.path.join(d, "neox.gguf")
open(ap, "wb").write(arch)
bad(["record", ap, "--ids", "1", "-o", os.path.join(d, "x.h5")], "unsupported architecture", "general.architecture")
tp = os.path.join(d, "trunc.gguf")
open(tp, "wb").write(blob)
bad(["record", tp, "--ids", "1", "-o", os.path.join(d, "x.h5")], "truncated model", "truncated")
check(not [x for x in os.listdir(d) if x.startswith("x.h5")], "no partial output left behind")
finish("test_gguf_model")
