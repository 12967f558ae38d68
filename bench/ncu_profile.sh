mkdir -p /tmp/al && tar -C /tmp/al -xJf .devpack.tar.xz; export LD_LIBRARY_PATH=/tmp/al/lib
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
$NCU --clock-control none -k regex:"mapstats_kernel|qk_rows|qk_cols" -c 3 --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats /tmp/al/bin/cuda_bench profile 2>&1 | grep -E "mapstats_kernel|qk_rows|qk_cols|Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Stall|Warp Cycles Per Issued|Registers|Block Limit|Waves" | head -90
