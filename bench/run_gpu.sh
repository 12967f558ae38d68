#!/bin/bash
# One call on the lent GPU machine, an H100 or an H200 (tools: /work/.library/device): GPU tests against the
# CPU references, then the benchmark of the CUDA kernels and the PyTorch baselines (eager, and blocked under
# torch.compile), all in one run, and the ratios. Binaries and the Debian libraries they need come prebuilt in
# .devpack.tar.xz (see bench/README.md); results are written to $OUT, card.txt first (the card's name).
set -u
mkdir -p /tmp/al && tar -C /tmp/al -xJf .devpack.tar.xz
export LD_LIBRARY_PATH=/tmp/al/lib:${LD_LIBRARY_PATH:-}
OUT=${OUT:-/tmp/al/out}; mkdir -p "$OUT"
TS=${TS:-32768,131072}
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,clocks.max.sm --format=csv; } | tee "$OUT/card.txt"
/tmp/al/bin/test_cuda --verbose -j1 2>&1 | tail -40 | tee "$OUT/test_cuda.log"
/tmp/al/bin/cuda_bench "$TS" 2>&1 | tee "$OUT/cuda_bench.txt"
PYTHONUNBUFFERED=1 python3 bench/torch_qk.py ${TS//,/ } 2>&1 | tee "$OUT/torch_qk.txt"
python3 bench/gpu_ratios.py "$OUT/cuda_bench.txt" "$OUT/torch_qk.txt" | tee "$OUT/ratios.txt"
