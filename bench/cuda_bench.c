/* GPU benchmark of attnlab's CUDA kernels on data already resident on the device (METRICS.md section 8):
 * device copy bandwidth, fused map statistics GB/s, and q/k statistics per head at long context.
 * Usage: cuda_bench [T_list]  (default 32768,65536,131072). Prints a table; run by bench/run_h200.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/cuda/al_cuda.h"

int main(int argc, char **argv) {
    char why[256];
    if (al_cuda_init(why, sizeof why) != 0) {
        fprintf(stderr, "cuda_bench: %s\n", why);
        return 2;
    }
    if (argc > 1 && !strcmp(argv[1], "profile")) { /* one launch of each kernel, for ncu */
        double g;
        al_cu_bench_mapstats(16, 4096, AL_CU_F32, 1, &g);
        al_cu_bench_qk(32, 32768, 128, AL_CU_BF16, 0, 1);
        return 0;
    }
    double copy_gbs = 0;
    al_cu_bench_copy((size_t)4 << 30, 10, &copy_gbs);
    printf("device copy (4 GiB, read + write): %.0f GB/s\n", copy_gbs);
    static const char *names[] = {"float32", "float16", "bfloat16"};
    printf("\nmap statistics (alpha column sums + every heads statistic, one pass), 16 maps of 4096 x 4096 resident:\n");
    printf("%-9s %10s %12s %12s %14s\n", "dtype", "ms", "GB/s stored", "GB/s read", "read / copy bw");
    for (int elem = 0; elem < 3; elem++) {
        double gbs = 0;
        double ms = al_cu_bench_mapstats(16, 4096, elem, 10, &gbs);
        /* causal maps: the kernel reads the masked half too (validation), so every stored byte is read */
        double read = gbs;
        printf("%-9s %10.3f %12.0f %12.0f %13.0f%%\n", names[elem], ms, gbs, read, 100.0 * read / copy_gbs);
    }
    const char *list = argc > 1 ? argv[1] : "32768,65536,131072";
    printf("\nq/k statistics (flash-style, two passes, causal), 32 heads resident, head_dim 128, ms per head:\n");
    printf("%-8s %-9s %10s %12s\n", "T", "dtype", "ms/head", "TFLOP/s");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        long long T = atoll(tok);
        int elems[] = {AL_CU_BF16, AL_CU_F32};
        for (int x = 0; x < 2; x++) {
            if (elems[x] == AL_CU_F32 && T > 65536) continue;
            double ms = al_cu_bench_qk(32, T, 128, elems[x], 0, 3);
            /* two passes of the causal half of q k^T: 2 x (T^2 / 2) x 2 D flops */
            double tf = ms > 0 ? 2.0 * (double)T * (double)T * 128.0 / (ms * 1e-3) / 1e12 : 0;
            printf("%-8lld %-9s %10.3f %12.1f\n", T, names[elems[x]], ms, tf);
            if (ms < 0) printf("  error: %s\n", al_cuda_last_error());
        }
    }
    return 0;
}
