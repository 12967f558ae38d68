/* Value checks on map blocks as they stream past: finite entries in [0, 1] (with rounding slack) and rows
 * that sum to 1 within 1e-2. Errors name file, dataset, sample, head and row. */
#ifndef AL_VALIDATE_H
#define AL_VALIDATE_H

#include <stdint.h>

#include "../core/status.h"

#define AL_ROWSUM_TOL 1e-2

/* A: [nrows, lda], rows row0.. of the map of (sample n, head h); T analysed keys. */
al_status al_check_map_rows(const float *A, int64_t nrows, int64_t T, int64_t lda, int64_t row0, int causal,
                            const char *file, const char *dset, int64_t n, int64_t h, al_error *e);

/* Every value of x [n] finite; the error names file, dataset and the flat index context. */
al_status al_check_finite(const float *x, int64_t n, const char *file, const char *dset, const char *what, al_error *e);

/* Largest Euclidean norm among the rows of x [nrows, D], in double (values up to FLT_MAX square safely). */
double al_max_row_norm(const float *x, int64_t nrows, int64_t D);
/* Scores q.k x scale computed in float32 stay finite when scale * max|q| * max|k| < FLT_MAX (Cauchy-Schwarz,
 * partial sums included); otherwise the softmax would be NaN: refused naming the query dataset. */
al_status al_check_score_range(double qmax, double kmax, double scale, const char *file, const char *dset, al_error *e);

#endif
