/* Sink rate, hidden sinks and ACT's calibration preview (METRICS.md section 1). Pure functions on
 * key-importance vectors and map rows; thresholds compare float32-rounded values, as the reference code does. */
#ifndef AL_METRICS_SINKS_H
#define AL_METRICS_SINKS_H

#include <stdint.h>

/* 1 when float(alpha) > float(eps): the strict comparison of the float32 reference tensors. */
static inline int al_exceeds_f32(double alpha, double eps) {
    return (float)alpha > (float)eps;
}

/* hits[k] += al_exceeds_f32(alpha[k], eps) for k < K. alpha: [>= K]; hits: [K]. */
void al_sink_hits(const double *alpha, int64_t K, double eps, int64_t *hits);
/* Positions j in 1..T-1 with float(alpha[j]) > float(tau) among keys seen by at least min_queries queries
 * (causal: T - j >= min_queries; non-causal: every key, as the reference does); returns the count, positions in
 * out [T]. */
int64_t al_hidden_sinks(const double *alpha, int64_t T, double tau, int64_t min_queries, int causal, int64_t *out);
/* ACT calibration preview of one row: sink columns (is_sink[j] != 0) scaled by beta, the removed mass given
 * back to the other visible entries in proportion to their values. row, out: [n]. A row without non-sink
 * mass is copied unchanged. */
void al_act_calibrate_row(const float *row, int64_t n, const uint8_t *is_sink, double beta, double *out);

#endif
