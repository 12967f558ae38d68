/* Least squares by centred sums: three passes (means, cross products, residuals), which agrees with an
 * orthogonal-factorisation solver (numpy's lstsq) to about 1e-13 on the scales KL drift produces. */
#include "linfit.h"

#include <math.h>

void al_linfit_xy(const double *x, const double *y, const double *w, int64_t n, al_linfit *f) {
    double sw = 0, mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        sw += wi;
        mx += wi * x[i];
        my += wi * y[i];
    }
    f->weight = sw;
    f->a = f->b = f->r2 = NAN;
    f->ok = 0;
    if (!(sw > 0)) return;
    mx /= sw;
    my /= sw;
    double sxx = 0, sxy = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0, dx = x[i] - mx, dy = y[i] - my;
        sxx += wi * dx * dx;
        sxy += wi * dx * dy;
        syy += wi * dy * dy;
    }
    if (!(sxx > 0)) return;
    f->b = sxy / sxx;
    f->a = my - f->b * mx;
    f->ok = 1;
    double ss = 0;
    for (int64_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0, r = y[i] - (f->a + f->b * x[i]);
        ss += wi * r * r;
    }
    f->r2 = syy > 0 ? 1.0 - ss / syy : NAN;
}
