"""Helpers for attnlab's command-line tests: run the binary, check exit codes and error lines, and a small
numpy reference of the definitions the tests rely on (independent of the conformance suite)."""
import json, os, subprocess, sys, tempfile

import numpy as np

A = os.environ.get("ATTNLAB", "build/attnlab")
SRC = os.environ.get("ATTNLAB_SRC", ".")
SHARED = os.environ.get("ATTNLAB_SHARED", os.path.join(SRC, "..", "shared"))
failures = []
passed = 0


def run(*args, timeout=300):
    p = subprocess.run([A, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def js(*args):
    rc, out, err = run(*args, "--format", "json")
    if rc != 0:
        raise AssertionError(f"attnlab {' '.join(map(str, args))}: exit {rc}: {err.strip()}")
    return json.loads(out)


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def bad(args, what, needle=None, outdir=None):
    rc, out, err = run(*args)
    check(rc == 2, f"{what}: exit {rc}, expected 2 ({err.strip()[:120]})")
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("attnlab: error: "), f"{what}: stderr is not one 'attnlab: error:' line: {err!r}")
    if needle:
        check(needle in err, f"{what}: message lacks {needle!r}: {err.strip()}")
    if outdir is not None:
        left = os.listdir(outdir) if os.path.isdir(outdir) else []
        check(not left, f"{what}: partial output left behind: {left}")


def close(a, b, rtol=1e-6, atol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)


def finish(name):
    print(f"{name}: {passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


def tmpdir():
    return tempfile.mkdtemp(prefix="attnlab-cli-")


# ---- the definitions (METRICS.md section 1), written out independently ----

def alpha(att, causal=True):
    T = att.shape[-1]
    s = att.astype(np.float64).sum(-2)
    return s / (np.arange(T, 0, -1) if causal else T)


def sink_rate(att, eps, K, causal=True):
    al = alpha(att, causal)
    hit = al.astype(np.float32) > np.float32(eps)
    return 100.0 * hit.mean(axis=(0, 1, 2))[:K], 100.0 * hit.mean(axis=(0, 2))[:, :K], al.mean(0)


def softmax_maps(rng, N, L, H, T, causal=True, sink_heads=()):
    s = rng.standard_normal((N, L, H, T, T))
    for (l, h) in sink_heads:
        s[:, l, h, :, 0] += 4.0
    if causal:
        s = np.where(np.tri(T, dtype=bool), s, -np.inf)
    s -= s.max(-1, keepdims=True)
    e = np.exp(s)
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def write_v1(path, att, dtype="f32", causal=True, chunks=None, compression=None, extra=None):
    import h5py
    N, L, H, T, _ = att.shape
    with h5py.File(path, "w") as f:
        f.attrs.update(dict(attnlab_format="recording", format_version=1, model="test", n_layers=L, n_heads=H,
                            n_kv_heads=H, head_dim=8, causal=int(causal), first_token_is_bos=1, source="test"))
        for l in range(L):
            a = att[:, l]
            if dtype == "f16":
                f.create_dataset(f"attention/L{l:03d}", data=a.astype(np.float16), chunks=chunks or (1, 1, min(T, 16), T),
                                 compression=compression or "gzip", shuffle=True)
            elif dtype == "bf16":
                u = a.astype(np.float32).view(np.uint32)
                b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
                d = f.create_dataset(f"attention/L{l:03d}", data=b)
                d.attrs["dtype"] = "bfloat16"
            else:
                f.create_dataset(f"attention/L{l:03d}", data=a, chunks=chunks, compression=compression)
        if extra:
            extra(f)


def stored(att, dtype):
    if dtype == "f16":
        return att.astype(np.float16).astype(np.float32)
    if dtype == "bf16":
        u = att.astype(np.float32).view(np.uint32)
        b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32)
        return (b << 16).view(np.float32)
    return att
