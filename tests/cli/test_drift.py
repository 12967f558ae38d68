"""`attnlab drift` end to end: METRICS.md section 3 (the project's own definition) written out here and compared
on h5py-written pairs of different lengths aligned by span names (absent spans, the last-token fallback, other
query/target spans, per-key mode without spans); planted drift heads of `synth drift` are the focal heads; z-scores,
focal ranking, focal layers and layer_range; every bad-input class."""
import os, shutil
import numpy as np
import h5py
from alcli import *


def dist(a, spans, names, qspan, T):
    """a [T, T] one head/sample; spans {name: (s, e)} -> masses per span + other, mean over query rows."""
    s = dict(zip(names, spans))
    rows = range(*s[qspan]) if qspan in s and s[qspan][0] >= 0 else [T - 1]
    inside = np.zeros(a.shape[-1], bool)
    for nm in names:
        if s[nm][0] >= 0:
            inside[s[nm][0]:s[nm][1]] = True
    m = [np.mean([a[i, s[nm][0]:s[nm][1]].sum() if s[nm][0] >= 0 else 0.0 for i in rows]) for nm in names]
    return np.array(m + [np.mean([a[i, ~inside].sum() for i in rows])])


def drift_ref(base, conf, bs, cs, names, qspan="response", target="system", top=10.0, per_key=False):
    N, L, H = base.shape[:3]
    comp = np.zeros((3, L, H))
    for l in range(L):
        for h in range(H):
            c = []
            for n in range(N):
                if per_key:
                    p, q, t = base[n, l, h, -1].astype(np.float64), conf[n, l, h, -1].astype(np.float64), 0
                else:
                    p = dist(base[n, l, h].astype(np.float64), bs[n], names, qspan, base.shape[-1])
                    q = dist(conf[n, l, h].astype(np.float64), cs[n], names, qspan, conf.shape[-1])
                    t = names.index(target)
                m = (p + q) / 2
                with np.errstate(divide="ignore", invalid="ignore"):
                    jsd = 0.5 * np.where(p > 0, p * np.log(p / m), 0).sum() + 0.5 * np.where(q > 0, q * np.log(q / m), 0).sum()
                c.append([abs(q[t] - p[t]), 1 - p @ q / np.linalg.norm(p) / np.linalg.norm(q), jsd])
            comp[:, l, h] = np.mean(c, 0)
    z = [(x - x.mean()) / x.std() if x.max() > x.min() else np.zeros_like(x) for x in comp]
    score = np.mean(z, 0)
    k = max(1, int(np.floor(L * H * top / 100.0 + 0.5)))
    focal = [(int(o // H), int(o % H)) for o in np.argsort(-score, axis=None, kind="stable")[:k]]
    return comp, score, focal


def write_pair(path, att, spans, names):
    write_v1(path, att)
    if spans is not None:
        with h5py.File(path, "a") as f:
            ds = f.create_dataset("spans", data=np.asarray(spans, np.int32))
            ds.attrs["names"] = names


def compare(out, comp, score, focal, what):
    rows = {(x["layer"], x["head"]): x for x in out["heads"]}
    for i, k in enumerate(("magnitude", "direction", "reshaping")):
        bad_ = [lh for lh, x in rows.items() if not close(x[k], comp[i][lh], 1e-6, 1e-10)]
        check(not bad_, f"{what}: {k} differs at {bad_[:3]}")
    check(all(close(x["score"], score[lh], 1e-6, 1e-9) for lh, x in rows.items()), f"{what}: score differs")
    check([tuple(x) for x in out["focal_heads"]] == focal, f"{what}: focal {out['focal_heads']} != {focal}")


d = tmpdir()
rng = np.random.default_rng(4)
names = ["system", "user", "response"]
N, L, H = 3, 3, 4
base = softmax_maps(rng, N, L, H, 30, sink_heads=[(0, 1)])
conf = softmax_maps(rng, N, L, H, 38, sink_heads=[(0, 1)])
conf[:, 1, 2, :, :6] *= 0.1                          # planted: layer 1 head 2 leaves the system span
conf[:, 1, 2] /= conf[:, 1, 2].sum(-1, keepdims=True)
bs = [[[0, 6], [6, 22], [22, 30]], [[0, 6], [6, 22], [22, 30]], [[0, 6], [-1, -1], [6, 30]]]   # user absent in sample 2
cs = [[[0, 6], [6, 30], [30, 38]], [[0, 6], [6, 30], [-1, -1]], [[0, 6], [-1, -1], [6, 38]]]   # response absent: last token
write_pair(f"{d}/b.h5", base, bs, names)
write_pair(f"{d}/c.h5", conf, cs, names)
out = js("drift", f"{d}/b.h5", f"{d}/c.h5")
comp, score, focal = drift_ref(base, conf, bs, cs, names)
compare(out, comp, score, focal, "spans, different lengths")
check((1, 2) == tuple(out["focal_heads"][0]), f"planted head (1, 2) is not the top focal head: {out['focal_heads']}")
check(out["groups"] == names + ["other"] and out["target"] == "system", f"groups {out['groups']}, target {out['target']}")
check(out["focal_layers"] == [1] and out["layer_range"] == "1", f"focal layers {out['focal_layers']} {out['layer_range']}")

# other query and target spans, more focal heads; the span files may list names in another order
write_pair(f"{d}/c2.h5", conf, [[s[2], s[0], s[1]] for s in cs], ["response", "system", "user"])
for args, kw in ((["--target-span", "user", "--query-span", "user"], dict(qspan="user", target="user")),
                 (["--top-percent", "30"], dict(top=30.0)), (["--top-percent", "0"], dict(top=0.0))):
    out = js("drift", f"{d}/b.h5", f"{d}/c2.h5", *args)
    comp, score, focal = drift_ref(base, conf, bs, cs, names, **kw)
    compare(out, comp, score, focal, f"drift {' '.join(args)}")
    # focal layers: fewest layers by focal count (ties: mean score, then lower layer) holding half of the focal heads
    cnt = {}
    for l, h in focal:
        cnt.setdefault(l, []).append(score[l, h])
    order = sorted(cnt, key=lambda l: (-len(cnt[l]), -np.mean(cnt[l]), l))
    want, held = [], 0
    for l in order:
        if 2 * held >= len(focal): break
        want.append(l); held += len(cnt[l])
    check(out["focal_layers"] == sorted(want), f"{args}: focal layers {out['focal_layers']} != {sorted(want)}")

# padded batches (/lengths): each sample streamed over its own valid tokens, its spans within them; padding is NaN
def padded(att, lens):
    a = att.copy()
    for n, tn in enumerate(lens):
        a[n, :, :, tn:, :] = np.nan
        a[n, :, :, :tn, :tn] = softmax_maps(rng, 1, L, H, tn, sink_heads=[(0, 1)])[0]
    return a


for nm, full, lens in (("pb", base, [30, 24, 27]), ("pc", conf, [38, 33, 35])):
    a = padded(full, lens)
    sp = [[[0, 6], [6, t - 6], [t - 6, t]] for t in lens]
    write_pair(f"{d}/{nm}.h5", a, sp, names)
    with h5py.File(f"{d}/{nm}.h5", "a") as f:
        f["lengths"] = np.array(lens, np.int32)
    if nm == "pb":
        pb, pbs = a, sp
    else:
        pc, pcs = a, sp
out = js("drift", f"{d}/pb.h5", f"{d}/pc.h5")
comp, score, focal = drift_ref(pb, pc, pbs, pcs, names)
compare(out, comp, score, focal, "padded batches with spans")

# per-key mode: no spans, equal lengths, last token against key 0
b2 = softmax_maps(rng, 2, 2, 3, 16)
c2 = softmax_maps(rng, 2, 2, 3, 16)
write_pair(f"{d}/kb.h5", b2, None, None)
write_pair(f"{d}/kc.h5", c2, None, None)
out = js("drift", f"{d}/kb.h5", f"{d}/kc.h5")
comp, score, focal = drift_ref(b2, c2, None, None, None, per_key=True)
compare(out, comp, score, focal, "per-key mode")
check(out["target"] == "key 0" and len(out["groups"]) == 16, "per-key mode: groups are keys, target key 0")

# synth drift: the planted heads are exactly the focal heads, in every dtype
for dt in ("f32", "f16", "bf16"):
    o = f"{d}/syn_{dt}"
    rc, _, err = run("synth", "drift", "-o", o, "--layers", 6, "--heads", 5, "--tokens", 96, "--dtype", dt, "--quiet")
    check(rc == 0 and os.path.exists(f"{o}/baseline.h5") and os.path.exists(f"{o}/conflict.h5"), f"synth drift {dt}: {err}")
    with h5py.File(f"{o}/conflict.h5") as f:
        planted = sorted(tuple(int(v) for v in (x.decode() if isinstance(x, bytes) else x).split(",")) for x in f.attrs["planted_drift_heads"])
        check(f["spans"].shape == (2, 3, 2) and f["attention/L000"].shape[-1] == 96 + 24, f"synth drift {dt}: conflict is longer")
    out = js("drift", f"{o}/baseline.h5", f"{o}/conflict.h5")
    check(sorted(tuple(x) for x in out["focal_heads"]) == planted, f"synth drift {dt}: focal {out['focal_heads']} != planted {planted}")
    check(out["focal_layers"] == [3] and out["layer_range"] == "3", f"synth drift {dt}: focal layers {out['focal_layers']}")
a = js("drift", f"{d}/syn_f16/baseline.h5", f"{d}/syn_f16/conflict.h5", "--threads", 1)
b = js("drift", f"{d}/syn_f16/baseline.h5", f"{d}/syn_f16/conflict.h5", "--threads", 3, "--mem", "30K")
check(a["heads"] == b["heads"], "drift depends on --threads/--mem")
bad(["synth", "drift", "-o", f"{d}/syn_f32/baseline.h5"], "synth drift -o naming a file", "folder")

# outputs
o = f"{d}/out"
rc, _, err = run("drift", f"{d}/b.h5", f"{d}/c.h5", "-o", o, "--quiet")
files = set(os.listdir(o)) if os.path.isdir(o) else set()
for name in ("drift_heads.tsv", "drift_focal.tsv", "drift_score.gp", "drift_focal_spans.gp", "drift.json"):
    check(name in files, f"-o: {name} missing")
if shutil.which("gnuplot"):
    check("drift_focal_spans.png" in files, "-o: drift_focal_spans.png not rendered")
rc, hlp, _ = run("drift", "--help")
check(rc == 0 and "project's own" in hlp and "--top-percent" in hlp, "drift --help")

# bad inputs: each class exits 2 with one line naming the problem, leaving no output
o = f"{d}/o_bad"
write_pair(f"{d}/nospans.h5", conf, None, None)
bad(["drift", f"{d}/b.h5", f"{d}/nospans.h5", "-o", o], "spans missing in one recording", "spans", outdir=o)
write_pair(f"{d}/klong.h5", softmax_maps(rng, 2, 2, 3, 20), None, None)
bad(["drift", f"{d}/kb.h5", f"{d}/klong.h5"], "different lengths without spans", "different lengths")
for sp, what in (([[0, 6], [6, 30], [30, 39]], "end beyond T"), ([[0, 6], [20, 10], [30, 38]], "start after end"),
                 ([[-1, 6], [6, 30], [30, 38]], "half-absent span")):
    write_pair(f"{d}/range.h5", conf, [sp] * N, names)
    bad(["drift", f"{d}/b.h5", f"{d}/range.h5"], f"span out of range ({what})", "out of range")
write_pair(f"{d}/empty.h5", conf, [[[0, 6], [6, 30], [30, 30]]] * N, names)
bad(["drift", f"{d}/b.h5", f"{d}/empty.h5"], "empty query span", "empty")
write_pair(f"{d}/othernames.h5", conf, cs, ["system", "prompt", "response"])
bad(["drift", f"{d}/b.h5", f"{d}/othernames.h5"], "span names differ", "user")
bad(["drift", f"{d}/b.h5", f"{d}/c.h5", "--target-span", "tools"], "target span missing", "tools")
bad(["drift", f"{d}/b.h5", f"{d}/c.h5", "--query-span", "tools"], "query span missing", "tools")
bad(["drift", f"{d}/kb.h5", f"{d}/kc.h5", "--target-span", "system"], "span flags without spans", "--target-span")
write_pair(f"{d}/shape.h5", softmax_maps(rng, N, L, H + 1, 38), cs, names)
bad(["drift", f"{d}/b.h5", f"{d}/shape.h5"], "models of different shape", "different shape")
write_pair(f"{d}/layers.h5", softmax_maps(rng, N, L + 1, H, 38), cs, names)
bad(["drift", f"{d}/b.h5", f"{d}/layers.h5"], "different layer count", "different shape")
write_pair(f"{d}/samples.h5", conf[:2], cs[:2], names)
bad(["drift", f"{d}/b.h5", f"{d}/samples.h5"], "different sample counts", "samples")
bad(["drift", f"{d}/b.h5"], "one recording only", "usage")
bad(["drift", f"{d}/b.h5", f"{d}/c.h5", "--top-percent", "150"], "--top-percent above 100", "--top-percent")
finish("test_drift")
