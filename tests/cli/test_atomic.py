"""Atomic outputs: a run killed with SIGKILL mid-way leaves no file under the output's name and nothing visible
in the -o folder; the only trace is a hidden temporary of a documented form (OUT.tmp-PID beside an output
file, DIR/.attnlab-stage-PID inside an output folder), which the next run writing there removes once that
process is gone (docs/reliability.md). Temporaries of a live process are left alone."""
import os, signal, subprocess, time
from alcli import *

d = tmpdir()


def start(*args):
    return subprocess.Popen([A, *map(str, args)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(p, cond, what, limit=60):
    """SIGKILLs p once cond() holds (polled); returns whether it was killed mid-way."""
    t0 = time.time()
    while time.time() - t0 < limit and p.poll() is None:
        if cond():
            time.sleep(0.05)
            p.send_signal(signal.SIGKILL)
            p.wait()
            return True
        time.sleep(0.01)
    p.wait()
    check(False, f"{what}: never reached the point to kill it (exit {p.returncode})")
    return False


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def temps(folder, name):
    return [f for f in os.listdir(folder) if f.startswith(name + ".tmp-")]


# 1. synth killed while writing OUT.h5: no OUT.h5, only OUT.h5.tmp-PID; the next run removes it
out = f"{d}/big.h5"
p = start("synth", "maps", "-o", out, "--samples", 6, "--layers", 8, "--heads", 8, "--tokens", 512, "--dtype", "f16", "--quiet")
if kill_when(p, lambda: temps(d, "big.h5"), "synth"):
    check(not os.path.exists(out), "killed synth left big.h5")
    left = os.listdir(d)
    check(all(f.startswith("big.h5.tmp-") for f in left), f"killed synth left other files: {left}")
    check(temps(d, "big.h5") == [f"big.h5.tmp-{p.pid}"], f"temporary not of the documented form: {left}")
    rc, _, err = run("synth", "maps", "-o", out, "--samples", 1, "--layers", 1, "--heads", 2, "--tokens", 8, "--quiet")
    check(rc == 0 and os.path.exists(out), f"synth after a killed one: {err}")
    check(temps(d, "big.h5") == [], f"stale temporary not removed by the next run: {os.listdir(d)}")

# 2. import killed mid-way: the same for the converter
import numpy as np
T = 320
row = np.tri(T, dtype=np.float32) / np.arange(1, T + 1, dtype=np.float32)[:, None]  # causal uniform rows
np.save(f"{d}/dump.npy", np.broadcast_to(row, (2, 8, 8, T, T)))
imp = f"{d}/imp.h5"
p = start("import", f"{d}/dump.npy", "-o", imp, "--dtype", "f16", "--quiet")
if kill_when(p, lambda: temps(d, "imp.h5"), "import"):
    check(not os.path.exists(imp), "killed import left imp.h5")
    np.save(f"{d}/small.npy", (np.tri(8, dtype=np.float32) / np.arange(1, 9, dtype=np.float32)[:, None])[None, None])
    rc, _, err = run("import", f"{d}/small.npy", "-o", imp, "--quiet")
    check(rc == 0 and os.path.exists(imp), f"import after a killed one: {err}")
    check(temps(d, "imp.h5") == [], f"stale import temporary not removed: {temps(d, 'imp.h5')}")

# 3. an analysis with -o DIR killed mid-way: nothing visible in DIR
o = f"{d}/out"
os.mkdir(o)
open(f"{o}/keep.txt", "w").write("a file of the user's\n")
p = start("heads", f"{d}/dump.npy", "-o", o, "--threads", 1, "--mem", "64K")
time.sleep(0.1)
if p.poll() is None:
    p.send_signal(signal.SIGKILL)
    p.wait()
    visible = [f for f in os.listdir(o) if not f.startswith(".attnlab-stage-")]
    check(visible == ["keep.txt"], f"killed heads -o left visible files: {visible}")
else:
    print("note: heads finished within 0.5 s; the kill case of -o was not exercised")

# 4. a stale staging folder of a dead process is removed by the next run; one of a live process is kept
stale = f"{o}/.attnlab-stage-{dead_pid()}"
os.mkdir(stale)
open(f"{stale}/half.tsv", "w").write("partial")
live = f"{o}/.attnlab-stage-{os.getpid()}"
os.mkdir(live)
stale_tmp = f"{d}/w.h5.tmp-{dead_pid()}"
open(stale_tmp, "w").write("partial")
rc, _, err = run("sinks", out, "--tokens", 8, "-o", o, "--quiet")
check(rc == 0, f"sinks -o after a killed run: {err}")
check(not os.path.exists(stale), "stale .attnlab-stage-PID of a dead process not removed")
check(os.path.isdir(live), "the staging folder of a live process was removed")
check(os.path.exists(f"{o}/keep.txt") and os.path.exists(f"{o}/sinks.json"), f"outputs: {sorted(os.listdir(o))}")
os.rmdir(live)
rc, _, err = run("synth", "maps", "-o", f"{d}/w.h5", "--samples", 1, "--layers", 1, "--heads", 1, "--tokens", 4, "--quiet")
check(rc == 0 and not os.path.exists(stale_tmp), "stale OUT.tmp-PID of a dead process not removed by the next writer")

# 5. a failing run (bad input) with -o leaves nothing, and a failed writer leaves no temporary
bad(["sinks", f"{d}/missing.h5", "-o", f"{d}/o2"], "missing input with -o", outdir=f"{d}/o2")
check(not os.path.exists(f"{d}/o2"), "failed run created its -o folder")
open(f"{d}/notes.txt", "w").write("not a map\n")
bad(["import", f"{d}/notes.txt", "-o", f"{d}/i2.h5"], "import of a text file", "notes.txt")
check(not os.path.exists(f"{d}/i2.h5") and temps(d, "i2.h5") == [], "failed import left a file")

import shutil
shutil.rmtree(d)
finish("test_atomic")
