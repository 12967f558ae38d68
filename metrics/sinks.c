/* Threshold counting for the sink rate and hidden sinks, and ACT's calibration preview.
 * Kept apart from the streaming code so each definition can be tested on its worked example. */
#include "sinks.h"

void al_sink_hits(const double *alpha, int64_t K, double eps, int64_t *hits) {
    for (int64_t k = 0; k < K; k++)
        hits[k] += al_exceeds_f32(alpha[k], eps);
}

int64_t al_hidden_sinks(const double *alpha, int64_t T, double tau, int64_t min_queries, int causal, int64_t *out) {
    int64_t m = 0, end = causal ? T - min_queries + 1 : T; /* causal key j is seen by T - j queries */
    if (end > T) end = T;
    for (int64_t j = 1; j < end; j++)
        if (al_exceeds_f32(alpha[j], tau)) out[m++] = j;
    return m;
}

void al_act_calibrate_row(const float *row, int64_t n, const uint8_t *is_sink, double beta, double *out) {
    double removed = 0, rest = 0;
    for (int64_t j = 0; j < n; j++) {
        if (is_sink[j])
            removed += (1.0 - beta) * row[j];
        else
            rest += row[j];
    }
    for (int64_t j = 0; j < n; j++) {
        if (rest <= 0)
            out[j] = row[j];
        else if (is_sink[j])
            out[j] = beta * row[j];
        else
            out[j] = row[j] + removed * (row[j] / rest);
    }
}
