/* Bootstrap resampling and percentiles. The stream numbering is part of the documented interface
 * (docs/logs.md) so an interval can be reproduced outside attnlab from the seed alone. */
#include "bootstrap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"

void al_bootstrap_counts(uint64_t seed, uint64_t purpose, int64_t b, int64_t C, int32_t *counts) {
    al_rng r;
    al_rng_seed(&r, seed, (purpose << 32) + (uint64_t)b);
    memset(counts, 0, (size_t)C * sizeof *counts);
    for (int64_t i = 0; i < C; i++) counts[al_rng_below(&r, (uint64_t)C)]++;
}

double al_percentile_sorted(const double *v, int64_t n, double q) {
    if (n <= 0) return NAN;
    double pos = q / 100.0 * (double)(n - 1);
    int64_t i = (int64_t)floor(pos);
    if (i >= n - 1) return v[n - 1];
    double t = pos - (double)i, a = v[i], b = v[i + 1];
    /* numpy's _lerp: exact at both ends */
    return t >= 0.5 ? b - (b - a) * (1.0 - t) : a + (b - a) * t;
}

static int al_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void al_percentile_interval(double *v, int64_t n, double level, double *lo, double *hi) {
    qsort(v, (size_t)n, sizeof *v, al_cmp_double);
    double tail = 50.0 * (1.0 - level);
    *lo = al_percentile_sorted(v, n, tail);
    *hi = al_percentile_sorted(v, n, 100.0 - tail);
}
