#!/bin/bash
# On the lent GPU machine (tools: /work/.library/device): `attnlab run --device cuda` under MPI, 1 and 2 ranks (on a
# one-GPU machine both ranks share it; with more GPUs rank r takes GPU r), against one process, on a spec of q/k
# recordings (sinks and heads from q and k, 32k tokens). The binaries come in PACK (tools/devpack.sh
# BUILD: a build with -DATTNLAB_CUDA=ON -DATTNLAB_MPI=ON, packed with Debian's Open MPI tree by tools/devpack.sh
# --mpi), whose mpirun starts the ranks (relocated with OPAL_PREFIX). Usage: bench/mpi_gpu.sh [PACK]. Writes
# $OUT/mpi-gpu-CARD-DATE.md (for bench/results/) and checks that the tables equal the single-process run's.
set -u
PACK=${1:-.devmpi/devpack.tar.xz}
mkdir -p /tmp/al && tar -C /tmp/al -xJf "$PACK"
A=/tmp/al/bin/attnlab
OUT=${OUT:-/tmp/al/out}; mkdir -p "$OUT"
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | sed 's/NVIDIA //; s/[^A-Za-z0-9]\+/-/g; s/-$//')
ngpu=$(nvidia-smi -L | wc -l)
# The machine's own Open MPI when it has one of the same ABI (libmpi.so.40): its launcher and plugins, with the
# carried MPI libraries left out; else the carried Debian Open MPI 4.1.4, relocated with OPAL_PREFIX.
M=/tmp/al/ompi
sys=$(ldconfig -p 2>/dev/null | awk '/libmpi\.so\.40 /{print $NF; exit}')
if [ -n "$sys" ] && [ -x "$(command -v mpirun)" ] && [ "${AL_MPI:-system}" = system ]; then
    (cd /tmp/al/lib && rm -f libmpi.so* libopen-*.so* libpmix.so* libhwloc.so* libevent*.so*)
    export LD_LIBRARY_PATH=/tmp/al/lib:${LD_LIBRARY_PATH:-}
    MPIRUN=("$(command -v mpirun)" --oversubscribe --allow-run-as-root)
    which="the machine's own ($sys)"
else
    export OPAL_PREFIX=$M PATH=$M/bin:$PATH LD_LIBRARY_PATH=/tmp/al/lib:$M/lib/x86_64-linux-gnu/openmpi/lib:${LD_LIBRARY_PATH:-}
    export OMPI_MCA_mca_base_component_path=$M/lib/x86_64-linux-gnu/openmpi/lib/openmpi3
    export OMPI_MCA_mca_base_param_files=$M/etc/openmpi/openmpi-mca-params.conf PMIX_INSTALL_PREFIX=$M/lib/x86_64-linux-gnu/pmix2
    MPIRUN=("$M/bin/mpirun" --oversubscribe --allow-run-as-root --mca btl self,vader)
    which="Debian's, carried"
fi
R="$OUT/mpi-gpu-$card-$(date -u +%F).md"
W=/tmp/al/mpi; rm -rf "$W"; mkdir -p "$W/recs"
for i in 0 1 2 3 4 5; do
    "$A" synth qk -o "$W/recs/q$i.h5" --seed "$i" --samples 1 --layers 2 --heads 8 --kv-heads 2 --head-dim 128 \
        --tokens 32768 --dtype bf16 -q || { echo "synth failed" | tee "$R"; exit 1; }
done
cat > "$W/spec.json" <<JSON
{"name": "mpi_gpu", "title": "q/k statistics on the GPU under MPI",
 "inputs": {"recs": {"files": ["$W/recs/*.h5"]}},
 "steps": [{"analysis": "sinks", "input": "recs", "params": {"tokens": 32768, "from-qk": true}},
           {"analysis": "heads", "input": "recs", "params": {"from-qk": true}}]}
JSON
now() { date +%s.%N; }
timed() { local out=$1; shift; rm -rf "$out"; local t0 rc; t0=$(now); "$@" run "$W/spec.json" -o "$out" --device cuda -q >&2; rc=$?
          awk -v a="$(now)" -v b="$t0" 'BEGIN{print a-b}'; return $rc; }
{
echo "# attnlab run --device cuda under MPI ($(date -u +%FT%TZ))"
echo
echo "Card: $card x $ngpu ($(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)); $("${MPIRUN[0]}" --version 2>&1 | head -1)"
echo "($which). 6 q/k recordings (1 sample, 2 layers, 8 query / 2 KV heads,"
echo "D = 128, T = 32768, bf16) x (sinks, heads) from q/k = 6 shared passes (12 units)."
echo
echo "| run | seconds | units/s | speed-up | tables equal to one process |"
echo "|---|---|---|---|---|"
t1=$(timed "$W/p1" "$A") || echo "| one process | failed | | | |"
echo "| one process | $(printf %.2f "$t1") | $(awk -v t="$t1" 'BEGIN{printf "%.2f", 12/t}') | 1.00 | (reference) |"
for n in 1 2; do
    t=$(timed "$W/n$n" "${MPIRUN[@]}" -n $n "$A") || { echo "| $n rank(s) | failed (exit $?) | | | |"; continue; }
    same=yes; diff -r "$W/p1/tables" "$W/n$n/tables" >/dev/null && cmp -s "$W/p1/report.md" "$W/n$n/report.md" || same=NO
    echo "| $n rank(s) | $(printf %.2f "$t") | $(awk -v t="$t" 'BEGIN{printf "%.2f", 12/t}') | $(awk -v a="$t1" -v t="$t" 'BEGIN{printf "%.2f", a/t}') | $same |"
done
} 2>&1 | tee "$R"
