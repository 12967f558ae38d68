/* Weighted least-squares line y = a + b x with R^2: the pooled equilibrium fit of KL drift
 * (METRICS.md section 4), where bootstrap resamples enter as integer weights on whole conversations. */
#ifndef AL_METRICS_LINFIT_H
#define AL_METRICS_LINFIT_H

#include <stdint.h>

typedef struct {
    double a, b, r2; /* r2 is NaN when y has no spread */
    double weight;   /* sum of weights (the point count when unweighted) */
    int ok;          /* 0 when the weights sum to 0 or x has no spread: a, b undefined (NaN) */
} al_linfit;

/* x, y: [n]; w: [n] non-negative weights or NULL for 1. Centred sums in double (no normal equations). */
void al_linfit_xy(const double *x, const double *y, const double *w, int64_t n, al_linfit *f);

#endif
