/* Jensen-Shannon divergence between two heads' attention rows with Clark's smoothing
 * p' = 0.001/T + 0.999 p over all T keys (METRICS.md section 2, head similarity). Pure kernels. */
#ifndef AL_METRICS_JS_H
#define AL_METRICS_JS_H

#include <stdint.h>

/* Plain JS of two rows p, q: [T] (masked keys hold 0), natural log, two logs per key. */
double al_js_row_ref(const float *p, const float *q, int64_t T);

/* lp[j] = ln(0.001/T + 0.999 p[j]) for j < vis. p: [vis]; lp: [vis]. Computed once per row and head. */
void al_js_logrow(const float *p, int64_t vis, int64_t T, double *lp);
/* JS of two rows from their smoothed logs, one log per key: only the first vis keys are visited, because
 * keys masked in both rows have p' = q' = m and add exactly 0. p, q, lp, lq: [vis]. */
double al_js_row(const float *p, const double *lp, const float *q, const double *lq, int64_t vis, int64_t T);

/* Unsmoothed JS of two distributions over n groups (attention drift): 0.5 sum p ln(p/m) + 0.5 sum q ln(q/m),
 * terms with p = 0 (or q = 0) taken as 0. p, q: [n]. */
double al_js_dist(const double *p, const double *q, int64_t n);

#endif
