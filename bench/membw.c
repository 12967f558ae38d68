/* Memory read bandwidth of this machine, measured by a plain C loop: the yardstick the benchmark reports
 * attnlab's throughput against. Prints GB/s (best of 5 passes over a buffer larger than any cache). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 1024;
    size_t n = mb * (1u << 20) / sizeof(uint64_t);
    uint64_t *a = malloc(n * sizeof *a);
    if (!a) return 1;
    for (size_t i = 0; i < n; i++) a[i] = i;
    double best = 0;
    uint64_t sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i + 4 <= n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        double gbs = (double)(n * sizeof *a) / (now() - t0) / 1e9;
        sink += s0 + s1 + s2 + s3;
        if (gbs > best) best = gbs;
    }
    printf("%.3f\n", best);
    fprintf(stderr, "(checksum %llu)\n", (unsigned long long)sink);
    free(a);
    return 0;
}
