"""Padded batches (/lengths): every analysis of maps or q/k uses each sample's own valid rows and keys. Padding is
filled with NaN, so any read of it fails. Compared with numpy written out here: heads (per-sample means over the
sample's rows, then the mean over samples), sinks (samples shorter than --tokens left out and counted), similarity
(mean over every valid (sample, row)), kvsim (the mean of runs on each sample alone, unpadded), maps (each cell the
mean over the samples that reach it), stats (the same numbers as the separate commands), from q/k and non-causal;
thread and memory invariance."""
import json, os
import numpy as np
import h5py
from alcli import *

d = tmpdir()
rng = np.random.default_rng(21)
N, L, H, T = 3, 2, 3, 24
lens = [24, 17, 20]


def padded_maps(causal=True):
    att = np.full((N, L, H, T, T), np.nan, np.float32)
    for n, tn in enumerate(lens):
        att[n, :, :, :tn, :tn] = softmax_maps(rng, 1, L, H, tn, causal=causal, sink_heads=[(0, 1)])[0]
    return att


def with_lengths(f):
    f["lengths"] = np.array(lens, np.int32)


att = padded_maps()
P = f"{d}/pad.h5"
write_v1(P, att, extra=with_lengths)
write_v1(f"{d}/pad16.h5", att, dtype="f16", extra=with_lengths)
att16 = att.astype(np.float16).astype(np.float32)
for n, tn in enumerate(lens):  # each sample alone, unpadded
    write_v1(f"{d}/s{n}.h5", np.ascontiguousarray(att[n:n + 1, :, :, :tn, :tn]))


def sample(a, n):
    tn = lens[n]
    return a[n:n + 1, :, :, :tn, :tn].astype(np.float64)


def heads_ref(a, causal=True, clark=False):
    """Per sample: means over its own rows (smoothing over its own keys); then the mean over samples."""
    out = {}
    for n in range(N):
        x = sample(a, n)[0]
        tn = lens[n]
        i = np.arange(tn)[:, None]; j = np.arange(tn)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.where(x > 0, x * np.log(np.where(x > 0, x, 1)), 0).sum(-1)
        if clark:
            b = 0.9999 * x + 1e-4 / tn
            ent = -(b * np.log(b)).sum(-1)
        st = dict(entropy=ent.mean(-1), first=x[..., 0].mean(-1), self=np.diagonal(x, axis1=-2, axis2=-1).mean(-1),
                  prev=np.stack([x[..., k, k - 1] for k in range(1, tn)], -1).mean(-1),
                  distance=(x * np.abs(i - j)).sum(-1).mean(-1))
        for k, v in st.items():
            out[k] = out.get(k, 0) + v / N
    return out


def heads_check(args, ref, what):
    out = js("heads", *args)
    rows = {(x["layer"], x["head"]): x for x in out["heads"]}
    for k, v in ref.items():
        bad = [(l, h) for (l, h), x in rows.items() if not close(x[k], v[l, h], 1e-6, 1e-12)]
        check(not bad, f"{what}: {k} differs at {bad[:3]}")
    return out


# ---- heads: the README's own example ----
heads_check([P, "--clark"], heads_ref(att, clark=True), "heads --clark, padded f32")
heads_check([P], heads_ref(att), "heads, padded f32")
heads_check([f"{d}/pad16.h5"], heads_ref(att16), "heads, padded f16 gzip chunks")
lens_all = lens
lens = [min(x, 20) for x in lens_all]  # --tokens 20: each sample's first min(20, length) tokens
heads_check([P, "--tokens", "20"], heads_ref(att), "heads --tokens 20, padded")
lens = lens_all

# ---- sinks: samples shorter than --tokens are left out, counted, and warned about ----
rc, out, err = run("sinks", P, "--tokens", "18", "--format", "json")
check(rc == 0, f"sinks --tokens 18 on a padded batch: exit {rc} {err.strip()[:200]}")
check("warning" in err and "1 of 3 samples" in err and "18" in err, f"sinks: no warning about the short sample: {err!r}")
if rc == 0:
    s = json.loads(out)
    check(s.get("skipped_samples") == 1 and s.get("samples") == 2, f"sinks: skipped {s.get('skipped_samples')}, samples {s.get('samples')}")
    keep = np.array([n for n in range(N) if lens[n] >= 18])
    rate, lrate, amean = sink_rate(att[keep][..., :18, :18], 0.3, 10)
    check(close(s["sink_rate"], rate), f"sinks: rate {s['sink_rate']} vs {rate}")
    check(close([x["sink_rate"] for x in s["layers"]], lrate), "sinks: per-layer rates")
    check(close([x["alpha"] for x in s["heads"]], amean.reshape(L * H, 18)[:, :10]), "sinks: mean alpha per head")
    check("Sink_1" in s.get("first_position", ""), "sinks JSON says which convention numbers the first token")
rc, out, err = run("sinks", P, "--tokens", "16", "--format", "json")
check(rc == 0 and json.loads(out)["skipped_samples"] == 0 and "warning" not in err, "sinks --tokens 16: nothing skipped, no warning")
bad(["sinks", P, "--tokens", "25"], "--tokens beyond the recorded length", "beyond")
rc, out, err = run("sinks", P, "--tokens", "18", "-q", "--format", "json")
check(rc == 0 and "warning" not in err, f"sinks -q: the warning is quiet too: {err!r}")


# ---- similarity: JS over each sample's own keys, mean over all valid (sample, row) ----
def js_ref(a, causal=True):
    P_ = L * H
    tot, rows = np.zeros((P_, P_)), 0
    for n in range(N):
        x = sample(a, n)[0].reshape(P_, lens[n], lens[n])
        tn = lens[n]
        p = 0.001 / tn + 0.999 * x
        for i in range(tn):
            r = p[:, i, :]
            m = (r[:, None, :] + r[None, :, :]) / 2
            tot += 0.5 * (r[:, None, :] * np.log(r[:, None, :] / m)).sum(-1) + 0.5 * (r[None, :, :] * np.log(r[None, :, :] / m)).sum(-1)
            rows += 1
    return tot / rows


sim = js("similarity", P)
check(close(sim["js"], js_ref(att), 1e-6, 1e-12), "similarity on a padded batch")

# ---- kvsim: each sample's own rows; the pooled values are the mean over samples ----
pol = ["--policy", "window:4", "--policy", "sink:2,window:4", "--policy", "h2o:2,window:4"]
kv = js("kvsim", P, *pol)
parts = [js("kvsim", f"{d}/s{n}.h5", *pol) for n in range(N)]
for q, p in enumerate(kv["policies"]):
    for key in ("retained", "kept_fraction"):
        ref = np.mean([[h[key] for h in x["policies"][q]["heads"]] for x in parts], 0)
        check(close([h[key] for h in p["heads"]], ref, 1e-12, 1e-15), f"kvsim {p['policy']}: {key} per head")

# ---- maps: cell (i, j) is the mean over the samples that have both i and j ----
o = f"{d}/maps"
rc, out, err = run("maps", P, "--layers", "0", "-o", o)
check(rc == 0, f"maps on a padded batch: exit {rc} {err.strip()[:200]}")
if rc == 0:
    got = np.loadtxt(f"{o}/maps_L000.dat")
    num, cnt = np.zeros((T, T)), np.zeros((T, T))
    for n in range(N):
        tn = lens[n]
        num[:tn, :tn] += att[n, 0, :, :tn, :tn].astype(np.float64).mean(0)
        cnt[:tn, :tn] += 1
    check(close(got, num / cnt, 1e-5, 1e-6), "maps: padded cells averaged over the samples that reach them")

# ---- stats: the same numbers as the separate commands ----
st = js("stats", P)
h1 = js("heads", P)
check(json.dumps(st["heads"]["heads"]) == json.dumps(h1["heads"]), "stats heads == heads on a padded batch")
check(json.dumps(st["similarity"]["js"]) == json.dumps(sim["js"]), "stats similarity == similarity on a padded batch")
s24 = js("sinks", P, "--tokens", "20")
st20 = js("stats", P, "--tokens", "20", "--analyses", "sinks,heads")
check(json.dumps(st20["sinks"]["heads"]) == json.dumps(s24["heads"]) and st20["sinks"]["skipped_samples"] == 1,
      "stats sinks == sinks at --tokens 20 (one sample skipped)")

# ---- thread and memory invariance ----
for cmd in (["heads", P, "--clark"], ["similarity", P], ["kvsim", P, *pol], ["stats", P], ["sinks", P, "--tokens", "18"]):
    outs = set()
    for extra in (["--threads", "1"], ["--threads", "2"], ["--threads", "3", "--mem", "64M"]):
        x = js(*cmd, *extra)
        for y in [x, *[v for v in x.values() if isinstance(v, dict)]]:  # stats nests one result per analysis
            y.pop("params", None), y.pop("command", None)
        outs.add(json.dumps(x, sort_keys=True))
    check(len(outs) == 1, f"{cmd[0]}: results depend on --threads/--mem on a padded batch")

# ---- from q and k (GQA), padding NaN ----
D, Hkv = 8, 1
q = rng.standard_normal((N, L, H, T, D)).astype(np.float32)
k = rng.standard_normal((N, L, Hkv, T, D)).astype(np.float32)
for n, tn in enumerate(lens):
    q[n, :, :, tn:] = np.nan
    k[n, :, :, tn:] = np.nan
with h5py.File(f"{d}/qk.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, model="test", n_layers=L, n_heads=H, n_kv_heads=Hkv,
                        head_dim=D, causal=1, first_token_is_bos=1, source="test"))
    for l in range(L):
        f[f"q/L{l:03d}"] = q[:, l]
        f[f"k/L{l:03d}"] = k[:, l]
    f["lengths"] = np.array(lens, np.int32)
qa = np.full((N, L, H, T, T), np.nan)
for n, tn in enumerate(lens):
    s_ = np.einsum("lhid,ljd->lhij", q[n, :, :, :tn].astype(np.float64), k[n, :, 0, :tn].astype(np.float64)) / np.sqrt(D)
    s_ = np.where(np.tri(tn, dtype=bool), s_, -np.inf)
    e_ = np.exp(s_ - s_.max(-1, keepdims=True))
    qa[n, :, :, :tn, :tn] = e_ / e_.sum(-1, keepdims=True)
out = js("heads", f"{d}/qk.h5")
rows = {(x["layer"], x["head"]): x for x in out["heads"]}
ref = heads_ref(qa)
for key, v in ref.items():
    check(all(close(x[key], v[lh], 1e-5, 1e-7) for lh, x in rows.items()), f"heads from q/k, padded: {key}")
check(close(js("similarity", f"{d}/qk.h5")["js"], js_ref(qa), 1e-4, 1e-7), "similarity from q/k, padded")
qs = js("stats", f"{d}/qk.h5")
check(json.dumps(qs["heads"]["heads"]) == json.dumps(out["heads"]), "stats from q/k == heads from q/k, padded")

# ---- non-causal: each sample over its own keys ----
natt = padded_maps(causal=False)
write_v1(f"{d}/bidir.h5", natt, causal=False, extra=with_lengths)
heads_check([f"{d}/bidir.h5"], heads_ref(natt, causal=False), "heads, padded non-causal")
check(close(js("similarity", f"{d}/bidir.h5")["js"], js_ref(natt, causal=False), 1e-6, 1e-12), "similarity, padded non-causal")

finish("test_padded")
