#!/bin/sh
# Builds llama-cpp-python (llama.cpp compiled from source, CPU only) into ~/.cache/attnlab/llamacpp-venv for the
# parity tests (tests/cli/test_gguf_llamacpp.py) and the speed benchmark (bench/gguf_bench.py). About 7 minutes
# on 2 cores. AMX and the extra weight buffers (repacking) stay off: on these VMs llama.cpp's AMX path segfaults.
set -e
CACHE=${ATTNLAB_CACHE:-$HOME/.cache/attnlab}
V=$CACHE/llamacpp-venv
PIN=${LLAMACPP_PIN:-llama-cpp-python==0.3.36}
[ -x "$V/bin/python" ] && "$V/bin/python" -c "import llama_cpp" 2>/dev/null && { echo "$V"; exit 0; }
mkdir -p "$CACHE"
/usr/bin/python3 -m venv "$V"
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF \
-DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_CPU_REPACK=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
    "$V/bin/pip" install --no-cache-dir -q "$PIN" numpy
echo "$V"
