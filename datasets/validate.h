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

#endif
