/* Percentile bootstrap helpers shared by kl-drift and cras: resample counts drawn from the seeded
 * generator of core/rng.h, and percentiles with numpy's default (linear) interpolation. */
#ifndef AL_METRICS_BOOTSTRAP_H
#define AL_METRICS_BOOTSTRAP_H

#include <stdint.h>

/* Resample b of C units with replacement: counts[c] = how often unit c was drawn (counts: [C], sum C).
 * Generator: al_rng_seed(seed, stream = purpose * 2^32 + b), then C draws al_rng_below(C) in order.
 * Each resample has its own stream, so results do not depend on threads or on the order resamples run. */
void al_bootstrap_counts(uint64_t seed, uint64_t purpose, int64_t b, int64_t C, int32_t *counts);

/* q-th percentile (0..100) of v [n] sorted ascending: numpy.percentile's default, linear between
 * order statistics at position q/100 (n - 1). NaN when n == 0. */
double al_percentile_sorted(const double *v, int64_t n, double q);
/* Sorts v [n] in place and returns the central interval of the given level (0.95: 2.5th and 97.5th). */
void al_percentile_interval(double *v, int64_t n, double level, double *lo, double *hi);

#endif
