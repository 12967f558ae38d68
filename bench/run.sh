#!/bin/bash
# CPU benchmark of attnlab against the numpy + h5py script a researcher writes today (bench/baseline.py), and
# against this machine's memory read bandwidth (bench/membw.c), all measured in this one run.
# Usage: bench/run.sh [BUILD]   (default build; data go to bench/data, about 1.5 GB, reused when present)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
A=$BUILD/attnlab
PY=/usr/bin/python3
D=bench/data
mkdir -p "$D"
[ -x "$A" ] || { echo "bench: build first (make)"; exit 1; }
cc -O2 -o "$D/membw" bench/membw.c
[ -f "$D/maps_f32.h5" ] || "$A" synth maps -o "$D/maps_f32.h5" --samples 1 --layers 4 --heads 16 --tokens 2048 --seed 1 -q
[ -f "$D/maps_f16.h5" ] || "$A" synth maps -o "$D/maps_f16.h5" --samples 1 --layers 4 --heads 16 --tokens 2048 --seed 1 --dtype f16 -q
[ -f "$D/qk.h5" ] || "$A" synth qk -o "$D/qk.h5" --samples 1 --layers 1 --heads 2 --tokens 8192 --head-dim 64 --seed 1 -q

# best wall time of 3 runs in milliseconds (the file in the page cache, as for the baseline; /usr/bin/time's
# own clock has 10 ms steps), and the peak resident memory of the last run
best() { local b=1e9 t s e; for _ in 1 2 3; do s=$(date +%s%N); /usr/bin/time -o "$D/.rss" -f "%M" "$@" > /dev/null 2>&1; \
         e=$(date +%s%N); t=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", (e - s) / 1e9}'); \
         b=$(awk -v t="$t" -v b="$b" 'BEGIN{print (t < b ? t : b)}'); done; echo "$b $(cat "$D/.rss")"; }
bw=$("$D/membw" 1024 2>/dev/null)
size32=$(stat -c %s "$D/maps_f32.h5")
cat "$D"/*.h5 > /dev/null
read -r t_np32 r_np32 < <(best $PY bench/baseline.py maps "$D/maps_f32.h5" 2048)
read -r t_np16 r_np16 < <(best $PY bench/baseline.py maps "$D/maps_f16.h5" 2048)
read -r t_npqk r_npqk < <(best $PY bench/baseline.py qk "$D/qk.h5" 8192)
read -r t_sh32 r_sh32 < <(best "$A" stats "$D/maps_f32.h5" --analyses sinks,heads -q --format json)
read -r t_sh16 r_sh16 < <(best "$A" stats "$D/maps_f16.h5" --analyses sinks,heads -q --format json)
read -r t_s32 r_s32 < <(best "$A" sinks "$D/maps_f32.h5" --tokens 2048 -q --format json)
read -r t_h256 r_h256 < <(best "$A" heads "$D/maps_f32.h5" --mem 256M -q --format json)
read -r t_qk r_qk < <(best "$A" stats "$D/qk.h5" --analyses sinks,heads --mem 64M -q --format json)
# kvsim: five policies and a four-budget sweep in one pass, against one plain pass (sinks) over the same maps
KV="--policy window:64 --policy sink:4,window:60 --policy h2o:16,window:48 --policy topk:64 --policy coverage:0.9 --sweep window:16..128x2"
read -r t_kv r_kv < <(best "$A" kvsim "$D/maps_f32.h5" --tokens 2048 $KV -q --format json)
read -r t_kv0 r_kv0 < <(best "$A" sinks "$D/maps_f32.h5" --tokens 2048 -q --format json)
read -r t_kv5 r_kv5 < <(best "$A" kvsim "$D/maps_f32.h5" --tokens 512 $KV -q --format json)
read -r t_kv50 r_kv50 < <(best "$A" sinks "$D/maps_f32.h5" --tokens 512 -q --format json)
# kvsim --prefill: the eleven prefill methods in one pass from q/k, against one plain pass (sinks+heads) from q/k
KP="--prefill 4096 --method streaming --method knorm --method snapkv --method tova --method observed --method expected:vnorm=0 --method pyramid --method adakv:snapkv --method duo --method quest --method random"
read -r t_kp r_kp < <(best "$A" kvsim "$D/qk.h5" $KP --mem 64M -q --format json)

echo "attnlab CPU benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "memory read bandwidth (plain C loop, 1 GiB): $bw GB/s"
printf "%-58s %9s %9s %8s %10s\n" "case" "attnlab s" "numpy s" "ratio" "peak MB"
awk -v a="$t_sh32" -v b="$t_np32" -v r="$r_sh32" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx %10.0f\n", "sinks+heads, [1,4,16,2048,2048] float32 contiguous", a, b, b/a, r/1024}'
awk -v a="$t_sh16" -v b="$t_np16" -v r="$r_sh16" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx %10.0f\n", "sinks+heads, same maps float16 in gzip chunks of 64 rows", a, b, b/a, r/1024}'
awk -v a="$t_qk" -v b="$t_npqk" -v r="$r_qk" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx %10.0f\n", "sinks+heads from q/k, T = 8192, 2 heads, D = 64, --mem 64M", a, b, b/a, r/1024}'
awk -v t="$t_s32" -v s="$size32" -v bw="$bw" -v r="$r_s32" 'BEGIN{g=s/t/1e9; printf "%-58s %9.3f %9s %8s %10.0f   %.2f GB/s = %.0f%% of read bandwidth\n", "sinks alone, float32 file", t, "", "", r/1024, g, 100*g/bw}'
awk -v t="$t_h256" -v r="$r_h256" 'BEGIN{printf "%-58s %9.3f %9s %8s %10.0f\n", "heads --mem 256M, float32 file (1 GB)", t, "", "", r/1024}'
awk -v a="$t_kv" -v b="$t_kv0" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx   (kvsim time / one plain pass)\n", "kvsim, 9 policies in one pass vs sinks, T = 2048", a, b, a/b}'
awk -v a="$t_kv5" -v b="$t_kv50" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx   (kvsim time / one plain pass)\n", "kvsim, the same, T = 512", a, b, a/b}'
awk -v a="$t_kp" -v b="$t_qk" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx   (kvsim time / one plain pass)\n", "kvsim --prefill, 11 methods from q/k vs sinks+heads, T = 8192", a, b, a/b}'
echo "numpy peak MB: float32 $((r_np32 / 1024)), float16 $((r_np16 / 1024)), q/k $((r_npqk / 1024))"
