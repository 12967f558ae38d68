/* The SDR fit of semantic drift (METRICS.md section 5): y = a exp(-b x) + c by MINPACK's lmdif with the
 * settings scipy.optimize.curve_fit uses, so the result matches the reference code to about 1e-8. */
#ifndef AL_METRICS_EXPFIT_H
#define AL_METRICS_EXPFIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double a, b, c;
    int info;      /* lmdif's info: 1..4 converged, 0 improper input (fewer than 3 points), 5 maxfev reached */
    int nfev;      /* function evaluations used */
    int converged; /* info in 1..4 */
} al_expfit;

/* Scratch for m points, in doubles. */
size_t al_expfit_ws_doubles(int64_t m);
/* x, y: [m]; start (1, 0.1, 0), ftol = xtol = 1.49012e-8, gtol = 0, epsfcn = 0, mode 1, factor 100,
 * maxfev 5000, forward-difference Jacobian. ws: al_expfit_ws_doubles(m) doubles plus 3 ints in iws. */
void al_expfit_lm(const double *x, const double *y, int64_t m, double *ws, int *iws, al_expfit *f);

#endif
