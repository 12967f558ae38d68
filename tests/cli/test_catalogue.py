"""The bad-input catalogue (docs/reliability.md): every class of bad input, written the way users and tools
write files (h5py, np.save, text editors), fed to every command that reads it. Each must exit 2 with one line
`attnlab: error: FILE[:DATASET]: reason` naming the file, and the dataset where there is one, and leave no
output behind."""
import json, os, shutil, struct
import numpy as np
import h5py
from alcli import *

d = tmpdir()
rng = np.random.default_rng(11)
N, L, H, T = 2, 3, 4, 40
att = softmax_maps(rng, N, L, H, T)
_, helptext, _ = run("--help")
commands = {l.split()[0] for l in helptext.splitlines() if l.startswith("  ") and l.split()}


def rec(name, att=att, attrs=None, extra=None, skip=(), **kw):
    """A format-v1 recording written by h5py; attrs override root attributes, extra(f) edits the file,
    skip lists layers left out."""
    p = f"{d}/{name}.h5"
    with h5py.File(p, "w") as f:
        a = dict(attnlab_format="recording", format_version=1, model="test", n_layers=att.shape[1], n_heads=att.shape[2],
                 n_kv_heads=att.shape[2], head_dim=8, causal=1, first_token_is_bos=1)
        a.update(attrs or {})
        for k, v in a.items():
            if v is not None:
                f.attrs[k] = v
        for l in range(att.shape[1]):
            if l not in skip:
                f.create_dataset(f"attention/L{l:03d}", data=att[:, l], **kw)
        if extra:
            extra(f)
    return p


def qk(f, Hq=H, Hk=H, D=8, q=True, k=True, scale=None):
    for l in range(L):
        if q:
            f[f"q/L{l:03d}"] = rng.standard_normal((N, Hq, T, D)).astype(np.float32)
        if k:
            f[f"k/L{l:03d}"] = rng.standard_normal((N, Hk, T, D)).astype(np.float32)
    if scale is not None:
        f["q"].attrs["scale"] = scale


def put(name, value):
    def edit(f):
        f[name] = value
    return edit


def delete(*names):
    def edit(f):
        for n in names:
            del f[n]
    return edit


def text(name, s, mode="w"):
    p = f"{d}/{name}"
    with open(p, mode) as f:
        f.write(s)
    return p


# good companions for commands that read two files or a recording plus something else
good = rec("good")
rc, _, err = run("synth", "drift", "-o", f"{d}/gdrift", "--samples", 2, "--layers", 3, "--heads", 4, "--tokens", T, "--quiet")
check(rc == 0, f"synth drift: {err}")
good_conflict = f"{d}/gdrift/conflict.h5"

# recording readers: every command that opens a recording validates its structure the same way
REC = [["info", "{f}"], ["sinks", "{f}", "--tokens", T], ["heads", "{f}"], ["similarity", "{f}"],
       ["maps", "{f}", "--layers", "0"], ["norms", "{f}"], ["drift", "{f}", good_conflict]]
if "kvsim" in commands:
    REC.append(["kvsim", "{f}", "--policy", "window:8"])
# value checks happen while the maps stream: the map analyses
VAL = [["sinks", "{f}", "--tokens", T], ["heads", "{f}"], ["similarity", "{f}"], ["maps", "{f}", "--layers", "0,1,2"]]
if "kvsim" in commands:
    VAL.append(["kvsim", "{f}", "--policy", "window:8"])
NPY = [["info", "{f}"], ["sinks", "{f}", "--tokens", 4], ["heads", "{f}"], ["similarity", "{f}"],
       ["maps", "{f}", "--layers", "0"], ["import", "{f}", "-o", "{out}"]]

nan = att.copy(); nan[1, 2, 0, 30, 3] = np.nan
inf = att.copy(); inf[0, 1, 2, 5, 1] = np.inf
neg = att.copy(); neg[0, 0, 1, 7, 2] = -0.5; neg[0, 0, 1, 7, 3] += 0.5
half = att.copy(); half[0, 0, 0, 5] *= 0.5
upper = att.copy(); upper[0, 1, 3, 4, 10] = 0.5  # mass above the diagonal of a causal map
blob = open(good, "rb").read()
forged_dims = lambda f: f.create_dataset("attention/L000", shape=(10**6, H, T, T), dtype="f4", chunks=(1, 1, T, T))

catalogue = [
    # (class, file, dataset named in the message or None, commands, extra needle)
    ("missing file", f"{d}/missing.h5", None, REC, "No such file"),
    ("a folder", (os.mkdir(f"{d}/adir"), f"{d}/adir")[1], None, REC, "folder"),
    ("empty file", text("empty.h5", ""), None, REC, None),
    ("not HDF5 or .npy", text("notes.h5", "hello\n"), None, REC, "not an HDF5"),
    ("truncated HDF5", text("trunc.h5", blob[: len(blob) // 3], "wb"), None, REC, None),
    ("no attnlab_format (plain HDF5)", rec("plain", attrs=dict(attnlab_format=None)), None, REC, "import"),
    ("another attnlab_format", rec("otherfmt", attrs=dict(attnlab_format="drift")), None, REC, "drift"),
    ("format_version 2", rec("v2", attrs=dict(format_version=2)), None, REC, "format_version"),
    ("n_layers missing", rec("nolayers", attrs=dict(n_layers=None)), None, REC, "n_layers"),
    ("n_layers 2^31 - 1", rec("huge", attrs=dict(n_layers=2**31 - 1)), None, REC, "n_layers"),
    ("n_layers 0", rec("zero", attrs=dict(n_layers=0)), None, REC, "n_layers"),
    ("n_layers a string", rec("strlayers", attrs=dict(n_layers="3")), None, REC, "n_layers"),
    ("causal = 5", rec("causal5", attrs=dict(causal=5)), None, REC, "causal"),
    ("causal missing", rec("nocausal", attrs=dict(causal=None)), None, REC, "'causal' is missing"),
    ("format_version a float", rec("fvfloat", attrs=dict(format_version=1.0)), None, REC, "'format_version' must be an integer"),
    ("layer not named L000.. (L1)", rec("lname", skip=(1,), extra=put("attention/L1", att[:, 1])), "attention/L1", REC, "not a layer name"),
    ("a stray dataset among the layers", rec("lstray", extra=put("attention/mean", att[:, 0])), "attention/mean", REC, "not a layer name"),
    ("an external link", rec("extlink", extra=lambda f: f.__setitem__("tokens", h5py.ExternalLink(good, "attention/L000"))), "tokens", REC,
     "external link"),
    ("n_heads disagrees with the maps", rec("nheads", attrs=dict(n_heads=5, n_kv_heads=None)), "attention/L000", REC, "n_heads"),
    ("a layer missing", rec("gap", skip=(1,)), "attention/L001", REC, "missing"),
    ("a layer beyond n_layers", rec("extra", extra=put("attention/L003", att[:, 0])), "attention/L003", REC, "n_layers"),
    ("layers with different heads", rec("lheads", extra=lambda f: (delete("attention/L001")(f), put("attention/L001", att[:, 1, :3])(f))),
     "attention/L001", REC, None),
    ("layers of different length", rec("llen", extra=lambda f: (delete("attention/L002")(f), put("attention/L002", att[:, 2, :, :20, :20])(f))),
     "attention/L002", REC, None),
    ("layers of different dtypes", rec("ldtype", extra=lambda f: (delete("attention/L001")(f), put("attention/L001", att[:, 1].astype(np.float16))(f))),
     "attention/L001", REC, "dtype"),
    ("rank-3 maps", rec("rank3", extra=lambda f: (delete("attention/L000")(f), put("attention/L000", att[0, 0])(f))),
     "attention/L000", REC, "rank 3"),
    ("non-square maps", rec("rect", extra=lambda f: [(delete(f"attention/L{l:03d}")(f), put(f"attention/L{l:03d}", att[:, l, :, :, :30])(f)) for l in range(L)]),
     "attention/L000", REC, "square"),
    ("integer maps", rec("intmap", att=(att * 100).astype(np.int32)), "attention/L000", REC, "integer"),
    ("uint16 without dtype=bfloat16", rec("u16", att=(att * 100).astype(np.uint16)), "attention/L000", REC, "bfloat16"),
    ("lzf filter", rec("lzf", chunks=(1, 1, 8, T), compression="lzf"), "attention/L000", REC, "lzf"),
    ("fletcher32 filter", rec("fletcher", chunks=(1, 1, 8, T), fletcher32=True), "attention/L000", REC, "filter"),
    ("forged shape, chunks never written", rec("forged", extra=lambda f: (delete("attention/L000")(f), forged_dims(f))),
     "attention/L000", REC, "stores"),
    ("q without k", rec("qnok", extra=lambda f: qk(f, k=False)), "q", REC, "without keys"),
    ("k without q, no maps", rec("knoq", skip=(0, 1, 2), extra=lambda f: qk(f, q=False)), "k", REC, "without queries"),
    ("neither maps nor q and k", rec("nothing", skip=(0, 1, 2)), None, REC, "neither"),
    ("q heads disagree with n_heads", rec("qheads", extra=lambda f: qk(f, Hq=3)), "q/L000", REC, "n_heads"),
    ("k heads disagree with n_kv_heads", rec("kheads", extra=lambda f: qk(f, Hk=3)), "k/L000", REC, "n_kv_heads"),
    ("head_dim disagrees with q", rec("hdim", attrs=dict(head_dim=16), extra=lambda f: qk(f)), "q/L000", REC, "head_dim"),
    ("q and k of head_dim 0", rec("qk0", skip=(0, 1, 2), attrs=dict(head_dim=None), extra=lambda f: qk(f, D=0)), "q/L000", REC, "head_dim 0"),
    ("q scale negative", rec("qscale", extra=lambda f: qk(f, scale=-1.0)), "q/L000", REC, "scale"),
    ("v of another shape", rec("vshape", extra=lambda f: (qk(f), [put(f"v/L{l:03d}", np.zeros((N, H, T - 1, 8), np.float32))(f) for l in range(L)])),
     "v/L000", REC, None),
    ("hidden states missing an entry", rec("hidgap", extra=lambda f: [put(f"hidden/L{l:03d}", np.zeros((N, T, 16), np.float32))(f) for l in range(L)]),
     f"hidden/L{L:03d}", REC, "missing"),
    ("lengths out of range", rec("lengths", extra=put("lengths", np.array([T, T + 5], np.int32))), "lengths", REC, "length"),
    ("lengths of the wrong shape", rec("lenshape", extra=put("lengths", np.array([T], np.int32))), "lengths", REC, None),
    ("tokens of the wrong shape", rec("tokshape", extra=put("tokens", np.zeros((N + 1, T), np.int32))), "tokens", REC, None),
    ("tokens as floats", rec("tokfloat", extra=put("tokens", np.zeros((N, T), np.float32))), "tokens", REC, None),
    ("spans of the wrong shape", rec("spanshape", extra=put("spans", np.zeros((N, 2, 3), np.int32))), "spans", REC, None),
    ("span names disagree with spans", rec("spannames", extra=lambda f: (put("spans", np.zeros((N, 2, 2), np.int32))(f),
                                                                         f["spans"].attrs.__setitem__("names", ["a", "b", "c"]))),
     "spans", REC, "names"),
    # values, found while streaming
    ("NaN in a map", rec("nan", att=nan), "attention/L002", VAL, "NaN"),
    ("Inf in a map", rec("inf", att=inf), "attention/L001", VAL, "Inf"),
    ("negative value in a map", rec("neg", att=neg), "attention/L000", VAL, "outside [0, 1]"),
    ("rows not summing to 1", rec("rowsum", att=half), "attention/L000", VAL, "sums to"),
    ("mass above the diagonal of a causal map", rec("upper", att=upper), "attention/L001", VAL, "later keys"),
    ("NaN in q (maps from q and k)", rec("qnan", skip=(0, 1, 2), extra=lambda f: (qk(f), f["q/L001"].__setitem__((0, 1, 3, 2), np.nan))),
     None, [["sinks", "{f}", "--tokens", T], ["heads", "{f}"]], "q/L001"),
    ("NaN in hidden states", rec("hidnan", extra=lambda f: [put(f"hidden/L{l:03d}", np.full((N, T, 16), np.nan if l == 1 else 1.0, np.float32))(f) for l in range(L + 1)]),
     "hidden/L001", [["norms", "{f}"]], None),
]

# .npy map dumps
def npy(name, a):
    p = f"{d}/{name}.npy"
    np.save(p, a)
    return p


dump = npy("dump", att[:, :, :, :8, :8] / att[:, :, :, :8, :8].sum(-1, keepdims=True))
nraw = open(dump, "rb").read()
catalogue += [
    ("npy: rank 2", npy("rank2", np.zeros((3, 5), np.float32)), None, NPY, "rank 2"),
    ("npy: integers", npy("ints", np.zeros((1, 1, 4, 4), np.int32)), None, NPY, "int32"),
    ("npy: non-square", npy("rectn", np.zeros((1, 1, 4, 5), np.float32)), None, NPY, "square"),
    ("npy: truncated", text("truncn.npy", nraw[: len(nraw) - 100], "wb"), None, NPY, "truncated"),
    ("npy: big-endian", npy("bigend", att[0, :, :, :4, :4].astype(">f4")), None, NPY, "big-endian"),
    ("npy: Fortran order", npy("fortran", np.asfortranarray(att[0, :, :, :4, :4])), None, NPY, "Fortran"),
    ("npy: header garbage", text("garbage.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4 xx\n" + b"\0" * 64, "wb"), None, NPY, None),
    ("npy: NaN", npy("nann", np.where(np.tri(4, dtype=bool), np.nan, 0).astype(np.float32)[None, None]), None,
     [["sinks", "{f}", "--tokens", 4], ["heads", "{f}"], ["import", "{f}", "-o", "{out}"]], "NaN"),
]

# single-array HDF5 files for import
def plain(name, make):
    p = f"{d}/{name}.h5"
    with h5py.File(p, "w") as f:
        make(f)
    return p


IMP = [["import", "{f}", "-o", "{out}"]]
catalogue += [
    ("import: two datasets", plain("two", lambda f: (put("a", att)(f), put("b", att)(f))), None, IMP, "more than one"),
    ("import: no dataset", plain("none", lambda f: f.create_group("g")), None, IMP, "no dataset"),
    ("import: rank 3", plain("irank3", put("maps", att[0, 0])), "maps", IMP, "rank 3"),
    ("import: integers", plain("iint", put("maps", (att * 10).astype(np.int16))), "maps", IMP, None),
    ("import: NaN", plain("inan", put("maps", nan)), "maps", IMP, "NaN"),
]

# log inputs
def drift_h5(name, V=(10, 10), R=(6, 6), fmt="drift"):
    p = f"{d}/{name}.h5"
    with h5py.File(p, "w") as f:
        f.attrs["attnlab_format"] = fmt
        f.attrs["format_version"] = 1
        f["row_conversation"] = np.array([0, 0, 0, 1, 1, 1], np.int32)
        f["row_turn"] = np.array([1, 2, 3, 1, 2, 3], np.int32)
        f["test/logits"] = rng.standard_normal((R[0], V[0])).astype(np.float32)
        f["ref/logits"] = rng.standard_normal((R[1], V[1])).astype(np.float32)
    return p


KL = [["kl-drift", "{f}", "--bootstrap", 10]]
SEM = [["semdrift", "{f}"]]
CRAS = [["cras", "{f}", "--bootstrap", 10]]
catalogue += [
    ("drift file: vocabularies differ", drift_h5("vocab", V=(10, 12)), "ref/logits", KL, "vocabular"),
    ("drift file: row counts differ", drift_h5("rows", R=(6, 5)), "ref/logits", KL, None),
    ("drift file: another attnlab_format", drift_h5("dfmt", fmt="recording"), None, KL, "drift"),
    ("per-turn CSV: non-numeric kl", text("kl.csv", "conversation,turn,kl\n0,1,0.5\n0,2,abc\n"), None, KL, "line 3"),
    ("per-turn CSV: a column missing", text("klcol.csv", "conversation,turn\n0,1\n"), None, KL, "kl"),
    ("per-turn CSV: a repeated turn", text("kldup.csv", "conversation,turn,kl\n0,1,0.5\n0,1,0.6\n"), None, KL, "line 3"),
    ("per-turn JSON Lines: malformed", text("kl.jsonl", '{"conversation": 0, "turn": 1, "kl": 0.5}\n{"conversation": 0, "tur\n'), None, KL, "line 2"),
    ("similarity CSV: above 1", text("sim.csv", "direction,generation,sample,similarity\nup,1,0,1.5\n"), None, SEM, "line 2"),
    ("similarity CSV: a column missing", text("simcol.csv", "direction,generation,similarity\nup,1,0.5\n"), None, SEM, "sample"),
    ("embeddings: dimensions differ", plain("emb", lambda f: (put("embeddings/up/G00", np.ones((3, 4), np.float32))(f),
                                                              put("embeddings/up/G01", np.ones((3, 5), np.float32))(f))),
     "embeddings/up/G01", SEM, None),
    ("scores.json: truncated", text("trunc.json", '{"q1": {"teacher": [{"GA": 4, "RC": 3'), None, CRAS, "truncated"),
    ("scores.json: score 7", text("s7.json", json.dumps({"q1": {"t": [{"GA": 7, "RC": 3, "KBA": 3, "CC": 3}]}})), None, CRAS, "outside 1..5"),
    ("scores.json: a dimension missing", text("nokba.json", json.dumps({"q1": {"t": [{"GA": 4, "RC": 3, "CC": 3}]}})), None, CRAS, "KBA"),
    ("scores JSON Lines: malformed line", text("bad.jsonl", '{"query": "q1", "role": "t", "GA": 4, "RC": 3, "KBA": 3, "CC": 3}\n{"query": \n'), None, CRAS, "line 2"),
]
good_scores = text("good.jsonl", '{"query": "q1", "role": "t", "GA": 4, "RC": 3, "KBA": 3, "CC": 3}\n')
catalogue += [
    ("weights file: negative weight", text("w.json", json.dumps({"default": {"GA": -1, "RC": 1, "KBA": 1, "CC": 1}})), None,
     [["cras", good_scores, "--weights-file", "{f}", "--bootstrap", 0]], None),
    ("correctness CSV: not a number", text("corr.csv", "query,correct\nq1,yes\n"), None,
     [["cras", good_scores, "--correct", "{f}", "--bootstrap", 0]], "line 2"),
    ("gates TSV: value above 1", text("g.tsv", "1\t0.5\t0\t1\n0\t1.5\t0\t1\n1\t1\t1\t1\n"), None, [["heads", good, "--duo-gates", "{f}"]], None),
    ("gates TSV: ragged rows", text("gr.tsv", "1\t0.5\t0\t1\n0\t1\n1\t1\t1\t1\n"), None, [["heads", good, "--duo-gates", "{f}"]], None),
    ("gates TSV: not one row per layer", text("gs.tsv", "1\t0.5\t0\t1\n"), None, [["heads", good, "--duo-gates", "{f}"]], None),
]
# llama2.c checkpoints
hdr = struct.pack("<7i", 8, 16, 1, 2, 2, 12, 4)
RECORD = [["record", "{f}", "-o", "{out}", "--tokens", "1,2,3"]]
catalogue += [
    ("checkpoint: truncated", text("trunc.bin", hdr + b"\0" * 100, "wb"), None, RECORD, "truncated"),
    ("checkpoint: header out of range", text("hdr.bin", struct.pack("<7i", 8, 16, 1, 2, 2, 12, -4) + b"\0" * 64, "wb"), None, RECORD, "seq_len"),
    ("checkpoint: a newer export (ak42)", text("ak42.bin", struct.pack("<7i", 0x616b3432, 2, 1, 2, 2, 12, 4) + b"\0" * 64, "wb"), None, RECORD, "version"),
    ("checkpoint: not a checkpoint", text("notes.bin", "hello, world\n" * 10), None, RECORD, None),
]
# experiment specs
if "run" in commands:
    RUN = [["run", "{f}", "-o", "{out}"]]
    catalogue += [
        ("spec: malformed JSON", text("spec1.json", '{"attnlab_spec": 1, "name": '), None, RUN, None),
        ("spec: unknown analysis", text("spec2.json", json.dumps({"attnlab_spec": 1, "name": "x", "inputs": {"r": {"files": [good]}},
                                                                  "steps": [{"analysis": "nosuch", "input": "r"}]})), None, RUN, "nosuch"),
    ]

n_cases = 0
for cls, path, dset, cmds, needle in catalogue:
    for cmd in cmds:
        if cmd[0] not in commands:
            continue
        out = f"{d}/out_{n_cases}"
        args = [str(a).replace("{f}", path).replace("{out}", out) for a in cmd]
        rc, so, err = run(*args)
        what = f"{cls} / {cmd[0]}"
        lines = err.strip().splitlines()
        check(rc == 2, f"{what}: exit {rc}, expected 2 ({err.strip()[:200]})")
        check(len(lines) == 1 and lines[0].startswith("attnlab: error: "), f"{what}: stderr is not one 'attnlab: error:' line: {err!r}")
        check(path in err, f"{what}: the message does not name the file: {err.strip()}")
        if dset:
            check(f"{path}:{dset}" in err, f"{what}: the message does not name {path}:{dset}: {err.strip()}")
        if needle:
            check(needle in err, f"{what}: the message lacks {needle!r}: {err.strip()}")
        check(not os.path.exists(out), f"{what}: output {out} left behind")
        n_cases += 1

print(f"{len(catalogue)} classes, {n_cases} (class, command) cases")
check(n_cases > 150, f"only {n_cases} cases ran")
shutil.rmtree(d)
finish("test_catalogue")
