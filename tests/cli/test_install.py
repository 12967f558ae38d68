"""The installed library: `cmake --install` into a temporary prefix, then tests/consumer/consumer.c built outside
the tree through pkg-config (shared and static) and through the CMake package, run on a synthetic recording; its
numbers must equal `attnlab sinks` exactly. The shared library exports exactly tools/attnlab.sym, which lists
exactly the AL_API declarations of include/attnlab/."""
import glob, os, re, shutil, subprocess
from alcli import *

if os.environ.get("ATTNLAB_SANITIZED") in ("1", "ON", "TRUE"):
    print("SKIP: a sanitizer build's library needs its runtime in every consumer; checked in the plain build")
    raise SystemExit(77)
build = os.path.dirname(os.path.abspath(A))
d = tmpdir()
prefix = f"{d}/prefix"
sh = lambda *a, **k: subprocess.run(list(a), capture_output=True, text=True, **k)
p = sh("cmake", "--install", build, "--prefix", prefix)
check(p.returncode == 0, f"cmake --install: {p.stderr.strip()[:300]}")
pcs = glob.glob(f"{prefix}/**/pkgconfig/attnlab.pc", recursive=True)
check(len(pcs) == 1, f"attnlab.pc installed once: {pcs}")
pcdir = os.path.dirname(pcs[0])
libdir = os.path.dirname(pcdir)
env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
check(os.path.isfile(f"{prefix}/include/attnlab/attnlab.h") and os.path.isfile(f"{libdir}/libattnlab.a"),
      "headers and the static library installed")

# public headers stand alone: no HDF5, cJSON or source-tree header needed
for h in glob.glob(f"{prefix}/include/attnlab/*.h"):
    for inc in re.findall(r'#include [<"]([^>"]+)[>"]', open(h).read()):
        check(inc in ("stdint.h",) or os.path.isfile(f"{prefix}/include/attnlab/{inc}"), f"{h}: includes {inc}")

rec = f"{d}/s.h5"
run("synth", "maps", "-o", rec, "--tokens", 96, "--layers", 2, "--heads", 3, "--samples", 2, "--seed", 5, "--quiet")
ref = js("sinks", rec, "--tokens", 64)
run("sinks", rec, "--tokens", 64, "-o", f"{d}/sinks", "--quiet")  # the TSV has every digit (JSON prints 15)
rows = [l.rstrip("\n").split("\t") for l in open(f"{d}/sinks/sinks_heads.tsv") if not l.startswith("#")]
tsv_alpha = [float(v) for v in rows[-1][2:-1]]


def consumer_ok(exe, how):
    q = sh(exe, rec, "64", f"{d}/stats.txt")
    check(q.returncode == 0, f"{how}: consumer exit {q.returncode}: {q.stderr.strip()}")
    out = {l.split()[0]: l.split()[1:] for l in q.stdout.splitlines() if l.strip()}
    num = lambda k: [float(v) for v in out.get(k, [])]
    check(out.get("version") == ["0.1.0"], f"{how}: version {out.get('version')}")
    check(out.get("shape") == ["2", "2", "3", "96"], f"{how}: shape {out.get('shape')}")
    check(num("sink_rate") == ref["sink_rate"], f"{how}: sink_rate {num('sink_rate')} != {ref['sink_rate']}")
    last = ref["heads"][-1]
    check(num("alpha_last_head") == tsv_alpha, f"{how}: alpha {num('alpha_last_head')} != {tsv_alpha}")
    check([int(v) for v in out.get("hidden_last_head", [])] == last["hidden_sinks"], f"{how}: hidden sinks")
    check(num("merged_sink_rate") == ref["sink_rate"], f"{how}: merging a copy changes the rates")
    h = [int(v) for v in out.get("merged_hits0", [0, 0])]
    check(out.get("merged_samples") == ["4"] and h[0] == 2 * h[1], f"{how}: merge adds counts: {out}")
    check(out.get("save_load") == ["same"], f"{how}: saved statistics load back: {out.get('save_load')}")


flags = sh("pkg-config", "--cflags", "--libs", "attnlab", env=env)
check(flags.returncode == 0, f"pkg-config: {flags.stderr.strip()}")
src = os.path.join(SRC, "tests", "consumer", "consumer.c")
cc = os.environ.get("CC", "cc")
c = sh(cc, "-std=c11", "-Wall", "-Werror", src, "-o", f"{d}/consumer", *flags.stdout.split(), f"-Wl,-rpath,{libdir}")
check(c.returncode == 0, f"shared build: {c.stderr.strip()[:400]}")
if c.returncode == 0:
    consumer_ok(f"{d}/consumer", "pkg-config, shared")
st = sh("pkg-config", "--static", "--cflags", "--libs", "attnlab", env=env)
c = sh(cc, "-std=c11", src, "-o", f"{d}/consumer_static", f"-I{prefix}/include", f"{libdir}/libattnlab.a",
       *[f for f in st.stdout.split() if f != "-lattnlab"], "-fopenmp")
check(c.returncode == 0, f"static build: {c.stderr.strip()[:400]}")
if c.returncode == 0:
    consumer_ok(f"{d}/consumer_static", "pkg-config --static")
b = f"{d}/cmake-build"
c = sh("cmake", "-S", os.path.join(SRC, "tests", "consumer"), "-B", b, f"-DCMAKE_PREFIX_PATH={prefix}")
c = c if c.returncode else sh("cmake", "--build", b)
check(c.returncode == 0, f"CMake package build: {(c.stdout + c.stderr).strip()[-400:]}")
if c.returncode == 0:
    consumer_ok(f"{b}/consumer", "CMake package")

# `attnlab info` without a file lists every analysis of the catalogue
cat = js("info")
check([a["name"] for a in cat.get("analyses", [])] ==
      ["sinks", "heads", "similarity", "maps", "drift", "kvsim", "norms", "kl-drift", "semdrift", "cras"],
      f"info lists the catalogue: {cat.get('analyses')}")

# one list of exports: the version script, the headers' AL_API declarations, the library's dynamic symbols
sym = open(os.path.join(SRC, "tools", "attnlab.sym")).read()
listed = set(re.findall(r"^\s+(al_\w+);", sym, re.M))
declared = set()
for h in glob.glob(os.path.join(SRC, "include", "attnlab", "*.h")):
    declared |= set(re.findall(r"AL_API [^;(]*?\**\b(al_\w+)\(", open(h).read()))
check(listed == declared, f"tools/attnlab.sym vs AL_API declarations: {sorted(listed ^ declared)}")
nm = sh("nm", "-D", "--defined-only", glob.glob(f"{libdir}/libattnlab.so")[0])
exported = {l.split()[-1].split("@")[0] for l in nm.stdout.splitlines() if " T " in l}
check(exported == listed, f"libattnlab.so exports {sorted(exported ^ listed)} beyond/short of the list")
shutil.rmtree(d, ignore_errors=True)
finish("test_install")
