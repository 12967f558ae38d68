/* cminpack's lmdif is the C form of the Fortran MINPACK that scipy wraps; with the same tolerances it stops
 * at the same iterate. The residual is written as curve_fit evaluates it: f(x) - y. */
#include "expfit.h"

#include <cminpack.h>
#include <math.h>

typedef struct {
    const double *x, *y;
} al_expfit_data;

static int al_expfit_fcn(void *p, int m, int n, const double *par, double *fvec, int iflag) {
    const al_expfit_data *d = p;
    (void)n;
    (void)iflag;
    for (int i = 0; i < m; i++) fvec[i] = par[0] * exp(-par[1] * d->x[i]) + par[2] - d->y[i];
    return 0;
}

size_t al_expfit_ws_doubles(int64_t m) { return (size_t)(m * 3 + m + 3 + 3 + 3 * 4 + m); }

void al_expfit_lm(const double *x, const double *y, int64_t m, double *ws, int *iws, al_expfit *f) {
    const int n = 3;
    double par[3] = {1.0, 0.1, 0.0};
    f->a = f->b = f->c = NAN;
    f->info = 0;
    f->nfev = 0;
    f->converged = 0;
    if (m < n) return; /* MINPACK's improper input: more parameters than points */
    double *fjac = ws;           /* [n, m] column-major */
    double *fvec = fjac + 3 * m; /* [m] */
    double *diag = fvec + m;     /* [n] */
    double *qtf = diag + n;      /* [n] */
    double *wa1 = qtf + n, *wa2 = wa1 + n, *wa3 = wa2 + n;
    double *wa4 = wa3 + n; /* [m] */
    al_expfit_data d = {x, y};
    int nfev = 0;
    int info = lmdif(al_expfit_fcn, &d, (int)m, n, par, fvec, 1.49012e-8, 1.49012e-8, 0.0, 5000, 0.0, diag, 1, 100.0,
                     0, &nfev, fjac, (int)m, iws, qtf, wa1, wa2, wa3, wa4);
    f->info = info;
    f->nfev = nfev;
    f->converged = info >= 1 && info <= 4 && isfinite(par[0]) && isfinite(par[1]) && isfinite(par[2]);
    f->a = par[0];
    f->b = par[1];
    f->c = par[2];
}
