/* Panels of points with a fitted exponential a exp(-b x) + c, one per series (semdrift directions), in a
 * gnuplot multiplot; the curve is drawn by gnuplot from the fitted parameters over each panel's x range. */
#include <math.h>
#include <stdio.h>

#include "logs.h"

al_figure *al_plot_expfit_panels(const char *name, const char *const *titles, int64_t m, const int64_t *start,
                                 const double *x, const double *y, const double *abc, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    for (int64_t k = 0; k < m; k++) {
        if (k) al_buf_printf(d, "\n\n");
        for (int64_t i = start[k]; i < start[k + 1]; i++) al_buf_printf(d, "%.9g %.9g\n", x[i], y[i]);
    }
    al_buf *s = &f->script;
    char q[512];
    int64_t cols = m <= 1 ? 1 : m <= 4 ? 2 : 3, rows = (m + cols - 1) / cols;
    if (rows < 1) rows = 1;
    al_gp_quote(o->title ? o->title : "", q, sizeof q);
    al_buf_printf(s, "set multiplot layout %lld,%lld title '%s'\nset grid\nset key top right\n", (long long)rows, (long long)cols, q);
    if (o->xlabel) {
        al_gp_quote(o->xlabel, q, sizeof q);
        al_buf_printf(s, "set xlabel '%s'\n", q);
    }
    if (o->ylabel) {
        al_gp_quote(o->ylabel, q, sizeof q);
        al_buf_printf(s, "set ylabel '%s'\n", q);
    }
    for (int64_t k = 0; k < m; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t i = start[k]; i < start[k + 1]; i++) {
            lo = fmin(lo, x[i]);
            hi = fmax(hi, x[i]);
        }
        al_gp_quote(titles[k], q, sizeof q);
        al_buf_printf(s, "set title '%s'\n", q);
        if (isfinite(lo)) al_buf_printf(s, "set xrange [%.9g:%.9g]\n", lo - 0.5, hi + 0.5);
        al_buf_printf(s, "plot '%s' index %lld using 1:2 with points pt 7 lc rgb '#2980b9' title 'mean similarity'", f->data_name[0], (long long)k);
        const double *p = abc + 3 * k;
        if (isfinite(p[0]) && isfinite(p[1]) && isfinite(p[2]))
            al_buf_printf(s, ", \\\n     %.12g * exp(-(%.12g) * x) + (%.12g) with lines lw 2 lc rgb '#c0392b' title 'a exp(-b g) + c'", p[0], p[1], p[2]);
        al_buf_printf(s, "\n");
    }
    al_buf_printf(s, "unset multiplot\n");
    return f;
}
