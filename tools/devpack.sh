#!/bin/bash
# Packs the CUDA build's binaries with the Debian libraries they load into .devpack.tar.xz (ignored by git), for
# the lent GPU machine, which has CUDA and PyTorch but none of attnlab's libraries. Usage: tools/devpack.sh [BUILD]
# With --mpi (a build with -DATTNLAB_CUDA=ON -DATTNLAB_MPI=ON): the program and Debian's whole Open MPI tree
# (launcher, plugins, PMIx, help files), relocatable with OPAL_PREFIX, into .devmpi/devpack.tar.xz for
# bench/mpi_gpu.sh.
set -eu
if [ "${1:-}" = "--mpi" ]; then
    B=${2:-build-cuda-mpi}
    P=$(mktemp -d)
    trap 'rm -rf "$P"' EXIT
    mkdir -p "$P/bin" "$P/lib" "$P/ompi/bin" "$P/ompi/lib/x86_64-linux-gnu" "$P/ompi/share" "$P/ompi/etc"
    cp "$B/attnlab" "$P/bin/"
    cp /usr/bin/orterun "$P/ompi/bin/mpirun"
    cp -rL /usr/lib/x86_64-linux-gnu/openmpi /usr/lib/x86_64-linux-gnu/pmix2 "$P/ompi/lib/x86_64-linux-gnu/"
    cp -r /usr/share/openmpi "$P/ompi/share/"
    cp -r /etc/openmpi "$P/ompi/etc/"
    # every library the program, the launcher and the plugins load, but the C runtime and CUDA's own
    for f in "$P/bin/attnlab" "$P/ompi/bin/mpirun" "$P"/ompi/lib/x86_64-linux-gnu/*/lib/*/*.so; do ldd "$f" 2>/dev/null; done |
        awk '/=> \//{print $3}' | sort -u |
        grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libcudart|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
        xargs -r -I{} cp -Ln {} "$P/lib/"
    mkdir -p .devmpi
    tar -C "$P" -cJf .devmpi/devpack.tar.xz .
    ls -la .devmpi/devpack.tar.xz
    exit 0
fi
B=${1:-build-cuda}
rm -rf .devpack && mkdir -p .devpack/bin .devpack/lib
cp "$B/attnlab" "$B/cuda_bench" "$B/tests/test_cuda" .devpack/bin/
# every library they load but the C runtime and CUDA's own, which the GPU machine has in its versions
ldd .devpack/bin/* | awk '/=> \//{print $3}' | sort -u |
    grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|libcudart|libdl|libpthread|librt|ld-linux[^/]*)\.so' |
    xargs -r -I{} cp -L {} .devpack/lib/
tar -C .devpack -cJf .devpack.tar.xz lib bin
ls -la .devpack.tar.xz
