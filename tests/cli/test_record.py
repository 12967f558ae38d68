"""`attnlab record` end to end on the real checkpoints of ../shared/models: run.c's greedy ids, every recorded
tensor against the independent numpy forward of ../shared/conformance/llama_reference.py (imported, not
copied), v and hidden states block by block, selection, dtypes, prompts, spans, sampling, drift files and
every bad-input class (exit 2, one line, no output left behind)."""
import os, shutil, struct, sys
import numpy as np
import h5py
from alcli import *

MODELS = os.path.join(SHARED, "models")
CONF = os.path.join(SHARED, "conformance")
S260 = os.path.join(MODELS, "stories260K.bin")
B6 = os.path.join(MODELS, "bytes6L.bin")
if not (os.path.isfile(S260) and os.path.isfile(os.path.join(CONF, "llama_reference.py"))):
    print(f"SKIP: {S260} or {CONF}/llama_reference.py is absent (the shared folder is missing)")
    sys.exit(77)
sys.path.insert(0, CONF)
import llama_reference as ref  # noqa: E402

RUNC = [1, 461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264, 283, 452, 288]
d = tmpdir()
m = ref.load(S260)
L, H, KV, hs = m["L"], m["H"], m["KV"], m["hs"]


def rec(path, *args):
    rc, out, err = run("record", *args, "-o", path, "-q")
    check(rc == 0 and os.path.isfile(path), f"record {args}: exit {rc}: {err.strip()}")
    return h5py.File(path, "r")


def rms(x, g):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5) * g


def greedy(model, toks, n):
    toks = list(toks)
    for _ in range(n):
        lg, *_ = ref.forward(model, np.array(toks))
        toks.append(int(np.argmax(lg[-1])))
    return toks


# 1. greedy decoding reproduces run.c; maps, q, k, logits match the reference forward to 1e-4
f = rec(f"{d}/g.h5", S260, "--generate", 40)
toks = f["tokens"][0]
check(toks[:20].tolist() == RUNC, f"greedy ids {toks[:20].tolist()} differ from run.c's")
check(toks.tolist() == greedy(m, [1], 40), "greedy ids differ from the reference forward's")
check(dict(f.attrs)["n_kv_heads"] == 4 and f.attrs["head_dim"] == 8 and f.attrs["first_token_is_bos"] == 1
      and f.attrs["attnlab_format"] == "recording" and f.attrs["model"] == "stories260K", f"attributes {dict(f.attrs)}")
lg, att, Q, K = ref.forward(m, toks)
for l in range(L):
    check(close(f[f"attention/L{l:03d}"][0], att[l], 0, 1e-4), f"attention layer {l} differs from the reference")
    check(close(f[f"q/L{l:03d}"][0], Q[l], 0, 1e-4), f"q layer {l} differs from the reference")
    check(close(f[f"k/L{l:03d}"][0], K[l], 0, 1e-4), f"k layer {l} differs from the reference")
check(close(f["logits"][0], lg, 0, 1e-4), f"logits differ by {np.abs(f['logits'][0] - lg).max()}")

# 1b. v and the residual stream: each block recomputed in float64 from the recorded input of the block
hid = [f[f"hidden/L{l:03d}"][0].astype(np.float64) for l in range(L + 1)]
check(len(f["hidden"]) == L + 1, "hidden needs n_layers + 1 entries")
check(np.array_equal(hid[0], m["emb"][toks]), "hidden/L000 is not the token embeddings")
for l in range(L):
    xb = rms(hid[l], m["rms_att"][l])
    v = (xb @ m["wv"][l].T).reshape(-1, KV, hs).transpose(1, 0, 2)
    check(close(f[f"v/L{l:03d}"][0], v, 0, 1e-4), f"v layer {l}")
    a = f[f"attention/L{l:03d}"][0].astype(np.float64)
    out = np.concatenate([a[h] @ v[h // (H // KV)] for h in range(H)], axis=1)
    x = hid[l] + out @ m["wo"][l].T
    xb = rms(x, m["rms_ffn"][l])
    h1, h3 = xb @ m["w1"][l].T, xb @ m["w3"][l].T
    x = x + (h1 / (1 + np.exp(-h1)) * h3) @ m["w2"][l].T
    check(close(hid[l + 1], x, 0, 1e-4), f"hidden/L{l + 1:03d} is not block {l}'s output")
check(close(rms(hid[L], m["rms_f"]) @ m["wcls"].T, lg, 0, 1e-4), "last hidden entry is not before the final norm")
f.close()

# 1c. attnlab reads what it wrote
for cmd in (("info",), ("sinks", "--tokens", 41)):
    rc, out, err = run(*cmd, f"{d}/g.h5", "--format", "json")
    check(rc == 0, f"attnlab {cmd[0]} on the recording: exit {rc}: {err.strip()}")

# 2. bytes6L: "The meaning of " continues "the file system ..."
if os.path.isfile(B6):
    ids = ",".join(str(i) for i in [1] + [b + 3 for b in b"The meaning of "])
    with rec(f"{d}/b6.h5", B6, "--tokens", ids, "--generate", 58, "--what", "attention") as f:
        text = bytes(int(t) - 3 for t in f["tokens"][0][1:]).decode()
        check(text == "The meaning of the file system is now supported by the last command line\n", f"bytes6L: {text!r}")
        check(list(f) == ["attention", "tokens"], f"--what attention wrote {list(f)}")
        check(f["attention/L000"].shape == (1, 6, 74, 74) and f.attrs["n_kv_heads"] == 3, "bytes6L shapes")
else:
    print(f"note: {B6} absent, its check skipped")

# 3. --what selection and storage types
with rec(f"{d}/sel.h5", S260, "--tokens", "1,400,401,402", "--what", "q,k,logits") as f:
    check(sorted(f) == ["k", "logits", "q", "tokens"], f"--what q,k,logits wrote {sorted(f)}")
    rc, out, err = run("sinks", f"{d}/sel.h5", "--tokens", 4, "--format", "json")
    check(rc == 0, f"sinks on a q/k-only recording: {err.strip()}")
g32 = h5py.File(f"{d}/g.h5", "r")
for dt in ("f16", "bf16"):
    with rec(f"{d}/{dt}.h5", S260, "--generate", 40, "--dtype", dt) as f:
        a = f["attention/L002"]
        if dt == "f16":
            check(a.dtype == np.float16, f"f16 stored as {a.dtype}")
            got = a[()].astype(np.float32)
        else:
            check(a.dtype == np.uint16 and a.attrs["dtype"] == "bfloat16", "bf16 storage")
            got = (a[()].astype(np.uint32) << 16).view(np.float32)
        check(close(got, stored(g32["attention/L002"][()], dt), 0, 1e-7), f"{dt}: not the rounded float32 values")
        check(np.array_equal(f["tokens"][()], g32["tokens"][()]), f"{dt}: tokens")
    rc, out, err = run("sinks", f"{d}/{dt}.h5", "--tokens", 41, "--format", "json")
    check(rc == 0, f"sinks on the {dt} recording: {err.strip()}")

# 4. several prompts of different lengths, spans; padding does not change the earlier rows (causal)
with rec(f"{d}/multi.h5", S260, "--tokens", "1,300,301", "--tokens", "1,5,6,7,8", "--generate", 3,
         "--span", "system:0:2", "--span", "user:2:4") as f:
    check(f["lengths"][()].tolist() == [6, 8], f"lengths {f['lengths'][()].tolist()}")
    t = f["tokens"][()]
    check(t.shape == (2, 8) and t[0, 6:].tolist() == [0, 0] and t[1, :5].tolist() == [1, 5, 6, 7, 8], f"tokens {t.tolist()}")
    check(f["spans"][()].tolist() == [[[0, 2], [2, 4]]] * 2, "spans")
    check([s.decode() if isinstance(s, bytes) else s for s in f["spans"].attrs["names"]] == ["system", "user"], "span names")
    check(t[0, :6].tolist() == greedy(m, [1, 300, 301], 3), "generation after a prompt")
    _, att0, _, _ = ref.forward(m, t[0, :6])
    check(close(f["attention/L004"][0][:, :6, :6], att0[4], 0, 1e-4), "the shorter sample's maps")

# 5. sampling: reproducible per seed, one stream per sample; a tiny temperature is greedy
f1, f2 = rec(f"{d}/s1.h5", S260, "--generate", 30, "--temperature", 1, "--seed", 3, "--samples", 3, "--what", "logits"), \
    rec(f"{d}/s2.h5", S260, "--generate", 30, "--temperature", 1, "--seed", 3, "--samples", 3, "--what", "logits")
s1 = f1["tokens"][()]
check(np.array_equal(s1, f2["tokens"][()]), "same seed, different samples")
check(len({tuple(r) for r in s1.tolist()}) == 3, "the three samples are identical")
with rec(f"{d}/s3.h5", S260, "--generate", 30, "--temperature", 1, "--seed", 4, "--what", "logits") as f:
    check(not np.array_equal(f["tokens"][0], s1[0]), "seed 4 gives seed 3's sample")
with rec(f"{d}/s4.h5", S260, "--generate", 40, "--temperature", 1e-4, "--what", "logits") as f:
    check(np.array_equal(f["tokens"][0], g32["tokens"][0]), "temperature 1e-4 is not greedy")
f1.close(), f2.close()

# 6. the numbers do not depend on --threads; a sequence of several 64-row blocks still matches the reference
t1, t2 = rec(f"{d}/t1.h5", S260, "--generate", 150, "--threads", 1), rec(f"{d}/t2.h5", S260, "--generate", 150, "--threads", 2)
for name in ("attention/L001", "q/L003", "logits", "hidden/L005"):
    check(np.array_equal(t1[name][()], t2[name][()]), f"--threads 1 and 2 differ in {name}")
lg, att, Q, K = ref.forward(m, t1["tokens"][0])
check(close(t1["logits"][0], lg, 0, 1e-4), "151 tokens: logits")
for l in range(L):
    check(close(t1[f"attention/L{l:03d}"][0], att[l], 0, 1e-4), f"151 tokens: attention layer {l}")
t1.close(), t2.close()
g32.close()

# 7. drift recording: turns as lines, blank line between conversations; test = BOS + turns, ref = BOS + prefix + turns
conv = f"{d}/conv.txt"
with open(conv, "w") as fh:
    fh.write("# goal: a story about a cat\n5, 6,7\n8,9\n\n10,11\n12\n13,14,15\n")
prefix = [20, 21, 22]
with rec(f"{d}/drift.h5", S260, "--drift", conv, "--prefix", ",".join(map(str, prefix))) as f:
    check(f.attrs["attnlab_format"] == "drift" and f.attrs["format_version"] == 1, "drift attributes")
    check(f["row_conversation"][()].tolist() == [0] * 5 + [1] * 6, "row_conversation")
    check(f["row_turn"][()].tolist() == [0, 0, 0, 1, 1, 0, 0, 1, 2, 2, 2], "row_turn")
    check(f["test/logits"].dtype == np.float32 and f["ref/logits"].shape == (11, 512), "drift logits shape/dtype")
    r = 0
    for c in ([5, 6, 7, 8, 9], [10, 11, 12, 13, 14, 15]):
        lt, *_ = ref.forward(m, np.array([1] + c))
        lr, *_ = ref.forward(m, np.array([1] + prefix + c))
        n = len(c)
        check(close(f["test/logits"][r:r + n], lt[:n], 0, 1e-4), "test logits")
        check(close(f["ref/logits"][r:r + n], lr[len(prefix):len(prefix) + n], 0, 1e-4), "ref logits")
        r += n
rc, out, err = run("--help")
if "kl-drift" in out:
    rc, out, err = run("kl-drift", f"{d}/drift.h5", "--bootstrap", 20, "--format", "json")
    check(rc == 0, f"kl-drift cannot read the drift recording: {err.strip()}")
with rec(f"{d}/drift_nobos.h5", S260, "--drift", conv, "--prefix", "20", "--no-bos") as f:
    check(f["row_turn"][()].tolist() == [0, 0, 1, 1, 0, 1, 2, 2, 2], "--no-bos rows")
    lr, *_ = ref.forward(m, np.array([20, 5, 6, 7, 8, 9]))
    check(close(f["ref/logits"][0:4], lr[1:5], 0, 1e-4), "--no-bos ref logits")

# 8. bad input: exit 2, one line, no output file left behind
bd = f"{d}/bad"
os.makedirs(bd)
raw = open(S260, "rb").read()
files = {
    "trunc.bin": raw[:500000],
    "extra.bin": raw + b"\0" * 8,
    "neg.bin": struct.pack("7i", 64, 172, -5, 8, 4, 512, 512) + raw[28:],
    "huge.bin": struct.pack("7i", 65536, 1 << 20, 1024, 8, 4, 1 << 22, 1 << 20) + raw[28:],
    "nonsense.bin": struct.pack("7i", 2**31 - 1, 7, 3, 0, 4, 512, 512) + raw[28:],
    "odd.bin": struct.pack("7i", 64, 172, 5, 8, 3, 512, 512) + raw[28:],
    "ak42.bin": struct.pack("2i", 0x616B3432, 1) + raw[8:],
    "tiny.bin": b"\1\2\3",
    "nan.bin": raw[:28 + 4 * 100] + struct.pack("f", float("nan")) + raw[28 + 4 * 101:],
}
src = f"{d}/src"
os.makedirs(src)
for name, data in files.items():
    open(f"{src}/{name}", "wb").write(data)
o = f"{bd}/out.h5"
bad(["record", f"{src}/trunc.bin", "--generate", 3, "-o", o], "truncated checkpoint", "truncated", bd)
bad(["record", f"{src}/extra.bin", "--generate", 3, "-o", o], "extra bytes", "disagree", bd)
bad(["record", f"{src}/neg.bin", "--generate", 3, "-o", o], "negative header value", "n_layers = -5", bd)
bad(["record", f"{src}/huge.bin", "--generate", 3, "-o", o], "huge header values", "truncated", bd)
bad(["record", f"{src}/nonsense.bin", "--generate", 3, "-o", o], "nonsense header", "dim = 2147483647", bd)
bad(["record", f"{src}/odd.bin", "--generate", 3, "-o", o], "kv heads not dividing heads", "n_kv_heads", bd)
bad(["record", f"{src}/ak42.bin", "--generate", 3, "-o", o], "newer export", "legacy", bd)
bad(["record", f"{src}/tiny.bin", "--generate", 3, "-o", o], "shorter than the header", "28-byte", bd)
bad(["record", f"{src}/nan.bin", "--generate", 3, "-o", o], "NaN weight", "not finite", bd)
bad(["record", f"{src}/missing.bin", "--generate", 3, "-o", o], "missing checkpoint", "missing.bin", bd)
bad(["record", S260, "--tokens", "1,512", "-o", o], "id outside the vocabulary", "outside the vocabulary 0..511", bd)
bad(["record", S260, "--tokens", "1,-4", "-o", o], "negative id", "not a token id", bd)
bad(["record", S260, "--tokens", "1,,2", "-o", o], "empty id", "empty item", bd)
bad(["record", S260, "--generate", 512, "-o", o], "longer than seq_len", "seq_len 512", bd)
bad(["record", S260, "--tokens", ",".join(["1"] * 513), "-o", o], "prompt longer than seq_len", "seq_len 512", bd)
bad(["record", S260, "--generate", 3, "--what", "maps", "-o", o], "unknown --what", "unknown item 'maps'", bd)
bad(["record", S260, "--generate", 3, "--span", "x:2:9", "-o", o], "span beyond the sequence", "beyond sample 0", bd)
bad(["record", S260, "--generate", 3, "--span", "x:2", "-o", o], "malformed span", "NAME:START:END", bd)
bad(["record", S260, "--generate", 3, "--span", "x:0:1", "--span", "x:1:2", "-o", o], "duplicate span", "twice", bd)
bad(["record", S260, "--tokens", "1", "--tokens", "1,2", "--samples", 3, "-o", o], "--samples vs prompts", "--samples", bd)
bad(["record", S260, "-o", o], "nothing to record", "--generate", bd)
bad(["record", S260, "--generate", 3], "no -o", "-o OUT.h5", bd)
bad(["record", S260, "--generate", 3, "--prefix", "4", "-o", o], "--prefix without --drift", "--drift", bd)
bad(["record", S260, "--drift", conv, "-o", o], "--drift without --prefix", "--prefix", bd)
bad(["record", S260, "--drift", conv, "--prefix", "3", "--generate", 2, "-o", o], "--generate with --drift", "--generate", bd)
bad(["record", S260, "--drift", conv, "--prefix", "3", "--dtype", "f16", "-o", o], "f16 drift", "float32", bd)
for name, text, needle in (("ids.txt", "5,6\n7,x\n", "line 2"), ("vocab.txt", "5,600\n", "outside the vocabulary"),
                           ("empty.txt", "\n# nothing\n", "no conversations"), ("long.txt", ",".join(["5"] * 510) + "\n", "seq_len"),
                           ("one.txt", "5\n6,7\n", "two tokens")):
    open(f"{src}/{name}", "w").write(text)
    extra = ["--no-bos"] if name == "one.txt" else []
    bad(["record", S260, "--drift", f"{src}/{name}", "--prefix", "3,4", *extra, "-o", o], f"conversation file {name}", needle, bd)
bad(["record", S260, "--drift", f"{src}/none.txt", "--prefix", "3", "-o", o], "missing conversation file", "none.txt", bd)

shutil.rmtree(d)
finish("test_record")
