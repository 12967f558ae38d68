/* Entropy terms in bulk: sum of -x ln x over a row of probabilities. The tuned kernel evaluates ln in float
 * with a polynomial the compiler vectorises (AVX2 where present) and accumulates in double; the reference uses
 * libm's double log. They agree to about 3e-7 relative, far inside the 1e-6 the definitions are tested to. */
#ifndef AL_METRICS_XLOGX_H
#define AL_METRICS_XLOGX_H

#include <stdint.h>

/* -sum_j a[j] ln a[j] over a [n], entries <= 0 contribute 0. */
double al_neg_xlogx_sum_ref(const float *a, int64_t n);
double al_neg_xlogx_sum(const float *a, int64_t n);
/* Clark's smoothed term: -sum_j y ln y with y = 0.9999 a[j] + c, over a [n]. */
double al_neg_ylogy_sum_ref(const float *a, int64_t n, double c);
double al_neg_ylogy_sum(const float *a, int64_t n, double c);
/* ln x for x > 0 (float, about 1 ulp); exposed for tests. */
float al_logf_poly(float x);

#endif
