#!/bin/bash
# Packs the CUDA build's binaries with the Debian libraries they load into .devpack.tar.xz (ignored by git), for
# the lent GPU machine, which has CUDA and PyTorch but none of attnlab's libraries. Usage: tools/devpack.sh [BUILD]
set -eu
B=${1:-build-cuda}
rm -rf .devpack && mkdir -p .devpack/bin .devpack/lib
cp "$B/attnlab" "$B/cuda_bench" "$B/tests/test_cuda" .devpack/bin/
# every library they load but the C runtime and CUDA's own, which the GPU machine has in its versions
ldd .devpack/bin/* | awk '/=> \//{print $3}' | sort -u |
    grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libcudart|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
    xargs -r -I{} cp -L {} .devpack/lib/
tar -C .devpack -cJf .devpack.tar.xz lib bin
ls -la .devpack.tar.xz
