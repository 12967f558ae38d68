#!/bin/sh
# Runs every libFuzzer target of BUILD (default build-fuzz; configure it with tools/fuzz.sh --build) for a
# bounded time each, starting from the committed seeds of tests/fuzz/corpus/<target>/. New inputs go to a
# temporary folder, never into the tree. Any finding (crash, sanitizer report, leak, timeout, out-of-memory)
# fails the run and leaves the input under $FUZZ_ARTIFACTS (default BUILD/fuzz-artifacts/).
# Usage: tools/fuzz.sh [--build] [BUILD]   env: FUZZ_SECONDS (per target, default 12; fuzz_recording 2x),
#        FUZZ_SEED (default 1), FUZZ_JOBS (parallel targets, default 2).
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--build" ]; then
    shift
    B=${1:-build-fuzz}
    CC=clang cmake -S . -B "$B" -DATTNLAB_FUZZ=ON -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$B" -j "$(nproc 2>/dev/null || echo 2)" >"$B/fuzz-build.log" 2>&1 ||
        { tail -40 "$B/fuzz-build.log" >&2; echo "fuzz: build failed" >&2; exit 1; }
fi
B=${1:-build-fuzz}
SECS=${FUZZ_SECONDS:-12}
SEED=${FUZZ_SEED:-1}
JOBS=${FUZZ_JOBS:-2}
ART=${FUZZ_ARTIFACTS:-$B/fuzz-artifacts}
ROOT=$(pwd)
mkdir -p "$ART"
ART=$(cd "$ART" && pwd)
WORK=$(mktemp -d /tmp/attnlab-fuzz-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# HDF5, OpenBLAS and libgomp keep some global state for the life of the process: not attnlab's leaks
export LSAN_OPTIONS="suppressions=$ROOT/tools/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:allocator_may_return_null=0:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TMPDIR="$WORK"

targets=$(find "$B/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x 2>/dev/null | sort)
[ -n "$targets" ] || { echo "fuzz: no targets in $B/tests/fuzz (run tools/fuzz.sh --build)" >&2; exit 1; }
fail=0
run_one() {
    t=$1
    name=$(basename "$t")
    secs=$SECS
    [ "$name" = fuzz_recording ] && secs=$((SECS * 2))
    corpus="$WORK/$name"
    mkdir -p "$corpus"
    seeds="$ROOT/tests/fuzz/corpus/$name"
    [ -d "$seeds" ] || seeds=""
    log="$WORK/$name.log"
    if "$t" -max_total_time="$secs" -seed="$SEED" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
        -artifact_prefix="$ART/$name-" -print_final_stats=1 "$corpus" $seeds >"$log" 2>&1; then
        echo "fuzz: $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, no finding"
        return 0
    fi
    echo "fuzz: $name: FINDING (input saved under $ART/$name-*):" >&2
    grep -v '^#\|^INFO\|^\s*$' "$log" | head -60 >&2
    return 1
}
# a few targets at a time; each writes its own log
pids=""
for t in $targets; do
    run_one "$t" &
    pids="$pids $!"
    if [ "$(echo $pids | wc -w)" -ge "$JOBS" ]; then
        for p in $pids; do wait "$p" || fail=1; done
        pids=""
    fi
done
for p in $pids; do wait "$p" || fail=1; done
n=$(echo $targets | wc -w)
if [ $fail = 0 ]; then echo "fuzz: $n passed, 0 failed"; else echo "fuzz: some targets found problems"; fi
exit $fail
