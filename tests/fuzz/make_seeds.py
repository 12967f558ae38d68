#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/: small valid inputs of every
kind each reader accepts (and a few near misses), so fuzzing starts from deep inside the parsers.
Run with Debian's python3 (numpy, h5py): /usr/bin/python3 tests/fuzz/make_seeds.py. The outputs are committed;
rerun only when a format changes. Deterministic: the same files every time (h5py writes no timestamps here)."""
import json, os, shutil, struct, sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
rng = np.random.default_rng(0)


def folder(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def maps(N, L, H, T, causal=True):
    s = rng.standard_normal((N, L, H, T, T))
    if causal:
        s = np.where(np.tri(T, dtype=bool), s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def bf16(x):
    return (np.asarray(x, np.float32).view(np.uint32) >> 16).astype(np.uint16)


def h5(path, att=None, dtype="f32", attrs=None, libver="earliest", qk=None, extra=None, **kw):
    kw.setdefault("track_times", False)
    with h5py.File(path, "w", libver=libver, track_order=False) as f:
        a = dict(attnlab_format="recording", format_version=1, model="seed", causal=1, first_token_is_bos=1)
        if att is not None:
            a.update(n_layers=att.shape[1], n_heads=att.shape[2])
        a.update(attrs or {})
        f.attrs.update(a)
        if att is not None:
            for l in range(att.shape[1]):
                x = att[:, l]
                if dtype == "f16":
                    f.create_dataset(f"attention/L{l:03d}", data=x.astype(np.float16), **kw)
                elif dtype == "bf16":
                    d = f.create_dataset(f"attention/L{l:03d}", data=bf16(x), **kw)
                    d.attrs["dtype"] = "bfloat16"
                else:
                    f.create_dataset(f"attention/L{l:03d}", data=x, **kw)
        if qk is not None:
            q, k = qk
            for l in range(q.shape[1]):
                f[f"q/L{l:03d}"] = q[:, l]
                f[f"k/L{l:03d}"] = k[:, l]
            f["q"].attrs["scale"] = 0.5
        for name, v in (extra or {}).items():
            f[name] = v


def recipes(d):
    """Recipes for the structure-aware HDF5 path of fuzz_recording (h5recipe.c reads one byte per choice;
    an exhausted recipe means the default: a small valid float32 recording of maps)."""
    head = lambda fmt=0, L=2, H=4, hkv=0, N=1, T=6, D=4, causal=1: bytes([fmt, 0, L, H, hkv, N, T, D, causal, 0, 0, 0, 0, 0, 0])
    seeds = {
        "default": b"",
        "maps_f16_gzip": head() + bytes([0, 1, 5, 0, 1, 5, 3, 0]),
        "maps_bf16_chunked": head() + bytes([0, 2, 3, 0, 2, 5, 0]),
        "qk_gqa": head() + bytes([2, 0]),
        "maps_qk_v_hidden": head() + bytes([0x1a, 0]),
        "tokens_lengths_spans": head(N=2, T=5) + bytes([0xe0, 0]),
        "bidirectional": head(causal=0, T=4) + bytes([0, 0]),
        "nan_planted": head(T=4) + bytes([0, 0, 0, 0, 2, 1, 0, 3, 0]),
    }
    for name, b in seeds.items():
        open(f"{d}/recipe_{name}", "wb").write(b)
    for i in range(4):
        open(f"{d}/recipe_random{i}", "wb").write(rng.integers(0, 256, 96, dtype=np.uint8).tobytes())


def recording():
    recipes(folder("fuzz_recording"))
    d = folder("raw_hdf5")  # whole HDF5 files, only for ATTNLAB_FUZZ_RAW_HDF5=1 (see docs/reliability.md)
    att = maps(1, 2, 2, 6)
    h5(f"{d}/f32.h5", att)
    h5(f"{d}/f32_latest.h5", att, libver="latest")
    h5(f"{d}/f16_gzip_shuffle.h5", att, "f16", chunks=(1, 1, 2, 6), compression="gzip", shuffle=True)
    h5(f"{d}/bf16_chunked.h5", att, "bf16", chunks=(1, 1, 3, 6))
    h5(f"{d}/f32_gzip.h5", maps(2, 1, 1, 5), chunks=(1, 1, 5, 5), compression="gzip")
    h5(f"{d}/bidirectional.h5", maps(1, 1, 2, 4, causal=False), attrs=dict(causal=0))
    h5(f"{d}/extras.h5", maps(2, 1, 2, 5), extra={
        "tokens": np.arange(10, dtype=np.int32).reshape(2, 5),
        "lengths": np.array([5, 4], np.int32),
        "spans": np.array([[[0, 2], [2, 5]], [[0, 1], [-1, -1]]], np.int32)})
    with h5py.File(f"{d}/extras.h5", "a") as f:
        f["spans"].attrs["names"] = ["system", "user"]
    q = rng.standard_normal((1, 2, 4, 6, 4)).astype(np.float32)   # [N, L, H, T, D]
    k = rng.standard_normal((1, 2, 2, 6, 4)).astype(np.float32)   # GQA: 2 KV heads
    h5(f"{d}/qk_gqa.h5", None, attrs=dict(n_layers=2, n_heads=4, n_kv_heads=2, head_dim=4), qk=(q, k))
    h5(f"{d}/maps_and_qk.h5", maps(1, 2, 4, 6), attrs=dict(n_kv_heads=2, head_dim=4), qk=(q, k))
    with h5py.File(f"{d}/hidden.h5", "w") as f:
        f.attrs.update(dict(attnlab_format="recording", format_version=1, model="seed", causal=1,
                            first_token_is_bos=1, n_layers=1, n_heads=1))
        f["attention/L000"] = maps(1, 1, 1, 4)[:, 0]
        for l in range(2):
            f[f"hidden/L{l:03d}"] = rng.standard_normal((1, 4, 8)).astype(np.float32)
    n = os.path.join(OUT, "fuzz_recording")
    np.save(f"{n}/dump5.npy", maps(1, 2, 1, 5))
    np.save(f"{n}/dump4_f16.npy", maps(1, 1, 2, 4)[0].astype(np.float16))
    h5(f"{d}/nan.h5", np.where(np.tri(4, dtype=bool), np.nan, 0).astype(np.float32)[None, None, None])
    with h5py.File(f"{d}/plain.h5", "w") as f:
        f["maps"] = maps(1, 1, 1, 4)


def npy():
    d = folder("fuzz_npy")
    np.save(f"{d}/f32.npy", maps(1, 1, 1, 3)[0])
    np.save(f"{d}/f16.npy", np.zeros((2, 3), np.float16))
    np.save(f"{d}/i4.npy", np.arange(6, dtype=np.int32))
    np.save(f"{d}/scalar.npy", np.float64(1.5))
    np.save(f"{d}/fortran.npy", np.asfortranarray(np.zeros((2, 3), np.float32)))
    with open(f"{d}/v2.npy", "wb") as f:
        np.lib.format.write_array(f, np.zeros((1, 2, 2), np.float32), version=(2, 0))
    with open(f"{d}/v3.npy", "wb") as f:
        np.lib.format.write_array(f, np.ones((3,), "<f4"), version=(3, 0))


def csv():
    d = folder("fuzz_csv")
    w = lambda n, s: open(f"{d}/{n}", "w").write(s)
    w("turns.csv", "conversation,turn,kl,intervention\n0,1,0.5,0\n0,2,0.7,1\nc1,1,0.25,0\n")
    w("turns.jsonl", '{"conversation": 0, "turn": 1, "kl": 0.5}\n{"conversation": "a", "turn": 2, "kl": 1e-3, "intervention": 1}\n')
    w("similarity.csv", "direction,generation,sample,similarity\nup,1,0,0.9\nup,2,0,0.8\n\"down, x\",1,0,-0.5\n")
    w("gates.tsv", "1\t0.5\t0\n0\t1\t0.25\n")
    w("quoted.csv", 'a,"b ""c""",d\r\n1,"2\n3",4.5e-1\r\n')
    w("convs.txt", "# a comment\n1, 2, 3\n4 5\n\n7,8\n")
    w("correct.csv", "query,correct\nq1,1\nq2,0.5\n")


def cras():
    d = folder("fuzz_cras")
    rec = lambda s: {k: {"score": s + i % 2, "justification": "ok"} for i, k in enumerate(("GA", "RC", "KBA", "CC"))}
    json.dump({"q1": {"teacher": [rec(4), rec(3)], "pirate": [rec(2)]}, "q2": {"teacher": [rec(5)]}},
              open(f"{d}/scores.json", "w"))
    json.dump({"q1": {"teacher": [{"GA": 4, "RC": "3.5", "KBA": {"score": 2}, "CC": 1}]}}, open(f"{d}/mixed.json", "w"))
    open(f"{d}/scores.jsonl", "w").write(
        '{"query": "q1", "role": "teacher", "GA": 4, "RC": 3, "KBA": 5, "CC": 2, "correct": 1}\n'
        '{"query": "q2", "role": "pirate", "GA": 1, "RC": 2, "KBA": 3, "CC": 4}\n')
    json.dump({"default": {"GA": 1, "RC": 1, "KBA": 1, "CC": 1}, "roles": {"teacher": {"GA": 2, "RC": 0, "KBA": 1, "CC": 1}}},
              open(f"{d}/weights.json", "w"))
    open(f"{d}/weights_flag.txt", "w").write("GA=1,RC=2,KBA=0.5,CC=1")
    open(f"{d}/correct.csv", "w").write("query,correct\nq1,1\nq2,0\n")


def llama2c():
    d = folder("fuzz_llama2c")
    def ckpt(path, dim, hidden, L, H, Hkv, V, seq, shared=True):
        hs = dim // H
        kv = Hkv * hs
        n = V * dim + L * dim + L * dim * dim + 2 * L * dim * kv + L * dim * dim + L * dim + 3 * L * dim * hidden + dim
        n += seq * hs  # freq_cis_real and freq_cis_imag, seq * hs / 2 each
        if not shared:
            n += V * dim
        w = (rng.standard_normal(n) * 0.1).astype("<f4")
        with open(path, "wb") as f:
            f.write(struct.pack("<7i", dim, hidden, L, H, Hkv, V if shared else -V, seq))
            f.write(w.tobytes())
    ckpt(f"{d}/tiny.bin", 8, 16, 1, 2, 2, 12, 4)
    ckpt(f"{d}/tiny_gqa_unshared.bin", 8, 12, 2, 4, 2, 10, 3, shared=False)
    with open(f"{d}/header_only.bin", "wb") as f:
        f.write(struct.pack("<7iQ", 288, 768, 6, 6, 6, 32000, 256, 60816028))


def spec():
    d = folder("fuzz_spec")
    full = {
        "attnlab_spec": 1, "name": "demo", "title": "t", "description": "d", "hash": "fingerprint",
        "inputs": {
            "synthetic": {"synth": "maps", "params": {"samples": 2, "layers": 2, "heads": 2, "tokens": 16, "seed": 1}, "count": 2},
            "recs": {"files": ["maps/*.h5", "extra/run7.h5"]},
            "pair": {"files": [["baseline.h5", "conflict.h5"]]},
            "gates": {"files": ["gates.tsv"], "optional": True},
            "tiny": {"record": "model.bin", "params": {"tokens": "1,2,3", "generate": 4}, "optional": True}},
        "steps": [
            {"name": "sinks", "analysis": "sinks", "input": "synthetic", "params": {"epsilon": 0.3, "tokens": 8}},
            {"analysis": "heads", "input": "synthetic", "params": {"duo-gates": {"input": "gates"}, "recent": 4}},
            {"analysis": "drift", "input": "pair", "title": "focal layers", "note": "n"}],
        "figures": [
            {"name": "sink_rate", "step": "sinks", "table": "sinks_rate", "x": "position", "y": "sink_rate"},
            {"name": "alpha0", "step": "sinks", "table": "sinks_heads", "kind": "heatmap", "row": "layer", "col": "head",
             "value": "alpha_0"}],
        "report": {"title": "r", "intro": "i", "max_rows": 40, "max_cols": 14, "captions": {"sinks/sinks_rate": "c"}}}
    json.dump(full, open(f"{d}/full.json", "w"), indent=1)
    small = {"attnlab_spec": 1, "name": "s", "inputs": {"r": {"files": ["a.h5"]}},
             "steps": [{"analysis": "sinks", "input": "r"}]}
    json.dump(small, open(f"{d}/small.json", "w"))
    logs = {"attnlab_spec": 1, "name": "logs", "inputs": {"k": {"synth": "kl-drift", "count": 1}, "c": {"files": ["s.jsonl"]}},
            "steps": [{"analysis": "kl-drift", "input": "k", "params": {"bootstrap": 10}},
                      {"analysis": "cras", "input": "c", "params": {"weights": "GA=1,RC=1,KBA=1,CC=1"}}]}
    json.dump(logs, open(f"{d}/logs.json", "w"))


def main():
    recording()
    npy()
    csv()
    cras()
    llama2c()
    spec()
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"seeds written to {OUT} ({total} bytes)")


if __name__ == "__main__":
    sys.exit(main())
