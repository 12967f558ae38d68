#!/bin/bash
# One call on the lent H200 (tools: /work/.library/device): GPU tests against the CPU references, then the
# benchmark of the CUDA kernels and the PyTorch eager baseline, all in one run. Binaries and the Debian
# libraries they need come prebuilt in .devpack.tar.xz (see bench/README.md); results are written to $OUT.
set -u
mkdir -p /tmp/al && tar -C /tmp/al -xJf .devpack.tar.xz
export LD_LIBRARY_PATH=/tmp/al/lib:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/al/out}; mkdir -p "$OUT"
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv; } | tee "$OUT/gpu.txt"
/tmp/al/bin/test_cuda --verbose -j1 2>&1 | tail -40 | tee "$OUT/test_cuda.log"
/tmp/al/bin/cuda_bench 32768,65536,131072 2>&1 | tee "$OUT/cuda_bench.txt"
PYTHONUNBUFFERED=1 python3 bench/torch_qk.py 32768 65536 131072 2>&1 | tee "$OUT/torch_qk.txt"
