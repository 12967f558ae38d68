"""`attnlab stats`: sinks, heads and similarity from one read equal the separate commands bit for bit (maps and
q/k, every dtype, any --threads and --mem); outputs of each analysis land in -o DIR; bad --analyses is exit 2."""
import json, os, shutil
from alcli import *

d = tmpdir()
strip = lambda x: {k: v for k, v in x.items() if k not in ("command", "params")}
for dt in ("f32", "f16", "bf16"):
    p = f"{d}/s_{dt}.h5"
    run("synth", "maps", "-o", p, "--tokens", 120, "--layers", 2, "--heads", 5, "--samples", 2, "--dtype", dt, "--quiet")
    alone = {"sinks": js("sinks", p, "--tokens", 120), "heads": js("heads", p), "similarity": js("similarity", p)}
    for extra in ([], ["--threads", 1, "--mem", "20K"], ["--threads", 2]):
        both = js("stats", p, *extra)
        for k, v in alone.items():
            check(strip(both[k]) == strip(v), f"stats {dt} {extra}: {k} differs from `attnlab {k}`")
    two = js("stats", p, "--analyses", "sinks,heads", "--tokens", 100, "--clark", "--recent", 8)
    check(strip(two["heads"]) == strip(js("heads", p, "--tokens", 100, "--clark", "--recent", 8)), f"stats {dt}: heads options")
    check(set(two) == {"sinks", "heads"}, "stats --analyses picks the analyses")

p = f"{d}/qk.h5"
run("synth", "qk", "-o", p, "--tokens", 96, "--heads", 4, "--kv-heads", 2, "--layers", 2, "--head-dim", 16, "--quiet")
both = js("stats", p, "--mem", "100K")
check(strip(both["sinks"]) == strip(js("sinks", p, "--tokens", 96)), "stats q/k: sinks")
check(strip(both["heads"]) == strip(js("heads", p)), "stats q/k: heads")
check(strip(both["similarity"]) == strip(js("similarity", p)), "stats q/k: similarity")

o = f"{d}/out"
rc, _, err = run("stats", f"{d}/s_f32.h5", "-o", o, "--quiet")
files = os.listdir(o) if os.path.isdir(o) else []
check(rc == 0 and all(f in files for f in ("sinks.json", "heads.json", "similarity.json", "sinks_rate.tsv")),
      f"stats -o: {sorted(files)[:8]} ({err.strip()})")
bad(["stats", f"{d}/s_f32.h5", "--analyses", "sinks,telepathy"], "unknown analysis", "telepathy")
bad(["stats", f"{d}/s_f32.h5", "--tokens", 1000], "--tokens beyond T", "beyond")
bad(["stats", f"{d}/missing.h5"], "missing file", "missing.h5")
shutil.rmtree(d)
finish("test_stats")
