/* Head-profile kernels. The references compute each statistic on its own, key by key in index order; the
 * tuned kernel reads each row once for all of them, which is what makes `heads` cost one pass over the maps. */
#include "headstats.h"

#include "../core/simd.h"
#include "xlogx.h"

#include <math.h>

static int64_t al_visible(int64_t i, int64_t T, int causal) { return causal ? (i + 1 < T ? i + 1 : T) : T; }

double al_row_entropy_ref(const float *a, int64_t vis) {
    double h = 0;
    for (int64_t j = 0; j < vis; j++) {
        double x = (double)a[j];
        if (x > 0) h -= x * log(x);
    }
    return h;
}

double al_row_clark_entropy_ref(const float *a, int64_t vis, int64_t T) {
    double c = 1e-4 / (double)T, h = 0;
    for (int64_t j = 0; j < T; j++) {
        double y = 0.9999 * (j < vis ? (double)a[j] : 0.0) + c; /* masked keys hold 0 */
        h -= y * log(y);
    }
    return h;
}

double al_row_distance_ref(const float *a, int64_t vis, int64_t i) {
    double d = 0;
    for (int64_t j = 0; j < vis; j++) d += (double)a[j] * (double)(i > j ? i - j : j - i);
    return d;
}

double al_row_distant_ref(const float *a, int64_t vis, int64_t i, int64_t s, int64_t r) {
    double m = 0;
    for (int64_t j = 0; j < vis; j++)
        if (j >= s && j <= i - r) m += (double)a[j];
    return m;
}

double al_row_class_mass_ref(const float *a, int64_t vis, const uint8_t *member) {
    double m = 0;
    for (int64_t j = 0; j < vis; j++)
        if (member[j]) m += (double)a[j];
    return m;
}

void al_headstats_rows_ref(const float *A, int64_t nrows, int64_t lda, int64_t row0, const al_rowstat_cfg *c, double *acc) {
    int64_t T = c->T;
    for (int64_t r = 0; r < nrows; r++) {
        const float *a = A + r * lda;
        int64_t i = row0 + r, vis = al_visible(i, T, c->causal);
        double h = al_row_entropy_ref(a, vis);
        acc[AL_HS_ENTROPY] += h;
        if (vis > 1) {
            acc[AL_HS_ENTROPY_NORM] += h / log((double)vis);
            acc[AL_HS_NORM_ROWS] += 1;
        }
        if (c->clark) acc[AL_HS_CLARK] += al_row_clark_entropy_ref(a, vis, T);
        acc[AL_HS_FIRST] += (double)a[0];
        acc[AL_HS_SELF] += (double)a[i];
        if (i >= 1) acc[AL_HS_PREV] += (double)a[i - 1];
        if (!c->causal && i + 1 < T) acc[AL_HS_NEXT] += (double)a[i + 1];
        acc[AL_HS_DISTANCE] += al_row_distance_ref(a, vis, i);
        acc[AL_HS_DISTANT] += al_row_distant_ref(a, vis, i, c->sink_tokens, c->recent);
        for (int64_t k = 0; k < c->nclass; k++)
            acc[AL_HS_COUNT + k] += al_row_class_mass_ref(a, vis, c->classes + k * T);
    }
}

AL_TARGET_CLONES void al_headstats_rows(const float *restrict A, int64_t nrows, int64_t lda, int64_t row0, const al_rowstat_cfg *c,
                       double *restrict acc) {
    int64_t T = c->T;
    double cs = 1e-4 / (double)T, cterm = cs * log(cs); /* a masked key's term in Clark's entropy */
    for (int64_t r = 0; r < nrows; r++) {
        const float *restrict a = A + r * lda;
        int64_t i = row0 + r, vis = al_visible(i, T, c->causal);
        /* the entropy terms take a vectorised float log (metrics/xlogx.c): the one transcendental per key */
        double h = al_neg_xlogx_sum(a, vis);
        if (c->clark) acc[AL_HS_CLARK] += al_neg_ylogy_sum(a, vis, cs) - (double)(T - vis) * cterm;
        acc[AL_HS_ENTROPY] += h;
        if (vis > 1) {
            acc[AL_HS_ENTROPY_NORM] += h / log((double)vis);
            acc[AL_HS_NORM_ROWS] += 1;
        }
        acc[AL_HS_FIRST] += (double)a[0];
        acc[AL_HS_SELF] += (double)a[i];
        if (i >= 1) acc[AL_HS_PREV] += (double)a[i - 1];
        if (!c->causal && i + 1 < T) acc[AL_HS_NEXT] += (double)a[i + 1];
        /* distance without |.|: keys before i, then keys after i (non-causal only) */
        double d = 0;
        int64_t lo = i < vis ? i : vis;
#pragma omp simd reduction(+ : d)
        for (int64_t j = 0; j < lo; j++) d += (double)a[j] * (double)(i - j);
#pragma omp simd reduction(+ : d)
        for (int64_t j = i + 1; j < vis; j++) d += (double)a[j] * (double)(j - i);
        acc[AL_HS_DISTANCE] += d;
        double m = 0;
        int64_t hi = i - c->recent < vis - 1 ? i - c->recent : vis - 1;
#pragma omp simd reduction(+ : m)
        for (int64_t j = c->sink_tokens; j <= hi; j++) m += (double)a[j];
        acc[AL_HS_DISTANT] += m;
        for (int64_t k = 0; k < c->nclass; k++) {
            const uint8_t *mem = c->classes + k * T;
            double s = 0;
#pragma omp simd reduction(+ : s)
            for (int64_t j = 0; j < vis; j++) s += mem[j] ? (double)a[j] : 0.0;
            acc[AL_HS_COUNT + k] += s;
        }
    }
}
