/* Semantic drift kernels (METRICS.md section 5): the SDR fit against scipy.optimize.curve_fit on several curves
 * (some noisy), failures reported as such, and row cosines through BLAS against the plain reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/cosine.h"
#include "metrics/expfit.h"
#include "testutil.h"

/* Writes CURVES: for each curve a line "m x0 y0 x1 y1 ..." and the scipy fit "a b c" (or "nan nan nan"). */
static const char *scipy_py =
    "import sys, numpy as np\n"
    "from scipy.optimize import curve_fit\n"
    "f = lambda x, a, b, c: a * np.exp(-b * x) + c\n"
    "rng = np.random.default_rng(7)\n"
    "curves = [(np.arange(2, 21, 2), 0.35, 0.18, 0.6, 0.0), (np.arange(1, 20, 2), 0.12, 0.25, 0.22, 0.0),\n"
    "          (np.arange(2, 21, 2), 0.4, 0.09, 0.45, 0.02), (np.arange(1, 20, 2), 0.1, 0.3, 0.2, 0.01),\n"
    "          (np.arange(0, 8), 2.0, 0.7, -1.0, 0.05), (np.arange(1, 31), 0.9, 0.05, 0.05, 0.003),\n"
    "          (np.array([1, 2, 4, 8, 16]), 0.5, 0.2, 0.3, 0.0)]\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    for x, a, b, c, noise in curves:\n"
    "        y = a * np.exp(-b * x) + c + rng.normal(0, noise, len(x))\n"
    "        y = np.array([float('%.9f' % v) for v in y])\n"
    "        p, _ = curve_fit(f, x, y, p0=(1, 0.1, 0), maxfev=5000)\n"
    "        out.write(' '.join([str(len(x))] + ['%r %r' % (float(u), float(v)) for u, v in zip(x, y)]) + '\\n')\n"
    "        out.write('%r %r %r\\n' % tuple(p))\n";

Test(sdr, lmdif_matches_scipy_curve_fit) {
    const char *d = al_test_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/curves.txt", d);
    cr_assert_eq(al_test_python(scipy_py, path, NULL), 0, "python with scipy failed");
    FILE *f = fopen(path, "r");
    cr_assert(f);
    int m, ncurves = 0;
    double x[64], y[64], want[3], ws[512];
    int iws[3];
    while (fscanf(f, "%d", &m) == 1) {
        cr_assert(m <= 64 && al_expfit_ws_doubles(m) <= 512);
        for (int i = 0; i < m; i++) cr_assert(fscanf(f, "%lf %lf", &x[i], &y[i]) == 2);
        cr_assert(fscanf(f, "%lf %lf %lf", &want[0], &want[1], &want[2]) == 3);
        al_expfit fit;
        al_expfit_lm(x, y, m, ws, iws, &fit);
        cr_assert(fit.converged, "curve %d: info %d", ncurves, fit.info);
        double got[3] = {fit.a, fit.b, fit.c};
        for (int k = 0; k < 3; k++)
            cr_assert(al_close_rel(got[k], want[k], 1e-6, 1e-9), "curve %d parameter %d: %.12g vs scipy %.12g", ncurves, k,
                      got[k], want[k]);
        ncurves++;
    }
    fclose(f);
    cr_assert_eq(ncurves, 7);
}

Test(sdr, exact_curve_is_recovered) {
    double x[10], y[10], ws[128];
    int iws[3];
    for (int i = 0; i < 10; i++) {
        x[i] = 2.0 * (i + 1);
        y[i] = 0.35 * exp(-0.18 * x[i]) + 0.6;
    }
    al_expfit f;
    al_expfit_lm(x, y, 10, ws, iws, &f);
    cr_assert(f.converged && al_close_rel(f.a, 0.35, 1e-6, 0) && al_close_rel(f.b, 0.18, 1e-6, 0) && al_close_rel(f.c, 0.6, 1e-6, 0));
}

Test(sdr, failures_are_reported_not_guessed) {
    double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {1, 2, 3, 4, 5, 6}, ws[128];
    int iws[3];
    al_expfit f;
    /* a straight rising line: curve_fit raises "maxfev = 5000 reached"; lmdif says info 5 */
    al_expfit_lm(x, y, 6, ws, iws, &f);
    cr_assert(!f.converged && f.info == 5, "info %d", f.info);
    /* two generations cannot fix three parameters: MINPACK's improper input */
    al_expfit_lm(x, y, 2, ws, iws, &f);
    cr_assert(!f.converged && f.info == 0 && isnan(f.a));
}

Test(cosine, blas_matches_reference) {
    al_rng r;
    al_rng_seed(&r, 9, 0);
    int64_t n = 17, D = 1031, ld = 1040;
    double *X = al_malloc((size_t)(n * ld), sizeof *X), *Y = al_malloc((size_t)(n * ld), sizeof *Y);
    for (int64_t i = 0; i < n * ld; i++) {
        X[i] = al_rng_normal(&r);
        Y[i] = 0.5 * X[i] + al_rng_normal(&r);
    }
    double a[17], b[17];
    al_cosine_rows(X, ld, Y, ld, n, D, a);
    al_cosine_rows_ref(X, ld, Y, ld, n, D, b);
    for (int64_t i = 0; i < n; i++) cr_assert(al_close_rel(a[i], b[i], 1e-13, 1e-15), "row %lld: %.17g vs %.17g", (long long)i, a[i], b[i]);
    /* worked: (1, 0) and (1, 1): 1/sqrt(2); a zero row: NaN */
    double u[2] = {1, 0}, v[2] = {1, 1}, z[2] = {0, 0};
    al_cosine_rows(u, 2, v, 2, 1, 2, a);
    cr_assert(al_close_rel(a[0], 1 / sqrt(2.0), 1e-15, 0));
    al_cosine_rows(z, 2, v, 2, 1, 2, a);
    cr_assert(isnan(a[0]));
    al_free(X);
    al_free(Y);
}
