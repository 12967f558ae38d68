/* The page-cache read ceiling the file benchmarks are measured against: THREADS threads pread a file's halves
 * (quarters, ...) in blocks of 1 MiB into page-aligned buffers, nothing else. Prints GB/s (best of 5 passes;
 * run it after the file has been read once, so it is in the page cache). Usage: pread FILE [THREADS] */
#include <fcntl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int nt = argc > 2 ? atoi(argv[2]) : 2, fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || nt < 1) return 1;
    const size_t blk = 1 << 20;
    off_t per = (st.st_size + nt - 1) / nt;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = omp_get_wtime();
#pragma omp parallel num_threads(nt)
        {
            void *b = NULL;
            if (posix_memalign(&b, 4096, blk) == 0) {
                off_t o = per * omp_get_thread_num(), end = o + per < st.st_size ? o + per : st.st_size;
                for (ssize_t got = 1; o < end && got > 0; o += got)
                    got = pread(fd, b, (size_t)(end - o) < blk ? (size_t)(end - o) : blk, o);
                free(b);
            }
        }
        double g = (double)st.st_size / (omp_get_wtime() - t0) / 1e9;
        if (g > best) best = g;
    }
    printf("%.2f\n", best);
    close(fd);
    return 0;
}
