/* Row-wise cosine similarity of two embedding matrices (semantic drift, METRICS.md section 5):
 * sample n at generation g against the same sample at generation 0. */
#ifndef AL_METRICS_COSINE_H
#define AL_METRICS_COSINE_H

#include <stdint.h>

/* out[i] = cos(X[i], Y[i]) for i < n. X: [n, D] with row stride ldx, Y: [n, D] with row stride ldy,
 * out: [n]. A row of zero norm gives NaN (callers report it). Through BLAS cblas_ddot in double (OpenBLAS's
 * mixed-precision dsdot rounds products to float and drifts by about 1e-8). */
void al_cosine_rows(const double *X, int64_t ldx, const double *Y, int64_t ldy, int64_t n, int64_t D, double *out);
/* Plain reference: one loop in double per row. */
void al_cosine_rows_ref(const double *X, int64_t ldx, const double *Y, int64_t ldy, int64_t n, int64_t D,
                        double *out);

#endif
