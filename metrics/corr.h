/* Pearson and Spearman correlation (CRAS against per-query correctness, METRICS.md section 6),
 * as scipy.stats.pearsonr and spearmanr compute them: Spearman is Pearson on average ranks. */
#ifndef AL_METRICS_CORR_H
#define AL_METRICS_CORR_H

#include <stdint.h>

/* x, y: [n]. NaN when n < 2 or either side has no spread. */
double al_pearson(const double *x, const double *y, int64_t n);
/* ranks: [n] average ranks of x (ties share the mean of their positions, 1-based); ws: [n] int64 scratch. */
void al_average_ranks(const double *x, int64_t n, double *ranks, int64_t *ws);
/* ws: 2 n doubles + n int64 of scratch. */
double al_spearman(const double *x, const double *y, int64_t n, double *wsd, int64_t *wsi);

#endif
