/* Attention drift between a baseline and a conflict recording (METRICS.md section 3, the project's own
 * definition): span-level distributions, three components, z-scored score, focal heads and focal layers. */
#ifndef AL_METRICS_DRIFT_H
#define AL_METRICS_DRIFT_H

#include <stddef.h>
#include <stdint.h>

/* Adds one query row's mass per key group to acc: [G]. a: [vis] the row's visible keys; span: [S, 2]
 * half-open [start, end) per named span ([-1, -1] when absent), groups 0..S-1; group S ("other") gets the
 * keys outside every span, summed, with inside: [vis] (1 where some span covers the key). */
void al_span_masses_row(const float *a, int64_t vis, const int32_t *span, int64_t S, const uint8_t *inside, double *acc);

/* Components of one (head, sample): p baseline, q conflict, [G] each; target group t. */
typedef struct {
    double magnitude, direction, reshaping;
} al_drift_comp;
al_drift_comp al_drift_components(const double *p, const double *q, int64_t G, int64_t target);

/* score[i] = mean over the 3 components of (c - mean) / sd (population sd) across the n heads; a component
 * whose values are all equal contributes 0. comp: [3, n]; score: [n]. */
void al_drift_scores(const double *comp, int64_t n, double *score);
/* k = max(1, floor(n * top_percent / 100 + 0.5)), at most n. */
int64_t al_drift_focal_count(int64_t n, double top_percent);
/* Sort keys for the rankings below (qsort has no context argument). */
typedef struct {
    double key1, key2;
    int64_t idx;
} al_rank_key;
/* All n indices by decreasing score, ties to the lower index (numpy's stable argsort of -score); the first
 * k are the focal heads. idx: [n]; work: [n]. */
void al_drift_rank(const double *score, int64_t n, int64_t *idx, al_rank_key *work);
/* Focal layers: the fewest layers, taken by focal-head count (ties: higher mean focal score, then lower
 * layer), holding at least half of the k focal heads (head index = l * H + h). out: [L], the first m
 * sorted ascending; work: [L]. Returns m. */
int64_t al_drift_focal_layers(const int64_t *focal, int64_t k, const double *score, int64_t L, int64_t H, int64_t *out,
                              al_rank_key *work);
/* "19-21,23": sorted layers as comma-separated runs. */
void al_layer_range(const int64_t *layers, int64_t n, char *buf, size_t nb);

#endif
