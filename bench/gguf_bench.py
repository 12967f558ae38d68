#!/usr/bin/env python3
"""Prompt processing of a GGUF model: `attnlab record --what q,k` (maps off) against llama.cpp (llama-cpp-python
from ~/.cache/attnlab/llamacpp-venv, tools/llamacpp_venv.sh) on the same machine, prompt, token ids and thread
count. Best of --repeat runs each; tokens/s = prompt tokens / wall seconds; peak resident memory from
/usr/bin/time (attnlab: the whole command; llama.cpp: the Python process with the model loaded).

    python3 bench/gguf_bench.py [--threads 2] [--tokens 512] [--repeat 3] [--build build]

attnlab's time is its whole command (mapping the file, tokenizing, the forward pass, writing q and k to HDF5);
llama.cpp's is one llama_decode of the prompt in batches of n_batch (512) tokens, model already loaded."""
import argparse, json, os, re, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.expanduser(os.environ.get("ATTNLAB_CACHE", "~/.cache/attnlab"))
PARA = ("The old lighthouse stood at the end of a narrow spit of rock, where the sea pressed in from three sides. "
        "For more than a century its keepers had climbed the spiral stairs each evening to trim the wick and wind the "
        "clockwork that turned the great lens. ")

LLAMA = r"""
import json, resource, sys, time
from llama_cpp import Llama
path, text, n, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
m = Llama(model_path=path, n_ctx=n + 16, n_batch=512, n_ubatch=512, n_threads=threads, n_threads_batch=threads,
          verbose=False, logits_all=False)
ids = m.tokenize(text.encode(), add_bos=True, special=True)[:n]
best, cpu = 1e9, 0
for _ in range(repeat):
    m.reset()
    r0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    m.eval(ids)
    w, r1 = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF)
    if w < best:
        best, cpu = w, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
print(json.dumps({"ids": ids, "seconds": best, "cpu": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    a = ap.parse_args()
    model = subprocess.run([sys.executable, os.path.join(HERE, "..", "tools", "fetch_models.py"), "smollm2-135m"],
                           capture_output=True, text=True, check=True).stdout.strip()
    py = os.path.join(CACHE, "llamacpp-venv", "bin", "python")
    if not os.path.isfile(py):
        sys.exit(f"no llama-cpp-python in {py}: run tools/llamacpp_venv.sh first")
    text = PARA * (a.tokens // 40 + 2)
    p = subprocess.run([py, "-c", LLAMA, model, text, str(a.tokens), str(a.threads), str(a.repeat)], capture_output=True,
                       text=True, check=True)
    ll = json.loads(p.stdout.strip().splitlines()[-1])
    ids = ",".join(map(str, ll["ids"]))
    T = len(ll["ids"])
    best, peak, user = 1e9, 0, 0
    with tempfile.TemporaryDirectory() as d:
        for _ in range(a.repeat):
            cmd = ["/usr/bin/time", "-f", "%e %U %S %M", os.path.join(a.build, "attnlab"), "record", model, "--ids", ids,
                   "--what", "q,k", "--threads", str(a.threads), "-q", "-o", os.path.join(d, "r.h5")]
            r = subprocess.run(cmd, capture_output=True, text=True, check=True)
            wall, u, sy, kb = map(float, r.stderr.strip().splitlines()[-1].split())
            if wall < best:
                best, user = wall, u + sy
            peak = max(peak, kb / 1024)
    core = subprocess.run(["sh", "-c", f"OPENBLAS_VERBOSE=2 {os.path.join(a.build, 'attnlab')} record {model} --ids 1 "
                           f"--what q -q -o /dev/null 2>&1 | head -1"], capture_output=True, text=True).stdout.strip()
    print(f"SmolLM2-135M-Instruct Q4_1, {T} prompt tokens, {a.threads} threads, best of {a.repeat}, "
          f"{time.strftime('%Y-%m-%d %H:%M')} UTC, load average {os.getloadavg()[0]:.1f}, OpenBLAS {core or '?'}")
    print(f"{'':30}{'wall s':>8}{'tokens/s':>10}{'CPU s':>8}{'tokens/CPU s':>14}{'peak MB':>9}")
    print(f"{'attnlab record --what q,k':30}{best:8.3f}{T / best:10.1f}{user:8.2f}{T / user:14.1f}{peak:9.0f}")
    print(f"{'llama.cpp prompt processing':30}{ll['seconds']:8.3f}{T / ll['seconds']:10.1f}{ll['cpu']:8.2f}{T / ll['cpu']:14.1f}"
          f"{ll['peak_mb']:9.0f}")
    print(f"llama.cpp's speed over attnlab's: {best / ll['seconds']:.2f} (wall), {user / ll['cpu']:.2f} (CPU time)")


if __name__ == "__main__":
    main()
