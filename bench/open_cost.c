/* What the guarded open costs (docs/reliability.md, "Corrupt files"): per call, a bare HDF5 open and close of
 * FILE, the guard alone (fork, the child's walk of the whole file, the report back), and attnlab's whole
 * recording open (guard included). Usage: open_cost FILE [REPS]; best of REPS, milliseconds. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../core/h5.h"
#include "../core/h5guard.h"
#include "../datasets/recording.h"

static double al_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: open_cost FILE [REPS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 50;
    double best[3] = {1e30, 1e30, 1e30};
    al_h5_quiet();
    for (int i = 0; i < reps; i++) {
        double t0 = al_ms();
        hid_t f = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f >= 0) H5Fclose(f);
        double t1 = al_ms();
        al_error e = {0};
        if (al_h5_guard(argv[1], &e) != AL_OK) {
            al_error_print(&e);
            return 1;
        }
        double t2 = al_ms();
        al_rec *r;
        if (al_rec_open(argv[1], &r, &e) != AL_OK) {
            al_error_print(&e);
            return 1;
        }
        al_rec_close(r);
        double t3 = al_ms();
        double d[3] = {t1 - t0, t2 - t1, t3 - t2};
        for (int k = 0; k < 3; k++)
            if (d[k] < best[k]) best[k] = d[k];
    }
    printf("%s: H5Fopen+H5Fclose %.3f ms, guard %.3f ms, al_rec_open+close (guard included) %.3f ms\n", argv[1],
           best[0], best[1], best[2]);
    return 0;
}
