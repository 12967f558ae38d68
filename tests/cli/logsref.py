"""Definitions of METRICS.md sections 4-6 written out in numpy for the command-line tests of kl-drift, semdrift and
cras, independent of attnlab's code and of the conformance suite; plus core/rng.h's generator as docs/logs.md documents it."""
import h5py
import numpy as np
from alcli import check, close

def log_softmax(x, t=1.0):
    x = x.astype(np.float64) / t
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def kl_dense(tq, tp, t=1.0):
    lq, lp = log_softmax(tq, t), log_softmax(tp, t)
    return (np.exp(lq) * (lq - lp)).sum(-1)


def kl_topk(qi, ql, pi, pl):
    out = []
    for a, la, b, lb in zip(qi, ql, pi, pl):
        ids = sorted(set(a.tolist()) | set(b.tolist()))
        da, db = dict(zip(a.tolist(), la.tolist())), dict(zip(b.tolist(), lb.tolist()))
        x = np.array([da.get(i, la.min()) for i in ids]); y = np.array([db.get(i, lb.min()) for i in ids])
        x -= np.log(np.exp(x).sum()); y -= np.log(np.exp(y).sum())
        out.append((np.exp(x) * (x - y)).sum())
    return np.array(out)


def series(kl, conv, turn, agg="mean"):
    D = {}
    for c, t, v in zip(conv, turn, kl):
        D.setdefault((int(c), int(t)), []).append(v)
    return {k: (np.mean(v) if agg == "mean" else np.sum(v)) for k, v in sorted(D.items())}


def pairs(D, keep=None):
    xs, ys, cs = [], [], []
    for (c, t), v in sorted(D.items()):
        if (c, t + 1) in D and (keep is None or c in keep):
            xs.append(v); ys.append(D[(c, t + 1)] - v); cs.append(c)
    return np.array(xs), np.array(ys), cs


def fit(D, keep=None):
    x, y, _ = pairs(D, keep)
    X = np.stack([np.ones_like(x), x], 1)
    (a, b), *_ = np.linalg.lstsq(X, y, rcond=None)
    r2 = 1 - ((y - X @ [a, b]) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    return dict(a=a, b=b, kappa=-b, equilibrium=(-a / b if b < 0 else None), r2=r2, n_pairs=len(x))


def turn_table(D):
    out = {}
    for t in sorted({t for _, t in D}):
        v = [x for (c, tt), x in D.items() if tt == t]
        out[t] = (np.mean(v), np.std(v, ddof=1) if len(v) > 1 else None, len(v))
    return out


M64 = (1 << 64) - 1


class Rng:
    """core/rng.h: splitmix64 seeding of xoshiro256**, as docs/logs.md documents it."""
    def __init__(self, seed, stream):
        x = (seed ^ ((stream * 0xD1B54A32D192ED03) & M64)) & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def u64(self):
        s, rotl = self.s, lambda v, k: ((v << k) | (v >> (64 - k))) & M64
        r = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return r

    def below(self, n):
        lim = M64 - M64 % n
        while True:
            x = self.u64()
            if x < lim:
                return x % n


def counts(seed, purpose, b, C):
    r, c = Rng(seed, (purpose << 32) + b), np.zeros(C)
    for _ in range(C):
        c[r.below(C)] += 1
    return c


def write_drift(path, conv, turn, test=None, ref=None, topk=None, intervention=None, dtype=np.float32):
    with h5py.File(path, "w") as f:
        f.attrs["attnlab_format"] = "drift"
        f.attrs["format_version"] = 1
        f["row_conversation"] = np.asarray(conv, np.int32)
        f["row_turn"] = np.asarray(turn, np.int32)
        if test is not None:
            for g, x in (("test", test), ("ref", ref)):
                if dtype == "bf16":
                    u = x.astype(np.float32).view(np.uint32)
                    ds = f.create_dataset(f"{g}/logits", data=((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16))
                    ds.attrs["dtype"] = "bfloat16"
                else:
                    f.create_dataset(f"{g}/logits", data=x.astype(dtype), chunks=(1, x.shape[1]), compression="gzip")
        if topk is not None:
            for g, (ids, lp) in zip(("test", "ref"), topk):
                f[f"{g}/topk_ids"] = ids.astype(np.int32)
                f[f"{g}/topk_logprobs"] = lp
        if intervention is not None:
            f["intervention"] = np.asarray(intervention, np.uint8)


def as_stored(x, dtype):
    if dtype == "bf16":
        u = x.astype(np.float32).view(np.uint32)
        return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32) << 16).view(np.float32)
    return x.astype(dtype)


def check_kl(out, D, what):
    tt = turn_table(D)
    got = {t["turn"]: t for t in out["turns"]}
    check(set(got) == set(tt), f"{what}: turns {sorted(got)} != {sorted(tt)}")
    check(all(close(got[t]["mean"], m, 1e-9) and got[t]["n"] == n and (sd is None and got[t]["sd"] is None or close(got[t]["sd"], sd, 1e-9))
              for t, (m, sd, n) in tt.items() if t in got), f"{what}: per-turn mean/sd/n differ")
    f = fit(D)
    for k in ("a", "b", "kappa", "r2"):
        check(close(out["fit"][k], f[k], 1e-9), f"{what}: fit {k} {out['fit'][k]} != {f[k]}")
    check((f["equilibrium"] is None) == (out["fit"]["equilibrium"] is None) and
          (f["equilibrium"] is None or close(out["fit"]["equilibrium"], f["equilibrium"], 1e-9)), f"{what}: equilibrium")
    check(out["fit"]["n_pairs"] == f["n_pairs"], f"{what}: n_pairs")
