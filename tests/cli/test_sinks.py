"""`attnlab sinks` end to end: files written by h5py in every dtype and by np.save, compared with the
definitions of METRICS.md section 1; JSON fields of CLI.md; -o outputs; memory budget; every bad-input class."""
import json, os, shutil, stat
import numpy as np
import h5py
from alcli import *

d = tmpdir()
rng = np.random.default_rng(5)
att = softmax_maps(rng, 2, 3, 4, 40, sink_heads=[(0, 1), (2, 3)])

# 1. every dtype path, written the way users write them
for dt in ("f32", "f16", "bf16"):
    p = f"{d}/r_{dt}.h5"
    write_v1(p, att, dt)
    v = stored(att, dt)
    for T, eps in ((40, 0.3), (24, 0.2)):
        out = js("sinks", p, "--tokens", T, "--epsilon", eps, "--positions", 6)
        rate, lrate, mean_alpha = sink_rate(v[..., :T, :T], eps, 6)
        check(close(out["sink_rate"], rate, 0, 1e-9), f"{dt} T={T}: sink_rate {out['sink_rate']} != {rate}")
        check(all(close(x["sink_rate"], lrate[x["layer"]], 0, 1e-9) for x in out["layers"]), f"{dt}: per-layer rate")
        heads = {(x["layer"], x["head"]): x for x in out["heads"]}
        check(len(heads) == 12, f"{dt}: 12 head rows expected")
        check(all(close(x["alpha"], mean_alpha[l, h, :6]) for (l, h), x in heads.items()), f"{dt} T={T}: alpha")
        for m in (16, 1, 30):  # hidden sinks only among keys seen by at least m queries: T - j >= m
            if m != 16:
                out = js("sinks", p, "--tokens", T, "--epsilon", eps, "--positions", 6, "--hidden-min-queries", m)
                heads = {(x["layer"], x["head"]): x for x in out["heads"]}
            hid = {(l, h): [int(j) for j in np.nonzero(mean_alpha[l, h, 1:].astype(np.float32) > np.float32(0.1))[0] + 1
                            if T - j >= m] for l in range(3) for h in range(4)}
            check(all(x["hidden_sinks"] == hid[k] for k, x in heads.items()), f"{dt} T={T} m={m}: hidden sinks")
            check(out["params"]["hidden-min-queries"] == m, f"{dt}: hidden-min-queries in params")
    # the planted sink heads are found
    hs = {(x["layer"], x["head"]): x["alpha"][0] for x in out["heads"]}
    check(hs[(0, 1)] > 0.3 and hs[(2, 3)] > 0.3, f"{dt}: planted sinks not found")

# 1b. any chunking and gzip with or without shuffle: the parallel chunk reader must give identical numbers
ref16 = js("sinks", f"{d}/r_f16.h5", "--tokens", 40)
for name, kw in (("cols", dict(chunks=(1, 1, 8, 16), compression="gzip", shuffle=True)),
                 ("noshuf", dict(chunks=(1, 1, 5, 40), compression="gzip", shuffle=False, compression_opts=9)),
                 ("shufonly", dict(chunks=(1, 1, 7, 40), shuffle=True)),
                 ("auto", dict(chunks=True, compression="gzip")),
                 ("multihead", dict(chunks=(2, 3, 11, 13), compression="gzip", shuffle=True))):
    with h5py.File(f"{d}/c_{name}.h5", "w") as f:
        f.attrs.update(dict(attnlab_format="recording", format_version=1, n_layers=3, n_heads=4, causal=1))
        for l in range(3):
            f.create_dataset(f"attention/L{l:03d}", data=att[:, l].astype(np.float16), **kw)
    for threads in (1, 2):
        got = js("sinks", f"{d}/c_{name}.h5", "--tokens", 40, "--threads", threads, "--mem", "40K")
        check(got["heads"] == ref16["heads"] and got["sink_rate"] == ref16["sink_rate"],
              f"chunk layout {name} (threads {threads}) changes the results")

# 2. the .npy dump of the reference code: [N, L, H, T, T] and [L, H, T, T], f32 and f16
np.save(f"{d}/dump5.npy", att)
np.save(f"{d}/dump4.npy", att[0])
np.save(f"{d}/dump16.npy", att.astype(np.float16))
for name, v in (("dump5.npy", att), ("dump4.npy", att[:1]), ("dump16.npy", stored(att, "f16"))):
    out = js("sinks", f"{d}/{name}", "--tokens", 32)
    rate, _, mean_alpha = sink_rate(v[..., :32, :32], 0.3, 10)
    check(close(out["sink_rate"], rate, 0, 1e-9), f"{name}: sink_rate")
    check(close(out["heads"][0]["alpha"], mean_alpha[0, 0, :10]), f"{name}: alpha")

# 3. worked example W, exact; alpha[3] = 0.3 does not count at eps 0.3 (float32 rule)
W = np.array([[1, 0, 0, 0], [.8, .2, 0, 0], [.6, .1, .3, 0], [.5, .1, .1, .3]], np.float32)[None, None, None]
np.save(f"{d}/w.npy", W)
out = js("sinks", f"{d}/w.npy", "--tokens", 4, "--positions", 4)
check(out["sink_rate"] == [100, 0, 0, 0], f"worked example sink rate {out['sink_rate']}")
check(close(out["heads"][0]["alpha"], [0.725, 0.4 / 3, 0.2, 0.3]), "worked example alpha")
check(out["heads"][0]["hidden_sinks"] == [], "worked example hidden sinks (m = 16: none at T = 4)")
out1 = js("sinks", f"{d}/w.npy", "--tokens", 4, "--positions", 4, "--hidden-min-queries", 1)
check(out1["heads"][0]["hidden_sinks"] == [1, 2, 3], "worked example hidden sinks with m = 1")
rc, _, err = run("sinks", f"{d}/w.npy", "--hidden-min-queries", 0)
check(rc == 2 and "hidden-min-queries" in err, f"--hidden-min-queries 0 must exit 2: {rc} {err}")

# 4. JSON provenance fields of CLI.md, first and in order
keys = list(out.keys())
check(keys[:4] == ["attnlab_version", "command", "inputs", "params"], f"JSON key order {keys[:4]}")
inp = out["inputs"][0]
check(all(k in inp for k in ("path", "size", "mtime", "fingerprint")) and len(inp["fingerprint"]) == 64, "input provenance")
check(out["params"]["epsilon"] == 0.3 and out["params"]["tokens"] == 4 and out["params"]["positions"] == 4, "params")
full = js("sinks", f"{d}/w.npy", "--tokens", 4, "--hash", "full")
import hashlib
check(full["inputs"][0].get("sha256") == hashlib.sha256(open(f"{d}/w.npy", "rb").read()).hexdigest(), "--hash full sha256")

# 5. a bidirectional map: alpha divides by T; --tokens below T is an error
bi = softmax_maps(rng, 1, 2, 2, 20, causal=False)
write_v1(f"{d}/bi.h5", bi, causal=False)
out = js("sinks", f"{d}/bi.h5")
_, _, ma = sink_rate(bi, 0.3, 10, causal=False)
check(close(out["heads"][1]["alpha"], ma[0, 1, :10]), "bidirectional alpha")
bad(["sinks", f"{d}/bi.h5", "--tokens", 10], "non-causal --tokens", "non-causal")

# 6. -o DIR: tables (.tsv with provenance, .json), figures (.gp + data, .png with gnuplot)
o = f"{d}/out"
rc, _, err = run("sinks", f"{d}/r_f16.h5", "--tokens", 32, "-o", o)
files = sorted(os.listdir(o))
check(rc == 0, f"-o: exit {rc} {err}")
for f in ("sinks_rate.tsv", "sinks_rate.json", "sinks_layers.tsv", "sinks_heads.tsv", "sinks.json",
          "sinks_alpha0.gp", "sinks_rate.gp", "sinks_by_layer.gp"):
    check(f in files, f"-o: {f} missing ({files})")
check(not any(f.startswith(".attnlab-stage") for f in files), "-o: staging folder left behind")
if shutil.which("gnuplot"):
    check(all(f"{n}.png" in files for n in ("sinks_alpha0", "sinks_rate", "sinks_by_layer")), "-o: PNGs not rendered")
tsv = open(f"{o}/sinks_rate.tsv").read().splitlines()
check(tsv[0].startswith("# attnlab_version") and any(l.startswith("# params:") for l in tsv), "TSV provenance lines")
rows = [l.split("\t") for l in tsv if not l.startswith("#")]
check(rows[0] == ["position", "sink_rate"] and len(rows) == 11, "sinks_rate.tsv columns")
for fmt in ("table", "tsv", "csv", "md"):
    rc, txt, _ = run("sinks", f"{d}/w.npy", "--tokens", 4, "--positions", 4, "--format", fmt)
    check(rc == 0 and "0.725" in txt, f"--format {fmt}")

# 7. memory budget: a tiny --mem streams one row at a time and gives identical numbers
a1 = js("sinks", f"{d}/r_f32.h5", "--tokens", 40)
a2 = js("sinks", f"{d}/r_f32.h5", "--tokens", 40, "--mem", "1K", "--threads", 1)
a3 = js("sinks", f"{d}/r_f32.h5", "--tokens", 40, "--threads", 2)
strip = lambda x: {k: v for k, v in x.items() if k not in ("command", "params")}
check(strip(a1) == strip(a2) == strip(a3), "results depend on --mem or --threads")

# 8. bad input: one line, exit 2, no partial output
with open(f"{d}/notes.txt", "w") as f:
    f.write("hello\n")
blob = open(f"{d}/r_f32.h5", "rb").read()
open(f"{d}/trunc.h5", "wb").write(blob[: len(blob) // 2])
open(f"{d}/trunc.npy", "wb").write(open(f"{d}/dump5.npy", "rb").read()[:5000])
nan = att.copy(); nan[1, 2, 0, 30, 3] = np.nan
write_v1(f"{d}/nan.h5", nan)
inf = W.copy(); inf[0, 0, 0, 3, 1] = np.inf; np.save(f"{d}/inf.npy", inf)
rows_bad = att.copy(); rows_bad[0, 0, 0, 5] *= 0.5
write_v1(f"{d}/rowsum.h5", rows_bad)
np.save(f"{d}/rank2.npy", np.zeros((3, 5), np.float32))
np.save(f"{d}/ints.npy", np.zeros((1, 1, 4, 4), np.int32))
np.save(f"{d}/rect.npy", np.zeros((1, 1, 4, 5), np.float32))
write_v1(f"{d}/lzf.h5", att, chunks=(1, 1, 8, 40), compression="lzf")
with h5py.File(f"{d}/rank3.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=1, n_heads=4))
    f["attention/L000"] = np.zeros((4, 40, 40), np.float32)
with h5py.File(f"{d}/intmap.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=1, n_heads=1))
    f["attention/L000"] = np.zeros((1, 1, 4, 4), np.int32)
with h5py.File(f"{d}/missing_layer.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=2, n_heads=1))
    f["attention/L000"] = W[0]
with h5py.File(f"{d}/huge.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=2**31 - 1, n_heads=1))
    f["attention/L000"] = W[0]
with h5py.File(f"{d}/plain.h5", "w") as f:
    f["maps"] = att
os.mkdir(f"{d}/adir")
for args, what, needle in [
        (["sinks", f"{d}/missing.h5"], "missing file", "missing.h5"),
        (["sinks", f"{d}/adir"], "a folder instead of a file", "adir"),
        (["sinks", f"{d}/notes.txt"], "not HDF5 or .npy", "not an HDF5"),
        (["sinks", f"{d}/trunc.h5"], "truncated HDF5", "trunc.h5"),
        (["sinks", f"{d}/trunc.npy"], "truncated .npy", "truncated"),
        (["sinks", f"{d}/nan.h5", "--tokens", 40], "NaN in a map", "attention/L002"),
        (["sinks", f"{d}/inf.npy", "--tokens", 4], "Inf in a map", "Inf"),
        (["sinks", f"{d}/rowsum.h5", "--tokens", 40], "rows not summing to 1", "sums to"),
        (["sinks", f"{d}/rank2.npy"], "2-D array", "rank 2"),
        (["sinks", f"{d}/ints.npy"], "integer maps", "int32"),
        (["sinks", f"{d}/rect.npy"], "non-square maps", "square"),
        (["sinks", f"{d}/lzf.h5"], "lzf filter", "lzf"),
        (["sinks", f"{d}/rank3.h5"], "rank-3 attention dataset", "rank 3"),
        (["sinks", f"{d}/intmap.h5"], "integer HDF5 map", "integer"),
        (["sinks", f"{d}/missing_layer.h5"], "layer dataset missing", "L001"),
        (["sinks", f"{d}/huge.h5"], "n_layers 2^31-1", "n_layers"),
        (["sinks", f"{d}/plain.h5"], "single-array HDF5 needs import", "import"),
        (["sinks", f"{d}/r_f32.h5", "--tokens", 100000], "--tokens beyond T", "beyond"),
        (["sinks", f"{d}/r_f32.h5"], "default --tokens 64 beyond a 40-token recording", "--tokens"),
        (["sinks", f"{d}/r_f32.h5", "--epsilon", "abc"], "non-numeric --epsilon", "--epsilon"),
        (["sinks", f"{d}/r_f32.h5", "--tokens", "1.5"], "non-integer --tokens", "--tokens"),
        (["sinks", f"{d}/r_f32.h5", "--tokens", "0"], "zero --tokens", "--tokens"),
        (["sinks", f"{d}/r_f32.h5", "--mem", "lots"], "malformed --mem", "--mem"),
        (["sinks", f"{d}/r_f32.h5", "--positions", 50, "--tokens", 40], "--positions beyond T", "--positions"),
        (["sinks", f"{d}/r_f32.h5", "--frobnicate"], "unknown flag", "frobnicate"),
        (["sinks"], "missing file argument", "missing argument"),
        (["nosuchcommand"], "unknown command", "unknown command"),
]:
    bad(args, what, needle)
# a corrupt compressed chunk (bytes flipped inside the data, not the metadata)
import h5py as _h
with _h.File(f"{d}/r_f16.h5") as f:
    off = f["attention/L001"].id.get_chunk_info(3).byte_offset
raw = bytearray(open(f"{d}/r_f16.h5", "rb").read())
for i in range(off + 10, off + 60):
    raw[i] ^= 0x5A
open(f"{d}/corrupt.h5", "wb").write(bytes(raw))
bad(["sinks", f"{d}/corrupt.h5", "--tokens", 40], "corrupt gzip chunk", "attention/L001")
for src, what in ((f"{d}/nan.h5", "NaN"), (f"{d}/trunc.h5", "truncated")):
    od = f"{d}/o_{what}"
    bad(["sinks", src, "--tokens", 32, "-o", od], f"{what} with -o", outdir=od)
    check(not os.path.exists(od), f"{what} with -o: output folder created")
# a non-root user cannot read a mode-000 file; root can, so only the folder case above is universal
if os.geteuid() != 0:
    shutil.copy(f"{d}/r_f32.h5", f"{d}/locked.h5"); os.chmod(f"{d}/locked.h5", 0)
    bad(["sinks", f"{d}/locked.h5"], "unreadable file", "locked.h5")

# 9. import: .npy and single-array HDF5 into v1 give the same sinks; info reads the result
rc, _, err = run("import", f"{d}/dump5.npy", "-o", f"{d}/imp.h5", "--quiet")
check(rc == 0, f"import npy: {err}")
check(js("sinks", f"{d}/imp.h5", "--tokens", 32)["sink_rate"] == js("sinks", f"{d}/dump5.npy", "--tokens", 32)["sink_rate"], "import npy: same sinks")
rc, _, err = run("import", f"{d}/plain.h5", "-o", f"{d}/imp2.h5", "--dtype", "f16", "--quiet")
check(rc == 0, f"import single-array HDF5: {err}")
info = js("info", f"{d}/imp2.h5")
check(info["recording"]["n_layers"] == 3 and info["datasets"][0]["dtype"] == "float16", f"info after import: {info.get('datasets')}")
bad(["import", f"{d}/nan.h5", "-o", f"{d}/imp3.h5"], "import of a v1 file with two datasets? (nan.h5 has 3 layers)")
check(not os.path.exists(f"{d}/imp3.h5") and not any(".tmp-" in f for f in os.listdir(d)), "failed import left a file")
bad(["import", f"{d}/inf.npy", "-o", f"{d}/imp4.h5"], "import of Inf values", "Inf")
check(not os.path.exists(f"{d}/imp4.h5"), "failed import left its output")

# 10. synth: seeded, reproducible, planted roles recovered by sinks
run("synth", "maps", "-o", f"{d}/s1.h5", "--seed", 3, "--quiet")
run("synth", "maps", "-o", f"{d}/s2.h5", "--seed", 3, "--quiet", "--dtype", "bf16")
with h5py.File(f"{d}/s1.h5") as f:
    roles = [r.decode() if isinstance(r, bytes) else r for r in f.attrs["planted_roles"]]
    H = int(f.attrs["n_heads"])
out = js("sinks", f"{d}/s1.h5")
for x in out["heads"]:
    role = roles[x["layer"] * H + x["head"]]
    if role == "sink":
        check(x["alpha"][0] > 0.5, f"synth: sink head L{x['layer']}H{x['head']} alpha0 {x['alpha'][0]}")
    if role == "hidden":
        check(21 in x["hidden_sinks"], f"synth: hidden sink not at 21 in L{x['layer']}H{x['head']}: {x['hidden_sinks']}")
    if role in ("broad", "local"):
        check(x["alpha"][0] < 0.3, f"synth: {role} head looks like a sink")
b = js("sinks", f"{d}/s2.h5")
check(close(b["sink_rate"], out["sink_rate"], 0, 1e-9), "synth bf16 vs f32 sink rate")

# many positions: a table of 1100 alpha columns and long hidden-sink lists (header and cells once overflowed fixed
# buffers), from the command and from a spec step, whose units report every position
rc, _, err = run("synth", "qk", "-o", f"{d}/long.h5", "--tokens", 1100, "--samples", 1, "--layers", 1, "--heads", 2,
                 "--head-dim", 16)
check(rc == 0, f"synth qk: {err}")
rc, _, err = run("sinks", f"{d}/long.h5", "--tokens", 1100, "--positions", 1100, "--hidden-min-queries", 1,
                 "--hidden-threshold", 0, "-o", f"{d}/long", "-q")
check(rc == 0, f"sinks with 1100 positions: exit {rc}: {err}")
if rc == 0:
    rows = [l.rstrip("\n").split("\t") for l in open(f"{d}/long/sinks_heads.tsv") if not l.startswith("#")]
    check(len(rows[0]) == 1100 + 3 and rows[0][-1] == "hidden_sinks", f"sinks_heads header of {len(rows[0])} columns")
    check(all(len(r) == len(rows[0]) for r in rows), "every sinks_heads row has every column")
    for r in rows[1:]:
        want = [j for j in range(1, 1100) if np.float32(float(r[2 + j])) > 0]
        got = [int(x) for x in r[-1].split(",") if x]
        check(got == want and len(want) > 100, f"a hidden-sink list of {len(want)} positions is written whole")
with open(f"{d}/long.json", "w") as f:
    json.dump({"name": "long", "title": "many positions", "inputs": {"r": {"files": [f"{d}/long.h5"]}},
               "steps": [{"analysis": "sinks", "input": "r", "params": {"tokens": 1100, "positions": 1100}}]}, f)
rc, _, err = run("run", f"{d}/long.json", "-o", f"{d}/longrun", "-q")
check(rc == 0, f"run of a sinks step with 1100 positions: exit {rc}: {err}")

shutil.rmtree(d)
finish("test_sinks")
