/* METRICS.md section 3 piece by piece (span masses, components, z-scores, focal heads and layers, layer_range)
 * and the norm kernels (exact median, top-3, squared norms). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "metrics/drift.h"
#include "metrics/norms.h"
#include "testutil.h"

Test(drift, span_masses_with_other_bucket) {
    /* 6 keys; spans A = [0, 2), B absent, C = [3, 4); other = keys 2, 4, 5 */
    const float a[6] = {0.1f, 0.2f, 0.15f, 0.25f, 0.1f, 0.2f};
    const int32_t span[6] = {0, 2, -1, -1, 3, 4};
    const uint8_t inside[6] = {1, 1, 0, 1, 0, 0};
    double acc[4] = {0};
    al_span_masses_row(a, 6, span, 3, inside, acc);
    cr_assert(al_close_rel(acc[0], 0.3, 1e-6, 0) && acc[1] == 0 && al_close_rel(acc[2], 0.25, 1e-6, 0));
    cr_assert(al_close_rel(acc[3], 0.45, 1e-6, 0), "other %.9g", acc[3]);
    /* a causal row that sees 3 keys: spans are cut at the visible keys */
    double acc2[4] = {0};
    al_span_masses_row(a, 3, span, 3, inside, acc2);
    cr_assert(al_close_rel(acc2[0], 0.3, 1e-6, 0) && acc2[2] == 0 && al_close_rel(acc2[3], 0.15, 1e-6, 0));
}

Test(drift, components) {
    const double p[3] = {0.6, 0.3, 0.1}, q[3] = {0.2, 0.5, 0.3};
    al_drift_comp c = al_drift_components(p, q, 3, 0);
    cr_assert(al_close_rel(c.magnitude, 0.4, 1e-12, 0));
    double cosv = (0.12 + 0.15 + 0.03) / (sqrt(0.46) * sqrt(0.38));
    cr_assert(al_close_rel(c.direction, 1 - cosv, 1e-12, 0));
    double js = 0;
    for (int g = 0; g < 3; g++) {
        double m = (p[g] + q[g]) / 2;
        js += 0.5 * p[g] * log(p[g] / m) + 0.5 * q[g] * log(q[g] / m);
    }
    cr_assert(al_close_rel(c.reshaping, js, 1e-12, 0));
    /* identical distributions: all three 0; a zero entry on one side is skipped in JS */
    c = al_drift_components(p, p, 3, 1);
    cr_assert(c.magnitude == 0 && fabs(c.direction) < 1e-15 && c.reshaping == 0);
    const double z1[2] = {1, 0}, z2[2] = {0, 1};
    c = al_drift_components(z1, z2, 2, 0);
    cr_assert(al_close_rel(c.reshaping, log(2), 1e-12, 0) && c.direction == 1);
}

Test(drift, scores_zero_spread_and_population_sd) {
    /* 4 heads; magnitude varies, direction constant (contributes 0), reshaping varies */
    const double comp[12] = {1, 2, 3, 4, 0.1, 0.1, 0.1, 0.1, 0, 0, 0, 8};
    double s[4];
    al_drift_scores(comp, 4, s);
    double sd1 = sqrt(1.25), m2 = 2, sd2 = sqrt((4 + 4 + 4 + 36) / 4.0);
    for (int i = 0; i < 4; i++) {
        double want = ((comp[i] - 2.5) / sd1 + 0 + (comp[8 + i] - m2) / sd2) / 3;
        cr_assert(al_close_rel(s[i], want, 1e-12, 1e-15), "score %d: %.17g vs %.17g", i, s[i], want);
    }
}

Test(drift, focal_count_ranking_ties_and_layers) {
    cr_assert_eq(al_drift_focal_count(24, 10), 2);  /* 2.4 + 0.5 -> 2 */
    cr_assert_eq(al_drift_focal_count(25, 10), 3);  /* 2.5 + 0.5 -> 3 */
    cr_assert_eq(al_drift_focal_count(3, 10), 1);   /* at least 1 */
    cr_assert_eq(al_drift_focal_count(8, 100), 8);
    /* L = 3, H = 2; ties at 5 between heads 1 and 4 go to the lower index */
    const double score[6] = {1, 5, 2, 0, 5, 3};
    int64_t idx[6], layers[3];
    al_rank_key w[6];
    al_drift_rank(score, 6, idx, w);
    const int64_t want[6] = {1, 4, 5, 2, 0, 3};
    cr_assert_eq(memcmp(idx, want, sizeof want), 0);
    /* k = 3 focal heads 1 (layer 0), 4 (layer 2), 5 (layer 2): layer 2 holds 2 >= half of 3 */
    int64_t m = al_drift_focal_layers(idx, 3, score, 3, 2, layers, w);
    cr_assert(m == 1 && layers[0] == 2);
    /* k = 2 (heads 1, 4): layers 0 and 2 hold one each, same mean score 5 -> the lower layer, 0 */
    m = al_drift_focal_layers(idx, 2, score, 3, 2, layers, w);
    cr_assert(m == 1 && layers[0] == 0, "m %lld layer %lld", (long long)m, (long long)layers[0]);
    /* k = 4 (heads 1, 4, 5, 2): layer 2 holds 2 = half */
    m = al_drift_focal_layers(idx, 4, score, 3, 2, layers, w);
    cr_assert(m == 1 && layers[0] == 2);
    /* k = 5 (adds head 0): layer 0 has 2 (mean 3), layer 2 has 2 (mean 4): take 2 first, then 0 -> {0, 2} */
    m = al_drift_focal_layers(idx, 5, score, 3, 2, layers, w);
    cr_assert(m == 2 && layers[0] == 0 && layers[1] == 2);
}

Test(drift, layer_range_runs) {
    char b[64];
    const int64_t a[4] = {19, 20, 21, 23};
    al_layer_range(a, 4, b, sizeof b);
    cr_assert_str_eq(b, "19-21,23");
    const int64_t c[1] = {7};
    al_layer_range(c, 1, b, sizeof b);
    cr_assert_str_eq(b, "7");
    const int64_t d[5] = {0, 2, 3, 5, 6};
    al_layer_range(d, 5, b, sizeof b);
    cr_assert_str_eq(b, "0,2-3,5-6");
}

static int cmp_f(const void *a, const void *b) {
    float x = fabsf(*(const float *)a), y = fabsf(*(const float *)b);
    return (x > y) - (x < y);
}

/* exact median of |x| from the two histogram passes against a sort, with ties and signs */
Test(norms, median_top3_sumsq) {
    al_rng g;
    uint64_t *hi = malloc(sizeof(uint64_t) * AL_ABSHIST_HI), *lo = malloc(sizeof(uint64_t) * 2 * AL_ABSHIST_LO);
    for (int trial = 0; trial < 12; trial++) {
        al_rng_seed(&g, 11, (uint64_t)trial);
        int64_t n = 1 + (int64_t)al_rng_below(&g, 5000);
        float *x = malloc(sizeof(float) * (size_t)n), *s = malloc(sizeof(float) * (size_t)n);
        for (int64_t i = 0; i < n; i++) x[i] = trial % 3 == 0 ? (float)((int)al_rng_below(&g, 7) - 3) : (float)(al_rng_normal(&g) * 3);
        memcpy(s, x, sizeof(float) * (size_t)n);
        qsort(s, (size_t)n, sizeof(float), cmp_f);
        double want = ((double)fabsf(s[(n - 1) / 2]) + (double)fabsf(s[n / 2])) / 2;
        memset(hi, 0, sizeof(uint64_t) * AL_ABSHIST_HI);
        memset(lo, 0, sizeof(uint64_t) * 2 * AL_ABSHIST_LO);
        al_abshist_hi(x, n, hi);
        uint64_t rk[2] = {(uint64_t)(n - 1) / 2, (uint64_t)n / 2}, below[2], b2;
        int64_t bin[2];
        for (int k = 0; k < 2; k++) bin[k] = al_hist_locate(hi, AL_ABSHIST_HI, rk[k], &below[k]);
        al_abshist_lo(x, n, (uint32_t)bin[0], lo);
        if (bin[1] != bin[0]) al_abshist_lo(x, n, (uint32_t)bin[1], lo + AL_ABSHIST_LO);
        double v[2];
        for (int k = 0; k < 2; k++) {
            int64_t l = al_hist_locate(lo + (bin[k] != bin[0] ? AL_ABSHIST_LO : 0), AL_ABSHIST_LO, rk[k] - below[k], &b2);
            v[k] = (double)al_abs_from_bins((uint32_t)bin[k], (uint32_t)l);
        }
        cr_assert((v[0] + v[1]) / 2 == want, "trial %d: median %.9g vs %.9g", trial, (v[0] + v[1]) / 2, want);
        al_top3 t;
        al_top3_init(&t);
        al_top3_add(&t, x, n / 2, 0);
        al_top3_add(&t, x + n / 2, n - n / 2, n / 2);
        for (int k = 0; k < t.n; k++) cr_assert(t.v[k] == fabsf(s[n - 1 - k]), "trial %d top %d", trial, k);
        cr_assert(t.at[0] >= 0 && fabsf(x[t.at[0]]) == t.v[0]);
        cr_assert(al_close_rel(al_sumsq(x, n), al_sumsq_ref(x, n), 1e-12, 0));
        free(x), free(s);
    }
    free(hi), free(lo);
}
