/* Many thin series under one highlighted mean: per-conversation D_t of kl-drift. Each series is one block
 * of the data file (read with `index`), so series of different lengths need no padding. */
#include <math.h>
#include <stdio.h>

#include "logs.h"

static void al_lbl(al_buf *b, const char *cmd, const char *s) {
    char q[512];
    if (!s) return;
    al_gp_quote(s, q, sizeof q);
    al_buf_printf(b, "set %s '%s'\n", cmd, q);
}

static void al_num(al_buf *b, double v) {
    if (isfinite(v)) al_buf_printf(b, "%.9g", v);
    else al_buf_printf(b, "NaN");
}

al_figure *al_plot_series_mean(const char *name, const int64_t *start, const double *x, const double *y, int64_t C,
                               const double *mx, const double *my, int64_t nm, double level, const char *level_label,
                               const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    al_buf *m = al_figure_data(f, "_mean.dat");
    for (int64_t k = 0; k < C; k++) {
        if (k) al_buf_printf(d, "\n\n");
        for (int64_t i = start[k]; i < start[k + 1]; i++) {
            al_num(d, x[i]);
            al_buf_printf(d, " ");
            al_num(d, y[i]);
            al_buf_printf(d, "\n");
        }
    }
    for (int64_t i = 0; i < nm; i++) {
        al_num(m, mx[i]);
        al_buf_printf(m, " ");
        al_num(m, my[i]);
        al_buf_printf(m, "\n");
    }
    al_buf *s = &f->script;
    al_lbl(s, "title", o->title);
    al_lbl(s, "xlabel", o->xlabel);
    al_lbl(s, "ylabel", o->ylabel);
    al_buf_printf(s, "set grid\nset key outside right top\n");
    char q[256];
    al_buf_printf(s, "plot ");
    if (C > 0)
        al_buf_printf(s, "for [i=0:%lld] '%s' index i using 1:2 with linespoints lw 1 pt 7 ps 0.3 lc rgb '#b0b0b0' notitle, \\\n     ",
                      (long long)C - 1, f->data_name[0]);
    al_buf_printf(s, "'%s' using 1:2 with linespoints lw 3 pt 7 lc rgb '#c0392b' title 'mean'", f->data_name[1]);
    if (isfinite(level)) {
        al_gp_quote(level_label ? level_label : "level", q, sizeof q);
        al_buf_printf(s, ", \\\n     %.9g with lines dt 2 lw 2 lc rgb '#2c3e50' title '%s'", level, q);
    }
    al_buf_printf(s, "\n");
    return f;
}

al_figure *al_plot_phase(const char *name, const double *x, const double *y, int64_t n, double a, double b,
                         const char *line_label, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        al_num(d, x[i]);
        al_buf_printf(d, " ");
        al_num(d, y[i]);
        al_buf_printf(d, "\n");
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    al_buf *s = &f->script;
    al_lbl(s, "title", o->title);
    al_lbl(s, "xlabel", o->xlabel);
    al_lbl(s, "ylabel", o->ylabel);
    al_buf_printf(s, "set grid\nset key outside right top\n");
    if (n > 0 && hi > lo) al_buf_printf(s, "set xrange [%.9g:%.9g]\n", lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
    al_buf_printf(s, "plot '%s' using 1:2 with points pt 7 ps 0.7 lc rgb '#2980b9' title 'consecutive turns', \\\n     0 with lines dt 3 lc rgb '#888888' notitle",
                  f->data_name[0]);
    if (isfinite(a) && isfinite(b)) {
        char q[256];
        al_gp_quote(line_label ? line_label : "fit", q, sizeof q);
        al_buf_printf(s, ", \\\n     %.12g + (%.12g) * x with lines lw 2 lc rgb '#c0392b' title '%s'", a, b, q);
    }
    al_buf_printf(s, "\n");
    return f;
}
