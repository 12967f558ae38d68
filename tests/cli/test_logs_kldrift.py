"""`attnlab kl-drift` end to end (METRICS.md section 4): drift files written by h5py with dense logits (a 150k
vocabulary streamed in blocks, every dtype) or top-k logprobs, precomputed per-turn CSV and JSON Lines with interventions,
the bootstrap reproduced from the documented generator, -o outputs with figures, and every bad-input class."""
import json, os, shutil
import numpy as np
import h5py
from alcli import *
from logsref import *

d = tmpdir()
rng = np.random.default_rng(17)

# ---------------------------------------------------------------- kl-drift: dense logits, 150k vocabulary

V = 150_000
conv, turn = [], []
for c in (3, 7, 11):
    for t in range(4):
        for _ in range(2):
            conv.append(c); turn.append(t)
conv, turn = np.array(conv), np.array(turn)
R = len(conv)
base = rng.standard_normal((R, V)).astype(np.float32) * 3
test = (base + rng.standard_normal((R, V)) * (0.3 + 0.1 * turn[:, None]) + 40).astype(np.float32)  # offset: max subtraction
perm = rng.permutation(R)                                                                              # rows in any order
write_drift(f"{d}/big.h5", conv[perm], turn[perm], test[perm], base[perm])
D = series(kl_dense(test, base), conv, turn)
o1 = js("kl-drift", f"{d}/big.h5", "--mem", "8M", "--threads", 1, "--bootstrap", 200)  # 3 rows per block
o2 = js("kl-drift", f"{d}/big.h5", "--threads", 2, "--bootstrap", 200)
check_kl(o1, D, "dense 150k")
check(o1["turns"] == o2["turns"] and o1["fit"] == o2["fit"], "dense: --mem and --threads change the results")
check(o1["input"]["vocabulary"] == V and o1["input"]["rows"] == R, "dense: input description")
for k in ("attnlab_version", "command", "inputs", "params"):
    check(k in o1, f"kl-drift JSON lacks {k}")
check(o1["params"]["bootstrap"] == 200 and o1["params"]["seed"] == 0, "kl-drift params")

# dtypes, temperature, --token-agg sum (ragged token counts per turn)
conv2 = np.repeat(np.arange(6), 10); turn2 = np.tile(np.repeat(np.arange(5), 2), 6)
keep = rng.random(len(conv2)) > 0.3
keep[::2] = True
conv2, turn2 = conv2[keep], turn2[keep]
ref2 = rng.standard_normal((len(conv2), 301)) * 2
tst2 = ref2 + rng.standard_normal(ref2.shape) * (0.2 + 0.15 * turn2[:, None] - 0.02 * turn2[:, None] ** 2)
for dt in (np.float32, np.float16, np.float64, "bf16"):
    p = f"{d}/kl_{dt if isinstance(dt, str) else dt.__name__}.h5"
    write_drift(p, conv2, turn2, tst2, ref2, dtype=dt)
    tq, tp = as_stored(tst2, dt), as_stored(ref2, dt)
    check_kl(js("kl-drift", p, "--bootstrap", 0), series(kl_dense(tq, tp), conv2, turn2), f"dense {dt}")
    if dt is np.float32:
        check_kl(js("kl-drift", p, "--bootstrap", 0, "--temperature", 1.7), series(kl_dense(tq, tp, 1.7), conv2, turn2), "temperature 1.7")
        check_kl(js("kl-drift", p, "--bootstrap", 0, "--token-agg", "sum"), series(kl_dense(tq, tp), conv2, turn2, "sum"), "token-agg sum")

# ---------------------------------------------------------------- kl-drift: top-k logprobs as hosted APIs return them

Rk = len(conv2)
full_q, full_p = log_softmax(tst2), log_softmax(ref2)
qi = np.argsort(-full_q, 1)[:, :5]; pi = np.argsort(-full_p, 1)[:, :8]
ql = np.take_along_axis(full_q, qi, 1); pl = np.take_along_axis(full_p, pi, 1)
write_drift(f"{d}/topk.h5", conv2, turn2, topk=[(qi, ql), (pi, pl)])
ot = js("kl-drift", f"{d}/topk.h5", "--bootstrap", 0)
check_kl(ot, series(kl_topk(qi, ql, pi, pl), conv2, turn2), "top-k")
check(ot["input"]["k"] == [5, 8], "top-k: widths")

# ---------------------------------------------------------------- kl-drift: precomputed values, interventions, bootstrap

Dp, iv = {}, {}
for c in range(24):
    x = rng.uniform(0.05, 0.3)
    iv[c] = int(c % 3 == 0)
    for t in range(rng.integers(3, 9)):
        Dp[(c, t)] = x
        x = x + (0.5 if iv[c] else 0.3) * ((0.8 if iv[c] else 1.2) - x) + rng.normal(0, 0.04)
with open(f"{d}/turns.csv", "w") as f:
    f.write("conversation,turn,kl,intervention\n")
    for (c, t), v in sorted(Dp.items(), key=lambda kv: rng.random()):
        f.write(f"{c},{t},{v!r},{iv[c] if t == 1 else 0}\n")  # the flag may sit on one row only
with open(f"{d}/turns.jsonl", "w") as f:
    for (c, t), v in Dp.items():
        f.write(json.dumps(dict(conversation=c, turn=t, kl=v, intervention=bool(iv[c]))) + "\n")
oc = js("kl-drift", f"{d}/turns.csv", "--bootstrap", 300, "--seed", 5)
oj = js("kl-drift", f"{d}/turns.jsonl", "--bootstrap", 300, "--seed", 5)
check_kl(oc, Dp, "per-turn CSV")
check(oc["fit"] == oj["fit"] and oc["turns"] == oj["turns"] and oc["interventions"] == oj["interventions"], "CSV and JSON Lines differ")
with_, without = {c for c in iv if iv[c]}, {c for c in iv if not iv[c]}
for name, keep in (("with", with_), ("without", without)):
    g, f_ = oc["interventions"][name], fit(Dp, keep)
    check(close([g["fit"]["a"], g["fit"]["b"], g["fit"]["equilibrium"]], [f_["a"], f_["b"], f_["equilibrium"]], 1e-9),
          f"interventions {name}: fit differs")
    check(g["conversations"] == len(keep), f"interventions {name}: conversations")
mw = np.mean([v for (c, t), v in Dp.items() if c in with_]); mo = np.mean([v for (c, t), v in Dp.items() if c in without])
check(close(oc["interventions"]["relative_change"], (mw - mo) / mo, 1e-9), "interventions: relative change of mean D")

# intervention flags as h5py writes numpy booleans (an HDF5 enum) on token rows
flags = np.array([c % 2 == 0 and t == 2 for c, t in zip(conv2, turn2)])
write_drift(f"{d}/ivbool.h5", conv2, turn2, tst2, ref2)
with h5py.File(f"{d}/ivbool.h5", "a") as f:
    f["intervention"] = flags
ob = js("kl-drift", f"{d}/ivbool.h5", "--bootstrap", 0)
Db = series(kl_dense(tst2.astype(np.float32), ref2.astype(np.float32)), conv2, turn2)
wb = {c for c in range(6) if c % 2 == 0}
check(ob["interventions"]["with"]["conversations"] == 3 and
      close(ob["interventions"]["with"]["fit"]["b"], fit(Db, wb)["b"], 1e-9), "boolean intervention flags")

# the documented generator reproduces the interval exactly; it contains its estimate; the seed matters
x, y, cs = pairs(Dp)
units = sorted(set(cs))
kap, eqs = [], []
for b in range(300):
    cnt = counts(5, 0, b, len(units))
    w = np.array([cnt[units.index(c)] for c in cs])
    mx, my = (w * x).sum() / w.sum(), (w * y).sum() / w.sum()
    bb = (w * (x - mx) * (y - my)).sum() / (w * (x - mx) ** 2).sum()
    if bb < 0:
        kap.append(-bb); eqs.append(-(my - bb * mx) / bb)
check(close(oc["fit"]["ci"]["kappa"], np.percentile(kap, [2.5, 97.5]), 1e-9), f"kl-drift: kappa interval {oc['fit']['ci']['kappa']} != {np.percentile(kap, [2.5, 97.5])}")
check(close(oc["fit"]["ci"]["equilibrium"], np.percentile(eqs, [2.5, 97.5]), 1e-9), "kl-drift: equilibrium interval")
check(oc["fit"]["ci"]["used"] + oc["fit"]["ci"]["left_out_b_nonnegative"] + oc["fit"]["ci"]["left_out_degenerate"] == 300, "kl-drift: resample accounting")
lo, hi = oc["fit"]["ci"]["equilibrium"]
check(lo <= oc["fit"]["equilibrium"] <= hi, "kl-drift: equilibrium outside its interval")
lo, hi = oc["fit"]["ci"]["kappa"]
check(lo <= oc["fit"]["kappa"] <= hi, "kl-drift: kappa outside its interval")
o6 = js("kl-drift", f"{d}/turns.csv", "--bootstrap", 300, "--seed", 6)
check(o6["fit"]["ci"] != oc["fit"]["ci"] and o6["fit"]["a"] == oc["fit"]["a"], "kl-drift: --seed does not change the resamples")
check(js("kl-drift", f"{d}/turns.csv", "--bootstrap", 0)["fit"]["ci"]["kappa"] == [None, None], "kl-drift --bootstrap 0: interval not null")

# outputs to a folder: tables and both figures
rc, _, err = run("kl-drift", f"{d}/turns.csv", "-o", f"{d}/out_kl", "--bootstrap", 50)
files = os.listdir(f"{d}/out_kl") if os.path.isdir(f"{d}/out_kl") else []
for need in ("kldrift_turns.tsv", "kldrift_fit.tsv", "kldrift_values.tsv", "kldrift_interventions.tsv", "kl-drift.json",
             "kldrift_turns.gp", "kldrift_phase.gp"):
    check(need in files, f"kl-drift -o: {need} missing ({err.strip()[:100]})")
if shutil.which("gnuplot"):
    check("kldrift_turns.png" in files and "kldrift_phase.png" in files, "kl-drift -o: figures not rendered")

# ---------------------------------------------------------------- kl-drift: bad input

write_drift(f"{d}/vocab.h5", conv2, turn2, tst2, ref2[:, :300])
bad(["kl-drift", f"{d}/vocab.h5", "-o", f"{d}/o1"], "vocabularies of different sizes", "vocabularies of different sizes", f"{d}/o1")
write_drift(f"{d}/single.h5", np.arange(5), np.zeros(5), tst2[:5], ref2[:5])
bad(["kl-drift", f"{d}/single.h5"], "no conversation with two turns", "no conversation has two consecutive turns")
open(f"{d}/gaps.csv", "w").write("conversation,turn,kl\na,0,0.1\na,2,0.2\nb,1,0.3\n")
bad(["kl-drift", f"{d}/gaps.csv"], "turns without a successor", "no conversation has two consecutive turns")
nan = tst2.copy(); nan[7, 3] = np.nan
write_drift(f"{d}/nan.h5", conv2, turn2, nan, ref2)
bad(["kl-drift", f"{d}/nan.h5"], "NaN logit", "row 7")
with h5py.File(f"{d}/mixed.h5", "w") as f:
    f.attrs.update(dict(attnlab_format="drift", format_version=1))
    f["row_conversation"] = conv2.astype(np.int32); f["row_turn"] = turn2.astype(np.int32)
    f["test/logits"] = tst2.astype(np.float32); f["ref/topk_ids"] = pi.astype(np.int32); f["ref/topk_logprobs"] = pl
bad(["kl-drift", f"{d}/mixed.h5"], "dense test, top-k reference", "both must be of one kind")
dup = qi.copy(); dup[4, 1] = dup[4, 0]
write_drift(f"{d}/dupid.h5", conv2, turn2, topk=[(dup, ql), (pi, pl)])
bad(["kl-drift", f"{d}/dupid.h5"], "repeated top-k id", "row 4")
write_drift(f"{d}/iv.h5", conv2, turn2, tst2, ref2, intervention=np.where(np.arange(len(conv2)) == 9, 2, 0))
bad(["kl-drift", f"{d}/iv.h5"], "intervention flag 2", "row 9")
write_drift(f"{d}/rows.h5", conv2, turn2[:-1], tst2, ref2)
bad(["kl-drift", f"{d}/rows.h5"], "row_turn shorter than row_conversation", "row_turn")
with h5py.File(f"{d}/notdrift.h5", "w") as f:
    f.attrs["attnlab_format"] = "recording"
bad(["kl-drift", f"{d}/notdrift.h5"], "a recording given to kl-drift", "not a drift file")
open(f"{d}/kl_text.csv", "w").write("conversation,turn,kl\n1,0,0.1\n1,1,high\n")
bad(["kl-drift", f"{d}/kl_text.csv"], "non-numeric kl", "line 3, column 'kl'")
open(f"{d}/kl_dup.csv", "w").write("conversation,turn,kl\n1,0,0.1\n1,1,0.2\n1,0,0.3\n")
bad(["kl-drift", f"{d}/kl_dup.csv"], "repeated (conversation, turn)", "line 4")
open(f"{d}/kl_col.csv", "w").write("conversation,turn,value\n1,0,0.1\n")
bad(["kl-drift", f"{d}/kl_col.csv"], "missing kl column", "no column 'kl'")
open(f"{d}/kl_trunc.jsonl", "w").write('{"conversation": 1, "turn": 0, "kl": 0.1}\n{"conversation": 1, "tu')
bad(["kl-drift", f"{d}/kl_trunc.jsonl"], "truncated JSON Lines", "line 2")
bad(["kl-drift", f"{d}/turns.csv", "--temperature", "0"], "temperature 0")
bad(["kl-drift", f"{d}/turns.csv", "--token-agg", "median"], "unknown --token-agg")
bad(["kl-drift", f"{d}/absent.h5"], "missing file")

# ---------------------------------------------------------------- help

for cmd, words in (("kl-drift", ("--token-agg", "--bootstrap", "kappa")),):
    rc, out, _ = run(cmd, "--help")
    check(rc == 0 and all(w in out for w in words), f"{cmd} --help")

finish("test_logs_kldrift")
