/* JS divergence kernels. The tuned form splits ln(p'/m) into ln p' - ln m with ln p' computed once per row,
 * so a pair of heads costs one log per key instead of two; identical keys give ln m = ln p' exactly. */
#include "js.h"

#include <math.h>

double al_js_row_ref(const float *p, const float *q, int64_t T) {
    double c = 0.001 / (double)T, s = 0;
    for (int64_t j = 0; j < T; j++) {
        double a = c + 0.999 * (double)p[j], b = c + 0.999 * (double)q[j], m = (a + b) / 2;
        s += 0.5 * a * log(a / m) + 0.5 * b * log(b / m);
    }
    return s;
}

void al_js_logrow(const float *p, int64_t vis, int64_t T, double *lp) {
    double c = 0.001 / (double)T;
    for (int64_t j = 0; j < vis; j++) lp[j] = log(c + 0.999 * (double)p[j]);
}

double al_js_row(const float *restrict p, const double *restrict lp, const float *restrict q, const double *restrict lq,
                 int64_t vis, int64_t T) {
    double c = 0.001 / (double)T, s = 0;
    for (int64_t j = 0; j < vis; j++) {
        double a = c + 0.999 * (double)p[j], b = c + 0.999 * (double)q[j], m = (a + b) / 2, lm = log(m);
        s += 0.5 * a * (lp[j] - lm) + 0.5 * b * (lq[j] - lm);
    }
    return s;
}

double al_js_dist(const double *p, const double *q, int64_t n) {
    double s = 0;
    for (int64_t g = 0; g < n; g++) {
        double m = (p[g] + q[g]) / 2;
        if (p[g] > 0) s += 0.5 * p[g] * log(p[g] / m);
        if (q[g] > 0) s += 0.5 * q[g] * log(q[g] / m);
    }
    return s;
}
