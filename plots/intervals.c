/* Means with intervals as labelled boxes with error bars: CRAS per dimension and per role. Labels travel in
 * the data file as quoted strings so any name (spaces included) stays readable by gnuplot. */
#include <math.h>
#include <stdio.h>

#include "logs.h"

al_figure *al_plot_means_ci(const char *name, const char *const *labels, const double *v, const double *lo,
                            const double *hi, int64_t n, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    char q[256];
    for (int64_t i = 0; i < n; i++) {
        int k = 0;
        for (const char *p = labels[i]; *p && k < (int)sizeof q - 2; p++) q[k++] = *p == '"' ? '\'' : *p;
        q[k] = 0;
        al_buf_printf(d, "%lld \"%s\" %.9g", (long long)i, q, v[i]);
        if (isfinite(lo[i]) && isfinite(hi[i])) al_buf_printf(d, " %.9g %.9g\n", lo[i], hi[i]);
        else al_buf_printf(d, " NaN NaN\n");
    }
    al_buf *s = &f->script;
    char t[512];
    if (o->title) {
        al_gp_quote(o->title, t, sizeof t);
        al_buf_printf(s, "set title '%s'\n", t);
    }
    if (o->ylabel) {
        al_gp_quote(o->ylabel, t, sizeof t);
        al_buf_printf(s, "set ylabel '%s'\n", t);
    }
    if (o->xlabel) {
        al_gp_quote(o->xlabel, t, sizeof t);
        al_buf_printf(s, "set xlabel '%s'\n", t);
    }
    if (o->zmin != o->zmax) al_buf_printf(s, "set yrange [%g:%g]\n", o->zmin, o->zmax);
    al_buf_printf(s, "set grid ytics\nset key outside right top\nset style fill solid 0.5 border -1\nset boxwidth 0.6\n");
    al_buf_printf(s, "set xrange [-0.6:%g]\n", (double)n - 0.4);
    if (n > 8) al_buf_printf(s, "set xtics rotate by 45 right\n");
    al_buf_printf(s, "plot '%s' using 1:3:xtic(2) with boxes lc rgb '#5dade2' title 'mean', \\\n     '' using 1:3:4:5 with yerrorbars lc rgb '#1b2631' pt 0 lw 2 title '95%% interval'\n",
                  f->data_name[0]);
    return f;
}
