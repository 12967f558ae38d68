#!/bin/bash
# On the lent GPU machine (tools: /work/.library/device): `attnlab run --device cuda` under MPI, 1 and 2 ranks (on a
# one-GPU machine both ranks share it; with more GPUs rank r takes GPU r), against one process, on a spec of q/k
# recordings (sinks and heads from q and k, 32k tokens). The binaries come in .devpack.tar.xz (tools/devpack.sh
# build-cuda-mpi: a build with -DATTNLAB_CUDA=ON -DATTNLAB_MPI=ON). The machine's own Open MPI (4.x, ABI of
# libmpi.so.40) runs the ranks when it has one; else the carried Debian one. Writes
# $OUT/mpi-gpu-CARD-DATE.md (for bench/results/) and checks that the tables equal the single-process run's.
set -u
mkdir -p /tmp/al && tar -C /tmp/al -xJf .devpack.tar.xz
A=/tmp/al/bin/attnlab
OUT=${OUT:-/tmp/al/out}; mkdir -p "$OUT"
card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | sed 's/NVIDIA //; s/[^A-Za-z0-9]\+/-/g; s/-$//')
ngpu=$(nvidia-smi -L | wc -l)
# the machine's MPI library if it has libmpi.so.40, with its launcher; else the carried one
sys=$(ldconfig -p 2>/dev/null | awk '/libmpi\.so\.40 /{print $NF; exit}')
if [ -n "$sys" ] && command -v mpirun >/dev/null; then rm -f /tmp/al/lib/libmpi.so* /tmp/al/lib/libopen-*.so*; fi
export LD_LIBRARY_PATH=/tmp/al/lib:${LD_LIBRARY_PATH:-}
MPIRUN=(mpirun --oversubscribe --allow-run-as-root)
R="$OUT/mpi-gpu-$card-$(date -u +%F).md"
W=/tmp/al/mpi; rm -rf "$W"; mkdir -p "$W/recs"
for i in 0 1 2 3 4 5 6 7; do
    "$A" synth qk -o "$W/recs/q$i.h5" --seed "$i" --samples 1 --layers 4 --heads 8 --kv-heads 2 --head-dim 128 \
        --tokens 32768 --dtype bf16 -q || { echo "synth failed" | tee "$R"; exit 1; }
done
cat > "$W/spec.json" <<JSON
{"name": "mpi_gpu", "title": "q/k statistics on the GPU under MPI",
 "inputs": {"recs": {"files": ["$W/recs/*.h5"]}},
 "steps": [{"analysis": "sinks", "input": "recs", "params": {"tokens": 32768, "from-qk": true}},
           {"analysis": "heads", "input": "recs", "params": {"from-qk": true}}]}
JSON
now() { date +%s.%N; }
timed() { local out=$1; shift; rm -rf "$out"; local t0; t0=$(now); "$@" run "$W/spec.json" -o "$out" --device cuda -q; local rc=$?
          echo "$(now) - $t0" | bc -l; return $rc; }
{
echo "# attnlab run --device cuda under MPI ($(date -u +%FT%TZ))"
echo
echo "Card: $card x $ngpu ($(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)); $(mpirun --version 2>&1 | head -1);"
echo "MPI library: ${sys:-carried Debian Open MPI 4.1.4}. 8 q/k recordings (1 sample, 4 layers, 8 query / 2 KV heads,"
echo "D = 128, T = 32768, bf16) x (sinks, heads) from q/k = 8 shared passes (16 units)."
echo
echo "| run | seconds | units/s | speed-up | tables equal to one process |"
echo "|---|---|---|---|---|"
t1=$(timed "$W/p1" "$A") || echo "| one process | failed | | | |"
echo "| one process | $(printf %.2f "$t1") | $(printf %.2f "$(echo "16 / $t1" | bc -l)") | 1.00 | (reference) |"
for n in 1 2; do
    t=$(timed "$W/n$n" "${MPIRUN[@]}" -n $n "$A") || { echo "| $n rank(s) | failed (exit $?) | | | |"; continue; }
    same=yes; diff -r "$W/p1/tables" "$W/n$n/tables" >/dev/null && cmp -s "$W/p1/report.md" "$W/n$n/report.md" || same=NO
    echo "| $n rank(s) | $(printf %.2f "$t") | $(printf %.2f "$(echo "16 / $t" | bc -l)") | $(printf %.2f "$(echo "$t1 / $t" | bc -l)") | $same |"
done
} 2>&1 | tee "$R"
