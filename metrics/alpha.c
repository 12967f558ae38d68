/* Column sums for key importance. The tuned kernel keeps the reference's summation order (row by row,
 * in double), so the two agree bit for bit and results never depend on the kernel chosen. */
#include "alpha.h"

#include "../core/simd.h"

void al_colsum_ref(const float *A, int64_t nrows, int64_t ncols, int64_t lda, int64_t row0, int causal, double *acc) {
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = row0 + r;
        int64_t vis = causal ? (i + 1 < ncols ? i + 1 : ncols) : ncols;
        for (int64_t j = 0; j < vis; j++) acc[j] += (double)A[r * lda + j];
    }
}

AL_TARGET_CLONES void al_colsum(const float *restrict A, int64_t nrows, int64_t ncols, int64_t lda, int64_t row0, int causal,
               double *restrict acc) {
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = row0 + r;
        int64_t vis = causal ? (i + 1 < ncols ? i + 1 : ncols) : ncols;
        const float *restrict a = A + r * lda;
#pragma omp simd
        for (int64_t j = 0; j < vis; j++) acc[j] += (double)a[j];
    }
}

void al_alpha_from_colsum(const double *colsum, int64_t T, int causal, double *alpha) {
    for (int64_t j = 0; j < T; j++) alpha[j] = colsum[j] / (double)(causal ? T - j : T);
}
