"""Tokenizers from GGUF files against llama.cpp (llama-cpp-python from the cached venv that
tools/llamacpp_venv.sh builds; skipped, saying so, when it is not there: building it takes minutes):
token ids equal on a varied text set for byte-level BPE with the smollm, gpt2, llama-bpe and qwen2
pre-tokenizers (SmolLM2's vocabulary under each name) and for a hand-built SentencePiece vocabulary,
with and without special-token parsing."""
import json, os, subprocess, sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from alcli import check, finish, run, tmpdir  # noqa: E402
import ggufkit as gk  # noqa: E402

PY = gk.llamacpp_python()
gguf = gk.gguf_package()
M = gk.smollm2()
d = tmpdir()

TEXTS = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "def f(x):\n\treturn x**2  # square\n\n\tif x != 0:\n\t\tpass",
    "Numbers: 3.14159, 1,000,000 and 42nd; 2024-12-06 12:30:45 +0100 1234567890",
    "Punctuation!!! ??? ... --- ;;; ((())) [[]] {{}} <<>> @@## $$%% ^^&& ** '' \"\"",
    "Café naïve résumé façade Ångström über straße — «quotes»",
    "中文字符测试，日本語のテキスト、한국어 텍스트",
    "Emoji: 😀🎉👍🏽 👨‍👩‍👧‍👦 ❤️ 🇫🇷",
    "line one\r\nline two\r\n\r\nline four\n",
    "   ",
    "\n\n\t \n",
    " leading space and trailing space ",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "don't won't it's we'll they've I'm you'd SHOULDN'T",
    "x",
]


def llama_ids(path, texts, special):
    code = ("import json,sys; from llama_cpp import Llama; m=Llama(model_path=sys.argv[1], vocab_only=True, verbose=False);"
            "t=json.load(open(sys.argv[2])); print(json.dumps([m.tokenize(s.encode(), add_bos=True, special=bool(int(sys.argv[3]))) for s in t]))")
    tf = os.path.join(d, "texts.json")
    json.dump(texts, open(tf, "w"))
    p = subprocess.run([PY, "-c", code, path, tf, str(int(special))], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        gk.skip(f"llama-cpp-python cannot load {path}: {p.stderr.strip()[-300:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def compare(label, path, texts=TEXTS):
    for special in (1, 0):
        want = llama_ids(path, texts, special)
        for t, w in zip(texts, want):
            args = ["gguf", path, "--tokenize", t] + ([] if special else ["--no-special"])
            rc, out, err = run(*args)
            got = [int(x) for x in out.strip().split(",") if x] if rc == 0 else None
            check(got == w, f"{label} special={special} {t[:30]!r}: attnlab {got} vs llama.cpp {w} ({err.strip()})")


def with_pre(pre):
    """SmolLM2's vocabulary and merges with tokenizer.ggml.pre = pre, and the llama hyperparameters; no tensors."""
    return gk.rewrite(M, os.path.join(d, f"vocab-{pre}.gguf"), {"tokenizer.ggml.pre": pre})


def spm_vocab():
    """A SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, and pieces (with scores) cut from the texts."""
    toks, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    toks += [f"<0x{b:02X}>" for b in range(256)]
    scores += [0.0] * 256
    types += [6] * 256
    rng = np.random.default_rng(5)
    pieces = set()
    for t in TEXTS + ["the and of to in is was for that with as"]:
        s = ("▁" + t.replace(" ", "▁"))
        for i in range(len(s)):
            for n in (1, 2, 3, 4, 6):
                if i + n <= len(s) and rng.random() < (0.9 if n == 1 else 0.35):
                    pieces.add(s[i:i + n])
    pieces.discard("")
    for p in sorted(pieces):
        toks.append(p)
        scores.append(float(-rng.random() * 10 - len(p) * 0.1))
        types.append(1)
    out = os.path.join(d, "spm.gguf")
    w = gguf.GGUFWriter(out, "llama")
    for k, v in [("context_length", 64), ("embedding_length", 8), ("block_count", 1), ("feed_forward_length", 8),
                 ("attention.head_count", 2)]:
        w.add_uint32(f"llama.{k}", v)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.close()
    return out


compare("smollm (SmolLM2 as shipped)", M)
for pre in ("gpt-2", "llama-bpe", "qwen2"):
    compare(f"pre={pre}", with_pre(pre))
compare("SentencePiece", spm_vocab(), [t for t in TEXTS if "<|" not in t])
finish("test_gguf_tokenizer")
