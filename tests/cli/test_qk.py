"""Statistics from recorded queries and keys equal those from the maps they imply (to 1e-5 relative), in
float32, float16 and bfloat16, with GQA, under a small --mem; and q/k input errors get exit 2."""
import numpy as np
import h5py
from alcli import *

d = tmpdir()
for dt in ("f32", "f16", "bf16"):
    p = f"{d}/qk_{dt}.h5"
    rc, _, err = run("synth", "qk", "-o", p, "--with-maps", "--tokens", 150, "--heads", 4, "--kv-heads", 2,
                     "--layers", 2, "--head-dim", 24, "--samples", 2, "--dtype", dt, "--quiet")
    check(rc == 0, f"synth qk {dt}: {err}")
    a = js("sinks", p, "--tokens", 150, "--epsilon", 0.2)
    b = js("sinks", p, "--tokens", 150, "--epsilon", 0.2, "--from-qk", "--mem", "200K")
    x = np.array([h["alpha"] for h in a["heads"]]); y = np.array([h["alpha"] for h in b["heads"]])
    # maps stored in f16/bf16 are themselves rounded (1e-3, 8e-3): exactness is checked on float32 maps
    tol = {"f32": 1e-5, "f16": 2e-3, "bf16": 2e-2}[dt]
    check(close(x, y, tol, 1e-9), f"{dt}: q/k alpha differs from maps by {np.max(np.abs(x - y) / np.abs(x)):.2e}")
    if dt == "f32":
        check(a["sink_rate"] == b["sink_rate"], f"{dt}: q/k sink rate differs")
    check(b["heads"][0]["alpha"][0] > 0.3, f"{dt}: planted q/k sink not found")

# a numpy check of the q/k path from the file itself (GQA mapping, scale attribute)
p = f"{d}/qk_f32.h5"
with h5py.File(p, "a") as f:
    q = f["q/L001"][...].astype(np.float64); k = f["k/L001"][...].astype(np.float64)
    f["q"].attrs["scale"] = 0.35
    del f["attention"]
T = q.shape[2]
s = np.einsum("nhtd,nhsd->nhts", q, np.repeat(k, 2, axis=1)) * 0.35
s = np.where(np.tri(T, dtype=bool), s, -np.inf); s -= s.max(-1, keepdims=True); e = np.exp(s); att = e / e.sum(-1, keepdims=True)
al = (att.sum(-2) / np.arange(T, 0, -1)).mean(0)  # [H, T]
out = js("sinks", p, "--tokens", T)
got = np.array([h["alpha"] for h in out["heads"] if h["layer"] == 1])
check(close(got, al[:, :10], 1e-5, 1e-9), "q/k alpha from numpy on the file (layer 1, GQA, /q scale attribute)")
# the same from bf16-stored q/k: the path converts the stored values exactly
with h5py.File(f"{d}/qk_bf16.h5") as f:
    qb = (f["q/L000"][...].astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    kb = (f["k/L000"][...].astype(np.uint32) << 16).view(np.float32).astype(np.float64)
s = np.einsum("nhtd,nhsd->nhts", qb, np.repeat(kb, 2, axis=1)) / np.sqrt(qb.shape[-1])
s = np.where(np.tri(T, dtype=bool), s, -np.inf); s -= s.max(-1, keepdims=True); e = np.exp(s); att = e / e.sum(-1, keepdims=True)
al = (att.sum(-2) / np.arange(T, 0, -1)).mean(0)
got = np.array([h["alpha"] for h in js("sinks", f"{d}/qk_bf16.h5", "--tokens", T, "--from-qk")["heads"] if h["layer"] == 0])
check(close(got, al[:, :10], 1e-5, 1e-9), "bf16 q/k: alpha from numpy on the stored values")

# bad q/k inputs
with h5py.File(f"{d}/qonly.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=1, n_heads=1))
    f["q/L000"] = np.zeros((1, 1, 4, 2), np.float32)
bad(["sinks", f"{d}/qonly.h5", "--tokens", 4], "q without k", "without keys")
with h5py.File(f"{d}/qnan.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=1, n_heads=1))
    q = np.ones((1, 1, 4, 2), np.float32); q[0, 0, 2, 1] = np.nan
    f["q/L000"] = q; f["k/L000"] = np.ones((1, 1, 4, 2), np.float32)
bad(["sinks", f"{d}/qnan.h5", "--tokens", 4], "NaN in q", "q/L000")
with h5py.File(f"{d}/kshape.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="recording", format_version=1, causal=1, n_layers=1, n_heads=2, n_kv_heads=2))
    f["q/L000"] = np.ones((1, 2, 4, 2), np.float32); f["k/L000"] = np.ones((1, 2, 5, 2), np.float32)
bad(["sinks", f"{d}/kshape.h5", "--tokens", 4], "k of another length than q", "k/L000")
bad(["sinks", f"{d}/qk_f16.h5", "--tokens", 150, "--from-qk", "--epsilon", "-1"], "negative epsilon", "--epsilon")
import shutil; shutil.rmtree(d)
finish("test_qk")
