"""`attnlab semdrift` end to end (METRICS.md section 5): similarity CSV against scipy.optimize.curve_fit on several
curves (noisy ones, one that does not converge, one too short to fit), embeddings per generation in HDF5 in three
dtypes, -o outputs with the figure, and every bad-input class."""
import os, shutil
import numpy as np
import h5py
from alcli import *
from logsref import *

d = tmpdir()
from scipy.optimize import curve_fit

rng = np.random.default_rng(29)

# ---------------------------------------------------------------- semdrift: similarities CSV against scipy

f_exp = lambda x, a, b, c: a * np.exp(-b * x) + c
dirs = [("text-text", range(2, 21, 2), 0.35, 0.18, 0.6, 0.03), ("image-text", range(1, 20, 2), 0.1, 0.3, 0.2, 0.0),
        ("noisy", range(1, 25), 0.5, 0.12, 0.3, 0.08), ("rising", range(1, 7), None, None, None, None),
        ("short", (2, 4), 0.3, 0.2, 0.5, 0.01)]
rows = []
for name, gens, a, b, c, noise in dirs:
    for g in gens:
        for n in range(13):
            s = g / 10 if a is None else a * np.exp(-b * g) + c + rng.normal(0, noise)
            rows.append((name, g, f"s{n}", round(float(np.clip(s, -1, 1)), 7)))
order = rng.permutation(len(rows))
with open(f"{d}/sim.csv", "w") as f:
    f.write("sample,direction,similarity,generation,model\n")  # columns in any order, extra ones ignored
    for i in order:
        r = rows[i]
        f.write(f"{r[2]},{r[0]},{r[3]},{r[1]},m\n")
out = js("semdrift", f"{d}/sim.csv")
got = {x["name"]: x for x in out["directions"]}
check([x["name"] for x in out["directions"]] == list(dict.fromkeys(rows[i][0] for i in order)), "semdrift: directions not in order of first appearance")
mcds, conv_fits = [], []
for name, gens, *_ in dirs:
    per = {g: [r[3] for r in rows if r[0] == name and r[1] == g] for g in gens}
    m = [np.mean(per[g]) for g in gens]
    mcds.append(np.mean(m))
    x = got[name]
    check(x["generations"] == list(gens) and close(x["mean_similarity"], m, 1e-12), f"semdrift {name}: mean similarity")
    check(close(x["mcd"], np.mean(m), 1e-12), f"semdrift {name}: MCD")
    try:
        p, _ = curve_fit(f_exp, list(gens), m, p0=(1, 0.1, 0), maxfev=5000)
    except (RuntimeError, TypeError):
        p = None
    if p is None:
        check(x["fit"]["converged"] is False and x["fit"]["b"] is None, f"semdrift {name}: a failed fit must be reported as such ({x['fit']})")
    else:
        conv_fits.append(p)
        check(x["fit"]["converged"] is True and close([x["fit"][k] for k in "abc"], p, 1e-6, 1e-9),
              f"semdrift {name}: fit {[x['fit'][k] for k in 'abc']} != scipy {list(p)}")
check(close(out["mcd"], np.mean(mcds), 1e-12), "semdrift: MCD over directions")
check(close([out["sdr"][k] for k in "abc"], np.mean(conv_fits, 0), 1e-6, 1e-9) and out["sdr"]["converged_directions"] == len(conv_fits),
      "semdrift: SDR is the mean over converged directions")
rc, _, err = run("semdrift", f"{d}/sim.csv", "-o", f"{d}/out_sd")
files = os.listdir(f"{d}/out_sd") if os.path.isdir(f"{d}/out_sd") else []
check(rc == 0 and "semdrift_fit.gp" in files and "semdrift_directions.tsv" in files, f"semdrift -o: {files} {err[:100]}")
if shutil.which("gnuplot"):
    check("semdrift_fit.png" in files, "semdrift -o: figure not rendered")

# ---------------------------------------------------------------- semdrift: embeddings per generation (HDF5)

N, Dm = 9, 70
emb = {}
with h5py.File(f"{d}/emb.h5", "w") as f:
    for name, gens, dt in (("t2t", (0, 2, 4, 6, 8, 10), np.float32), ("i2i", (0, 1, 3, 5, 7), np.float16), ("a2b", (0, 3, 6, 9), np.float64)):
        e0 = rng.standard_normal((N, Dm))
        for g in gens:
            e = e0 * np.exp(-0.15 * g) + rng.standard_normal((N, Dm)) * (1 - np.exp(-0.15 * g))
            f.create_dataset(f"embeddings/{name}/G{g:02d}", data=e.astype(dt))
            emb[(name, g)] = e.astype(dt).astype(np.float64)
oe = js("semdrift", f"{d}/emb.h5", "--mem", "4K")
check([x["name"] for x in oe["directions"]] == ["a2b", "i2i", "t2t"], "embeddings: directions in name order")
for x in oe["directions"]:
    gens = [g for (n, g) in emb if n == x["name"] and g > 0]
    ref0 = emb[(x["name"], 0)]
    m = [np.mean([a @ b / np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(emb[(x["name"], g)], ref0)]) for g in gens]
    check(x["generations"] == gens and close(x["mean_similarity"], m, 1e-12), f"embeddings {x['name']}: cosines differ")
check(oe["directions"] == js("semdrift", f"{d}/emb.h5")["directions"], "embeddings: --mem changes the results")

# ---------------------------------------------------------------- semdrift: bad input

hdr = "direction,generation,sample,similarity\n"
for text, what, needle in ((hdr + "text-text,2,0,abc\n", "non-numeric similarity", "line 2, column 'similarity'"),
                           (hdr + "text-text,2,0,0.5\ntext-text,4,0,1.5\n", "similarity 1.5", "line 3"),
                           (hdr + "text-text,2.5,0,0.5\n", "fractional generation", "line 2, column 'generation'"),
                           (hdr + "text-text,-2,0,0.5\n", "negative generation", "line 2"),
                           (hdr + "t,2,0,0.5\nt,2,0,0.6\n", "repeated sample", "line 3"),
                           (hdr + "t,2,0,0.5\nt,4,0\n", "short row", "line 3"),
                           (hdr + "t,2,0,\"0.5\n", "unterminated quote", "line 2"),
                           ("direction,generation,similarity\nt,2,0.5\n", "missing sample column", "no column 'sample'"),
                           (hdr, "no rows", "no rows"),
                           ("", "empty file", "empty")):
    open(f"{d}/bad.csv", "w").write(text)
    bad(["semdrift", f"{d}/bad.csv", "-o", f"{d}/o_sd"], f"semdrift {what}", needle, f"{d}/o_sd")
with h5py.File(f"{d}/emb_bad.h5", "w") as f:
    f["embeddings/t/G00"] = np.ones((3, 4), np.float32)
    z = np.ones((3, 4), np.float32); z[1] = 0
    f["embeddings/t/G02"] = z
bad(["semdrift", f"{d}/emb_bad.h5"], "zero embedding", "sample 1")
with h5py.File(f"{d}/emb_shape.h5", "w") as f:
    f["embeddings/t/G00"] = np.ones((3, 4), np.float32)
    f["embeddings/t/G02"] = np.ones((3, 5), np.float32)
bad(["semdrift", f"{d}/emb_shape.h5"], "embeddings of another width", "G02")
with h5py.File(f"{d}/emb_nog0.h5", "w") as f:
    f["embeddings/t/G01"] = np.ones((3, 4), np.float32)
    f["embeddings/t/G02"] = np.ones((3, 4), np.float32)
bad(["semdrift", f"{d}/emb_nog0.h5"], "no generation 0", "no G00")
with h5py.File(f"{d}/emb_nan.h5", "w") as f:
    f["embeddings/t/G00"] = np.ones((3, 4), np.float32)
    f["embeddings/t/G01"] = np.where(np.arange(12).reshape(3, 4) == 9, np.nan, 1).astype(np.float32)
bad(["semdrift", f"{d}/emb_nan.h5"], "NaN embedding", "sample 2")

# ---------------------------------------------------------------- help

for cmd, words in (("semdrift", ("MCD", "SDR")),):
    rc, out, _ = run(cmd, "--help")
    check(rc == 0 and all(w in out for w in words), f"{cmd} --help")

finish("test_logs_semdrift")
