"""`attnlab record` on SmolLM2-135M against llama.cpp (llama-cpp-python from the cached venv that
tools/llamacpp_venv.sh builds; skipped, saying so, when absent): the prompt's token ids are llama.cpp's; logits
against llama.cpp running the model converted to float32 (dequantised with the `gguf` package into an F32 GGUF)
with an f32 KV cache, to 1e-4; against llama.cpp on the Q4_1 file itself (which rounds every matrix-product input
to 8-bit blocks), the argmax wherever the top-two gap exceeds 2; and attnlab on the F32 file equals attnlab on the
Q4_1 file bit for bit (the same dequantised weights)."""
import os, subprocess, sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from alcli import check, finish, run, tmpdir  # noqa: E402
import ggufkit as gk  # noqa: E402

PY = gk.llamacpp_python()
gguf = gk.gguf_package()

M = gk.smollm2()
d = tmpdir()
TEXTS = ["The lighthouse keeper counted 17 ships before dawn; none of them stopped. Then the storm came, and the "
         "harbour lights went out one by one.",
         "<|im_start|>user\ndef add(a, b):\n\treturn a + b\nWhat does this do?<|im_end|>\n<|im_start|>assistant\n"]

LLAMA = r"""
import json, sys
import numpy as np
from llama_cpp import Llama
path, out, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
m = Llama(model_path=path, n_ctx=256, n_batch=256, n_ubatch=256, logits_all=True, type_k=0, type_v=0, flash_attn=False,
          n_threads=2, verbose=False)
res = {}
for i, t in enumerate(texts):
    ids = m.tokenize(t.encode(), add_bos=True, special=True)
    m.reset()
    m.eval(ids)
    np.save(f"{out}{i}.npy", np.array(m.scores[:len(ids)], dtype=np.float32))
    res[i] = ids
print(json.dumps(res))
"""


def llama(path, tag):
    import json
    p = subprocess.run([PY, "-c", LLAMA, path, os.path.join(d, tag), json.dumps(TEXTS)],
                       capture_output=True, text=True, timeout=900, cwd=d)
    if p.returncode != 0:
        gk.skip(f"llama-cpp-python cannot run {path}: {p.stderr.strip()[-300:]}")
    ids = json.loads(p.stdout.strip().splitlines()[-1])
    return [ids[str(i)] for i in range(len(TEXTS))], [np.load(os.path.join(d, f"{tag}{i}.npy")) for i in range(len(TEXTS))]


def attnlab_logits(path, tag):
    out = []
    for i, t in enumerate(TEXTS):
        o = os.path.join(d, f"{tag}{i}.h5")
        rc, _, err = run("record", path, "--text", t, "--what", "logits", "-q", "-o", o, timeout=900)
        check(rc == 0, f"record {tag} text {i}: {err.strip()}")
        with h5py.File(o) as f:
            out.append((f["tokens"][0].tolist(), f["logits"][0]))
        os.remove(o)
    return out


F = os.path.join(d, "smollm2-f32.gguf")
gk.rewrite(M, F, f32=True)
ours_f32, ours_q = attnlab_logits(F, "a32-"), attnlab_logits(M, "aq-")
ids32, ll32 = llama(F, "l32-")
idsq, llq = llama(M, "lq-")
for i in range(len(TEXTS)):
    (tok, a32), (tokq, aq) = ours_f32[i], ours_q[i]
    check(tok == ids32[i] == idsq[i] == tokq, f"text {i}: token ids equal llama.cpp's ({len(tok)} vs {len(ids32[i])})")
    if tok != ids32[i]:
        continue
    diff = np.abs(a32 - ll32[i]).max()
    print(f"text {i}: {len(tok)} tokens; max |attnlab - llama.cpp| on the float32 model: {diff:.3g} (logits up to {np.abs(a32).max():.1f})")
    check(diff < 1e-4, f"text {i}: logits within 1e-4 of llama.cpp on float32 weights (max {diff:.3g})")
    check(np.array_equal(a32, aq), f"text {i}: attnlab's logits equal on the Q4_1 file and its float32 copy")
    top = np.sort(llq[i], axis=1)
    sure = top[:, -1] - top[:, -2] > 2.0
    agree = (np.argmax(aq, 1) == np.argmax(llq[i], 1))[sure]
    print(f"text {i}: Q4_1 argmax equal to llama.cpp's at {agree.sum()} of {sure.sum()} positions with a top-two gap > 2 "
          f"(max |diff| there {np.abs(aq - llq[i]).max():.2f})")
    check(sure.sum() >= 3 and agree.all(), f"text {i}: Q4_1 argmax equals llama.cpp's where the gap is large")
os.remove(F)
finish("test_gguf_llamacpp")
