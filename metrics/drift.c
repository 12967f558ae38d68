/* Attention drift kernels: everything after the maps are reduced to span masses. Sorting and z-scoring
 * follow the reference (numpy's stable argsort, population sd) so focal sets match it exactly. */
#include "drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "js.h"

void al_span_masses_row(const float *a, int64_t vis, const int32_t *span, int64_t S, const uint8_t *inside, double *acc) {
    for (int64_t g = 0; g < S; g++) {
        int64_t s0 = span[2 * g], s1 = span[2 * g + 1];
        if (s0 < 0) continue;
        if (s1 > vis) s1 = vis;
        double m = 0;
        for (int64_t j = s0; j < s1; j++) m += (double)a[j];
        acc[g] += m;
    }
    double o = 0;
    for (int64_t j = 0; j < vis; j++)
        if (!inside[j]) o += (double)a[j];
    acc[S] += o;
}

al_drift_comp al_drift_components(const double *p, const double *q, int64_t G, int64_t target) {
    al_drift_comp c;
    c.magnitude = fabs(q[target] - p[target]);
    double pq = 0, pp = 0, qq = 0;
    for (int64_t g = 0; g < G; g++) {
        pq += p[g] * q[g];
        pp += p[g] * p[g];
        qq += q[g] * q[g];
    }
    c.direction = 1.0 - pq / (sqrt(pp) * sqrt(qq));
    c.reshaping = al_js_dist(p, q, G);
    return c;
}

void al_drift_scores(const double *comp, int64_t n, double *score) {
    for (int64_t i = 0; i < n; i++) score[i] = 0;
    for (int k = 0; k < 3; k++) {
        const double *c = comp + k * n;
        double mean = 0, var = 0, lo = c[0], hi = c[0];
        for (int64_t i = 0; i < n; i++) {
            mean += c[i];
            lo = c[i] < lo ? c[i] : lo;
            hi = c[i] > hi ? c[i] : hi;
        }
        mean /= (double)n;
        if (!(hi > lo)) continue; /* zero spread: contributes 0 */
        for (int64_t i = 0; i < n; i++) var += (c[i] - mean) * (c[i] - mean);
        double sd = sqrt(var / (double)n);
        for (int64_t i = 0; i < n; i++) score[i] += (c[i] - mean) / sd;
    }
    for (int64_t i = 0; i < n; i++) score[i] /= 3.0;
}

int64_t al_drift_focal_count(int64_t n, double top_percent) {
    int64_t k = (int64_t)floor((double)n * top_percent / 100.0 + 0.5);
    if (k < 1) k = 1;
    return k > n ? n : k;
}

/* decreasing key1, then decreasing key2, then increasing idx */
static int al_cmp_rank(const void *a, const void *b) {
    const al_rank_key *x = a, *y = b;
    if (x->key1 != y->key1) return x->key1 > y->key1 ? -1 : 1;
    if (x->key2 != y->key2) return x->key2 > y->key2 ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int al_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void al_drift_rank(const double *score, int64_t n, int64_t *idx, al_rank_key *work) {
    for (int64_t i = 0; i < n; i++) work[i] = (al_rank_key){score[i], 0, i};
    qsort(work, (size_t)n, sizeof *work, al_cmp_rank);
    for (int64_t i = 0; i < n; i++) idx[i] = work[i].idx;
}

int64_t al_drift_focal_layers(const int64_t *focal, int64_t k, const double *score, int64_t L, int64_t H, int64_t *out,
                              al_rank_key *work) {
    for (int64_t l = 0; l < L; l++) work[l] = (al_rank_key){0, 0, l};
    for (int64_t i = 0; i < k; i++) {
        int64_t l = focal[i] / H;
        work[l].key1 += 1;
        work[l].key2 += score[focal[i]];
    }
    for (int64_t l = 0; l < L; l++)
        if (work[l].key1 > 0) work[l].key2 /= work[l].key1;
    qsort(work, (size_t)L, sizeof *work, al_cmp_rank);
    int64_t m = 0, held = 0;
    while (m < L && 2 * held < k) {
        held += (int64_t)work[m].key1;
        out[m] = work[m].idx;
        m++;
    }
    qsort(out, (size_t)m, sizeof *out, al_cmp_i64);
    return m;
}

void al_layer_range(const int64_t *layers, int64_t n, char *buf, size_t nb) {
    size_t o = 0;
    buf[0] = 0;
    for (int64_t i = 0; i < n && o < nb;) {
        int64_t j = i;
        while (j + 1 < n && layers[j + 1] == layers[j] + 1) j++;
        int w = j > i ? snprintf(buf + o, nb - o, "%s%lld-%lld", o ? "," : "", (long long)layers[i], (long long)layers[j])
                      : snprintf(buf + o, nb - o, "%s%lld", o ? "," : "", (long long)layers[i]);
        if (w < 0) break;
        o += (size_t)w;
        i = j + 1;
    }
}
