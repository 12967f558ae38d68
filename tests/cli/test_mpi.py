"""`attnlab run` under MPI (an ATTNLAB_MPI build, named by ATTNLAB_MPI_BIN; `make check` builds one in build-mpi
when Open MPI is installed): every shipped spec at 1, 2 and 4 ranks gives the single-process run's tables, figures,
unit tables, run.json and report.md byte for byte; a failing unit is reported while the other units finish; a job
killed with SIGKILL and run again (with MPI and without) loses nothing; a second job on the same folder is refused;
the Slurm-array script's shards merged give the same bytes."""
import filecmp, glob, json, os, shutil, signal, subprocess, sys, time
from alcli import *

MPI = os.environ.get("ATTNLAB_MPI_BIN", "")
MPIRUN = shutil.which("mpirun")
if not MPI or not os.path.isfile(MPI) or not MPIRUN:
    print("SKIP: no MPI build (make check builds build-mpi/attnlab when Open MPI is installed: "
          "apt-get install libopenmpi-dev openmpi-bin) or no mpirun")
    sys.exit(77)

d = tmpdir()
SRC = os.environ.get("ATTNLAB_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
MPIARGS = [MPIRUN, "--oversubscribe", "--mca", "btl", "self,vader"] + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def mpirun(n, *args, timeout=900):
    p = subprocess.run([*MPIARGS, "-n", str(n), MPI, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def plain(*args, timeout=900):
    p = subprocess.run([MPI, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def files(root, sub):
    return sorted(os.path.relpath(p, root) for p in glob.glob(f"{root}/{sub}/**/*", recursive=True) if os.path.isfile(p))


def body(path):  # a unit table without its '#' provenance lines (they name the output folder)
    with open(path, "rb") as f:
        return [l for l in f if not l.startswith(b"#")]


def same_run(a, b, what, merged=False):
    """tables/, figures/, report.md, run.json (output folder names replaced; a merged folder's also says how many
    shards it was merged from) byte for byte; unit tables' bodies"""
    fa, fb = files(a, "tables") + files(a, "figures"), files(b, "tables") + files(b, "figures")
    check(fa == fb, f"{what}: other files in tables/ or figures/: {sorted(set(fa) ^ set(fb))[:6]}")
    bad = [r for r in fa + ["report.md"] if r in fb + ["report.md"] and not filecmp.cmp(f"{a}/{r}", f"{b}/{r}", shallow=False)]
    check(not bad, f"{what}: {bad[:6]} differ")
    ja = open(f"{a}/run.json").read().replace(a, "OUT")
    jb = open(f"{b}/run.json").read().replace(b, "OUT")
    if merged:
        ja, jb = json.loads(ja), json.loads(jb)
        check(jb.pop("merged_from") > 0 and ja.pop("merged_from") == 0, f"{what}: merged_from")
    check(ja == jb, f"{what}: run.json differs")
    ua, ub = files(a, "steps"), files(b, "steps")
    ta = [r for r in ua if r.endswith(".tsv")]
    check(ta == [r for r in ub if r.endswith(".tsv")], f"{what}: other unit tables")
    check(all(body(f"{a}/{r}") == body(f"{b}/{r}") for r in ta if os.path.isfile(f"{b}/{r}")), f"{what}: a unit table differs")


# 1. every shipped spec: one process, then 1, 2 and 4 ranks
specs = sorted(glob.glob(f"{SRC}/experiments/*.json"))
check(len(specs) >= 8, f"shipped specs found: {len(specs)}")
for sp in specs:
    name = os.path.basename(sp)[:-5]
    ref = f"{d}/{name}-1p"
    rc, _, err = plain("run", sp, "-o", ref, "-q")
    check(rc == 0, f"{name}: single-process run: {err[-300:]}")
    for n in (1, 2, 4):
        out = f"{d}/{name}-n{n}"
        rc, _, err = mpirun(n, "run", sp, "-o", out, "-q")
        check(rc == 0, f"{name}: {n} ranks: exit {rc}: {err[-300:]}")
        same_run(ref, out, f"{name} at {n} ranks")
    for n in (1, 2, 4):
        shutil.rmtree(f"{d}/{name}-n{n}", ignore_errors=True)
    if name != "demo":
        shutil.rmtree(ref, ignore_errors=True)

# 2. a unit that fails is reported; the other units finish
spec = {"name": "f", "title": "a bad input among good ones",
        "inputs": {"recs": {"files": [f"{d}/good0.h5", f"{d}/bad.h5", f"{d}/good1.h5"]}},
        "steps": [{"analysis": "sinks", "input": "recs", "params": {"tokens": 16}},
                  {"analysis": "heads", "input": "recs"}]}
for i in (0, 1):
    rc, _, err = plain("synth", "maps", "-o", f"{d}/good{i}.h5", "--seed", i, "--tokens", 24, "--layers", 2, "--heads", 2)
    check(rc == 0, f"synth: {err}")
with open(f"{d}/bad.h5", "wb") as f:
    f.write(b"not a recording" * 10)
with open(f"{d}/f.json", "w") as f:
    json.dump(spec, f)
rc, _, err = mpirun(2, "run", f"{d}/f.json", "-o", f"{d}/fail")
check(rc == 2 and "attnlab: error:" in err and "bad.h5" in err, f"a failed unit: exit 2 naming it: {rc} {err[-300:]}")
units = json.load(open(f"{d}/fail/run.json"))["units"]
states = sorted((u.get("item", ""), u.get("state")) for u in units)
check(sum(s == "done" for _, s in states) == 4 and sum(s == "failed" for _, s in states) == 2, f"unit states {states}")
check("failed" in open(f"{d}/fail/report.md").read(), "report names the failed units")

# 3. kill -9 of the whole job, then rerun with MPI and without: the clean run's bytes
ref = f"{d}/demo-1p"
sp = f"{SRC}/experiments/demo.json"
for delay, rerun in ((1.5, "mpi"), (4.0, "plain")):
    kd = f"{d}/killed-{delay}"
    p = subprocess.Popen([*MPIARGS, "-n", "2", MPI, "run", sp, "-o", kd, "-q"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    os.killpg(p.pid, signal.SIGKILL)  # mpirun, then every rank (Open MPI puts ranks in their own groups)
    subprocess.run(["pkill", "-KILL", "-f", kd])
    p.wait()
    for _ in range(100):  # until no rank is left
        if subprocess.run(["pgrep", "-f", kd], capture_output=True).returncode != 0:
            break
        time.sleep(0.1)
    rc, _, err = (mpirun(2, "run", sp, "-o", kd, "-q") if rerun == "mpi" else plain("run", sp, "-o", kd, "-q"))
    check(rc == 0, f"rerun ({rerun}) after kill -9 at {delay}s: {err[-300:]}")
    same_run(ref, kd, f"kill -9 at {delay}s, rerun {rerun}")
    rc, _, err = mpirun(2, "run", sp, "-o", kd)
    check(rc == 0 and "0 computed" in err, f"a finished folder computes nothing under MPI: {err[-300:]}")

# 4. two jobs on one folder: the second is refused, the first finishes
two = f"{d}/two"
p = subprocess.Popen([*MPIARGS, "-n", "2", MPI, "run", sp, "-o", two, "-q"], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True)
time.sleep(1.0)
rc, _, err = mpirun(2, "run", sp, "-o", two, "-q")
check(rc == 2 and "another attnlab run" in err, f"a second job on one folder: {rc} {err[-300:]}")
_, err1 = p.communicate(timeout=900)
check(p.returncode == 0, f"the first job finishes: {err1[-300:]}")
same_run(ref, two, "the first of two jobs")

# 5. the Slurm-array recipe (tools/slurm_array.sh), run here without Slurm: shards then merge, the same bytes
env = dict(os.environ, ATTNLAB=MPI)
p = subprocess.run(["sh", f"{SRC}/tools/slurm_array.sh", "--local", sp, f"{d}/array", "3"], capture_output=True,
                   text=True, env=env, timeout=900)
check(p.returncode == 0, f"tools/slurm_array.sh --local: {p.stderr[-300:]}")
same_run(ref, f"{d}/array", "3 array shards merged", merged=True)

shutil.rmtree(d, ignore_errors=True)
finish("test_mpi")
