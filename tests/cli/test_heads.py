"""`attnlab heads` end to end: files written by h5py in every dtype (GQA, non-causal, token classes as id lists
and as a bool mask dataset), compared with the definitions of METRICS.md section 2 written out here; planted roles
of `synth maps`; DuoAttention gates (threshold, numpy quantile, confusion); thread and memory invariance; figures;
every bad-input class."""
import json, os, shutil
import numpy as np
import h5py
from alcli import *


def profile(att, s=4, r=64, causal=True, clark=False, classes=()):
    """Head profile [L, H] per statistic: mean over rows, then samples (METRICS.md section 2)."""
    a = att.astype(np.float64)
    N, L, H, T, _ = a.shape
    i = np.arange(T)[:, None]; j = np.arange(T)[None, :]
    vis = (i[:, 0] + 1) if causal else np.full(T, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(a > 0, a * np.log(np.where(a > 0, a, 1)), 0).sum(-1)                 # N L H T
    if clark:
        b = 0.9999 * a + 1e-4 / T
        ent_c = -(b * np.log(b)).sum(-1)
    rows = vis > 1
    out = dict(entropy=(ent_c if clark else ent).mean(-1),
               entropy_norm=(ent[..., rows] / np.log(vis[rows])).mean(-1) if rows.any() else np.full((N, L, H), np.nan),
               first=a[..., :, 0].mean(-1), self=np.diagonal(a, axis1=-2, axis2=-1).mean(-1),
               prev=np.stack([a[..., k, k - 1] for k in range(1, T)], -1).mean(-1),
               distance=(a * np.abs(i - j)).sum(-1).mean(-1),
               distant_mass=(a * ((j >= s) & (j <= i - r))).sum(-1).mean(-1))
    if not causal:
        out["next"] = np.stack([a[..., k, k + 1] for k in range(T - 1)], -1).mean(-1)
    for name, mem in classes:                                                                # mem [N, T] bool
        out["class_" + name] = np.einsum("nlhij,nj->nlhi", a, mem.astype(np.float64)).mean(-1)
    return {k: v.mean(0) for k, v in out.items()}


def role(first, prev, self_, dm, en):
    if first > 0.3: return "sink"
    if prev >= 0.5: return "previous"
    if self_ >= 0.5: return "self"
    if dm >= 0.35: return "retrieval"
    if en >= 0.8: return "broad"
    return "mixed"


def compare(out, ref, what, keys=("entropy", "entropy_norm", "first", "self", "prev", "distance", "distant_mass")):
    rows = {(x["layer"], x["head"]): x for x in out["heads"]}
    L, H = ref["first"].shape
    check(len(rows) == L * H, f"{what}: {len(rows)} head rows, expected {L * H}")
    for k in keys:
        bad = [lh for lh, x in rows.items() if not close(x[k], ref[k][lh], 1e-6, 1e-12)]
        check(not bad, f"{what}: {k} differs at {bad[:3]}")
    bad = [lh for lh, x in rows.items()
           if x["role"] != role(*(ref[k][lh] for k in ("first", "prev", "self", "distant_mass", "entropy_norm")))]
    check(not bad, f"{what}: role differs at {bad[:3]}")
    return rows


d = tmpdir()
rng = np.random.default_rng(21)
att = softmax_maps(rng, 2, 3, 4, 70, sink_heads=[(0, 0), (2, 1)])

# 1. every dtype, GQA (4 query heads on 2 KV heads), distant-mass window, Clark's entropy
for dt in ("f32", "f16", "bf16"):
    p = f"{d}/r_{dt}.h5"
    write_v1(p, att, dt)
    with h5py.File(p, "a") as f:
        f.attrs["n_kv_heads"] = 2
    v = stored(att, dt)
    for T, s, r in ((70, 4, 64), (50, 2, 16), (33, 0, 1)):
        out = js("heads", p, "--tokens", T, "--sink-tokens", s, "--recent", r)
        rows = compare(out, profile(v[..., :T, :T], s, r), f"{dt} T={T} s={s} r={r}")
        check(all(x["kv_head"] == x["head"] // 2 for x in rows.values()), f"{dt}: kv_head is h / (H / H_kv)")
        check("next" not in next(iter(rows.values())), f"{dt}: causal maps have no 'next'")
        check(out["params"]["tokens"] == T and out["params"]["sink-tokens"] == s, f"{dt}: params record the values used")
    outc = js("heads", p, "--clark", "--tokens", 50)
    compare(outc, profile(v[..., :50, :50], clark=True), f"{dt} --clark", keys=("entropy",))
    check(all(close(x["entropy_norm"], y["entropy_norm"]) for x, y in zip(outc["heads"], js("heads", p, "--tokens", 50)["heads"])),
          f"{dt} --clark: entropy_norm stays unsmoothed")

# 2. the worked map W of METRICS.md (as a .npy dump)
W = np.array([[1, 0, 0, 0], [.8, .2, 0, 0], [.6, .1, .3, 0], [.5, .1, .1, .3]], np.float32)
np.save(f"{d}/w.npy", W[None, None, None])
w = js("heads", f"{d}/w.npy")["heads"][0]
check(close([w["entropy"], w["first"], w["self"], w["prev"], w["distance"]], [0.641658, 0.725, 0.45, 1 / 3, 0.975], 1e-6, 0),
      f"worked example W: {w}")
check(close(js("heads", f"{d}/w.npy", "--clark")["heads"][0]["entropy"], 0.642106, 1e-6, 0), "worked example W: Clark entropy")
check(w["role"] == "sink", "worked example W: first 0.725 > 0.3 is a sink")

# 3. non-causal maps: next, all keys visible; --tokens below T refused
bid = softmax_maps(rng, 1, 2, 3, 30, causal=False)
write_v1(f"{d}/bidir.h5", bid, causal=False)
out = js("heads", f"{d}/bidir.h5")
compare(out, profile(bid, causal=False), "non-causal", keys=("entropy", "entropy_norm", "first", "self", "prev", "next", "distance", "distant_mass"))
bad(["heads", f"{d}/bidir.h5", "--tokens", 20], "non-causal map with --tokens below T", "non-causal")

# 4. token classes: an id list against /tokens, a bool mask dataset written by h5py, and an int 0/1 mask
tok = rng.integers(0, 20, size=(2, 70)).astype(np.int32)
mask = rng.random((2, 70)) < 0.3
with h5py.File(f"{d}/r_f32.h5", "a") as f:
    f["tokens"] = tok
    f["punct"] = mask
    f["flags"] = (~mask).astype(np.uint8)
    f["badmask"] = np.full((2, 70), 2, np.int32)
    f["shortmask"] = np.zeros((2, 10), bool)
out = js("heads", f"{d}/r_f32.h5", "--class-tokens", "low=0-4,7", "--class-mask", "punct", "--class-mask", "flags")
ref = profile(att, classes=[("low", np.isin(tok, [0, 1, 2, 3, 4, 7])), ("punct", mask), ("flags", ~mask)])
for x in out["heads"]:
    lh = (x["layer"], x["head"])
    for name in ("low", "punct", "flags"):
        check(close(x["class_attention"][name], ref["class_" + name][lh], 1e-6, 1e-12), f"class attention {name} at {lh}")
out = js("heads", f"{d}/r_f32.h5", "--class-tokens", "3")
check("ids0" in out["heads"][0]["class_attention"], "an unnamed id class is called ids0")
bad(["heads", f"{d}/r_f32.h5", "--class-mask", "nosuch"], "class mask dataset missing", "nosuch")
bad(["heads", f"{d}/r_f32.h5", "--class-mask", "badmask"], "class mask with a value 2", "not a flag")
bad(["heads", f"{d}/r_f32.h5", "--class-mask", "shortmask"], "class mask shorter than T", "shortmask")
bad(["heads", f"{d}/r_f32.h5", "--class-tokens", "a=x,y"], "class ids not numbers", "--class-tokens")
bad(["heads", f"{d}/r_f16.h5", "--class-tokens", "1,2"], "class ids without /tokens", "tokens")

# 5. planted roles of synth maps: sink heads are labelled sink, previous-token heads previous
for dt in ("f32", "bf16"):
    rc, _, err = run("synth", "maps", "-o", f"{d}/syn_{dt}.h5", "--layers", 4, "--heads", 6, "--tokens", 160, "--dtype", dt, "--quiet")
    check(rc == 0, f"synth maps: {err}")
    out = js("heads", f"{d}/syn_{dt}.h5")
    with h5py.File(f"{d}/syn_{dt}.h5") as f:
        planted = [x.decode() if isinstance(x, bytes) else x for x in f.attrs["planted_roles"]]
    got = {x["layer"] * 6 + x["head"]: x["role"] for x in out["heads"]}
    for k, pr in enumerate(planted):
        if pr in ("sink", "previous"):
            check(got[k] == pr, f"synth {dt}: planted {pr} head {k} labelled {got[k]}")
        if pr == "broad":
            check(got[k] == "broad", f"synth {dt}: planted broad head {k} labelled {got[k]}")
    check(out["roles"]["sink"] >= 4 and out["roles"]["previous"] == 4, f"synth {dt}: role counts {out['roles']}")

# 6. results do not depend on --threads or --mem
a = js("heads", f"{d}/r_bf16.h5", "--threads", 1)
b = js("heads", f"{d}/r_bf16.h5", "--threads", 3, "--mem", "40K")
check(a["heads"] == b["heads"], "heads: --threads 1 and --threads 3 --mem 40K differ")

# 7. DuoAttention gates: GQA recording 3 layers x 2 KV heads
gates = np.array([[0.9, 0.1], [0.5, 0.49], [1.0, 0.25]])
np.savetxt(f"{d}/g.tsv", gates, delimiter="\t")
ref = profile(stored(att, "f32"), 2, 16)
proxy = ref["distant_mass"].reshape(3, 2, 2).mean(-1) >= 0.35
for extra, thr in (([], 0.5), (["--threshold", "0.3"], 0.3), (["--sparsity", "0.5"], float(np.quantile(gates, 0.5))),
                   (["--sparsity", "0.8"], float(np.quantile(gates, 0.8)))):
    out = js("heads", f"{d}/r_f32.h5", "--sink-tokens", 2, "--recent", 16, "--duo-gates", f"{d}/g.tsv", *extra)
    duo = out["duo"]
    g = gates >= thr
    check(duo["threshold"] == thr, f"duo {extra}: threshold {duo['threshold']} != {thr}")
    check(duo["retrieval_kv_heads"] == int(g.sum()) and duo["per_layer"] == [int(x) for x in g.sum(1)], f"duo {extra}: counts {duo}")
    want = dict(both=int((g & proxy).sum()), gate_only=int((g & ~proxy).sum()), proxy_only=int((~g & proxy).sum()),
                neither=int((~g & ~proxy).sum()))
    check(duo["confusion"] == want, f"duo {extra}: confusion {duo['confusion']} != {want}")
check(out["params"]["sparsity"] == 0.8 and any(i["path"].endswith("g.tsv") for i in out["inputs"]), "duo: params and inputs")
if SHARED and os.path.isdir(f"{SHARED}/data/duo-attention"):
    # a real gate file (32 layers x 8 KV heads) against a recording of that shape
    real = f"{SHARED}/data/duo-attention/Meta-Llama-3.1-8B-Instruct.tsv"
    G = np.loadtxt(real)
    big = softmax_maps(rng, 1, 32, 16, 12)
    write_v1(f"{d}/llama.h5", big)
    with h5py.File(f"{d}/llama.h5", "a") as f:
        f.attrs["n_kv_heads"] = 8
    duo = js("heads", f"{d}/llama.h5", "--duo-gates", real, "--sparsity", "0.5")["duo"]
    check(duo["threshold"] == float(np.quantile(G, 0.5)), "real gates: --sparsity 0.5 threshold is numpy's median")
    check(duo["retrieval_kv_heads"] == int((G >= np.quantile(G, 0.5)).sum()), "real gates: count at the median")
else:
    print("note: ../shared/data/duo-attention absent, real gate file not tested")

# bad gate files and flags
open(f"{d}/word.tsv", "w").write("0.1\tzero\n0.2\t0.3\n0.1\t0.1\n")
open(f"{d}/range.tsv", "w").write("0.1\t0.2\n0.2\t1.5\n0.1\t0.1\n")
open(f"{d}/ragged.tsv", "w").write("0.1\t0.2\n0.2\n0.1\t0.1\n")
open(f"{d}/empty.tsv", "w").write("")
np.savetxt(f"{d}/shape.tsv", np.zeros((3, 4)), delimiter="\t")
np.savetxt(f"{d}/rows.tsv", np.zeros((5, 2)), delimiter="\t")
o = f"{d}/o_bad"
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/word.tsv", "-o", o], "gate file with a word", "row 1, column 2", outdir=o)
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/range.tsv"], "gate outside [0, 1]", "row 2, column 2")
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/ragged.tsv"], "ragged gate file", "row 2")
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/empty.tsv"], "empty gate file", "empty")
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/shape.tsv"], "gate file with 4 KV heads for 2", "KV heads")
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/rows.tsv"], "gate file with 5 layers for 3", "layers")
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/missing.tsv"], "missing gate file", "missing.tsv")
bad(["heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/g.tsv", "--threshold", "0.4", "--sparsity", "0.5"], "threshold and sparsity", "--sparsity")
bad(["heads", f"{d}/r_f32.h5", "--sparsity", "0.5"], "--sparsity without gates", "--duo-gates")
bad(["heads", f"{d}/r_f32.h5", "--sparsity", "1.5", "--duo-gates", f"{d}/g.tsv"], "--sparsity outside [0, 1]", "--sparsity")

# 8. outputs: tables and figures (heatmaps of entropy, first, distant mass; the role map; duo agreement)
o = f"{d}/out"
rc, _, err = run("heads", f"{d}/r_f32.h5", "--duo-gates", f"{d}/g.tsv", "-o", o, "--quiet")
files = set(os.listdir(o)) if os.path.isdir(o) else set()
for name in ("heads.tsv", "heads.json", "heads_entropy.gp", "heads_first.gp", "heads_distant_mass.gp", "heads_roles.gp",
             "duo_agreement.gp", "duo_confusion.tsv"):
    check(name in files, f"-o: {name} missing ({sorted(files)[:8]})")
if shutil.which("gnuplot"):
    check("heads_roles.png" in files, "-o: gnuplot installed but heads_roles.png not rendered")
rc, txt, _ = run("heads", f"{d}/r_f32.h5", "--format", "table")
check(rc == 0 and "role" in txt and "distant_mass" in txt, "table output has the profile columns")
rc, hlp, _ = run("heads", "--help")
check(rc == 0 and "--duo-gates" in hlp and "--clark" in hlp and "retrieval" in hlp, "heads --help")

# 9. bad recordings
bad(["heads", f"{d}/missing.h5"], "missing recording")
bad(["heads", f"{d}/r_f32.h5", "--tokens", 500], "--tokens beyond T", "--tokens")
bad(["heads", f"{d}/r_f32.h5", "--recent", "-1"], "negative --recent", "--recent")
nan = W.copy(); nan[2, 1] = np.nan
np.save(f"{d}/nan.npy", nan[None, None, None])
bad(["heads", f"{d}/nan.npy", "-o", f"{d}/o_nan"], "NaN in a map", "NaN", outdir=f"{d}/o_nan")
finish("test_heads")
