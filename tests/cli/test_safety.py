"""Data safety of the output folders (docs/reliability.md): `attnlab run -o DIR` refuses a folder that is not
its own and deletes only what it recorded as its own (never a user's file, never a spec input, never through a
symbolic link); stale temporaries go only when their owner is gone (no process, no flock); every command's -o
DIR is committed as one step (a refused commit leaves DIR byte for byte as it was, a kill -9 at any point leaves
old or new outputs, never a mix, once the next command has run) and fsynced before it is reported; one error
prefix; -o paths over PATH_MAX refused before anything is created."""
import fcntl, hashlib, json, os, shutil, signal, subprocess, time
from alcli import *

d = tmpdir()


def runx(*args, cwd=None, timeout=600):
    p = subprocess.run([A, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout, p.stderr


def tree(root):
    """{relative path: sha256 of the bytes, 'dir' or 'link -> target'} of everything under root, links not followed"""
    out = {}
    for base, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(base, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link -> " + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def one_error(err, what):
    lines = [l for l in err.splitlines() if l.startswith("attnlab: error: ")]
    check(len(lines) == 1, f"{what}: expected one error line: {err!r}")
    check("attnlab: error: attnlab:" not in err, f"{what}: doubled prefix: {err!r}")


def user_files(root, names):
    for n in names:
        os.makedirs(os.path.dirname(f"{root}/{n}"), exist_ok=True)
        with open(f"{root}/{n}", "wb") as f:
            f.write(f"user data {n}\n".encode() + os.urandom(64))


spec = {"name": "s", "inputs": {"syn": {"synth": "maps", "params": {"samples": 2, "layers": 2, "heads": 4, "tokens": 40,
                                                                    "seed": 3}, "count": 2}},
        "steps": [{"analysis": "sinks", "input": "syn", "params": {"tokens": 32, "epsilon": 0.3}},
                  {"analysis": "heads", "input": "syn", "params": {"recent": 8, "tokens": 32}}]}
sp = f"{d}/spec.json"
json.dump(spec, open(sp, "w"))

# 1. the reproduction: a non-empty folder that is no attnlab run is refused, nothing touched
u = f"{d}/u"
user_files(u, ["inputs/data/run7.h5", "steps/x/n.txt", "tables/m.tsv", "d.tmp-old"])
before = tree(u)
rc, _, err = runx("run", sp, "-o", u)
check(rc == 2 and "not an attnlab run" in err, f"run into a user's folder: exit {rc}: {err[-300:]}")
one_error(err, "run into a user's folder")
check(tree(u) == before, "run into a user's folder changed it")

# 2. a spec reading inputs/rec/*.h5 run with -o on its own folder: refused, the input intact
own = f"{d}/own"
os.makedirs(f"{own}/inputs/rec")
write_v1(f"{own}/inputs/rec/a.h5", softmax_maps(np.random.default_rng(1), 1, 2, 2, 24))
json.dump({"inputs": {"rec": {"files": ["inputs/rec/*.h5"]}},
           "steps": [{"analysis": "sinks", "input": "rec", "params": {"tokens": 16}}]}, open(f"{own}/spec.json", "w"))
before = tree(own)
rc, _, err = runx("run", "spec.json", "-o", ".", cwd=own)
check(rc == 2 and "not an attnlab run" in err, f"run -o on the spec's own folder: exit {rc}: {err[-300:]}")
check(tree(own) == before, "run -o on the spec's own folder changed it")

# 3. in a folder of ours: user files beside and inside its folders survive reruns, prunes and changed steps
w = f"{d}/w"
rc, _, err = runx("run", sp, "-o", w, "-q")
check(rc == 0, f"clean run: {err}")
check(os.path.isfile(f"{w}/.attnlab.owned"), "no ownership record")
check(not os.path.exists(f"{w}/.attnlab-tmp"), "temporaries folder left after a clean run")
mine = ["notes.txt", "steps/x/n.txt", "steps/sinks/mine.txt", "inputs/rec/a.h5", "inputs/data/run7.h5",
        "d.tmp-old", "steps/heads/syn-0.tmp-1"]
user_files(w, mine)
write_v1(f"{w}/inputs/rec/a.h5", softmax_maps(np.random.default_rng(2), 1, 2, 2, 24))
keep = {k: v for k, v in tree(w).items() if any(k == m or m.startswith(k + "/") for m in mine)}
# a spec that reads inputs/rec/*.h5 inside the run folder, drops the heads step and renames nothing else
spec2 = json.loads(json.dumps(spec))
spec2["inputs"]["rec"] = {"files": ["w/inputs/rec/*.h5"]}
spec2["steps"] = [spec2["steps"][0], {"name": "recsinks", "analysis": "sinks", "input": "rec", "params": {"tokens": 16}}]
json.dump(spec2, open(f"{d}/spec2.json", "w"))
rc, _, err = runx("run", f"{d}/spec2.json", "-o", w, "-q")
check(rc == 0, f"run reading inputs inside its folder: exit {rc}: {err[-300:]}")
after = tree(w)
check(all(after.get(k) == v for k, v in keep.items()), f"user files changed: {[k for k in keep if after.get(k) != keep[k]]}")
check(not os.path.exists(f"{w}/steps/heads/syn-0") and os.path.isdir(f"{w}/steps/recsinks/rec"),
      f"the dropped step's units were not pruned, or the new one not run: {sorted(os.listdir(w + '/steps'))}")
check(os.path.isdir(f"{w}/steps/heads"), "a folder holding a user's file was removed")
# back to the first spec: recsinks is pruned, the file it read (not recorded as ours) stays
rc, _, err = runx("run", sp, "-o", w, "-q")
check(rc == 0 and tree(w).get("inputs/rec/a.h5") == keep["inputs/rec/a.h5"], f"rerun of the first spec: {err[-300:]}")
# a user's file inside a unit folder that must be replaced: that unit is refused, the file kept
spec3 = json.loads(json.dumps(spec))
spec3["steps"][0]["params"]["epsilon"] = 0.2
json.dump(spec3, open(f"{d}/spec3.json", "w"))
user_files(w, ["steps/sinks/syn-0/mine.txt"])
before = tree(w)["steps/sinks/syn-0/mine.txt"]
rc, _, err = runx("run", f"{d}/spec3.json", "-o", w, "-q")
check(rc == 2 and "mine.txt" in err and "not written by attnlab" in err, f"unit folder with a user file: exit {rc}: {err[-300:]}")
one_error(err, "unit folder with a user file")
check(tree(w).get("steps/sinks/syn-0/mine.txt") == before, "the user's file in a unit folder was touched")
os.unlink(f"{w}/steps/sinks/syn-0/mine.txt")
rc, _, err = runx("run", f"{d}/spec3.json", "-o", w, "-q")
check(rc == 0, f"after moving the file away: {err[-300:]}")

# 4. symbolic links where the run keeps folders: refused with exit 2, nothing outside DIR touched
for sub in ["steps", "inputs", "tables", "steps/sinks", "inputs/syn-1"]:
    s = f"{d}/ln-{sub.replace('/', '-')}"
    rc, _, err = runx("run", sp, "-o", s, "-q")
    ext = f"{d}/ext-{sub.replace('/', '-')}"
    shutil.move(f"{s}/{sub}", ext)
    user_files(ext, ["canary.txt"])
    os.symlink(ext, f"{s}/{sub}")
    shutil.rmtree(f"{s}/steps/heads" if sub != "steps" else f"{ext}/heads")  # something to recompute
    outside, inside = tree(ext), tree(s)
    rc, _, err = runx("run", sp, "-o", s, "-q")
    check(rc == 2 and "symbolic link" in err, f"symlinked {sub}: exit {rc}: {err[-300:]}")
    one_error(err, f"symlinked {sub}")
    check(tree(ext) == outside and tree(s) == inside, f"symlinked {sub}: something changed")

# 5. temporaries: only those whose owner is gone (no process and no flock on them) are removed
def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


rec = f"{d}/r.h5"
write_v1(rec, softmax_maps(np.random.default_rng(4), 2, 2, 3, 32))
o = f"{d}/o"
os.makedirs(o)
dead = dead_pid()
user_files(o, ["d.tmp-old", f"x.tmp-{dead}", f".attnlab-stagex-{dead}/a"])
os.makedirs(f"{o}/.attnlab-stage-{dead}")                       # dead owner, no lock: removed
open(f"{o}/.attnlab-stage-{dead}/half.tsv", "w").write("partial")
locked_pid = dead_pid()
os.makedirs(f"{o}/.attnlab-stage-{locked_pid}")                 # its pid is gone but a process holds its lock
lock_fd = os.open(f"{o}/.attnlab-stage-{locked_pid}", os.O_RDONLY)
fcntl.flock(lock_fd, fcntl.LOCK_EX)
tmp_dead, tmp_locked = f"{d}/w.h5.tmp-{dead}", f"{d}/w.h5.tmp-{locked_pid}"
open(tmp_dead, "w").write("partial")
open(tmp_locked, "w").write("partial")
lock_fd2 = os.open(tmp_locked, os.O_RDONLY)
fcntl.flock(lock_fd2, fcntl.LOCK_EX)
rc, _, err = runx("sinks", rec, "--tokens", 16, "-o", o, "-q")
check(rc == 0, f"sinks -o beside temporaries: {err}")
check(not os.path.exists(f"{o}/.attnlab-stage-{dead}"), "staging folder of a dead owner not removed")
check(os.path.isdir(f"{o}/.attnlab-stage-{locked_pid}"), "staging folder whose lock is held was removed")
check(all(os.path.exists(f"{o}/{n}") for n in ["d.tmp-old", f"x.tmp-{dead}", f".attnlab-stagex-{dead}/a"]),
      f"a user's file that looks like a temporary was removed: {sorted(os.listdir(o))}")
rc, _, err = runx("synth", "maps", "-o", f"{d}/w.h5", "--samples", 1, "--layers", 1, "--heads", 1, "--tokens", 4, "-q")
check(rc == 0 and not os.path.exists(tmp_dead) and os.path.exists(tmp_locked),
      f"OUT.tmp-PID: dead one removed, locked one kept: {rc} {err}")
os.close(lock_fd)
os.close(lock_fd2)
# in a run folder: the driver's temporaries live in .attnlab-tmp, emptied only by the next driver holding the lock
p = subprocess.Popen([A, "run", sp, "-o", f"{d}/busy", "-q"], stderr=subprocess.PIPE)
t0 = time.time()
while not os.path.exists(f"{d}/busy/.attnlab-tmp") and time.time() - t0 < 30:
    time.sleep(0.005)
rc, _, err = runx("run", sp, "-o", f"{d}/busy", "-q")
check(rc == 2 and "another attnlab run" in err, f"second driver on a busy folder: exit {rc}: {err}")
p.wait()
check(p.returncode == 0, "the first driver failed beside a refused second one")

# 6. all-or-nothing -o: a refused commit leaves the folder exactly as it was
pc = f"{d}/pc"
os.makedirs(f"{pc}/heads_roles.json")
before = tree(pc)
rc, _, err = runx("heads", rec, "-o", pc, "-q")
check(rc == 1 and "heads_roles.json" in err, f"heads -o with a folder where a file goes: exit {rc}: {err}")
one_error(err, "heads -o blocked")
check(tree(pc) == before, f"a refused commit changed the folder: {sorted(set(tree(pc)) - set(before))}")
os.rmdir(f"{pc}/heads_roles.json")
rc, _, err = runx("heads", rec, "-o", pc, "-q", "--recent", 4)
check(rc == 0, f"heads -o: {err}")
old = tree(pc)
os.makedirs(f"{pc}/heads_profiles.tsv.d")  # unrelated: not an output name
os.unlink(f"{pc}/heads_roles.json")
os.makedirs(f"{pc}/heads_roles.json")
before = tree(pc)
rc, _, err = runx("heads", rec, "-o", pc, "-q", "--recent", 8)
check(rc == 1 and tree(pc) == before, "a refused commit over older outputs changed them")
shutil.rmtree(pc)

# 7. kill -9 at any point of `heads -o`: afterwards the files are all of one call, once the next command ran
def params_of(folder):
    """the set of --recent values the .json outputs were written with"""
    vals = set()
    for n in os.listdir(folder):
        if n.endswith(".json"):
            vals.add(json.load(open(f"{folder}/{n}")).get("params", {}).get("recent"))
    return vals


big = f"{d}/big.h5"
write_v1(big, softmax_maps(np.random.default_rng(5), 4, 4, 8, 128))
pk = f"{d}/pk"
rc, _, err = runx("heads", big, "-o", pk, "-q", "--recent", 4)
check(rc == 0, f"heads -o first call: {err}")
clean = f"{d}/pk-clean"
rc, _, err = runx("heads", big, "-o", clean, "-q", "--recent", 9)
t_clean = None
for k, delay in enumerate([0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6]):
    p = subprocess.Popen([A, "heads", big, "-o", pk, "-q", "--recent", str(9 if k % 2 else 4)], stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()
    marked = [n for n in os.listdir(pk) if n.startswith(".attnlab-stage-") and os.path.exists(f"{pk}/{n}/.attnlab-commit")]
    if not marked:
        check(len(params_of(pk) - {None}) == 1, f"kill after {delay}s: outputs of two calls mixed without a commit mark")
    # any command writing to pk first completes (or drops) what the killed one left
    rc, _, err = runx("sinks", big, "-o", pk, "-q", "--tokens", 8)
    check(rc == 0, f"sinks -o after a kill: {err}")
    check(len(params_of(pk) - {None}) == 1, f"kill after {delay}s: outputs mixed after the next command: {params_of(pk)}")
    check(not [n for n in os.listdir(pk) if n.startswith(".attnlab-")], f"kill after {delay}s: leftovers")
rc, _, err = runx("heads", big, "-o", pk, "-q", "--recent", 9)
body = lambda p: [l for l in open(p) if not l.startswith("#")]
check(rc == 0, f"heads -o after the kills: {err}")
check(all(body(f"{clean}/{n}") == body(f"{pk}/{n}") for n in os.listdir(clean) if n.endswith(".tsv")),
      "heads -o after the kills differs from a clean call")

# a commit killed between two renames (simulated: a marked stage of a dead process) is completed, not dropped
mark_dir = f"{pk}/.attnlab-stage-{dead_pid()}"
os.makedirs(mark_dir)
open(f"{mark_dir}/extra.tsv", "w").write("from the killed commit\n")
open(f"{mark_dir}/.attnlab-commit", "w").close()
rc, _, err = runx("sinks", big, "-o", pk, "-q", "--tokens", 8)
check(rc == 0 and open(f"{pk}/extra.tsv").read() == "from the killed commit\n" and not os.path.exists(mark_dir),
      f"a marked stage was not rolled forward: {rc} {err}")

# 8. fsync before the commit is reported: files, then the rename, then the folder (strace, when installed)
if shutil.which("strace"):
    fs = f"{d}/fs"
    senv = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")  # LSan refuses ptrace
    p = subprocess.run(["strace", "-f", "-e", "trace=openat,fsync,rename,renameat,renameat2", "-o", f"{d}/strace.txt",
                        A, "heads", rec, "-o", fs, "-q"], capture_output=True, text=True, env=senv)
    log = open(f"{d}/strace.txt").read().splitlines()
    fds, events = {}, []
    for l in log:
        if "openat(" in l and "= " in l and not l.rstrip().endswith("= -1"):
            try:
                fds[l.split("= ")[-1].split()[0]] = l.split('"')[1]
            except IndexError:
                pass
        elif "fsync(" in l:
            events.append(("fsync", fds.get(l.split("fsync(")[1].split(")")[0], "?")))
        elif "rename" in l and '"' in l:
            events.append(("rename", l.split('"')[3]))
    ren = [i for i, e in enumerate(events) if e[0] == "rename" and e[1].endswith("heads_roles.json")]
    synced = [i for i, e in enumerate(events) if e[0] == "fsync" and e[1].endswith("heads_roles.json")]
    dsync = [i for i, e in enumerate(events) if e[0] == "fsync" and e[1].rstrip("/") == fs]
    check(p.returncode == 0 and ren and synced and synced[0] < ren[0] and dsync and dsync[-1] > ren[-1],
          f"fsync order (file before rename, folder after): exit {p.returncode} {p.stderr[-300:]} {events[-12:]}")
    p = subprocess.run(["strace", "-f", "-e", "trace=openat,fsync,rename,renameat,renameat2", "-o", f"{d}/strace2.txt",
                        A, "run", sp, "-o", f"{d}/fsr", "-q"], capture_output=True, text=True, env=senv)
    log = open(f"{d}/strace2.txt").read()
    check(p.returncode == 0 and log.count("fsync(") > 20, f"run: exit {p.returncode} {p.stderr[-300:]}, fsyncs {log.count('fsync(')}")
else:
    print("note: strace not installed: the fsync order was not traced")

# 9. -o longer than PATH_MAX: refused up front, nothing created
long = f"{d}/pm/" + "/".join(["x" * 200] * 25)
os.makedirs(f"{d}/pm")
for args in (["heads", rec], ["run", sp], ["synth", "maps"], ["merge", w]):
    rc, _, err = runx(*args, "-o", long)
    check(rc == 2 and "PATH_MAX" in err, f"{args[0]} -o of {len(long)} bytes: exit {rc}: {err[-200:]}")
    one_error(err, f"{args[0]} -o too long")
check(os.listdir(f"{d}/pm") == [], "a too long -o created something")
rel = "/".join(["y" * 200] * 18)  # under PATH_MAX itself, too long for the run's sub-paths once absolute
rc, _, err = runx("run", sp, "-o", rel, cwd=f"{d}/pm")
check(rc == 2 and "PATH_MAX" in err and os.listdir(f"{d}/pm") == [], f"run -o near PATH_MAX: exit {rc}: {err[-200:]}")

# 10. one error prefix: a unit failing in the analysis, and a generated input failing (its error came back
# as "attnlab: error: attnlab: ...")
open(f"{d}/junk.bin", "wb").write(bytes(range(256)) * 20)
for name, inp in (("analysis", {"files": [rec]}), ("generator", {"record": "junk.bin", "params": {"tokens": "1,2,3"}})):
    json.dump({"inputs": {"r": inp}, "steps": [{"analysis": "sinks", "input": "r", "params": {"tokens": 100000}}]},
              open(f"{d}/bad.json", "w"))
    rc, _, err = runx("run", f"{d}/bad.json", "-o", f"{d}/badrun-{name}", "-q")
    check(rc == 2 and ("junk.bin" in err if name == "generator" else "r.h5" in err), f"a failing {name}: exit {rc}: {err}")
    one_error(err, f"a failing {name}")

shutil.rmtree(d, ignore_errors=True)
finish("test_safety")
