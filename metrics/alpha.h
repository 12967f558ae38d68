/* Key importance (METRICS.md section 1): column sums of attention over visible query rows, and the
 * mean attention each key receives. Kernels take explicit shapes and strides and never do I/O. */
#ifndef AL_METRICS_ALPHA_H
#define AL_METRICS_ALPHA_H

#include <stdint.h>

/* acc[j] += sum over block rows r of A[r * lda + j], for keys j visible to query row row0 + r
 * (j <= row0 + r when causal, j < ncols otherwise).
 * A: [nrows, lda] float32 rows of one head's map, ncols <= lda analysed keys; acc: [ncols] double. */
void al_colsum_ref(const float *A, int64_t nrows, int64_t ncols, int64_t lda, int64_t row0, int causal, double *acc);
/* Same sums in the same order (bit-identical), written for the vectoriser. */
void al_colsum(const float *A, int64_t nrows, int64_t ncols, int64_t lda, int64_t row0, int causal, double *acc);

/* alpha[j] = colsum[j] / (T - j) when causal, colsum[j] / T otherwise. colsum, alpha: [T]. */
void al_alpha_from_colsum(const double *colsum, int64_t T, int causal, double *alpha);

#endif
