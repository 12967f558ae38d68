/* Several heatmaps in one figure (gnuplot multiplot), e.g. the attention map of every head of a layer.
 * All panels share one data file, one block per panel, read with `index`. */
#include <math.h>
#include <stdio.h>

#include "kinds.h"

static void al_panel_tics(al_buf *s, const char *axis, const char *const *tics, int64_t n) {
    char q[256];
    int64_t step = n <= 48 ? 1 : (n + 47) / 48;
    al_buf_printf(s, "set %stics (", axis);
    for (int64_t i = 0, k = 0; i < n; i += step, k++) {
        al_gp_quote(tics[i], q, sizeof q);
        al_buf_printf(s, "%s'%s' %lld", k ? ", " : "", q, (long long)i);
    }
    al_buf_printf(s, ")%s font ',7'\n", axis[0] == 'x' ? " rotate by 90 right" : "");
}

al_figure *al_plot_panels(const char *name, const double *M, int64_t P, int64_t R, int64_t C, const char *const *titles,
                          const char *const *xtics, const char *const *ytics, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    for (int64_t p = 0; p < P; p++) {
        if (p) al_buf_printf(d, "\n\n");
        const double *m = M + p * R * C;
        for (int64_t r = 0; r < R; r++) {
            for (int64_t c = 0; c < C; c++) {
                double v = m[r * C + c];
                if (!isfinite(v) || (o->log_scale && v <= 0)) al_buf_printf(d, "%sNaN", c ? " " : "");
                else al_buf_printf(d, "%s%.7g", c ? " " : "", v);
            }
            al_buf_printf(d, "\n");
        }
    }
    al_buf *s = &f->script;
    int64_t cols = (int64_t)ceil(sqrt((double)P)), rows = (P + cols - 1) / cols;
    char q[512];
    if (P > 1) {
        al_gp_quote(o->title ? o->title : "", q, sizeof q);
        al_buf_printf(s, "set multiplot layout %lld,%lld title '%s'\n", (long long)rows, (long long)cols, q);
    }
    al_buf_printf(s, "set yrange [%g:-0.5]\nset xrange [-0.5:%g]\nunset key\n", R - 0.5, C - 0.5); /* row 0 on top */
    al_buf_printf(s, "set palette rgbformulae 33,13,10\nset size ratio -1\nset border back\n");
    if (o->xlabel) {
        al_gp_quote(o->xlabel, q, sizeof q);
        al_buf_printf(s, "set xlabel '%s'\n", q);
    }
    if (o->ylabel) {
        al_gp_quote(o->ylabel, q, sizeof q);
        al_buf_printf(s, "set ylabel '%s'\n", q);
    }
    if (o->log_scale) al_buf_printf(s, "set logscale cb\n");
    if (o->zmin != o->zmax) al_buf_printf(s, "set cbrange [%g:%g]\n", o->zmin, o->zmax);
    if (xtics) al_panel_tics(s, "x", xtics, C);
    if (ytics) al_panel_tics(s, "y", ytics, R);
    for (int64_t p = 0; p < P; p++) {
        const char *t = titles && titles[p] ? titles[p] : (P == 1 && o->title ? o->title : "");
        al_gp_quote(t, q, sizeof q);
        al_buf_printf(s, "set title '%s'\nplot '%s' index %lld matrix with image\n", q, f->data_name[0], (long long)p);
    }
    if (P > 1) al_buf_printf(s, "unset multiplot\n");
    return f;
}
