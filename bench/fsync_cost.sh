#!/bin/sh
# The cost of the fsyncs that make committed outputs durable (docs/reliability.md, "Power loss"): the same
# binary timed as built and with fsync/fdatasync turned into no-ops by an LD_PRELOAD shim (built here into a
# temporary folder), on a folder of the file system given (default: a temporary folder under /var/tmp, a disk).
# Usage: bench/fsync_cost.sh [BUILD] [FOLDER] [REPEATS]
set -eu
B=${1:-build}
W=$(mktemp -d "${2:-/var/tmp}/attnlab-fsync-XXXXXX")
N=${3:-5}
A=$(cd "$B" && pwd)/attnlab
S=$(cd "$(dirname "$0")/.." && pwd)
trap 'rm -rf "$W"' EXIT
cat > "$W/nofsync.c" <<'C'
int fsync(int fd) { (void)fd; return 0; }
int fdatasync(int fd) { (void)fd; return 0; }
C
cc -shared -fPIC -o "$W/nofsync.so" "$W/nofsync.c"
"$A" synth maps -o "$W/rec.h5" --samples 4 --layers 8 --heads 8 --tokens 256 --quiet
best() { # the fastest of N runs of "$@" in seconds (each into a fresh folder)
    b=
    for i in $(seq "$N"); do
        rm -rf "$W/out"
        t0=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        t=$(echo "$(date +%s.%N) - $t0" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
for what in heads run; do
    if [ $what = heads ]; then set -- "$A" heads "$W/rec.h5" -o "$W/out" --quiet; else
        set -- "$A" run "$S/experiments/demo.json" -o "$W/out" --quiet; fi
    with=$(best "$@")
    without=$(best env LD_PRELOAD="$W/nofsync.so" "$@")
    files=$(find "$W/out" -type f | wc -l)
    printf '%-6s %4d files: %.3f s with fsync, %.3f s without (best of %d)\n' $what "$files" "$with" "$without" "$N"
done
