/* Norm kernels. |x| of a float orders exactly like its bit pattern with the sign cleared, which is what
 * lets the median be found exactly from two histograms instead of a sort of every value. */
#include "norms.h"

#include <math.h>
#include <string.h>

double al_sumsq_ref(const float *x, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

double al_sumsq(const float *restrict x, int64_t n) {
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

void al_top3_init(al_top3 *t) {
    memset(t, 0, sizeof *t);
    for (int k = 0; k < 3; k++) t->at[k] = -1;
}

void al_top3_add(al_top3 *t, const float *x, int64_t n, int64_t base) {
    for (int64_t i = 0; i < n; i++) {
        double v = fabs((double)x[i]);
        if (t->n == 3 && v <= t->v[2]) continue;
        int k = t->n < 3 ? t->n++ : 2;
        while (k > 0 && v > t->v[k - 1]) {
            t->v[k] = t->v[k - 1];
            t->at[k] = t->at[k - 1];
            k--;
        }
        t->v[k] = v;
        t->at[k] = base + i;
    }
}

static uint32_t al_absbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u & 0x7fffffffu;
}

void al_abshist_hi(const float *x, int64_t n, uint64_t *hist) {
    for (int64_t i = 0; i < n; i++) hist[al_absbits(x[i]) >> 15]++;
}

void al_abshist_lo(const float *x, int64_t n, uint32_t hi, uint64_t *hist) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = al_absbits(x[i]);
        if ((u >> 15) == hi) hist[u & 0x7fffu]++;
    }
}

int64_t al_hist_locate(const uint64_t *hist, int64_t nb, uint64_t r, uint64_t *below) {
    uint64_t c = 0;
    for (int64_t b = 0; b < nb; b++) {
        if (r < c + hist[b]) {
            *below = c;
            return b;
        }
        c += hist[b];
    }
    *below = c;
    return -1;
}

float al_abs_from_bins(uint32_t hi, uint32_t lo) {
    uint32_t u = (hi << 15) | lo;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
