#!/bin/bash
# Units per second of `attnlab run` under MPI at 1, 2 and 4 ranks against one process, on a spec of many small
# units (16 synthetic recordings x sinks, kvsim, similarity), each rank with --threads 1 so that ranks are the only
# parallelism; prints the speed-up and the efficiency (speed-up / ranks) next to the cores this machine has.
# Usage: bench/mpi_scaling.sh [BUILD_MPI (default build-mpi)] [RANKS... (default 1 2 4)]
set -eu
B=${1:-build-mpi}
shift || true
RANKS=${*:-1 2 4}
A=$B/attnlab
[ -x "$A" ] || { echo "no $A: make mpi (needs Open MPI)" >&2; exit 2; }
W=$(mktemp -d /tmp/attnlab-mpibench-XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/recs"
for i in $(seq 0 15); do
    "$A" synth maps -o "$W/recs/r$i.h5" --seed "$i" --samples 2 --layers 4 --heads 8 --tokens 256 --threads 1 -q
done
cat > "$W/spec.json" <<JSON
{"name": "mpi_scaling", "title": "MPI scaling: 16 recordings x 3 analyses",
 "inputs": {"recs": {"files": ["$W/recs/*.h5"]}},
 "steps": [{"analysis": "sinks", "input": "recs", "params": {"tokens": 256}},
           {"analysis": "kvsim", "input": "recs", "params": {"policy": ["window:64", "sink:4,window:60"]}},
           {"analysis": "similarity", "input": "recs"}]}
JSON
MPIRUN=(mpirun --oversubscribe --mca btl self,vader)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
units=48
now() { date +%s.%N; }
timed() { # OUT CMD...: the run into a fresh folder, its wall time in seconds
    local out=$1; shift
    rm -rf "$out"
    local t0; t0=$(now); "$@" run "$W/spec.json" -o "$out" --threads 1 -q; echo "$(now) - $t0" | bc -l
}
echo "# attnlab run under MPI: $units units (16 recordings x sinks, kvsim, similarity), --threads 1 per rank"
echo "# $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(mpirun --version 2>&1 | head -1)"
t1=$(timed "$W/p1" "$A")
printf "%-14s %8.2f s %8.2f units/s\n" "one process" "$t1" "$(echo "$units / $t1" | bc -l)"
for n in $RANKS; do
    t=$(timed "$W/n$n" "${MPIRUN[@]}" -n "$n" "$A")
    s=$(echo "$t1 / $t" | bc -l)
    printf "%-14s %8.2f s %8.2f units/s   speed-up %5.2f   efficiency %4.2f\n" "$n rank(s)" "$t" \
        "$(echo "$units / $t" | bc -l)" "$s" "$(echo "$s / $n" | bc -l)"
done
