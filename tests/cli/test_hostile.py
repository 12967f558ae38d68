"""Inputs and conditions a hostile user or a broken machine produces (issue 20, docs/reliability.md): HDF5 metadata
that crashes the HDF5 library, a full disk under every HDF5 writer, fixed-length string attributes, overflowing
q/k scores, big-endian maps, a CSV header of 10^6 columns, NUL and invalid UTF-8 in CRAS names, and 1000
threads under a small --mem."""
import json, os, resource, subprocess, sys, time
import numpy as np
import h5py
from alcli import *

d = tmpdir()
rng = np.random.default_rng(20)
N, L, H, T = 2, 2, 3, 24
att = softmax_maps(rng, N, L, H, T)


def attrs(**kw):
    a = dict(attnlab_format="recording", format_version=1, model="t", n_layers=L, n_heads=H, n_kv_heads=H, causal=1,
             first_token_is_bos=1)
    a.update(kw)
    return a


def strip(j):
    """A JSON document without the provenance fields that name the command and its input files."""
    if isinstance(j, dict):
        return {k: strip(v) for k, v in j.items() if k not in ("command", "params", "inputs", "input", "path")}
    if isinstance(j, list):
        return [strip(v) for v in j]
    return j


def doc(*args):
    return strip(js(*args))


# ---- HDF5 that crashes the library: the metadata pass in a child process turns it into exit 2 ----
good = f"{d}/good.h5"
rc, _, err = run("synth", "maps", "-o", good, "--samples", 1, "--layers", 2, "--heads", 2, "--tokens", 32, "-q")
check(rc == 0, f"synth: {err}")
raw = bytearray(open(good, "rb").read())
g = raw.find(b"GCOL")  # the global heap holding the variable-length string attributes
check(g > 0, "synth's file has a global heap")
raw[g + 24:g + 32] = (0x00FFFFFF00000000).to_bytes(8, "little")  # first heap object's size: HDF5 1.10.8 memcpy's that much
crash = f"{d}/crash.h5"
open(crash, "wb").write(raw)
for cmd in (["info"], ["sinks", "--tokens", 8], ["heads"], ["similarity"], ["maps", "--layers", "0"]):
    bad([cmd[0], crash, *cmd[1:]], f"corrupt global heap / {cmd[0]}", f"{crash}: corrupt HDF5 metadata")
bad(["import", crash, "-o", f"{d}/imp.h5"], "corrupt global heap / import", "corrupt HDF5 metadata")
check(not os.path.exists(f"{d}/imp.h5"), "import of a corrupt file left an output")
# a loop in HDF5 is bounded by ATTNLAB_OPEN_TIMEOUT: the second heap object's size set to 189 makes 1.10.8 loop
raw = bytearray(open(good, "rb").read())
raw[g + 56:g + 64] = (0xBD).to_bytes(8, "little")
hang = f"{d}/hang.h5"
open(hang, "wb").write(raw)
t = time.monotonic()
p = subprocess.run([A, "sinks", hang, "--tokens", "8"], capture_output=True, text=True, env=dict(os.environ, ATTNLAB_OPEN_TIMEOUT="2"),
                   timeout=60)
check(p.returncode == 2 and "did not finish" in p.stderr and len(p.stderr.splitlines()) == 1 and time.monotonic() - t < 30,
      f"HDF5 looping: exit {p.returncode} after {time.monotonic() - t:.1f} s: {p.stderr}")
# in a run, the bad file is one failed unit; the good one's unit finishes
spec = f"{d}/spec.json"
json.dump({"attnlab_spec": 1, "name": "hostile", "inputs": {"r": {"files": [good, crash]}},
           "steps": [{"name": "sinks", "analysis": "sinks", "input": "r", "params": {"tokens": 8}}]}, open(spec, "w"))
rc, _, err = run("run", spec, "-o", f"{d}/run", "-q")
check(rc == 2 and "corrupt HDF5 metadata" in err and "1 unit failed" in err, f"run with a corrupt input: {rc} {err}")
check(os.path.exists(f"{d}/run/steps/sinks/r-0/sinks.json"), "the good input's unit finished")

# ---- external links are refused like external storage ----
with h5py.File(f"{d}/ext.h5", "w") as f:
    f.attrs.update(attrs())
    f["attention/L000"] = att[:, 0]
    f["attention/L001"] = h5py.ExternalLink(good, "attention/L001")
bad(["sinks", f"{d}/ext.h5", "--tokens", 8], "external link", f"{d}/ext.h5:attention/L001: an external link")

# ---- fixed-length string attributes keep their last byte ----
with h5py.File(f"{d}/fixed.h5", "w") as f:
    f.attrs.update(attrs())
    f.attrs["attnlab_format"] = np.bytes_(b"recording")
    f.attrs["model"] = np.bytes_(b"model-xyz")
    for l in range(L):
        u = att[:, l].view(np.uint32)
        ds = f.create_dataset(f"attention/L{l:03d}", data=((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16))
        ds.attrs["dtype"] = np.bytes_(b"bfloat16")
rc, out, err = run("info", f"{d}/fixed.h5", "--format", "json")
check(rc == 0 and "model-xyz" in out and "bfloat16" in out, f"fixed-length strings: {rc} {err} {out[:300]}")

# ---- overflowing q.k scores; head_dim 0 ----
with h5py.File(f"{d}/huge.h5", "w") as f:
    f.attrs.update(attrs(n_layers=1, n_heads=1, n_kv_heads=1))
    f["q/L000"] = np.full((1, 1, 8, 4), 3e38, np.float32)
    f["k/L000"] = np.full((1, 1, 8, 4), 3e38, np.float32)
for cmd in ("sinks", "heads", "stats", "similarity"):
    bad([cmd, f"{d}/huge.h5", *(["--tokens", 4] if cmd == "sinks" else [])], f"q = k = 3e38 / {cmd}", f"{d}/huge.h5:q/L000: overflowing scores")
with h5py.File(f"{d}/d0.h5", "w") as f:
    f.attrs.update(attrs(n_layers=1, n_heads=1, n_kv_heads=1))
    f["q/L000"] = np.zeros((1, 1, 8, 0), np.float32)
    f["k/L000"] = np.zeros((1, 1, 8, 0), np.float32)
bad(["sinks", f"{d}/d0.h5", "--tokens", 4], "head_dim 0", "head_dim 0")

# ---- big-endian float32 maps: the same numbers as little-endian everywhere ----
for name, dt, kw in (("le", "<f4", {}), ("be", ">f4", {}), ("bez", ">f4", dict(chunks=(1, 1, 8, T), compression="gzip"))):
    with h5py.File(f"{d}/{name}.h5", "w") as f:
        f.attrs.update(attrs())
        for l in range(L):
            f.create_dataset(f"attention/L{l:03d}", data=att[:, l].astype(dt), **kw)
cmds = [["sinks", "--tokens", 8], ["heads"], ["similarity"], ["stats"]]
if "kvsim" in run("--help")[1]:
    cmds.append(["kvsim", "--policy", "window:8"])
for cmd in cmds:
    ref = doc(cmd[0], f"{d}/le.h5", *cmd[1:])
    for name in ("be", "bez"):
        check(doc(cmd[0], f"{d}/{name}.h5", *cmd[1:]) == ref, f"big-endian ({name}) / {cmd[0]}: output differs from little-endian")
for name in ("le", "be"):
    rc, _, err = run("maps", f"{d}/{name}.h5", "--layers", "0", "-o", f"{d}/maps_{name}", "-q")
    check(rc == 0, f"maps of {name}: {err}")
check(sorted(os.listdir(f"{d}/maps_le")) == sorted(os.listdir(f"{d}/maps_be")), "maps: same files")
for fn in os.listdir(f"{d}/maps_le"):
    a, b = open(f"{d}/maps_le/{fn}", "rb").read(), open(f"{d}/maps_be/{fn}", "rb").read()
    if fn.endswith(".json"):
        check(strip(json.loads(a)) == strip(json.loads(b)), f"maps: {fn} differs between byte orders")
    elif fn.endswith((".dat", ".gp")):
        check(a == b, f"maps: {fn} differs between byte orders")

# ---- a CSV header of 10^6 columns: linear, seconds (quadratic took a quarter of an hour) ----
wide = 10**6
cols = ",".join(f"c{i}" for i in range(wide))
ones = ",".join("1" for _ in range(wide))
open(f"{d}/wide_kl.csv", "w").write(f"conversation,turn,kl,{cols}\n0,1,0.5,{ones}\n0,2,0.6,{ones}\n")
open(f"{d}/wide_sem.csv", "w").write(f"direction,generation,sample,similarity,{cols}\nup,0,0,1,{ones}\nup,1,0,0.9,{ones}\n")
for cmd, f in (("kl-drift", "wide_kl.csv"), ("semdrift", "wide_sem.csv")):
    t = time.monotonic()
    try:
        rc, _, err = run(cmd, f"{d}/{f}", "-q", "--format", "json", timeout=120)
    except subprocess.TimeoutExpired:
        rc, err = "timeout", ""
    check(rc in (0, 2) and time.monotonic() - t < 120, f"{cmd}: 10^6 header columns: {rc} after {time.monotonic() - t:.0f} s {err[:200]}")
open(f"{d}/dup.csv", "w").write("conversation,turn,kl," + ",".join(f"c{i % 5000}" for i in range(10000)) + "\n")
bad(["kl-drift", f"{d}/dup.csv"], "a repeated header column among 10^4", "'c0' appears twice")

# ---- NUL and invalid UTF-8 in CRAS names ----
rec = lambda q: '{"query": %s, "role": "r", "GA": 3, "RC": 4, "KBA": 3, "CC": 5}\n' % q
for name, body, needle in (("nul.jsonl", rec('"q\\u0000x"'), "NUL"), ("utf8.jsonl", rec('"q\xff"'), "UTF-8"),
                           ("nul.json", '{"q\\u0000": {"r": [{"GA": 3, "RC": 3, "KBA": 3, "CC": 3}]}}', "NUL"),
                           ("overlong.jsonl", rec('"q\xc0\xaf"'), "UTF-8"), ("surrogate.jsonl", rec('"q\xed\xa0\x80"'), "UTF-8")):
    open(f"{d}/{name}", "wb").write(body.encode("latin-1"))
    bad(["cras", f"{d}/{name}"], f"cras: {name}", needle)
open(f"{d}/esc.jsonl", "w").write(rec('"q\\\\u0000 \u00e9"'))  # an escaped backslash, then text: a valid name
rc, out, err = run("cras", f"{d}/esc.jsonl", "--format", "json")
check(rc == 0 and "\\\\u0000 é" in json.dumps(json.loads(out), ensure_ascii=False), f"cras: an escaped backslash is a valid name: {rc} {err}")

# ---- --mem bounds the threads: 1000 threads under --mem 32M stay near one thread's peak ----
def peak_kb(*args):
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    return int(subprocess.run([sys.executable, "-c", code, A, *map(str, args)], capture_output=True, text=True,
                              check=True).stdout)


rc, _, err = run("synth", "maps", "-o", f"{d}/mid.h5", "--samples", 1, "--layers", 2, "--heads", 8, "--tokens", 64, "-q")
for cmd in ("similarity", "stats"):
    one, many = peak_kb(cmd, f"{d}/mid.h5", "--mem", "32M", "--threads", 1, "-q"), peak_kb(cmd, f"{d}/mid.h5", "--mem", "32M", "--threads", 1000, "-q")
    check(many <= one + 8 * 1024, f"{cmd} --mem 32M: peak {many} KB with 1000 threads, {one} KB with 1")

# ---- a full disk: exit 1, one error line, no partial file (a 2 MiB tmpfs; root only) ----
mnt = f"{d}/full"
os.mkdir(mnt)
mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], capture_output=True).returncode == 0
if not mounted:
    print("test_hostile: full-disk cases skipped: mounting a 2 MiB tmpfs needs root")
else:
    try:
        big = softmax_maps(rng, 1, 4, 6, 200)
        np.save(f"{d}/big.npy", big)
        cases = [["synth", "maps", "-o", f"{mnt}/s.h5", "--tokens", t, "--dtype", dt, "-q"]
                 for dt in ("f32", "f16", "bf16") for t in (120, 160, 200, 260, 330)]
        cases += [["import", f"{d}/big.npy", "-o", f"{mnt}/i.h5"], ["run", f"{SRC}/experiments/demo.json", "-o", f"{mnt}/run", "-q"]]
        full = 0
        for args in cases:
            rc, _, err = run(*args)
            full += rc == 1
            what = "full disk: " + " ".join(map(str, args)).replace(mnt, "FULL")
            check(rc in (0, 1), f"{what}: exit {rc} ({err.strip()[:200]})")
            if rc == 1:
                lines = err.strip().splitlines()
                check(len(lines) == 1 and lines[0].startswith("attnlab: error: "), f"{what}: not one error line: {err!r}")
                left = [x for x in os.listdir(mnt) if x != "run"]
                check(not left, f"{what}: partial files left: {left}")
            subprocess.run(["rm", "-rf", *[f"{mnt}/{x}" for x in os.listdir(mnt)]])
        check(full >= len(cases) // 2, f"only {full} of {len(cases)} full-disk cases ran out of space")
    finally:
        subprocess.run(["umount", mnt])

import shutil
shutil.rmtree(d)
finish("test_hostile")
