"""attnlab.convert.from_transformer_lens on a real TransformerLens 4 ActivationCache: a tiny random Llama with
grouped-query attention (made here, no download) wrapped by TransformerBridge, run_with_cache. The converted q/k
give the cache's own hook_pattern maps (attnlab sinks --from-qk vs sinks on the converted maps, 1e-5), the
residual stream and logits are the cache's, a cache without its batch dimension converts too.
Runs under the cached torch venv (tests/python/torchenv.py), or skips saying why."""
import os

import torchenv

torchenv.require_torch()
import h5py
import numpy as np
import torch
import transformers
from alcli import check, close, finish, js, tmpdir
from tokenizers import Tokenizer, models, pre_tokenizers

from attnlab import AttnlabError, convert

try:
    from transformer_lens import TransformerBridge
except ImportError as ex:
    print(f"SKIP: transformer-lens 4 is not importable ({ex}): `make torch-venv` installs it")
    raise SystemExit(77)

d = tmpdir()
L, H, KV, D, V, T = 2, 4, 2, 12, 61, 16
cfg = transformers.LlamaConfig(vocab_size=V, hidden_size=H * D, intermediate_size=80, num_hidden_layers=L,
                               num_attention_heads=H, num_key_value_heads=KV, max_position_embeddings=64,
                               bos_token_id=1, eos_token_id=2, pad_token_id=3)
torch.manual_seed(0)
hf = transformers.LlamaForCausalLM(cfg).eval()
with torch.no_grad():
    for layer in hf.model.layers:
        layer.self_attn.q_proj.weight.mul_(6)
        layer.self_attn.k_proj.weight.mul_(6)
words = ["<unk>", "<s>", "</s>", "<pad>"] + [f"w{i}" for i in range(V - 4)]
tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
transformers.PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                     pad_token="<pad>").save_pretrained(f"{d}/tok")
tok = transformers.AutoTokenizer.from_pretrained(f"{d}/tok")  # TransformerLens reloads it by name_or_path
hf.set_attn_implementation("eager")
ids = torch.randint(4, V, (2, T))
ids[:, 0] = 1
with torch.no_grad():
    o = hf(ids, output_attentions=True)  # before the bridge takes the model over
bridge = TransformerBridge.boot_transformers("tiny-llama", hf_model=hf, tokenizer=tok)
logits, cache = bridge.run_with_cache(ids)

p = convert.from_transformer_lens(cache, f"{d}/tl.h5", model=bridge, tokens=ids, logits=logits,
                                  what=("q", "k", "v", "attention", "hidden"))
with h5py.File(p) as f:
    check(f.attrs["n_heads"] == H and f.attrs["n_kv_heads"] == KV and f.attrs["head_dim"] == D and
          f.attrs["first_token_is_bos"] == 1 and "scale" not in f["q"].attrs, f"attributes {dict(f.attrs)}")
    check(np.array_equal(f["q/L001"][()], cache["blocks.1.attn.hook_rot_q"].transpose(1, 2).numpy()),
          "q is hook_rot_q as [N, H, T, D]")
    check(np.array_equal(f["k/L000"][()], cache["blocks.0.attn.hook_rot_k"].transpose(1, 2).numpy()),
          "k is hook_rot_k with the KV heads")
    check(np.array_equal(f["hidden/L002"][()], cache["blocks.1.hook_resid_post"].numpy()), "last hidden entry")
    check(np.array_equal(f["logits"][()], logits.detach().numpy()), "logits")
with h5py.File(p) as f:
    check(close(f["attention/L001"][()], o.attentions[1].numpy(), 0, 1e-6), "hook_pattern is the model's eager map")
a_maps = np.array([x["alpha"] for x in js("sinks", p, "--tokens", T, "--positions", T)["heads"]])
a_qk = np.array([x["alpha"] for x in js("sinks", p, "--tokens", T, "--positions", T, "--from-qk")["heads"]])
check(a_maps.shape == (L * H, T) and close(a_qk, a_maps, 0, 1e-5), f"sinks from q/k vs maps: {np.abs(a_qk - a_maps).max()}")

# a one-sample cache without its batch dimension
_, c1 = bridge.run_with_cache(ids[:1])
c1 = c1.remove_batch_dim()
p1 = convert.from_transformer_lens(c1, f"{d}/one.h5", model=bridge, tokens=ids[0])
with h5py.File(p1) as f:
    check(f["q/L000"].shape == (1, H, T, D) and f["tokens"].shape == (1, T), "remove_batch_dim(): N = 1")
    check(close(f["q/L001"][0], c1["blocks.1.attn.hook_rot_q"].transpose(0, 1).numpy(), 0, 0), "its q")

# a cache filtered without the rotated keys: a clear error, no file
_, c2 = bridge.run_with_cache(ids, names_filter=lambda n: n.endswith("hook_rot_q"))
try:
    convert.from_transformer_lens(c2, f"{d}/bad.h5", model=bridge)
    check(False, "a cache without hook_rot_k converted")
except AttnlabError as ex:
    check("no blocks.0.attn.hook_rot_k" in str(ex) and not os.path.exists(f"{d}/bad.h5"), str(ex))

finish("test_convert_tl")
