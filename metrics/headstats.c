/* Head-profile kernels. The references compute each statistic on its own, key by key in index order; the
 * tuned kernel reads each row once for all of them, which is what makes `heads` cost one pass over the maps. */
#include "headstats.h"

#include "../core/simd.h"
#include "xlogx.h"

#include <math.h>

static int64_t al_visible(int64_t i, int64_t T, int causal) {
    return causal ? (i + 1 < T ? i + 1 : T) : T;
}

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
    for (int64_t j = 0; j < vis; j++)
        d += (double)a[j] * (double)(i > j ? i - j : j - i);
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

void al_headstats_rows_ref(const float *A, int64_t nrows, int64_t lda, int64_t row0, const al_rowstat_cfg *c,
                           double *acc) {
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
            acc[AL_HS_COUNT + k] += al_row_class_mass_ref(a, vis, c->classes + k * (c->ldc > 0 ? c->ldc : T));
    }
}

/* Sum of a[j] * (w0 + dw (j - j0)) over [j0, j1), and with w0 = 1, dw = 0 the plain sum. Eight explicit double
 * lanes vectorise without reassociating (one accumulator is a serial chain of adds; int64 to double has no
 * AVX2 instruction, so the weights are doubles stepped exactly), and every clone sums in the same order. */
static inline double al_wsum(const float *restrict a, int64_t j0, int64_t j1, double w0, double dw) {
    double acc[8] = {0}, w[8];
    for (int k = 0; k < 8; k++)
        w[k] = w0 + dw * k;
    int64_t j = j0;
    for (; j1 - j >= 8; j += 8)
        for (int k = 0; k < 8; k++) {
            acc[k] += (double)a[j + k] * w[k];
            w[k] += 8 * dw;
        }
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < j1; j++)
        s += (double)a[j] * (w0 + dw * (double)(j - j0));
    return s;
}

/* Sum of a[j] over the members of a token class in [0, n), in the same fixed lanes. */
static inline double al_msum(const float *restrict a, const uint8_t *restrict mem, int64_t n) {
    double acc[8] = {0};
    int64_t j = 0;
    for (; n - j >= 8; j += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += mem[j + k] ? (double)a[j + k] : 0.0;
    double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; j < n; j++)
        s += mem[j] ? (double)a[j] : 0.0;
    return s;
}

AL_TARGET_CLONES void al_headstats_rows(const float *restrict A, int64_t nrows, int64_t lda, int64_t row0,
                                        const al_rowstat_cfg *c, double *restrict acc) {
    int64_t T = c->T, ldc = c->ldc > 0 ? c->ldc : c->T;
    double cs = 1e-4 / (double)T, cterm = cs * log(cs); /* a masked key's term in Clark's entropy */
    for (int64_t r = 0; r < nrows; r++) {
        const float *restrict a = A + r * lda;
        int64_t i = row0 + r, vis = al_visible(i, T, c->causal);
        /* the entropy terms take a vectorised float log (metrics/xlogx.c): the one transcendental per key */
        double h = c->row_entropy ? c->row_entropy[r] : al_neg_xlogx_sum(a, vis);
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
        int64_t lo = i < vis ? i : vis;
        double d = al_wsum(a, 0, lo, (double)i, -1.0);
        if (i + 1 < vis) d += al_wsum(a, i + 1, vis, 1.0, 1.0);
        acc[AL_HS_DISTANCE] += d;
        int64_t hi = i - c->recent < vis - 1 ? i - c->recent : vis - 1;
        if (hi >= c->sink_tokens) acc[AL_HS_DISTANT] += al_wsum(a, c->sink_tokens, hi + 1, 1.0, 0.0);
        for (int64_t k = 0; k < c->nclass; k++)
            acc[AL_HS_COUNT + k] += al_msum(a, c->classes + k * ldc, vis);
    }
}
