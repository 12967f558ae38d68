#!/bin/bash
# CPU benchmark of attnlab against the numpy + h5py script a researcher writes today (bench/baseline.py), and
# against this machine's own bounds, all measured in this one run: memory read bandwidth (bench/membw.c), the
# page-cache read ceiling of a plain 2-thread pread loop (bench/pread.c) and the sgemm rate (bench/sgemm.c).
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
cc -O2 -fopenmp -o "$D/pread" bench/pread.c
# sgemm through the same OpenBLAS, after the build's libal_blasenv.so (it picks the kernels attnlab gets)
cc -O2 -fopenmp -o "$D/sgemm" bench/sgemm.c -lopenblas -L"$BUILD" -Wl,--no-as-needed -lal_blasenv -Wl,-rpath,"$PWD/$BUILD"
[ -f "$D/maps_f32.h5" ] || "$A" synth maps -o "$D/maps_f32.h5" --samples 1 --layers 4 --heads 16 --tokens 2048 --seed 1 -q
[ -f "$D/maps_f16.h5" ] || "$A" synth maps -o "$D/maps_f16.h5" --samples 1 --layers 4 --heads 16 --tokens 2048 --seed 1 --dtype f16 -q
# q/k bound cases: GQA (two query heads per key head), causal, T = 8192 and 32768, head_dim 64 and 128
for c in 8192:64:4 8192:128:4 32768:64:2 32768:128:2; do IFS=: read -r t d h <<< "$c"
    [ -f "$D/qk_${t}_$d.h5" ] || "$A" synth qk -o "$D/qk_${t}_$d.h5" --samples 1 --layers 1 --heads "$h" --kv-heads $((h / 2)) \
        --tokens "$t" --head-dim "$d" --seed 1 -q; done
# record: a random llama2.c checkpoint, dim 512, hidden 1376, 8 layers, 8 heads (4 KV heads), vocab 512
[ -f "$D/synth512.bin" ] || $PY bench/synth_ckpt.py "$D/synth512.bin" 512 1376 8 8 4 512 1024
TOK1K=$($PY -c "print(','.join(['1'] + [str(3 + (i * 7) % 500) for i in range(1023)]))")
[ -f "$D/qk.h5" ] || "$A" synth qk -o "$D/qk.h5" --samples 1 --layers 1 --heads 2 --tokens 8192 --head-dim 64 --seed 1 -q

# best wall time of 3 runs in milliseconds (the file in the page cache, as for the baseline; /usr/bin/time's
# own clock has 10 ms steps), and the peak resident memory of the last run
# (third field: the least CPU time, user + system, of the 3 runs: on a shared machine wall time includes waiting)
best() { local b=1e9 c=1e9 t s e; for _ in 1 2 3; do s=$(date +%s%N); /usr/bin/time -o "$D/.rss" -f "%M %U %S" "$@" > /dev/null 2>&1; \
         e=$(date +%s%N); t=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", (e - s) / 1e9}'); \
         b=$(awk -v t="$t" -v b="$b" 'BEGIN{print (t < b ? t : b)}'); \
         c=$(awk -v c="$c" '{u = $2 + $3; print (u < c ? u : c)}' "$D/.rss"); done; echo "$b $(cut -d' ' -f1 "$D/.rss") $c"; }
bw=$("$D/membw" 1024 2>/dev/null)
size32=$(stat -c %s "$D/maps_f32.h5")
cat "$D"/*.h5 > /dev/null
read -r gemm gemmc < <("$D/sgemm" 2048 "$(nproc)") # GFLOP/s of all cores (wall), GFLOP per CPU-second
rd=$("$D/pread" "$D/maps_f32.h5" 2)        # GB/s, the page-cache read ceiling of the same file
size16=$(stat -c %s "$D/maps_f16.h5")
load0=$(cut -d' ' -f1-3 /proc/loadavg)
read -r t_np32 r_np32 _ < <(best $PY bench/baseline.py maps "$D/maps_f32.h5" 2048)
read -r t_np16 r_np16 _ < <(best $PY bench/baseline.py maps "$D/maps_f16.h5" 2048)
read -r t_npqk r_npqk _ < <(best $PY bench/baseline.py qk "$D/qk.h5" 8192)
read -r t_sh32 r_sh32 _ < <(best "$A" stats "$D/maps_f32.h5" --analyses sinks,heads -q --format json)
read -r t_sh16 r_sh16 _ < <(best "$A" stats "$D/maps_f16.h5" --analyses sinks,heads -q --format json)
read -r t_s32 r_s32 _ < <(best "$A" sinks "$D/maps_f32.h5" --tokens 2048 -q --format json)
read -r t_h256 r_h256 _ < <(best "$A" heads "$D/maps_f32.h5" --mem 256M -q --format json)
read -r t_qk r_qk _ < <(best "$A" stats "$D/qk.h5" --analyses sinks,heads --mem 64M -q --format json)
# sinks+heads from q/k against two causal passes of Q K^T at the sgemm rate: T D H (query heads)
QKC="8192:64:4 8192:128:4 32768:64:2 32768:128:2"
declare -A qkt qkr qkc
for c in $QKC; do IFS=: read -r t d h <<< "$c"
    read -r "qkt[$c]" "qkr[$c]" "qkc[$c]" < <(best "$A" stats "$D/qk_${t}_$d.h5" --analyses sinks,heads -q --format json); done
read -r t_rec r_rec c_rec < <(best "$A" record "$D/synth512.bin" -o "$D/rec.h5" --tokens "$TOK1K" --what q,k -q)
# kvsim: five policies and a four-budget sweep in one pass, against one plain pass (sinks) over the same maps
KV="--policy window:64 --policy sink:4,window:60 --policy h2o:16,window:48 --policy topk:64 --policy coverage:0.9 --sweep window:16..128x2"
read -r t_kv r_kv _ < <(best "$A" kvsim "$D/maps_f32.h5" --tokens 2048 $KV -q --format json)
read -r t_kv0 r_kv0 _ < <(best "$A" sinks "$D/maps_f32.h5" --tokens 2048 -q --format json)
read -r gemm2 gemmc2 < <("$D/sgemm" 2048 "$(nproc)") # again after the runs: the load may have changed
rd2=$("$D/pread" "$D/maps_f32.h5" 2)
read -r t_kv5 r_kv5 _ < <(best "$A" kvsim "$D/maps_f32.h5" --tokens 512 $KV -q --format json)
read -r t_kv50 r_kv50 _ < <(best "$A" sinks "$D/maps_f32.h5" --tokens 512 -q --format json)
# kvsim --prefill: the eleven prefill methods in one pass from q/k, against one plain pass (sinks+heads) from q/k
KP="--prefill 4096 --method streaming --method knorm --method snapkv --method tova --method observed --method expected:vnorm=0 --method pyramid --method adakv:snapkv --method duo --method quest --method random"
read -r t_kp r_kp _ < <(best "$A" kvsim "$D/qk.h5" $KP --mem 64M -q --format json)

gemm=$(awk -v a="$gemm" -v b="$gemm2" 'BEGIN{print (a > b ? a : b)}') # bounds from the faster of the two readings
gemmc=$(awk -v a="$gemmc" -v b="$gemmc2" 'BEGIN{print (a > b ? a : b)}')
rd=$(awk -v a="$rd" -v b="$rd2" 'BEGIN{print (a > b ? a : b)}')
echo "attnlab CPU benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load average (1, 5, 15 min) before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "memory read bandwidth (plain C loop, 1 GiB): $bw GB/s"
echo "sgemm (OpenBLAS, 2048^3, one product per core, $(nproc) cores): $gemm GFLOP/s, $gemmc GFLOP per CPU-second (the faster of the readings before and after the runs: the bounds below)"
echo "page-cache read ceiling (2 threads pread the float32 file in 1 MiB blocks): $rd GB/s (likewise)"
printf "%-58s %9s %9s %8s %10s\n" "case" "attnlab s" "numpy s" "ratio" "peak MB"
awk -v a="$t_sh32" -v b="$t_np32" -v r="$r_sh32" -v s="$size32" -v rd="$rd" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx %10.0f   %.0f%% of the pread ceiling\n", "sinks+heads, [1,4,16,2048,2048] float32 contiguous", a, b, b/a, r/1024, 100*s/a/1e9/rd}'
awk -v a="$t_sh16" -v b="$t_np16" -v r="$r_sh16" -v s="$size16" -v rd="$rd" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx %10.0f   %.0f%% of the pread ceiling (of its compressed bytes: inflating bounds it)\n", "sinks+heads, same maps float16 in gzip chunks of 64 rows", a, b, b/a, r/1024, 100*s/a/1e9/rd}'
awk -v a="$t_qk" -v b="$t_npqk" -v r="$r_qk" -v g="$gemm" 'BEGIN{e=2*2*(8192*8192/2)*2*64/(g*1e9); printf "%-58s %9.3f %9.3f %7.1fx %10.0f   bound %.3f s: %.0f%% of the two-pass sgemm bound\n", "sinks+heads from q/k, T = 8192, 2 heads, D = 64, --mem 64M", a, b, b/a, r/1024, e, 100*e/a}'
for c in $QKC; do IFS=: read -r t d h <<< "$c"
    awk -v T="$t" -v Dh="$d" -v H="$h" -v t="${qkt[$c]}" -v r="${qkr[$c]}" -v cp="${qkc[$c]}" -v g="$gemm" -v gc="$gemmc" 'BEGIN{f=2*H*(T*T/2)*2*Dh/1e9; e=f/g; \
        printf "%-58s %9.3f %9s %8s %10.0f   two-pass sgemm bound %.3f s: %.0f%% of it; CPU time %.3f s: %.0f%% of %.3f\n", \
        sprintf("sinks+heads from q/k, T = %d, %d heads (GQA 2:1), D = %d", T, H, Dh), t, "", "", r/1024, e, 100*e/t, cp, 100*f/gc/cp, f/gc}'; done
# the matrix products of record's forward pass over 1024 tokens: 7 projections a layer and the classifier per
# token, and the causal halves of Q K^T and P V (hs = 64)
awk -v t="$t_rec" -v r="$r_rec" -v cp="$c_rec" -v g="$gemm" -v gc="$gemmc" 'BEGIN{T=1024; L=8; d=512; kv=256; hid=1376; V=512; H=8; hs=64; \
    f=(2*T*(L*(2*d*d + 2*d*kv + 3*d*hid) + V*d) + L*H*2*(T*T/2)*hs*2)/1e9; e=f/g; \
    printf "%-58s %9.3f %9s %8s %10.0f   sgemm bound %.3f s: %.2fx it; CPU time %.3f s: %.2fx %.3f\n", \
    "record --what q,k, 1024 tokens, dim 512, 8 layers (forward)", t, "", "", r/1024, e, t/e, cp, cp/(f/gc), f/gc}'
awk -v t="$t_s32" -v s="$size32" -v bw="$bw" -v rd="$rd" -v r="$r_s32" 'BEGIN{g=s/t/1e9; printf "%-58s %9.3f %9s %8s %10.0f   %.2f GB/s = %.0f%% of the pread ceiling, %.0f%% of memory read bandwidth\n", "sinks alone, float32 file", t, "", "", r/1024, g, 100*g/rd, 100*g/bw}'
awk -v t="$t_h256" -v r="$r_h256" -v s="$size32" -v rd="$rd" 'BEGIN{printf "%-58s %9.3f %9s %8s %10.0f   %.0f%% of the pread ceiling\n", "heads --mem 256M, float32 file (1 GB)", t, "", "", r/1024, 100*s/t/1e9/rd}'
awk -v a="$t_kv" -v b="$t_kv0" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx   (kvsim time / one plain pass)\n", "kvsim, 9 policies in one pass vs sinks, T = 2048", a, b, a/b}'
awk -v a="$t_kv5" -v b="$t_kv50" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx   (kvsim time / one plain pass)\n", "kvsim, the same, T = 512", a, b, a/b}'
awk -v a="$t_kp" -v b="$t_qk" 'BEGIN{printf "%-58s %9.3f %9.3f %7.1fx   (kvsim time / one plain pass)\n", "kvsim --prefill, 11 methods from q/k vs sinks+heads, T = 8192", a, b, a/b}'
echo "numpy peak MB: float32 $((r_np32 / 1024)), float16 $((r_np16 / 1024)), q/k $((r_npqk / 1024))"
