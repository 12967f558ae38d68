"""`attnlab kvsim` end to end: the worked map W of METRICS.md section 7, a GQA recording with values written by
h5py against a numpy reference written here, sweeps, DuoAttention by gate file and by distant mass, planted
heads of `attnlab synth maps`, -o outputs, and every bad-input class (exit 2, one error line)."""
import os
import numpy as np
import h5py
from alcli import *

d = tmpdir()


def keep(A, i, spec, recv, full=False):
    """K_i of METRICS.md section 7, read literally (ties to the lower key)."""
    name, _, args = spec.partition(":")
    p = [x for x in args.split(",") if x and not x.startswith(("gates=", "threshold="))]
    num = lambda x: int(x.split(":")[-1])
    rank = lambda vals, cand, k: set(sorted(cand, key=lambda j: (-vals[j], j))[:k])
    vis = range(i + 1)
    if full:
        K = set(vis)
    elif name == "window":
        K = {j for j in vis if j > i - num(p[0])}
    elif name in ("sink", "duo"):
        s, w = num(p[0]), num(p[1])
        K = {j for j in vis if j < s or j > i - w}
    elif name == "h2o":
        b, w = num(p[0]), num(p[1])
        K = {j for j in vis if j > i - w} | rank(recv, [j for j in vis if j <= i - w], b)
    elif name == "topk":
        K = rank(A[i], list(vis), int(p[0]))
    elif name == "coverage":
        K, m = set(), 0.0
        for j in sorted(vis, key=lambda j: (-A[i, j], j)):
            if m >= float(p[0]):
                break
            K.add(j)
            m += A[i, j]
    K.add(i)
    return sorted(K)


def head(A, spec, v=None, full=False):
    A = A.astype(np.float64)
    T = A.shape[0]
    r, f, e = [], [], []
    for i in range(T):
        K = keep(A, i, spec, A[:i].sum(0), full)
        m = A[i, K].sum()
        r.append(m)
        f.append(len(K) / (i + 1))
        if v is not None:
            o = A[i, :i + 1] @ v[:i + 1]
            e.append(np.linalg.norm(A[i, K] @ v[K] / m - o) / np.linalg.norm(o))
    return np.mean(r), np.mean(f), (np.mean(e) if v is not None else None)


def write(path, att, v=None, hkv=None, causal=1):
    N, L, H, T, _ = att.shape
    with h5py.File(path, "w") as f:
        f.attrs.update(dict(attnlab_format="recording", format_version=1, model="test", n_layers=L, n_heads=H,
                            n_kv_heads=hkv or H, head_dim=v.shape[-1] if v is not None else 8, causal=causal,
                            first_token_is_bos=1, source="test"))
        for l in range(L):
            f.create_dataset(f"attention/L{l:03d}", data=att[:, l].astype(np.float32))
            if v is not None:
                f.create_dataset(f"v/L{l:03d}", data=v[:, l].astype(np.float32))


# 1. the worked map W (float32 as a recording holds it)
W = np.array([[1, 0, 0, 0], [.8, .2, 0, 0], [.6, .1, .3, 0], [.5, .1, .1, .3]], np.float32)
write(f"{d}/W.h5", W[None, None, None])
out = js("kvsim", f"{d}/W.h5", "--policy", "window:1", "--policy", "sink:1,window:1", "--policy", "topk:1",
         "--policy", "h2o:1,window:1", "--policy", "coverage:0.9")
got = {p["policy"]: p for p in out["policies"]}
for sp, want in (("window:1", 0.45), ("sink:1,window:1", 0.925), ("topk:1", 0.925), ("h2o:1,window:1", 0.925),
                 ("coverage:0.9", 0.95)):
    check(close(got[sp]["retained"], want, 1e-7), f"W {sp}: retained {got[sp]['retained']} != {want}")
check(close(got["sink:1,window:1"]["kept_fraction"], (1 + 1 + 2 / 3 + 1 / 2) / 4), "W sink:1,window:1 kept_fraction")
check("output_error" not in got["window:1"], "W: output_error reported without values")
check(len(got["window:1"]["heads"]) == 1 and got["window:1"]["heads"][0]["layer"] == 0, "W: heads list")

# 2. GQA recording with values: every policy against the reference, per head and whole
rng = np.random.default_rng(11)
N, L, H, HKV, T, D = 2, 2, 4, 2, 24, 5
logits = rng.normal(0, 2, (N, L, H, T, T))
logits[:, :, 0, :, 0] += 4  # a sink head
logits[:, :, 1] += 3 * np.eye(T)[None, None] + 3 * np.eye(T, k=-1)[None, None]  # a local head
logits = np.where(np.tril(np.ones((T, T), bool)), logits, -np.inf)
att = np.exp(logits - logits.max(-1, keepdims=True))
att = (att / att.sum(-1, keepdims=True)).astype(np.float32)
v = rng.normal(0, 1, (N, L, HKV, T, D)).astype(np.float32)
write(f"{d}/gqa.h5", att, v, HKV)
gates = f"{d}/gates.tsv"
G = np.array([[0.9, 0.1], [0.2, 0.7]])
open(gates, "w").write("\n".join("\t".join(str(x) for x in row) for row in G) + "\n")
specs = ["window:5", "sink:2,window:4", "h2o:3,window:3", "topk:4", "coverage:0.8", "duo:2,4",
         "duo:2,4,threshold=0.1", f"duo:1,3,gates={gates}"]
args = ["kvsim", f"{d}/gqa.h5"]
for sp in specs:
    args += ["--policy", sp]
out = js(*args)
got = {p["policy"]: p for p in out["policies"]}
check(list(got) == specs, f"policies in order given: {list(got)}")
for sp in specs:
    R, F, E = np.zeros((N, L, H)), np.zeros((N, L, H)), np.zeros((N, L, H))
    s, w = (1, 3) if "gates" in sp else (2, 4)
    dist = np.array([[[np.mean([att[n, l, h, i, s:max(s, i - w + 1)].astype(np.float64).sum() for i in range(T)])
                       for h in range(H)] for l in range(L)] for n in range(N)]).mean(0)
    thr = 0.1 if "threshold=0.1" in sp else 0.35
    for n in range(N):
        for l in range(L):
            for h in range(H):
                full = sp.startswith("duo") and (G[l, h // 2] >= 0.5 if "gates" in sp else dist[l, h] >= thr)
                R[n, l, h], F[n, l, h], E[n, l, h] = head(att[n, l, h], sp, v[n, l, h // 2], full)
    p = got[sp]
    check(close(p["retained"], R.mean()) and close(p["kept_fraction"], F.mean()), f"{sp}: whole retained/kept_fraction")
    check(close(p["output_error"], E.mean(), 1e-6), f"{sp}: output_error {p['output_error']} != {E.mean()}")
    bad_heads = [(x["layer"], x["head"]) for x in p["heads"]
                 if not (close(x["retained"], R[:, x["layer"], x["head"]].mean())
                         and close(x["kept_fraction"], F[:, x["layer"], x["head"]].mean())
                         and close(x["output_error"], E[:, x["layer"], x["head"]].mean(), 1e-6))]
    check(len(p["heads"]) == L * H and not bad_heads, f"{sp}: heads differ at {bad_heads[:3]}")
# gate file: KV head 0 of layer 0 and KV head 1 of layer 1 keep everything
hd = {(x["layer"], x["head"]): x for x in got[f"duo:1,3,gates={gates}"]["heads"]}
check(all(hd[k]["kept_fraction"] == 1 for k in ((0, 0), (0, 1), (1, 2), (1, 3))), "gate-file retrieval heads keep all keys")
check(got["sink:2,window:4"]["heads"][0]["retained"] > got["window:5"]["heads"][0]["retained"], "sink head: sinks help")

# 3. sweeps: one entry per budget, identical to the same policies given one by one
out = js("kvsim", f"{d}/gqa.h5", "--sweep", "window:2..16x2", "--sweep", "sink:1,window:3..12x2")
names = [p["policy"] for p in out["policies"]]
check(names == ["window:2", "window:4", "window:8", "window:16", "sink:1,window:3", "sink:1,window:6", "sink:1,window:12"],
      f"sweep budgets {names}")
one = js("kvsim", f"{d}/gqa.h5", "--policy", "window:8")
check(out["policies"][2] == one["policies"][0], "a swept policy equals the same policy given alone")
check([p["retained"] for p in out["policies"][:4]] == sorted(p["retained"] for p in out["policies"][:4]),
      "retained grows with the window")

# 4. planted structure from `attnlab synth maps`: sink heads keep their mass with one sink token
rc, _, err = run("synth", "maps", "-o", f"{d}/s.h5", "--tokens", 48, "--layers", 2, "--heads", 6)
check(rc == 0, f"synth: {err}")
out = js("kvsim", f"{d}/s.h5", "--policy", "window:4", "--policy", "sink:1,window:4", "--threads", 2, "--mem", "64K")
roles = [str(x) for x in h5py.File(f"{d}/s.h5").attrs["planted_roles"]]
win = {(x["layer"], x["head"]): x["retained"] for x in out["policies"][0]["heads"]}
snk = {(x["layer"], x["head"]): x["retained"] for x in out["policies"][1]["heads"]}
for k, role in enumerate(roles):
    lh = (k // 6, k % 6)
    if role == "sink":
        check(snk[lh] > win[lh] + 0.2, f"planted sink head {lh}: {snk[lh]} vs {win[lh]}")
    if role in ("previous", "local"):
        check(win[lh] > 0.8, f"planted {role} head {lh}: window:4 retains {win[lh]}")
again = js("kvsim", f"{d}/s.h5", "--policy", "window:4", "--policy", "sink:1,window:4", "--threads", 1)
check(again["policies"] == out["policies"], "results depend on --threads or --mem")

# rows long enough (>= 256 keys) to be searched within the band a sample of the row points to: top-k and coverage
# against the reference, and results independent of --threads and of AVX2
rc, _, err = run("synth", "maps", "-o", f"{d}/long.h5", "--tokens", 400, "--layers", 1, "--heads", 6)
check(rc == 0, f"synth: {err}")
pols = ["--policy", "topk:16", "--policy", "coverage:0.9", "--policy", "h2o:8,window:16", "--sweep", "topk:4..64x4"]
base = js("kvsim", f"{d}/long.h5", *pols, "--threads", 2)
maps = h5py.File(f"{d}/long.h5")["attention/L000"][:]  # [N, H, T, T]
for sp in ("topk:16", "coverage:0.9"):
    pl = [x for x in base["policies"] if x["policy"] == sp][0]
    for h in (0, 1, 3):
        R, F = np.mean([head(maps[n, h], sp)[:2] for n in range(len(maps))], 0)
        x = pl["heads"][h]
        check(close(x["retained"], R) and close(x["kept_fraction"], F, 1e-12), f"long rows {sp} head {h}: {x} vs {R}, {F}")
check(js("kvsim", f"{d}/long.h5", *pols, "--threads", 1)["policies"] == base["policies"], "long rows: --threads")
os.environ["ATTNLAB_NO_SIMD"] = "1"
check(js("kvsim", f"{d}/long.h5", *pols, "--threads", 2)["policies"] == base["policies"], "long rows: AVX2 or not")
del os.environ["ATTNLAB_NO_SIMD"]

# 5. -o: tables and figures
od = f"{d}/out"
rc, _, err = run("kvsim", f"{d}/gqa.h5", "--sweep", "topk:1..16x2", "-o", od)
check(rc == 0 and all(os.path.exists(f"{od}/{x}") for x in ("kvsim.json", "kvsim_policies.tsv", "kvsim_heads.tsv",
                                                            "kvsim_tradeoff.gp", "kvsim_retained.gp")), f"-o outputs: {err}")

# 6. bad input: exit 2, one line, no partial output
for pol, what in (("sink:four,window:16", "malformed"), ("teleport:3", "unknown"), ("window:0", "zero window"),
                  ("coverage:1.5", "coverage > 1"), ("duo:2", "duo without window"), ("topk:3,4", "extra argument")):
    bad(["kvsim", f"{d}/gqa.h5", "--policy", pol, "-o", f"{d}/o_{what.replace(' ', '_')}"], f"policy {what}", pol,
        f"{d}/o_{what.replace(' ', '_')}")
for sw in ("window:16..8x2", "window:2..8x1", "window:8", "window:a..8x2"):
    bad(["kvsim", f"{d}/gqa.h5", "--sweep", sw], f"sweep {sw}", sw)
bad(["kvsim", f"{d}/gqa.h5"], "no policy", "--policy")
bad(["kvsim", f"{d}/gqa.h5", "--policy", f"duo:1,3,gates={d}/missing.tsv"], "missing gate file", "missing.tsv")
open(f"{d}/g3.tsv", "w").write("0.1\t0.2\t0.3\n0.1\t0.2\t0.3\n")
bad(["kvsim", f"{d}/gqa.h5", "--policy", f"duo:1,3,gates={d}/g3.tsv"], "gate file of the wrong width", "g3.tsv")
write(f"{d}/enc.h5", att / att.sum(-1, keepdims=True), causal=0)
bad(["kvsim", f"{d}/enc.h5", "--policy", "window:4"], "non-causal maps", "causal")
bad(["kvsim", f"{d}/gqa.h5", "--policy", "window:4", "--tokens", 99], "too many tokens")

finish("kvsim")
