"""`attnlab norms` and `attnlab maps` end to end. norms: per-token hidden-state norms, top-3 and median |h| (exact,
numpy's median), key and value norms of a GQA recording with /lengths, in every dtype. maps: mean maps as figures,
per head or mean over heads, log colours, token labels from /token_text. Bad inputs of both."""
import os, shutil
import numpy as np
import h5py
from alcli import *


def to_bf16(x):
    u = x.astype(np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def write_states(path, hid, k, v, lengths, dtype="f32"):
    L = len(k)
    N, T = hid.shape[1:3]
    with h5py.File(path, "w") as f:
        f.attrs.update(dict(attnlab_format="recording", format_version=1, model="t", n_layers=L, n_heads=4, n_kv_heads=2,
                            head_dim=k.shape[-1], causal=1, first_token_is_bos=1))
        def put(name, x):
            if dtype == "f16":
                f.create_dataset(name, data=x.astype(np.float16), chunks=True, compression="gzip")
            elif dtype == "bf16":
                f.create_dataset(name, data=to_bf16(x)).attrs["dtype"] = "bfloat16"
            else:
                f[name] = x
        for l in range(L + 1):
            put(f"hidden/L{l:03d}", hid[l])
        for l in range(L):
            put(f"q/L{l:03d}", np.repeat(k[l], 2, axis=1))
            put(f"k/L{l:03d}", k[l])
            put(f"v/L{l:03d}", v[l])
        f["lengths"] = np.asarray(lengths, np.int32)


d = tmpdir()
rng = np.random.default_rng(2)
N, L, T, D, dm = 3, 2, 24, 8, 32
hid = rng.standard_normal((L + 1, N, T, dm)).astype(np.float32)
hid[1, 2, 0, 5] = 250.0          # a massive activation at the first token
hid[2, 0, 3, 7] = -180.0
k = rng.standard_normal((L, N, 2, T, D)).astype(np.float32)
v = rng.standard_normal((L, N, 2, T, D)).astype(np.float32)
lengths = [24, 17, 24]
for dt in ("f32", "f16", "bf16"):
    p = f"{d}/s_{dt}.h5"
    write_states(p, hid, k, v, lengths, dt)
    rt = (lambda x: x.astype(np.float16).astype(np.float32)) if dt == "f16" else \
         (lambda x: (to_bf16(x).astype(np.uint32) << 16).view(np.float32)) if dt == "bf16" else (lambda x: x)
    H, K, V = rt(hid), rt(k), rt(v)
    for Tn in (24, 20):
        out = js("norms", p, "--tokens", Tn)
        check(len(out["layers"]) == L + 1 and out["layers"][0]["input"] == "embeddings", f"{dt}: L + 1 layer entries")
        for e in range(L + 1):
            x = out["layers"][e]
            vals = np.concatenate([np.abs(H[e, n, :min(lengths[n], Tn)]).ravel() for n in range(N)]).astype(np.float64)
            tn = [np.mean([np.linalg.norm(H[e, n, t].astype(np.float64)) for n in range(N) if t < lengths[n]]) for t in range(Tn)]
            check(close(x["token_norm"], tn, 1e-9), f"{dt} T={Tn} entry {e}: token_norm")
            check(close(x["top3"], np.sort(vals)[::-1][:3], 1e-12), f"{dt} T={Tn} entry {e}: top3 {x['top3']}")
            check(close(x["median"], np.median(vals), 1e-12), f"{dt} T={Tn} entry {e}: median {x['median']} vs {np.median(vals)}")
        check(out["layers"][1]["top3_where"][0] == [2, 0, 5] and out["layers"][2]["top3_where"][0] == [0, 3, 7],
              f"{dt}: where the massive activations are")
        for l in range(L):
            kn = [np.mean([np.linalg.norm(K[l, n, g, t].astype(np.float64)) for n in range(N) for g in range(2) if t < lengths[n]]) for t in range(Tn)]
            vn = [np.mean([np.linalg.norm(V[l, n, g, t].astype(np.float64)) for n in range(N) for g in range(2) if t < lengths[n]]) for t in range(Tn)]
            check(close(out["kv_layers"][l]["key_norm"], kn, 1e-9) and close(out["kv_layers"][l]["value_norm"], vn, 1e-9),
                  f"{dt} T={Tn}: key/value norms of layer {l}")
a = js("norms", f"{d}/s_f32.h5", "--mem", "1K")
b = js("norms", f"{d}/s_f32.h5")
check(a["layers"] == b["layers"], "norms depends on --mem")
o = f"{d}/nout"
rc, _, err = run("norms", f"{d}/s_f32.h5", "-o", o, "--quiet")
files = set(os.listdir(o)) if os.path.isdir(o) else set()
for name in ("norms_layers.tsv", "norms_tokens.gp", "norms_massive.gp", "norms_keys.gp", "norms_values.gp"):
    check(name in files, f"norms -o: {name} missing")
if shutil.which("gnuplot"):
    check("norms_tokens.png" in files, "norms -o: norms_tokens.png not rendered")
rc, hlp, _ = run("norms", "--help")
check(rc == 0 and "massive" in hlp, "norms --help")
# bad inputs
write_v1(f"{d}/maps_only.h5", softmax_maps(rng, 1, 1, 2, 8))
bad(["norms", f"{d}/maps_only.h5"], "no hidden states", "nothing to measure")
with h5py.File(f"{d}/nan.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=1, n_heads=1))
    x = np.ones((1, 6, 4), np.float32); x[0, 4, 2] = np.inf
    f["q/L000"] = np.ones((1, 1, 6, 2), np.float32); f["k/L000"] = np.ones((1, 1, 6, 2), np.float32)
    f["hidden/L000"] = np.ones((1, 6, 4), np.float32); f["hidden/L001"] = x
bad(["norms", f"{d}/nan.h5", "-o", f"{d}/o_nan"], "Inf in hidden states", "token 4", outdir=f"{d}/o_nan")
bad(["norms", f"{d}/s_f32.h5", "--tokens", 30], "--tokens beyond T", "--tokens")

# maps: mean over samples (and heads), token labels
att = softmax_maps(rng, 2, 3, 2, 12, sink_heads=[(1, 0)])
write_v1(f"{d}/m.h5", att)
with h5py.File(f"{d}/m.h5", "a") as f:
    f.create_dataset("token_text", data=np.array([[f"tok{t}" for t in range(12)]] * 2, dtype=object), dtype=h5py.string_dtype())
o = f"{d}/mout"
out = js("maps", f"{d}/m.h5", "--layers", "0,2", "-o", o, "--quiet")
check(out["figures"] == ["maps_L000", "maps_L002"], f"maps: figures {out['figures']}")
for l in (0, 2):
    m = np.loadtxt(f"{o}/maps_L{l:03d}.dat")
    check(close(m, att[:, l].astype(np.float64).mean((0, 1)), 1e-6, 1e-9), f"maps: layer {l} is the mean over samples and heads")
gp = open(f"{o}/maps_L000.gp").read()
check("'tok3' 3" in gp, "maps: token labels from /token_text")
o2 = f"{d}/mout2"
run("maps", f"{d}/m.h5", "--layers", "1", "--heads", "all", "--log", "-o", o2, "--quiet")
gp = open(f"{o2}/maps_L001.gp").read() if os.path.exists(f"{o2}/maps_L001.gp") else ""
check(gp.count("matrix with image") == 2 and "logscale cb" in gp, "maps --heads all --log: one panel per head, log colours")
blocks = open(f"{o2}/maps_L001.dat").read().strip().split("\n\n\n")
m0 = att[:, 1, 0].astype(np.float64).mean(0)
check(len(blocks) == 2 and np.allclose(np.loadtxt(blocks[0].splitlines()), np.where(m0 > 0, m0, np.nan), 1e-6, 1e-9, equal_nan=True),
      "maps --heads all: panel 0 is head 0's mean map (zeros blank under --log)")
if shutil.which("gnuplot"):
    check(os.path.exists(f"{o2}/maps_L001.png"), "maps: png rendered")
rc, hlp, _ = run("maps", "--help")
check(rc == 0 and "--layers" in hlp and "--log" in hlp, "maps --help")
bad(["maps", f"{d}/m.h5"], "maps without --layers", "--layers")
bad(["maps", f"{d}/m.h5", "--layers", "3"], "maps: layer beyond L", "layer 3")
bad(["maps", f"{d}/m.h5", "--layers", "a,b"], "maps: malformed --layers", "--layers")
bad(["maps", f"{d}/m.h5", "--layers", "0", "--heads", "some"], "maps: bad --heads", "--heads")
bad(["maps", f"{d}/m.h5", "--layers", "0", "--mem", "1K"], "maps: more than --mem", "--mem")
finish("test_norms_maps")
