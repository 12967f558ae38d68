/* Clustered bar charts: one group of bars per category (e.g. a span), one bar per series (e.g. a focal
 * head in the baseline or the conflict recording). */
#include <math.h>
#include <stdio.h>

#include "kinds.h"

static void al_dq(const char *s, char *q, size_t n) {
    size_t k = 0;
    for (; *s && k + 2 < n; s++) q[k++] = *s == '"' ? '\'' : *s;
    q[k] = 0;
}

al_figure *al_plot_bars(const char *name, const double *Y, int64_t m, int64_t G, const char *const *series,
                        const char *const *cats, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    char q[256];
    al_buf_printf(d, "category");
    for (int64_t k = 0; k < m; k++) {
        al_dq(series[k], q, sizeof q);
        al_buf_printf(d, " \"%s\"", q);
    }
    al_buf_printf(d, "\n");
    for (int64_t g = 0; g < G; g++) {
        al_dq(cats[g], q, sizeof q);
        al_buf_printf(d, "\"%s\"", q);
        for (int64_t k = 0; k < m; k++) al_buf_printf(d, " %.9g", isfinite(Y[k * G + g]) ? Y[k * G + g] : NAN);
        al_buf_printf(d, "\n");
    }
    al_buf *s = &f->script;
    al_gp_set_labels(s, o);
    al_buf_printf(s, "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n");
    al_buf_printf(s, "set grid ytics\nset key outside right top\nset key autotitle columnhead\n");
    if (o->zmin != o->zmax) al_buf_printf(s, "set yrange [%g:%g]\n", o->zmin, o->zmax);
    al_buf_printf(s, "plot for [i=2:%lld] '%s' using i:xtic(1)\n", (long long)m + 1, f->data_name[0]);
    return f;
}
