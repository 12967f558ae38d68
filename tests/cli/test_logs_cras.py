"""`attnlab cras` end to end (METRICS.md section 6): DLA-ICLR scores.json and JSON Lines against the hierarchy written
out here, weights (equal, --weights, per role from a file), correctness from JSON Lines or CSV against scipy, the
bootstrap interval reproduced from the documented generator, -o outputs with figures, and every bad-input class."""
import json, os, shutil
import numpy as np
import h5py
from alcli import *
from logsref import *

d = tmpdir()
from scipy.stats import pearsonr, spearmanr

rng = np.random.default_rng(41)

# ---------------------------------------------------------------- cras: DLA-ICLR scores.json, JSON Lines, weights, correctness

DIMS = ("GA", "RC", "KBA", "CC")
roles_all = ["assistant", "mathematician", "critic", "user proxy"]
scores = {}
for q in range(23):
    scores[f"Q{q:03d}"] = {r: [{dm: {"score": float(np.clip(np.round(rng.normal(3.5, 1), 1), 1, 5)), "justification": "because"} for dm in DIMS}
                              for _ in range(1 + (q + k) % 3)]
                           for k, r in enumerate(rng.permutation(roles_all)[: 1 + q % 4])}
json.dump(scores, open(f"{d}/scores.json", "w"), indent=1)
correct = {q: int(rng.random() < 0.5) for q in scores}
with open(f"{d}/scores.jsonl", "w") as f:
    for q, by_role in scores.items():
        for r, recs in by_role.items():
            for i, rec in enumerate(recs):
                row = dict(query=q, role=r, **{dm: rec[dm]["score"] for dm in DIMS})
                if i == 0:
                    row["correct"] = correct[q]
                f.write(json.dumps(row) + "\n")
with open(f"{d}/correct.csv", "w") as f:
    f.write("query,correct\n" + "".join(f"{q},{c}\n" for q, c in correct.items()))


def cras_ref(sc, wfor=lambda role: {dm: 1.0 for dm in DIMS}):
    def overall(wf):
        per_q, roles = {}, {}
        for q, by_role in sc.items():
            rv = []
            for role, recs in by_role.items():
                w = wf(role)
                m = np.mean([sum(w[dm] * rec[dm]["score"] for dm in DIMS) / sum(w.values()) for rec in recs])
                rv.append(m); roles.setdefault(role, []).append(m)
            per_q[q] = np.mean(rv)
        return per_q, roles
    per_q, roles = overall(wfor)
    dims = {dm: np.mean(list(overall(lambda r, dm=dm: {e: float(e == dm) for e in DIMS})[0].values())) for dm in DIMS}
    return np.mean(list(per_q.values())), per_q, dims, {r: (np.mean(v), len(v)) for r, v in roles.items()}


cr, per_q, dims, roles = cras_ref(scores)
oc = js("cras", f"{d}/scores.json", "--bootstrap", 400, "--seed", 3)
ol = js("cras", f"{d}/scores.jsonl", "--bootstrap", 400, "--seed", 3)
check(close(oc["cras"], cr, 1e-12) and close(oc["normalised"], (cr - 1) / 4, 1e-12), "cras: overall")
check(all(close(oc["dimensions"][k], v, 1e-12) for k, v in dims.items()), "cras: dimensions")
check({x["role"]: (round(x["cras"], 12), x["n"]) for x in oc["roles"]} == {r: (round(v, 12), n) for r, (v, n) in roles.items()}, "cras: roles")
check(all(close(x["cras"], per_q[x["query"]], 1e-12) for x in oc["queries"]) and len(oc["queries"]) == len(scores), "cras: queries")
for k in ("cras", "ci", "dimensions", "dimensions_ci", "roles"):
    check(oc[k] == ol[k], f"cras: JSON Lines gives another '{k}'")
check(oc["queries"] == [{k: v for k, v in x.items() if k != "correct"} for x in ol["queries"]], "cras: JSON Lines gives other queries")
check(all(x["correct"] == correct[x["query"]] for x in ol["queries"]), "cras: JSON Lines correctness per query")
qv = np.array([per_q[q] for q in scores])
boot = [(counts(3, 0, b, len(qv)) * qv).sum() / len(qv) for b in range(400)]
check(close(oc["ci"], np.percentile(boot, [2.5, 97.5]), 1e-12), f"cras: interval {oc['ci']} != documented generator {np.percentile(boot, [2.5, 97.5])}")
check(oc["ci"][0] <= oc["cras"] <= oc["ci"][1], "cras: estimate outside its interval")
check(all(x["ci"][0] <= x["cras"] <= x["ci"][1] for x in oc["roles"]), "cras: a role mean outside its interval")
check(all(oc["dimensions_ci"][k][0] <= v <= oc["dimensions_ci"][k][1] for k, v in oc["dimensions"].items()), "cras: a dimension outside its interval")
check(js("cras", f"{d}/scores.json", "--bootstrap", 400, "--seed", 4)["ci"] != oc["ci"], "cras: --seed changes nothing")
x, y = [per_q[q] for q in scores], [correct[q] for q in scores]
for o, what in ((ol, "JSON Lines 'correct'"), (js("cras", f"{d}/scores.json", "--correct", f"{d}/correct.csv"), "--correct CSV")):
    c = o.get("correlation", {})
    check(c.get("n") == len(x) and close(c.get("pearson"), pearsonr(x, y)[0], 1e-10) and close(c.get("spearman"), spearmanr(x, y)[0], 1e-10),
          f"cras {what}: correlation {c} != scipy")
ow = js("cras", f"{d}/scores.json", "--weights", "GA=2,RC=1,KBA=0.5,CC=1")
wd = dict(GA=2, RC=1, KBA=0.5, CC=1)
check(close(ow["cras"], cras_ref(scores, lambda r: wd)[0], 1e-12), "cras --weights")
json.dump({"default": dict(GA=1, RC=2, KBA=1, CC=1), "roles": {"critic": dict(GA=0, RC=0, KBA=1, CC=3)}}, open(f"{d}/w.json", "w"))
ow = js("cras", f"{d}/scores.json", "--weights-file", f"{d}/w.json")
wf = lambda r: dict(GA=0, RC=0, KBA=1, CC=3) if r == "critic" else dict(GA=1, RC=2, KBA=1, CC=1)
check(close(ow["cras"], cras_ref(scores, wf)[0], 1e-12), "cras --weights-file per role")
check(len(ow["inputs"]) == 2, "cras: the weights file is not among the inputs")
rc, _, err = run("cras", f"{d}/scores.json", "-o", f"{d}/out_cr", "--bootstrap", 50)
files = os.listdir(f"{d}/out_cr") if os.path.isdir(f"{d}/out_cr") else []
check(rc == 0 and all(f in files for f in ("cras_dimensions.gp", "cras_roles.gp", "cras_summary.tsv", "cras_queries.tsv")), f"cras -o: {files}")
if shutil.which("gnuplot"):
    check("cras_dimensions.png" in files and "cras_roles.png" in files, "cras -o: figures not rendered")

# ---------------------------------------------------------------- cras: bad input

def mutated(fn):
    s = json.loads(json.dumps(scores)); fn(s); return s

for fn, what, needle in ((lambda s: s["Q004"][next(iter(s["Q004"]))][0]["GA"].update(score=7.5), "score 7.5", 'query "Q004"'),
                         (lambda s: s["Q005"][next(iter(s["Q005"]))][1].pop("KBA"), "missing dimension", "record 1: dimension KBA is missing"),
                         (lambda s: s["Q006"][next(iter(s["Q006"]))][0]["CC"].update(score="n/a"), "non-numeric score", "CC score is a string"),
                         (lambda s: s["Q007"][next(iter(s["Q007"]))][0]["RC"].update(score=0), "score 0", "outside 1..5"),
                         (lambda s: s.update(Q008={}), "query without roles", 'query "Q008"')):
    json.dump(mutated(fn), open(f"{d}/bad.json", "w"))
    bad(["cras", f"{d}/bad.json", "-o", f"{d}/o_cr"], f"cras {what}", needle, f"{d}/o_cr")
text = open(f"{d}/scores.json").read()
open(f"{d}/trunc.json", "w").write(text[: len(text) // 2])
bad(["cras", f"{d}/trunc.json"], "truncated scores.json", "truncated")
lines = open(f"{d}/scores.jsonl").read().splitlines()
open(f"{d}/bad.jsonl", "w").write("\n".join(lines[:4] + [lines[4].replace('"RC"', '"R"')] + lines[5:]) + "\n")
bad(["cras", f"{d}/bad.jsonl"], "JSON Lines missing dimension", "line 5")
open(f"{d}/trunc.jsonl", "w").write("\n".join(lines[:3]) + "\n" + lines[3][:20])
bad(["cras", f"{d}/trunc.jsonl"], "truncated JSON Lines", "line 4")
open(f"{d}/c_bad.csv", "w").write("query,correct\nQ000,1\nQ999,0\n")
bad(["cras", f"{d}/scores.json", "--correct", f"{d}/c_bad.csv"], "correctness of an unknown query", "line 3")
open(f"{d}/c_txt.csv", "w").write("query,correct\nQ000,yes\n")
bad(["cras", f"{d}/scores.json", "--correct", f"{d}/c_txt.csv"], "non-numeric correctness", "line 2, column 'correct'")
bad(["cras", f"{d}/scores.json", "--weights", "GA=1,RC=1,KBA=1"], "weights without CC", "CC")
bad(["cras", f"{d}/scores.json", "--weights", "GA=1,RC=1,KBA=1,CC=1", "--weights-file", f"{d}/w.json"], "both weight options")
json.dump({"roles": {"critic": dict(GA=1, RC=1, KBA=1)}}, open(f"{d}/w_bad.json", "w"))
bad(["cras", f"{d}/scores.json", "--weights-file", f"{d}/w_bad.json"], "weights file without CC", "critic")

# ---------------------------------------------------------------- help

for cmd, words in (("cras", ("--weights-file", "--correct")),):
    rc, out, _ = run(cmd, "--help")
    check(rc == 0 and all(w in out for w in words), f"{cmd} --help")

finish("test_logs_cras")
