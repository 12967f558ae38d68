/* Heatmap and line-plot scripts. Data files are plain whitespace-separated numbers so researchers can
 * restyle a figure by editing the .gp file alone. */
#include "plots.h"

#include <math.h>
#include <stdio.h>

#include "kinds.h"

void al_gp_quote(const char *s, char *buf, size_t n) {
    /* inside gnuplot's single quotes only the quote itself is special (doubled); a control character would end the
     * line or the string, so it becomes a space; the terminals are noenhanced, so _ ^ @ & { } stay literal */
    size_t k = 0;
    for (; s && *s && k + 3 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'') buf[k++] = '\'';
        buf[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    buf[k] = 0;
}

void al_gp_set_labels(al_buf *b, const al_plot_opts *o) {
    char q[512];
    if (o->title) {
        al_gp_quote(o->title, q, sizeof q);
        al_buf_printf(b, "set title '%s'\n", q);
    }
    if (o->xlabel) {
        al_gp_quote(o->xlabel, q, sizeof q);
        al_buf_printf(b, "set xlabel '%s'\n", q);
    }
    if (o->ylabel) {
        al_gp_quote(o->ylabel, q, sizeof q);
        al_buf_printf(b, "set ylabel '%s'\n", q);
    }
}

static void al_gp_num(al_buf *b, double v) {
    if (isfinite(v))
        al_buf_printf(b, "%.9g", v);
    else
        al_buf_printf(b, "NaN");
}

al_figure *al_plot_heatmap(const char *name, const double *M, int64_t R, int64_t C, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    for (int64_t r = 0; r < R; r++) {
        for (int64_t c = 0; c < C; c++) {
            if (c) al_buf_printf(d, " ");
            al_gp_num(d, M[r * C + c]);
        }
        al_buf_printf(d, "\n");
    }
    al_buf *s = &f->script;
    al_gp_set_labels(s, o);
    char q[512];
    al_buf_printf(s, "set yrange [%g:%g]\nset xrange [-0.5:%g]\n", R - 0.5, -0.5, C - 0.5); /* row 0 on top */
    al_buf_printf(s, "set palette rgbformulae 33,13,10\nset size ratio -1\nunset key\n");
    if (o->cblabel) {
        al_gp_quote(o->cblabel, q, sizeof q);
        al_buf_printf(s, "set cblabel '%s'\n", q);
    }
    if (o->log_scale) al_buf_printf(s, "set logscale cb\n");
    if (o->zmin != o->zmax) al_buf_printf(s, "set cbrange [%g:%g]\n", o->zmin, o->zmax);
    if (R > 40 || C > 40) al_buf_printf(s, "set size noratio\n");
    for (int axis = 0; axis < 2; axis++) {
        const char *const *tics = axis ? o->ytics : o->xtics;
        int64_t cnt = axis ? R : C;
        if (!tics) continue;
        al_buf_printf(s, "set %stics (", axis ? "y" : "x");
        for (int64_t i = 0; i < cnt; i++) {
            al_gp_quote(tics[i], q, sizeof q);
            al_buf_printf(s, "%s'%s' %lld", i ? ", " : "", q, (long long)i);
        }
        al_buf_printf(s, ")%s\n", axis ? "" : " rotate by 90 right");
    }
    al_buf_printf(s, "plot '%s' matrix with image\n", f->data_name[0]);
    return f;
}

al_figure *al_plot_lines(const char *name, const double *x, const double *Y, int64_t m, int64_t n,
                         const char *const *labels, int with_points, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    /* column 1: x; column k+2: series k */
    for (int64_t i = 0; i < n; i++) {
        al_gp_num(d, x[i]);
        for (int64_t k = 0; k < m; k++) {
            al_buf_printf(d, " ");
            al_gp_num(d, Y[k * n + i]);
        }
        al_buf_printf(d, "\n");
    }
    al_buf *s = &f->script;
    al_gp_set_labels(s, o);
    if (o->log_scale) al_buf_printf(s, "set logscale y\n");
    if (o->zmin != o->zmax) al_buf_printf(s, "set yrange [%g:%g]\n", o->zmin, o->zmax);
    al_buf_printf(s, "set grid\nset key outside right top\n");
    if (m > 12) al_buf_printf(s, "set key off\n");
    al_buf_printf(s, "plot ");
    char q[256];
    for (int64_t k = 0; k < m; k++) {
        if (labels && labels[k])
            al_gp_quote(labels[k], q, sizeof q);
        else
            snprintf(q, sizeof q, "series %lld", (long long)k);
        al_buf_printf(s, "%s'%s' using 1:%lld with %s lw 2 title '%s'", k ? ", \\\n     " : "", f->data_name[0],
                      (long long)k + 2, with_points ? "linespoints pt 7 ps 0.8" : "lines", q);
    }
    al_buf_printf(s, "\n");
    return f;
}

al_figure *al_plot_curves(const char *name, const double *X, const double *Y, int64_t m, int64_t n,
                          const char *const *labels, const al_plot_opts *o) {
    al_figure *f = al_figure_new(name);
    if (!f) return NULL;
    al_buf *d = al_figure_data(f, ".dat");
    /* columns 2k+1, 2k+2: x and y of series k */
    for (int64_t i = 0; i < n; i++) {
        for (int64_t k = 0; k < m; k++) {
            al_buf_printf(d, k ? " " : "");
            al_gp_num(d, X[k * n + i]);
            al_buf_printf(d, " ");
            al_gp_num(d, Y[k * n + i]);
        }
        al_buf_printf(d, "\n");
    }
    al_buf *s = &f->script;
    al_gp_set_labels(s, o);
    if (o->zmin != o->zmax) al_buf_printf(s, "set yrange [%g:%g]\n", o->zmin, o->zmax);
    al_buf_printf(s, "set grid\nset key outside right top\nplot ");
    char q[256];
    for (int64_t k = 0; k < m; k++) {
        if (labels && labels[k])
            al_gp_quote(labels[k], q, sizeof q);
        else
            snprintf(q, sizeof q, "series %lld", (long long)k);
        al_buf_printf(s, "%s'%s' using %lld:%lld with linespoints lw 2 pt 7 ps 0.8 title '%s'", k ? ", \\\n     " : "",
                      f->data_name[0], (long long)(2 * k + 1), (long long)(2 * k + 2), q);
    }
    al_buf_printf(s, "\n");
    return f;
}
