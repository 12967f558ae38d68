/* The matrix rate the q/k benchmarks are measured against: OpenBLAS sgemm (C = A B^T, N x N x N, float32) run
 * by THREADS OpenMP threads at once, one product each, as attnlab runs one head per thread. Prints GFLOP/s
 * of all threads together per second of wall time, then GFLOP per second of CPU time (best of 5 each; the
 * second holds on a machine shared with other programs, where wall time includes waiting for a core). Link after
 * OpenBLAS the build's libal_blasenv.so, which picks OpenBLAS's kernels for this processor as attnlab does
 * (core/blasenv/blasenv.c). Usage: sgemm [N] [THREADS] */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2048, nt = argc > 2 ? atoi(argv[2]) : 2;
    openblas_set_num_threads(1);
    float *buf = malloc(sizeof(float) * 3 * (size_t)n * (size_t)n * (size_t)nt); /* [nt, 3, n, n] */
    if (!buf || n < 1 || nt < 1) return 1;
    for (size_t i = 0; i < 3 * (size_t)n * (size_t)n * (size_t)nt; i++)
        buf[i] = (float)(i % 17) * 0.01f;
    double best = 0, best_cpu = 0;
    for (int rep = 0; rep < 5; rep++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(nt)
        {
            float *a = buf + (size_t)omp_get_thread_num() * 3 * (size_t)n * (size_t)n, *b = a + (size_t)n * n,
                  *c = b + (size_t)n * n;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        }
        double g = 2.0 * n * (double)n * n * nt / (omp_get_wtime() - t0) / 1e9;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
        double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
        double gc = 2.0 * n * (double)n * n * nt / cpu / 1e9;
        if (g > best) best = g;
        if (gc > best_cpu) best_cpu = gc;
    }
    printf("%.1f %.1f\n", best, best_cpu);
    free(buf);
    return 0;
}
