"""Real recordings as they come (issue 21): a padded multi-text recording made by `attnlab record` on the shared
bytes6L model with its tokenizer; readable /token_text and the first token recorded; `info` telling all; every
README example about a recording run on it; --mem peaks (getrusage of the child) within the budget from the
stated floor of 128M; vector figures (PDF fonts embedded, SVG glyphs as paths) by flag and by experiment spec,
the .gp scripts redrawing them by hand; with -o, the tables on a terminal and nothing in a pipe."""
import json, os, pty, re, resource, shlex, shutil, subprocess
import numpy as np
import h5py
from alcli import *

MODEL = os.path.join(SHARED, "models", "bytes6L.bin")
TOK = os.path.join(SHARED, "models", "bytes6L_tokenizer.bin")
if not os.path.isfile(MODEL):
    print(f"SKIP: {MODEL} is absent")
    raise SystemExit(77)
d = tmpdir()
texts = ["The old lighthouse keeper climbed the stairs every night, counting each step in the dark.",
         "An old map \u2013 stra\u00dfe.",
         "Rain fell on the harbour while the boats rocked slowly at their moorings, and nobody came."]
ids = [[1] + [b + 3 for b in t.encode()] for t in texts]
REC = f"{d}/run.h5"
rc, out, err = run("record", MODEL, "--tokenizer", TOK, *[x for s in ids for x in ("--tokens", ",".join(map(str, s)))],
                   "-o", REC, "-q")
check(rc == 0, f"record with --tokenizer: exit {rc} {err.strip()[:300]}")
lens = [len(s) for s in ids]

# ---- readable tokens and the first token ----
with h5py.File(REC) as f:
    check(f["lengths"][()].tolist() == lens, f"lengths {f['lengths'][()].tolist()}")
    tt = [[x.decode() for x in row] for row in f["token_text"][()]]
    check("".join(tt[0][1:lens[0]]) == texts[0], f"token_text joins back to the text: {''.join(tt[0][1:lens[0]])!r}")
    check("".join(tt[1][1:lens[1]]) == texts[1] and "\u00df" in tt[1] and "\u2013" in tt[1],
          f"multi-byte characters on the token completing them: {tt[1]}")
    check(all(x == "" for x in tt[1][lens[1]:]), "padding has empty token_text")
    check(f.attrs["first_token_id"] == 1 and "<s>" in f.attrs["first_token_text"] and f.attrs["first_token_is_bos"] == 1,
          f"first token attributes {dict(f.attrs)}")

# ---- info tells all ----
info = js("info", REC)
names = [x["name"] for x in info["datasets"]]
for want in ("tokens", "lengths", "token_text", "logits"):
    check(want in names, f"info lists /{want}: {names}")
check(info["recording"]["lengths"] == lens and info["recording"]["equal_lengths"] is False, "info: the samples' lengths")
check(info["recording"]["first_token_id"] == 1, "info: the first token")
for a in ("sinks", "heads", "similarity", "stats", "maps", "kvsim", "drift", "norms"):
    check(a in info["analyses"], f"info lists {a} among the analyses: {info['analyses']}")
rc, out, _ = run("info", REC)
check("unequal" in out and "Sink_0" in out, "info table: unequal lengths and the first-token convention")

# ---- README's examples on the padded recording ----
readme = open(os.path.join(SRC, "README.md")).read()
block = readme.split("## Analyse your own recording", 1)[1].split("\n- ", 1)[0]
other = {"kl-drift", "semdrift", "cras", "run", "import", "synth"}  # not about a recording: tests of their own
ran = 0
for line in block.splitlines():
    line = line.strip()
    if not line.startswith("build/attnlab"):
        continue
    for cmd in line.split("#", 1)[0].split(";"):
        argv = shlex.split(cmd.strip())[1:]
        if not argv or argv[0] in other or any(a.endswith(".gguf") for a in argv):
            continue  # GGUF models: tests/cli/test_gguf*.py, with the model fetched
        argv = [REC if a in ("run.h5", "base.h5", "conflict.h5") else a for a in argv]
        argv = [f"{d}/{a}" if a.endswith("/") else a for a in argv]
        if "--prefill" in argv:  # kvsim's prefill methods need every sample to hold the tokens simulated (exit 2
            # otherwise, tested in test_kvsim.py): the shortest sample's length, a prompt within it
            with h5py.File(REC, "r") as f:
                shortest = int(min(f["lengths"][()]))
            argv[argv.index("--prefill") + 1] = str(shortest // 2)
            argv += ["--tokens", str(shortest)]
            argv = ["snapkv:window=4" if a == "snapkv" else a for a in argv]  # its window of 64 within that prompt
        if argv[0] == "record":
            argv = ["record", MODEL, *argv[2:-1], f"{d}/rec2.h5"]
        rc, out, err = run(*argv, "-q")
        check(rc == 0, f"README example `attnlab {' '.join(argv)}`: exit {rc} {err.strip()[:300]}")
        ran += 1
check(ran >= 10, f"only {ran} README examples found")
rc, out, err = run("sinks", REC, "--tokens", 64, "--format", "json")
check(rc == 0 and json.loads(out)["skipped_samples"] == 1 and "warning" in err, "README sinks --tokens 64: one sample skipped")

# ---- --mem: peaks within the budget from the floor of 128M (a 30-layer float16 recording, chunked, gzip) ----
SM = f"{d}/sm.h5"
run("synth", "maps", "-o", SM, "--samples", 2, "--layers", 30, "--heads", 9, "--kv-heads", 3, "--tokens", 96,
    "--dtype", "f16", "-q")


def peak(*args):
    """maximum resident set of one attnlab run, in bytes (getrusage of the child)"""
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1), os.dup2(fd, 2)
        os.execv(A, [A, *map(str, args)])
    _, status, ru = os.wait4(pid, 0)
    return ru.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)


for cmd in (["similarity"], ["stats"], ["heads"], ["sinks", "--tokens", 96], ["kvsim", "--policy", "window:16"]):
    for budget, limit in (("128M", 128 << 20), ("256M", 256 << 20), ("32M", 128 << 20)):
        p, code = peak(*cmd, SM, "--mem", budget, "-q")
        asan = "asan" in A  # AddressSanitizer's shadow memory and quarantine inflate peaks: budgets hold in plain builds
        check(code == 0 and (asan or p <= limit), f"{cmd[0]} --mem {budget}: peak {p / 1e6:.1f} MB, limit {limit / 1e6:.0f} MB")
rc, out, _ = run("sinks", "--help")
check("floor of 128M" in out, "--help states the --mem floor")

# ---- vector figures ----
for fmt in ("pdf", "svg"):
    o = f"{d}/fig_{fmt}"
    rc, out, err = run("sinks", REC, "--tokens", 32, "-o", o, "--figure-format", fmt, "-q")
    check(rc == 0, f"--figure-format {fmt}: exit {rc} {err.strip()[:200]}")
    if shutil.which("gnuplot") and shutil.which("pdftocairo"):
        got = sorted(x for x in os.listdir(o) if x.endswith("." + fmt))
        check(got == ["sinks_alpha0." + fmt, "sinks_by_layer." + fmt, "sinks_rate." + fmt], f"{fmt} figures: {got}")
        data = open(f"{o}/sinks_rate.{fmt}", "rb").read()
        if fmt == "pdf":
            check(b"/FontFile2" in data or b"/FontFile3" in data, "PDF embeds its fonts")
        else:
            check(b"<text" not in data and (b"<symbol" in data or b"<path" in data), "SVG carries glyphs as paths")
        os.remove(f"{o}/sinks_rate.{fmt}")  # the script redraws it by hand
        subprocess.run(["gnuplot", "sinks_rate.gp"], cwd=o, capture_output=True)
        check(os.path.isfile(f"{o}/sinks_rate.{fmt}"), f"gnuplot sinks_rate.gp redraws the {fmt}")
    else:
        print("SKIP: rendering checks need gnuplot and pdftocairo (Debian's gnuplot-nox and poppler-utils)")
spec = {"name": "vec", "figure_format": "svg", "inputs": {"r": {"files": [REC]}},
        "steps": [{"name": "s", "analysis": "sinks", "input": "r", "params": {"tokens": 32}}],
        "figures": [{"name": "rate", "step": "s", "table": "sinks_rate", "x": "position", "y": "sink_rate"}]}
json.dump(spec, open(f"{d}/vec.json", "w"))
rc, out, err = run("run", f"{d}/vec.json", "-o", f"{d}/vec", "-q")
check(rc == 0, f"spec with figure_format: exit {rc} {err.strip()[:300]}")
if rc == 0 and shutil.which("pdftocairo"):
    rep = open(f"{d}/vec/report.md").read()
    check("figures/rate.svg" in rep and os.path.isfile(f"{d}/vec/figures/rate.svg"), "spec figure_format: SVG figures")
bad_spec = dict(spec, figure_format="gif")
json.dump(bad_spec, open(f"{d}/bad.json", "w"))
bad(["run", f"{d}/bad.json", "-o", f"{d}/badout"], "spec figure_format gif", "figure_format")
bad(["sinks", REC, "--figure-format", "gif"], "--figure-format gif", "figure-format")

# ---- -o: the tables on a terminal too, nothing on stdout in a pipe ----
rc, out, err = run("heads", REC, "-o", f"{d}/pipe")
check(rc == 0 and out == "" and "wrote" in err, f"-o in a pipe: stdout {out[:80]!r}")
master, slave = pty.openpty()
p = subprocess.run([A, "heads", REC, "-o", f"{d}/tty", "-q"], stdout=slave, stderr=subprocess.PIPE, timeout=300)
os.close(slave)
shown = b""
try:
    while True:
        chunk = os.read(master, 65536)
        if not chunk:
            break
        shown += chunk
except OSError:
    pass
check(p.returncode == 0 and b"entropy" in shown, f"-o on a terminal shows the table: {shown[:120]!r}")

finish("test_realrec")
