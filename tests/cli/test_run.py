"""`attnlab run` and `attnlab merge` end to end: a clean run writes the report, tables and figures; a rerun
computes nothing; a run killed with SIGKILL at many points and run again gives the clean run's tables byte for
byte; shards 0/3, 1/3, 2/3 merged equal one run; sinks pooled over inputs equals numpy on all samples; malformed
specs exit 2 naming the JSON path; absent optional inputs skip their steps; the schema matches the commands."""
import filecmp, glob, json, os, re, shutil, signal, subprocess, time
import numpy as np
from alcli import *

d = tmpdir()


def runx(*args, cwd=None, timeout=600):
    p = subprocess.run([A, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def body(path):  # a table without its '#' provenance lines
    with open(path) as f:
        return [l for l in f if not l.startswith("#")]


def same_tree(a, b, what, bodies_only=False):
    """every file of a's tables/ and report.md equal in b (unit tables compared without their provenance)"""
    ok = True
    for rel in ["report.md"] + sorted(os.path.relpath(p, a) for p in glob.glob(f"{a}/tables/**/*", recursive=True) if os.path.isfile(p)):
        pa, pb = os.path.join(a, rel), os.path.join(b, rel)
        if not os.path.isfile(pb) or not filecmp.cmp(pa, pb, shallow=False):
            check(False, f"{what}: {rel} differs or is missing")
            ok = False
    extra = sorted(os.path.relpath(p, b) for p in glob.glob(f"{b}/tables/**/*", recursive=True)
                   if os.path.isfile(p) and not os.path.isfile(os.path.join(a, os.path.relpath(p, b))))
    check(not extra, f"{what}: extra tables {extra}")
    for pa in sorted(glob.glob(f"{a}/steps/*/*/*.tsv")):
        pb = os.path.join(b, os.path.relpath(pa, a))
        if not os.path.isfile(pb) or body(pa) != body(pb):
            check(False, f"{what}: unit table {os.path.relpath(pa, a)} differs or is missing")
            ok = False
    return ok


# ---- a spec over every kind of input the driver makes ----
spec = {
    "name": "t",
    "title": "test experiment",
    "inputs": {
        "syn": {"synth": "maps", "params": {"samples": 2, "layers": 3, "heads": 6, "tokens": 72, "seed": 5}, "count": 3},
        "pair": {"synth": "drift", "params": {"samples": 2, "layers": 4, "heads": 4, "tokens": 48}},
        "turns": {"synth": "kl-drift", "params": {"conversations": 16, "turns": 8}},
        "sims": {"synth": "semdrift", "params": {"samples": 6}},
        "judge": {"synth": "cras", "params": {"queries": 10}},
    },
    "steps": [
        {"analysis": "sinks", "input": "syn", "params": {"epsilon": 0.3, "tokens": 64}},
        {"name": "info", "analysis": "info", "input": "syn"},
        {"analysis": "heads", "input": "syn", "params": {"recent": 16, "sink-tokens": 4, "tokens": 64}},
        {"analysis": "drift", "input": "pair"},
        {"analysis": "kl-drift", "input": "turns", "params": {"bootstrap": 50}},
        {"analysis": "semdrift", "input": "sims"},
        {"analysis": "cras", "input": "judge", "params": {"bootstrap": 50}},
    ],
    "figures": [
        {"name": "rate", "step": "sinks", "table": "sinks_rate", "x": "position", "y": "sink_rate"},
        {"name": "alpha0", "step": "sinks", "table": "sinks_heads", "kind": "heatmap", "row": "layer", "col": "head", "value": "alpha_0"},
        {"name": "decay", "step": "semdrift", "table": "semdrift_means", "x": "generation", "y": "mean_similarity", "series": "direction"},
    ],
}
sp = f"{d}/spec.json"
json.dump(spec, open(sp, "w"), indent=1)
NUNITS = 3 * 3 + 4

# 1. clean run
t0 = time.time()
rc, out, err = runx("run", sp, "-o", f"{d}/clean")
clean_s = time.time() - t0
check(rc == 0, f"clean run: exit {rc}: {err[-400:]}")
check(os.path.isfile(f"{d}/clean/report.md"), "clean run: no report.md")
rep = open(f"{d}/clean/report.md").read() if rc == 0 else ""
for fig in ("rate", "alpha0", "decay"):
    check(os.path.isfile(f"{d}/clean/figures/{fig}.gp"), f"figure {fig}: no script")
    check(f"figures/{fig}." in rep, f"figure {fig} not in the report")
for t in ("sinks/sinks_rate", "sinks/sinks_heads", "heads/heads", "drift/drift_heads", "kl-drift/kldrift_fit", "cras/cras_summary"):
    check(os.path.isfile(f"{d}/clean/tables/{t}.tsv") and os.path.isfile(f"{d}/clean/tables/{t}.json"), f"table {t} missing")
    check(f"tables/{t}.tsv" in rep, f"table {t} not linked from the report")
check(f"Units: {NUNITS} done, 0 failed, 0 skipped" in rep, "report: unit count")
check("attnlab run:" in err and "done in" in err, "plain progress lines expected when stderr is not a terminal")
stacked = json.load(open(f"{d}/clean/tables/heads/heads.json"))
check(list(stacked["rows"][0])[:3] == ["input", "layer", "head"] and len(stacked["rows"]) == 3 * 18, "heads: stacked with an input column")
check(list(stacked)[:4] == ["attnlab_version", "command", "inputs", "params"], "combined JSON: provenance keys first")

# sinks and heads on one recording with one token count share one pass (`attnlab stats`): the same numbers
check("in one pass with 1 other" in err, "sinks and heads were not computed in one pass")
syn0 = f"{d}/clean/inputs/syn-0/synthetic.h5"
rc, _, _ = runx("heads", syn0, "--tokens", 64, "--recent", 16, "--sink-tokens", 4, "-o", f"{d}/heads0", "-q")
for t in ("heads", "heads_roles"):
    check(body(f"{d}/heads0/{t}.tsv") == body(f"{d}/clean/steps/heads/syn-0/{t}.tsv"), f"shared pass: {t} differs from `attnlab heads`")
rc, _, _ = runx("sinks", syn0, "--tokens", 64, "--positions", 64, "-o", f"{d}/sinks0", "-q")
for t in ("sinks_rate", "sinks_layers", "sinks_heads"):
    check(body(f"{d}/sinks0/{t}.tsv") == body(f"{d}/clean/steps/sinks/syn-0/{t}.tsv"), f"shared pass: {t} differs from `attnlab sinks`")

# 2. rerun: nothing is computed, nothing changes
mt = {p: os.stat(p).st_mtime_ns for p in glob.glob(f"{d}/clean/steps/*/*/unit.json")}
rc, out, err = runx("run", sp, "-o", f"{d}/clean")
check(rc == 0 and f"{NUNITS} units done (0 computed, {NUNITS} up to date)" in err, f"rerun computed something: {err[-300:]}")
check(all(os.stat(p).st_mtime_ns == m for p, m in mt.items()) and len(mt) == NUNITS, "rerun touched unit folders")
rc, out, err = runx("run", sp, "-o", f"{d}/clean", "--quiet")
check(rc == 0 and err == "", f"--quiet run printed: {err!r}")
# keys depend on what the parameters mean, not how they are written: order, '_' for '-'
spec_r = json.loads(json.dumps(spec))
spec_r["steps"][0]["params"] = {"tokens": 64, "epsilon": 0.3}
spec_r["steps"][2]["params"] = {"sink_tokens": 4, "tokens": 64, "recent": 16}
spec_r["inputs"]["syn"]["params"] = {"seed": 5, "tokens": 72, "heads": 6, "layers": 3, "samples": 2}
spec_r["inputs"]["pair"]["params"] = {"samples": 2, "layers": 4, "heads": 4, "tokens": 48}
spec_r["inputs"]["turns"]["params"] = {"turns": 8, "conversations": 16}
json.dump(spec_r, open(f"{d}/spec_r.json", "w"))
rc, out, err = runx("run", f"{d}/spec_r.json", "-o", f"{d}/clean")
check(rc == 0 and "0 computed" in err and "generated in" not in err, f"reordered parameters recomputed something: {err[-300:]}")
rc, out, err = runx("run", sp, "-o", f"{d}/clean", "-q")
# a fresh folder gives the same bytes
rc, _, err = runx("run", sp, "-o", f"{d}/clean2", "-q")
check(rc == 0, f"second clean run: {err}")
same_tree(f"{d}/clean", f"{d}/clean2", "two clean runs")

# 3. a changed parameter reruns that step only; a changed file reruns the units that read it
spec2 = json.loads(json.dumps(spec))
spec2["steps"][0]["params"]["epsilon"] = 0.2
json.dump(spec2, open(f"{d}/spec2.json", "w"))
shutil.copytree(f"{d}/clean", f"{d}/edit")
rc, out, err = runx("run", f"{d}/spec2.json", "-o", f"{d}/edit")
check(rc == 0 and "3 computed" in err, f"changing epsilon should recompute the 3 sinks units: {err[-300:]}")

# 4. kill -9 at many points, then rerun: the clean run's tables, byte for byte
delays = [0.05, 0.2, 0.5, 0.9, 1.4, 2.0, 3.0, 4.5]
delays = [x for x in delays if x < clean_s * 1.1] or [0.1]
print(f"clean run: {clean_s:.1f}s; kill -9 after {delays} s")
for k, delay in enumerate(delays):
    kd = f"{d}/kill{k}"
    p = subprocess.Popen([A, "run", sp, "-o", kd, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(p.pid, signal.SIGKILL)  # the run and the gnuplot it may be running: all ours
    except ProcessLookupError:
        pass
    p.wait()
    rc, out, err = runx("run", sp, "-o", kd, "-q")
    check(rc == 0, f"rerun after kill at {delay}s: exit {rc}: {err}")
    same_tree(f"{d}/clean", kd, f"kill -9 at {delay}s then rerun")
    left = [n for n in os.listdir(kd) if n.startswith(".attnlab-") and n != ".attnlab-lock"]
    check(not left, f"kill at {delay}s: leftovers after the rerun: {left}")
# repeated kills on one folder
kd = f"{d}/killmany"
for delay in (0.1, 0.4, 0.3, 0.8, 0.6):
    p = subprocess.Popen([A, "run", sp, "-o", kd, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()
rc, _, err = runx("run", sp, "-o", kd, "-q")
check(rc == 0, f"rerun after repeated kills: {err}")
same_tree(f"{d}/clean", kd, "five kills on one folder, then rerun")

# 5. shards merged equal one run
for i in range(3):
    rc, _, err = runx("run", sp, "-o", f"{d}/shard{i}", "--shard", f"{i}/3", "-q")
    check(rc == 0, f"shard {i}/3: {err}")
check("in other shards" in open(f"{d}/shard1/report.md").read(), "a shard's report says it is partial")
rc, _, err = runx("merge", f"{d}/shard2", f"{d}/shard0", f"{d}/shard1", "-o", f"{d}/merged", "-q")
check(rc == 0, f"merge: {err}")
same_tree(f"{d}/clean", f"{d}/merged", "3 shards merged vs one run")
rc, _, err = runx("merge", f"{d}/shard0", f"{d}/shard1", f"{d}/shard2", "-o", f"{d}/shard0", "-q")
check(rc == 0, f"merge into a shard folder: {err}")
same_tree(f"{d}/clean", f"{d}/shard0", "merge into shard 0's folder")
rc, _, err = runx("run", sp, "-o", f"{d}/merged")
check(rc == 0 and "0 computed" in err, f"a run on a merged folder computes nothing: {err[-200:]}")
bad(["merge", f"{d}/shard1", f"{d}/shard2", "-o", f"{d}/m2"], "merge with a shard missing", "shard 0/3 is missing")
bad(["merge", f"{d}/shard1", f"{d}/shard1", f"{d}/shard2", "-o", f"{d}/m3"], "merge with a shard twice", "shard 1/3 is also")
bad(["merge", f"{d}/clean", f"{d}/edit", "-o", f"{d}/m4"], "merge of two specs", "another spec")
bad(["merge", d, "-o", f"{d}/m5"], "merge of a folder that is no run", "no run.json")
bad(["run", sp, "-o", f"{d}/x", "--shard", "3/3"], "--shard out of range", "--shard")

# 6. sinks pooled over inputs: hits added, alpha weighted by samples, = numpy over all samples together
rng = np.random.default_rng(3)
maps = [softmax_maps(rng, n, 2, 3, 40, sink_heads=[(0, 1), (1, 2)]) for n in (1, 3, 2)]
os.makedirs(f"{d}/pool")
for k, m in enumerate(maps):
    write_v1(f"{d}/pool/r{k}.h5", m)
json.dump({"inputs": {"recs": {"files": ["pool/r*.h5"]}, "one": {"files": ["pool/r1.h5"]}},
           "steps": [{"analysis": "sinks", "input": "recs", "params": {"tokens": 40, "epsilon": 0.1, "positions": 6}},
                     {"name": "single", "analysis": "sinks", "input": "one", "params": {"tokens": 32, "epsilon": 0.1}}]},
          open(f"{d}/pool.json", "w"))
rc, _, err = runx("run", "pool.json", "-o", "poolout", "-q", cwd=d)  # relative paths: against the spec's folder
check(rc == 0, f"pooled sinks run: {err}")
allm = np.concatenate(maps)
rate, lrate, mean_alpha = sink_rate(allm, 0.1, 6)
tab = lambda n: json.load(open(f"{d}/poolout/tables/sinks/{n}.json"))["rows"]
check(close([r["sink_rate"] for r in tab("sinks_rate")], rate, 0, 1e-12), "pooled sink_rate = numpy over all samples")
check(all(close([r[f"sink_{k}"] for k in range(6)], lrate[r["layer"]], 0, 1e-12) for r in tab("sinks_layers")), "pooled per-layer rate")
heads = tab("sinks_heads")
check(all(close([r[f"alpha_{k}"] for k in range(6)], mean_alpha[r["layer"], r["head"], :6], 1e-12, 1e-15) for r in heads), "pooled alpha")
hid = {(l, h): ",".join(str(j) for j in np.nonzero(mean_alpha[l, h, 1:].astype(np.float32) > np.float32(0.1))[0] + 1)
       for l in range(2) for h in range(3)}
check(all(r["hidden_sinks"] == hid[(r["layer"], r["head"])] for r in heads), "pooled hidden sinks from the pooled alpha")
per = {r["input"]: r for r in tab("sinks_inputs")}
check(sorted(per) == ["recs-0", "recs-1", "recs-2"], "sinks_inputs: one row per input")
for k, m in enumerate(maps):
    rk, _, _ = sink_rate(m, 0.1, 6)
    row = per.get(f"recs-{k}", {})
    check(row.get("samples") == len(m) and close([row.get(f"sink_{j}") for j in range(6)], rk, 0, 1e-12), f"sinks_inputs: input {k}")
st = json.load(open(f"{d}/poolout/steps/sinks/recs-1/stats.json"))
check(st["samples"] == 3 and len(st["hits"]) == 2 and len(st["alpha_mean"]) == 6 and len(st["alpha_mean"][0]) == 40, "stats.json fields")
# one input: exactly the analysis's own tables
rc, _, err = runx("sinks", f"{d}/pool/r1.h5", "--tokens", 32, "--epsilon", 0.1, "-o", f"{d}/direct", "-q")
for t in ("sinks_rate", "sinks_layers", "sinks_heads"):
    check(body(f"{d}/direct/{t}.tsv") == body(f"{d}/poolout/tables/single/{t}.tsv"), f"single input: {t} differs from `attnlab sinks`")

# 7. optional inputs that are absent skip their steps, with the reason; tuples of files feed drift
shutil.copy(f"{d}/clean/inputs/pair/baseline.h5", f"{d}/b.h5")
shutil.copy(f"{d}/clean/inputs/pair/conflict.h5", f"{d}/c.h5")
json.dump({"inputs": {"m": {"files": ["pool/r0.h5"]}, "gates": {"files": ["../no/such/gates.tsv"], "optional": True},
                      "pair": {"files": [["b.h5", "c.h5"]]}},
           "steps": [{"analysis": "heads", "input": "m", "params": {"duo-gates": {"input": "gates"}}},
                     {"name": "g2", "analysis": "sinks", "input": "gates"},
                     {"analysis": "drift", "input": "pair"}]}, open(f"{d}/opt.json", "w"))
rc, _, err = runx("run", f"{d}/opt.json", "-o", f"{d}/optout")
r = open(f"{d}/optout/report.md").read() if rc == 0 else ""
check(rc == 0 and "../no/such/gates.tsv: no such file" in r and "skipped" in r, f"absent optional input: {rc} {err[-300:]}")
check(os.path.isfile(f"{d}/optout/tables/drift/drift_heads.tsv"), "drift on a tuple of files")

# 8. malformed specs: exit 2, one line naming SPEC:JSON.PATH, nothing written
cases = [
    ({"steps": [{"analysis": "sinks", "input": "a"}] * 1}, "spec.json:inputs: missing"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a"}, {"name": "b", "analysis": "sinks", "input": "a"},
                                                    {"name": "c", "analysis": "sinks", "input": "a", "params": {"epsilon": "0.3"}}]},
     "spec.json:steps[2].params.epsilon: expected a number"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "nosuch", "input": "a"}]}, "spec.json:steps[0].analysis: unknown analysis 'nosuch'"),
    ({"inputs": {"a": {"files": ["missing.h5"]}}, "steps": [{"analysis": "sinks", "input": "a"}]}, "spec.json:inputs.a.files[0]: no such file"),
    ({"inputs": {"a": {"files": ["x/*.h5"]}}, "steps": [{"analysis": "sinks", "input": "a"}]}, "spec.json:inputs.a.files[0]: no file matches"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "zz"}]}, "spec.json:steps[0].input: no input named 'zz'"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a", "params": {"tokens": 2.5}}]}, "spec.json:steps[0].params.tokens: expected an integer"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a", "params": {"epsilon": 3}}]}, "spec.json:steps[0].params.epsilon: 3 is out of range"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a", "params": {"epslion": 0.3}}]}, "spec.json:steps[0].params.epslion: sinks has no parameter"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "heads", "input": "a", "params": {"clark": 1}}]}, "spec.json:steps[0].params.clark: expected true or false"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "drift", "input": "a"}]}, "spec.json:steps[0].input: drift takes 2 files"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "maps", "input": "a"}]}, "spec.json:steps[0].params: maps needs the parameter 'layers'"),
    ({"inputs": {"a": {"synth": "maps", "params": {"layers": "4"}}}, "steps": [{"analysis": "sinks", "input": "a"}]}, "spec.json:inputs.a.params.layers: expected an integer"),
    ({"inputs": {"a": {"synth": "nope"}}, "steps": [{"analysis": "sinks", "input": "a"}]}, "spec.json:inputs.a.synth: unknown synthetic kind"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a"}], "extra": 1}, "spec.json:extra: unknown key"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a", "params": {}}, {"analysis": "sinks", "input": "a"}]}, "spec.json:steps[1].name: two steps are named 'sinks'"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "heads", "input": "a", "params": {"duo-gates": "nofile.tsv"}}]}, "spec.json:steps[0].params.duo-gates: no such file"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "sinks", "input": "a"}], "figures": [{"name": "f", "step": "x", "table": "t", "x": "a", "y": "b"}]}, "spec.json:figures[0].step: no step named 'x'"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": [{"analysis": "synth", "input": "a"}]}, "spec.json:steps[0].analysis: 'synth' writes inputs"),
    ({"inputs": {"a": {"synth": "maps"}}, "steps": []}, "spec.json:steps: expected a non-empty list"),
]
os.makedirs(f"{d}/bad")
for k, (sj, needle) in enumerate(cases):
    with open(f"{d}/bad/spec.json", "w") as f:
        json.dump(sj, f)
    rc, out, err = runx("run", "spec.json", "-o", "out", cwd=f"{d}/bad")
    lines = err.strip().splitlines()
    check(rc == 2 and len(lines) == 1 and lines[0].startswith("attnlab: error: " + needle), f"bad spec {k}: exit {rc}, {err.strip()!r}, expected {needle!r}")
    check(not os.path.exists(f"{d}/bad/out"), f"bad spec {k}: output folder created")
with open(f"{d}/bad/spec.json", "w") as f:
    f.write('{"inputs": {"a": {"synth": "maps"}},\n "steps": [}\n')
rc, _, err = runx("run", "spec.json", "-o", "out", cwd=f"{d}/bad")
check(rc == 2 and "spec.json: malformed JSON at line 2" in err, f"malformed JSON: {err!r}")
# a figure naming a column its table lacks: exit 2 with the figure's path, everything else written
sj = dict(spec, figures=[{"name": "f", "step": "sinks", "table": "sinks_rate", "x": "position", "y": "nosuch"}])
json.dump(sj, open(f"{d}/figbad.json", "w"))
rc, _, err = runx("run", f"{d}/figbad.json", "-o", f"{d}/clean", "-q")
check(rc == 2 and "figbad.json:figures[0].y: table sinks_rate of step sinks has no column 'nosuch'" in err, f"figure column: {err!r}")
# a unit whose input is bad fails with the analysis's own message; the rest still runs
with open(f"{d}/junk.h5", "w") as f:
    f.write("not hdf5")
json.dump({"inputs": {"r": {"files": ["pool/r0.h5", "junk.h5"]}}, "steps": [{"analysis": "sinks", "input": "r", "params": {"tokens": 40}}]},
          open(f"{d}/junk.json", "w"))
rc, _, err = runx("run", f"{d}/junk.json", "-o", f"{d}/junkout", "-q")
check(rc == 2 and err.count("attnlab: error:") == 1 and "junk.h5" in err, f"failed unit: {rc} {err!r}")
check(os.path.isfile(f"{d}/junkout/steps/sinks/r-0/sinks.json"), "the good unit still ran")

# 9. the schema of spec_schema.c names real flags of each command
src = open(os.path.join(SRC, "experiments", "spec_schema.c")).read()
arrays = dict(re.findall(r"static const al_pdef (\w+)\[\] = \{(.*?)\n\};", src, re.S))
arrays.update(dict(re.findall(r"static const al_pdef (\w+)\[\] = \{(.*?)\};", src)))
for name, arr in re.findall(r'\{"([\w-]+)", \d, \d, AL_COMBINE_\w+, (\w+)\}', src):
    rc, out, _ = runx(name, "--help")
    for flag in re.findall(r'\{"([\w-]+)", AL_PT_', arrays.get(arr, "")):
        check(f"--{flag}" in out, f"schema: {name} has no flag --{flag}")
for kind, arr in (("synth", "al_g_maps"), ("record", "al_g_record")):
    rc, out, _ = runx(kind, "--help")
    for flag in re.findall(r'\{"([\w-]+)", AL_PT_', arrays[arr]):
        check(f"--{flag}" in out, f"schema: {kind} has no flag --{flag}")

# 10. the shipped specs run as shipped (duo_gates' comparison is skipped, with its reason, without ../shared)
for path in sorted(glob.glob(os.path.join(SRC, "experiments", "*.json"))):
    name = os.path.basename(path)[:-5]
    rc, _, err = runx("run", path, "-o", f"{d}/shipped/{name}", "-q", timeout=900)
    check(rc == 0, f"experiments/{name}.json: exit {rc}: {err.strip()[-300:]}")
    r = open(f"{d}/shipped/{name}/report.md").read() if rc == 0 else ""
    check("Mirrors:" in r or name == "demo", f"experiments/{name}.json names no figure or table it mirrors")
    check("figures/" in r or name == "cras" or "**Skipped**: input" in r, f"experiments/{name}.json: no figure in the report")
# two levels down in the temporary folder, so the spec's ../../shared is {d}/shared, absent whatever /tmp holds
os.makedirs(f"{d}/x/elsewhere")
shutil.copy(os.path.join(SRC, "experiments", "duo_gates.json"), f"{d}/x/elsewhere/duo_gates.json")
rc, _, err = runx("run", f"{d}/x/elsewhere/duo_gates.json", "-o", f"{d}/x/elsewhere/out", "-q", timeout=900)
r = open(f"{d}/x/elsewhere/out/report.md").read() if rc == 0 else ""
check(rc == 0 and "**Skipped**: input 'gates' is absent" in r, f"duo_gates without ../shared: exit {rc}, {err[-200:]}")

shutil.rmtree(d, ignore_errors=True)
finish("test_run")
