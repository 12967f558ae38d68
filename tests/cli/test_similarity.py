"""`attnlab similarity` end to end: the JS matrix of METRICS.md section 2 (Clark's smoothing, mean over rows and
samples) written out here, in every dtype and for non-causal maps; classical MDS against numpy's eigh; identical
numbers whatever --threads and --mem (rows are streamed in blocks of all heads); q/k recordings; bad inputs."""
import os, shutil
import numpy as np
import h5py
from alcli import *


def js_matrix(att):
    N, L, H, T, _ = att.shape
    p = 0.001 / T + 0.999 * att.astype(np.float64).reshape(N, L * H, T, T)
    M = np.zeros((L * H, L * H))
    for x in range(L * H):
        for y in range(x + 1, L * H):
            m = (p[:, x] + p[:, y]) / 2
            v = 0.5 * (p[:, x] * np.log(p[:, x] / m)).sum(-1) + 0.5 * (p[:, y] * np.log(p[:, y] / m)).sum(-1)
            M[x, y] = M[y, x] = v.mean()
    return M


def mds(D, k=2):
    P = D.shape[0]
    J = np.eye(P) - 1.0 / P
    B = -0.5 * J @ (D ** 2) @ J
    w, V = np.linalg.eigh(B)
    w, V = w[::-1][:k], V[:, ::-1][:, :k]
    return V * np.sqrt(np.maximum(w, 0)), w


d = tmpdir()
rng = np.random.default_rng(8)
att = softmax_maps(rng, 2, 2, 3, 36, sink_heads=[(0, 0), (1, 2)])
for dt in ("f32", "f16", "bf16"):
    p = f"{d}/r_{dt}.h5"
    write_v1(p, att, dt)
    v = stored(att, dt)
    for T in (36, 20):
        out = js("similarity", p, "--tokens", T)
        check(out["heads"] == [[l, h] for l in range(2) for h in range(3)], f"{dt}: heads in (layer, head) order")
        M = js_matrix(v[..., :T, :T])
        check(close(out["js"], M, 1e-6, 1e-12), f"{dt} T={T}: JS matrix differs (max {np.max(np.abs(np.array(out['js']) - M)):.2e})")
        X, w = mds(np.array(out["js"]))
        got = np.array(out["mds"])
        check(close(out["mds_eigenvalues"], w, 1e-6, 1e-12), f"{dt} T={T}: MDS eigenvalues {out['mds_eigenvalues']} vs {w}")
        for c in range(2):
            s = 1.0 if np.dot(got[:, c], X[:, c]) >= 0 else -1.0
            check(close(got[:, c], s * X[:, c], 1e-5, 1e-9), f"{dt} T={T}: MDS coordinate {c} differs from numpy eigh")

# the worked pair of METRICS.md: p = [1, 0], q = [0.5, 0.5] as two one-row... two heads of a 2-token map (row 1)
W = np.zeros((1, 1, 2, 2, 2), np.float32)
W[0, 0, 0] = [[1, 0], [1, 0]]
W[0, 0, 1] = [[1, 0], [0.5, 0.5]]
np.save(f"{d}/w.npy", W)
out = js("similarity", f"{d}/w.npy")
check(close(out["js"][0][1], 0.213886 / 2, 1e-5), f"worked pair: JS {out['js'][0][1]} != 0.213886 / 2 (row 0 identical)")

# non-causal maps: every key of every row
bid = softmax_maps(rng, 1, 2, 2, 24, causal=False)
write_v1(f"{d}/bidir.h5", bid, causal=False)
check(close(js("similarity", f"{d}/bidir.h5")["js"], js_matrix(bid), 1e-6, 1e-12), "non-causal JS matrix")

# streaming: identical numbers for any --threads and any --mem (one row per block at 2K)
a = js("similarity", f"{d}/r_f16.h5", "--threads", 1)
b = js("similarity", f"{d}/r_f16.h5", "--threads", 4, "--mem", "2K")
check(a["js"] == b["js"] and a["mds"] == b["mds"], "similarity depends on --threads/--mem")

# from recorded q and k (GQA), equal to the maps they imply
rc, _, err = run("synth", "qk", "-o", f"{d}/qk.h5", "--with-maps", "--tokens", 40, "--heads", 4, "--kv-heads", 2,
                 "--layers", 2, "--samples", 2, "--quiet")
check(rc == 0, f"synth qk: {err}")
x = js("similarity", f"{d}/qk.h5")
y = js("similarity", f"{d}/qk.h5", "--from-qk", "--mem", "8K")
check(close(x["js"], y["js"], 1e-5, 1e-9), "similarity from q/k differs from the recorded maps")

# outputs and help
o = f"{d}/out"
rc, _, err = run("similarity", f"{d}/r_f32.h5", "-o", o, "--quiet")
files = set(os.listdir(o)) if os.path.isdir(o) else set()
for name in ("similarity_js.gp", "similarity_mds.gp", "similarity_mds.tsv", "similarity_js.tsv", "similarity.json"):
    check(name in files, f"-o: {name} missing")
if shutil.which("gnuplot"):
    check("similarity_mds.png" in files, "-o: similarity_mds.png not rendered")
rc, hlp, _ = run("similarity", "--help")
check(rc == 0 and "MDS" in hlp and "--mem" in hlp, "similarity --help")

bad(["similarity", f"{d}/missing.h5"], "missing recording")
bad(["similarity", f"{d}/r_f32.h5", "--tokens", 99], "--tokens beyond T", "--tokens")
bad(["similarity", f"{d}/bidir.h5", "--tokens", 10], "non-causal map with --tokens below T", "non-causal")
nan = att[:1].copy(); nan[0, 1, 2, 30, 3] = np.nan
write_v1(f"{d}/nan.h5", nan)
bad(["similarity", f"{d}/nan.h5", "-o", f"{d}/o_nan"], "NaN in a map", "attention/L001", outdir=f"{d}/o_nan")
finish("test_similarity")
