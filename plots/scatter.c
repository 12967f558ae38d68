/* Scatter plots of points coloured by a group number, e.g. heads placed by MDS and coloured by layer,
 * with point labels when there are few enough points to read them. */
#include <math.h>
#include <stdio.h>

#include "kinds.h"

al_figure *al_plot_scatter(const char *name, const double *x, const double *y, const int64_t *group, int64_t n,
                           const char *const *labels, const char *grouplabel, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    char q[256];
    for (int64_t i = 0; i < n; i++) {
        al_buf_printf(d, "%.9g %.9g %lld", isfinite(x[i]) ? x[i] : NAN, isfinite(y[i]) ? y[i] : NAN, (long long)group[i]);
        if (labels) {
            int k = 0;
            for (const char *p = labels[i]; *p && k < (int)sizeof q - 2; p++) q[k++] = *p == '"' ? '\'' : *p;
            q[k] = 0;
            al_buf_printf(d, " \"%s\"", q);
        }
        al_buf_printf(d, "\n");
    }
    al_buf *s = &f->script;
    al_gp_set_labels(s, o);
    al_buf_printf(s, "set grid\nunset key\nset palette rgbformulae 33,13,10\n");
    if (grouplabel) {
        al_gp_quote(grouplabel, q, sizeof q);
        al_buf_printf(s, "set cblabel '%s'\n", q);
    }
    al_buf_printf(s, "plot '%s' using 1:2:3 with points pt 7 ps 1.5 palette", f->data_name[0]);
    if (labels && n <= 64) al_buf_printf(s, ", \\\n     '' using 1:2:4 with labels offset 0.8,0.6 font ',8'");
    al_buf_printf(s, "\n");
    return f;
}
