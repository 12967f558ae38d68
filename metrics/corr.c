/* Correlations by centred sums in double; ranks by an index sort that keeps ties together and gives them
 * the mean of their positions, as scipy.stats.rankdata(method="average") does. */
#include "corr.h"

#include <math.h>
#include <stdlib.h>

double al_pearson(const double *x, const double *y, int64_t n) {
    if (n < 2) return NAN;
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (int64_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if (!(sxx > 0) || !(syy > 0)) return NAN;
    double r = sxy / sqrt(sxx * syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

static int al_rank_cmp(const void *a, const void *b, void *keys) {
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    double x = ((const double *)keys)[i], y = ((const double *)keys)[j];
    if (x != y) return x < y ? -1 : 1;
    return (i > j) - (i < j);
}

void al_average_ranks(const double *x, int64_t n, double *ranks, int64_t *ws) {
    for (int64_t i = 0; i < n; i++) ws[i] = i;
    qsort_r(ws, (size_t)n, sizeof *ws, al_rank_cmp, (void *)x);
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && x[ws[j + 1]] == x[ws[i]]) j++;
        double r = 0.5 * (double)(i + j) + 1.0;
        for (int64_t k = i; k <= j; k++) ranks[ws[k]] = r;
        i = j + 1;
    }
}

double al_spearman(const double *x, const double *y, int64_t n, double *wsd, int64_t *wsi) {
    if (n < 2) return NAN;
    al_average_ranks(x, n, wsd, wsi);
    al_average_ranks(y, n, wsd + n, wsi);
    return al_pearson(wsd, wsd + n, n);
}
