/* Cosines through BLAS ddot on rows already widened to double, so the tuned path agrees with the plain one
 * to the rounding of the sums' order. */
#include "cosine.h"

#include <cblas.h>
#include <math.h>

static double al_cos_from(double xy, double xx, double yy) {
    if (!(xx > 0) || !(yy > 0)) return NAN;
    return xy / (sqrt(xx) * sqrt(yy));
}

void al_cosine_rows(const double *X, int64_t ldx, const double *Y, int64_t ldy, int64_t n, int64_t D, double *out) {
    for (int64_t i = 0; i < n; i++) {
        const double *x = X + i * ldx, *y = Y + i * ldy;
        double xy = cblas_ddot((int)D, x, 1, y, 1);
        double xx = cblas_ddot((int)D, x, 1, x, 1);
        double yy = cblas_ddot((int)D, y, 1, y, 1);
        out[i] = al_cos_from(xy, xx, yy);
    }
}

void al_cosine_rows_ref(const double *X, int64_t ldx, const double *Y, int64_t ldy, int64_t n, int64_t D,
                        double *out) {
    for (int64_t i = 0; i < n; i++) {
        const double *x = X + i * ldx, *y = Y + i * ldy;
        double xy = 0, xx = 0, yy = 0;
        for (int64_t k = 0; k < D; k++) {
            xy += x[k] * y[k];
            xx += x[k] * x[k];
            yy += y[k] * y[k];
        }
        out[i] = al_cos_from(xy, xx, yy);
    }
}
