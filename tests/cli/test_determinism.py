"""Determinism: every map analysis gives bit-identical output for any --threads (and any --mem): each one is run
with --threads 1 and 2 and a small --mem and the JSON documents are compared whole, less the provenance
fields that record the command line itself (command, params). Figure-only analyses compare their -o files."""
import json, os, shutil
import numpy as np
import h5py
from alcli import *

d = tmpdir()
rc, _, err = run("synth", "maps", "-o", f"{d}/maps.h5", "--samples", 2, "--layers", 3, "--heads", 4, "--tokens", 40,
                 "--seed", 5, "--quiet")
check(rc == 0, f"synth maps: {err}")
rc, _, err = run("synth", "maps", "-o", f"{d}/maps16.h5", "--samples", 2, "--layers", 2, "--heads", 3, "--tokens", 33,
                 "--seed", 6, "--dtype", "f16", "--quiet")
check(rc == 0, f"synth maps f16: {err}")
rc, _, err = run("synth", "qk", "-o", f"{d}/qk.h5", "--samples", 2, "--layers", 2, "--heads", 4, "--kv-heads", 2,
                 "--tokens", 30, "--head-dim", 8, "--with-maps", "--quiet")
check(rc == 0, f"synth qk: {err}")
rc, _, err = run("synth", "drift", "-o", f"{d}/drift", "--samples", 2, "--layers", 4, "--heads", 3, "--tokens", 32, "--quiet")
check(rc == 0, f"synth drift: {err}")
# hidden states, keys and values for norms
rng = np.random.default_rng(3)
shutil.copy(f"{d}/maps.h5", f"{d}/hidden.h5")
with h5py.File(f"{d}/hidden.h5", "a") as f:
    for l in range(4):
        f[f"hidden/L{l:03d}"] = (rng.standard_normal((2, 40, 16)) * (1 + 10 * (l == 2))).astype(np.float32)

commands = set()
_, helptext, _ = run("--help")
for line in helptext.splitlines():
    w = line.split()
    if line.startswith("  ") and w:
        commands.add(w[0])

# (command, file arguments, extra flags); each runs with --threads 1 and 2 and small --mem
cases = [
    ("sinks", [f"{d}/maps.h5"], ["--tokens", 40]),
    ("sinks", [f"{d}/maps16.h5"], ["--tokens", 33]),
    ("sinks", [f"{d}/qk.h5"], ["--tokens", 30, "--from-qk"]),
    ("heads", [f"{d}/maps.h5"], ["--recent", 8]),
    ("heads", [f"{d}/qk.h5"], ["--from-qk"]),
    ("similarity", [f"{d}/maps16.h5"], []),
    ("drift", [f"{d}/drift/baseline.h5", f"{d}/drift/conflict.h5"], []),
    ("norms", [f"{d}/hidden.h5"], []),
    ("norms", [f"{d}/qk.h5"], []),
    ("kvsim", [f"{d}/qk.h5"], ["--policy", "window:8", "--policy", "sink:2,window:8"]),
]
strip = lambda x: {k: v for k, v in x.items() if k not in ("command", "params")}
ran = 0
for cmd, files, flags in cases:
    if cmd not in commands:
        print(f"skip {cmd}: not in this build")
        continue
    outs = []
    for threads, mem in ((1, "1G"), (2, "1G"), (2, "6K"), (1, "3K")):
        rc, out, err = run(cmd, *files, *flags, "--threads", threads, "--mem", mem, "--format", "json")
        check(rc == 0, f"{cmd} {flags} --threads {threads} --mem {mem}: exit {rc}: {err.strip()[:200]}")
        if rc == 0:
            outs.append((threads, mem, strip(json.loads(out))))
    for threads, mem, o in outs[1:]:
        same = o == outs[0][2]
        if not same:
            diff = [k for k in set(o) | set(outs[0][2]) if o.get(k) != outs[0][2].get(k)]
            check(False, f"{cmd} {os.path.basename(files[0])} {flags}: --threads {threads} --mem {mem} differs from "
                         f"--threads 1 in {sorted(diff)}")
        else:
            check(True, "")
    ran += 1

# figure-only analysis: the files it writes (data and scripts) are identical
if "maps" in commands:
    trees = []
    for threads, mem in ((1, "1G"), (2, "1M")):
        o = f"{d}/maps_t{threads}"
        rc, _, err = run("maps", f"{d}/maps.h5", "--layers", "0,2", "--heads", "all", "-o", o, "--threads", threads,
                         "--mem", mem, "--quiet")
        check(rc == 0, f"maps -o: {err.strip()[:200]}")
        files = {}
        for name in sorted(os.listdir(o)) if rc == 0 else []:
            if name.endswith(".png"):
                continue
            data = open(f"{o}/{name}", "rb").read()
            if name.endswith(".json"):
                data = json.dumps(strip(json.loads(data)), sort_keys=True).encode()
            elif name.endswith(".tsv"):
                data = b"\n".join(l for l in data.splitlines() if not l.startswith((b"# command", b"# params")))
            files[name] = data
        trees.append(files)
    check(len(trees) == 2 and trees[0] == trees[1] and trees[0],
          f"maps -o: files differ between --threads 1 and 2: "
          f"{[k for k in set(trees[0]) | set(trees[-1]) if trees[0].get(k) != trees[-1].get(k)]}")
    ran += 1

check(ran >= 4, f"only {ran} analyses ran")
shutil.rmtree(d)
finish("test_determinism")
