/* The spec's own figures from a step's combined tables: lines (x against y columns, or one y split into series)
 * and heatmaps (row x column -> value); missing points are NaN, which the lines run through. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../plots/plots.h"
#include "combine.h"
#include "run_figs.h"
#include "spec_check.h"

static int al_cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* sorted distinct finite values of column c; count or -1 when a value is not a number */
static int64_t al_distinct(const al_table *t, int c, double *out) {
    int64_t n = 0;
    for (int64_t r = 0; r < t->nrows; r++) {
        double v = al_cell_value(t, r, c);
        if (!isfinite(v)) return -1;
        out[n++] = v;
    }
    qsort(out, (size_t)n, sizeof *out, al_cmp_dbl);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (!m || out[i] != out[m - 1]) out[m++] = out[i];
    return m;
}

static int64_t al_find(const double *v, int64_t n, double x) {
    const double *p = bsearch(&x, v, (size_t)n, sizeof *v, al_cmp_dbl);
    return p ? p - v : -1;
}

static al_status al_col(const al_spec *s, const al_figspec *g, const al_table *t, const char *key, const char *name,
                        int *c, al_error *e) {
    if ((*c = al_table_col(t, name)) >= 0) return AL_OK;
    char cols[600], p[64];
    int o = 0;
    for (int k = 0; k < t->ncols && o < (int)sizeof cols; k++)
        o += snprintf(cols + o, sizeof cols - (size_t)o, "%s%s", k ? ", " : "", t->cols[k]);
    snprintf(p, sizeof p, "%s.%s", g->jpath, key);
    return al_spec_bad(s, e, p, "table %s of step %s has no column '%s' (columns: %s)", t->name, s->steps[g->step].name,
                       name, cols);
}

static al_figure *al_lines(const al_spec *s, const al_figspec *g, const al_table *t, al_error *e) {
    int cx, cs = -1, cy[AL_SPEC_MAX_Y];
    if (al_col(s, g, t, "x", g->x, &cx, e)) return NULL;
    if (g->series[0] && al_col(s, g, t, "series", g->series, &cs, e)) return NULL;
    for (int k = 0; k < g->ny; k++)
        if (al_col(s, g, t, "y", g->y[k], &cy[k], e)) return NULL;
    int64_t R = t->nrows, m = cs >= 0 ? 0 : g->ny;
    double *x = al_calloc((size_t)(R ? R : 1), sizeof *x), *Y = NULL;
    char **labels = al_calloc((size_t)(R + AL_SPEC_MAX_Y), sizeof *labels);
    int64_t *ser = al_calloc((size_t)(R ? R : 1), sizeof *ser);
    al_figure *f = NULL;
    char buf[256], p[64];
    if (!x || !labels || !ser) goto oom;
    int64_t n = al_distinct(t, cx, x);
    snprintf(p, sizeof p, "%s.x", g->jpath);
    if (n < 0) {
        al_spec_bad(s, e, p, "column '%s' of table %s is not numeric", g->x, t->name);
        goto done;
    }
    for (int64_t r = 0; r < R; r++) { /* series: first appearance of each value of the series column */
        if (cs < 0) break;
        al_cell_text_of(t, r, cs, buf, sizeof buf);
        int64_t k = 0;
        while (k < m && strcmp(labels[k], buf) != 0)
            k++;
        if (k == m && !(labels[m++] = al_strdup(buf))) goto oom;
        ser[r] = k;
    }
    for (int k = 0; cs < 0 && k < g->ny; k++)
        labels[k] = al_strdup(g->y[k]);
    if (!(Y = al_malloc((size_t)(m * n > 0 ? m * n : 1), sizeof *Y))) goto oom;
    for (int64_t i = 0; i < m * n; i++)
        Y[i] = NAN;
    for (int64_t r = 0; r < R; r++) {
        int64_t i = al_find(x, n, al_cell_value(t, r, cx));
        for (int64_t k = 0; k < (cs >= 0 ? 1 : m); k++) {
            int64_t sk = cs >= 0 ? ser[r] : k;
            if (!isnan(Y[sk * n + i])) {
                al_spec_bad(s, e, p, "x = %g appears twice in one series of table %s (add \"series\")", x[i], t->name);
                goto done;
            }
            Y[sk * n + i] = al_cell_value(t, r, cy[cs >= 0 ? 0 : k]);
        }
    }
    al_plot_opts o = {.title = g->title ? g->title : g->name,
                      .xlabel = g->xlabel ? g->xlabel : g->x,
                      .ylabel = g->ylabel ? g->ylabel : g->y[0],
                      .log_scale = g->logscale};
    if (!(f = al_plot_lines(g->name, x, Y, m, n, (const char *const *)labels, n <= 64, &o))) goto oom;
    /* series with x values of their own meet on the union of x, NaN elsewhere: draw through those gaps */
    al_buf sc = {0};
    al_buf_printf(&sc, "set datafile missing 'NaN'\n%s", f->script.s ? f->script.s : "");
    al_buf_free(&f->script);
    f->script = sc;
    if (sc.failed) {
        al_figure_free(f);
        f = NULL;
        goto oom;
    }
    goto done;
oom:
    al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
done:
    for (int64_t k = 0; labels && k < R + AL_SPEC_MAX_Y; k++)
        al_free(labels[k]);
    al_free(labels), al_free(x), al_free(Y), al_free(ser);
    return f;
}

/* [n] labels "%g" of v, or an array whose first entry is NULL when v is 0..n-1; NULL when out of memory */
static char **al_tics(const double *v, int64_t n) {
    char **t = al_calloc((size_t)(n ? n : 1), sizeof *t);
    int plain = 1;
    for (int64_t i = 0; i < n; i++)
        plain &= v[i] == (double)i;
    for (int64_t i = 0; t && !plain && i < n; i++) {
        char b[64];
        snprintf(b, sizeof b, "%g", v[i]);
        if (!(t[i] = al_strdup(b))) {
            for (int64_t k = 0; k < i; k++)
                al_free(t[k]);
            al_free(t);
            return NULL;
        }
    }
    return t;
}

static void al_tics_free(char **t, int64_t n) {
    for (int64_t i = 0; t && i < n; i++)
        al_free(t[i]);
    al_free(t);
}

static al_figure *al_heatmap(const al_spec *s, const al_figspec *g, const al_table *t, al_error *e) {
    int cr, cc, cv;
    if (al_col(s, g, t, "row", g->row, &cr, e) || al_col(s, g, t, "col", g->col, &cc, e) ||
        al_col(s, g, t, "value", g->value, &cv, e))
        return NULL;
    int64_t N = t->nrows ? t->nrows : 1, R = 0, C = 0;
    double *rv = al_calloc((size_t)N, sizeof *rv), *cvs = al_calloc((size_t)N, sizeof *cvs), *M = NULL;
    char **xt = NULL, **yt = NULL;
    al_figure *f = NULL;
    char p[64];
    if (!rv || !cvs) goto oom;
    R = al_distinct(t, cr, rv), C = al_distinct(t, cc, cvs);
    if (R < 0 || C < 0) {
        snprintf(p, sizeof p, "%s.%s", g->jpath, R < 0 ? "row" : "col");
        al_spec_bad(s, e, p, "column '%s' of table %s is not numeric", R < 0 ? g->row : g->col, t->name);
        goto done;
    }
    if (!(M = al_malloc((size_t)(R * C > 0 ? R * C : 1), sizeof *M))) goto oom;
    for (int64_t i = 0; i < R * C; i++)
        M[i] = NAN;
    for (int64_t r = 0; r < t->nrows; r++) {
        int64_t i = al_find(rv, R, al_cell_value(t, r, cr)), j = al_find(cvs, C, al_cell_value(t, r, cc));
        if (!isnan(M[i * C + j])) {
            snprintf(p, sizeof p, "%s", g->jpath);
            al_spec_bad(s, e, p, "(%g, %g) appears twice in table %s", rv[i], cvs[j], t->name);
            goto done;
        }
        M[i * C + j] = al_cell_value(t, r, cv);
    }
    al_plot_opts o = {.title = g->title ? g->title : g->name,
                      .xlabel = g->xlabel ? g->xlabel : g->col,
                      .ylabel = g->ylabel ? g->ylabel : g->row,
                      .cblabel = g->value,
                      .log_scale = g->logscale};
    /* axes are drawn 0..n-1: label them with the values unless those are 0..n-1 themselves */
    if (!(xt = al_tics(cvs, C)) || !(yt = al_tics(rv, R))) goto oom;
    o.xtics = xt[0] ? (const char *const *)xt : NULL;
    o.ytics = yt[0] ? (const char *const *)yt : NULL;
    if (!(f = al_plot_heatmap(g->name, M, R, C, &o))) goto oom;
    goto done;
oom:
    al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
done:
    al_tics_free(xt, C);
    al_tics_free(yt, R);
    al_free(rv), al_free(cvs), al_free(M);
    return f;
}

al_status al_draw_figure(const al_spec *s, const al_figspec *g, const al_tabset *ts, const char *dir, int render,
                         char *why, size_t nwhy, al_error *e) {
    why[0] = 0;
    if (!ts->units) {
        snprintf(why, nwhy, "not drawn: step %s has no results here", s->steps[g->step].name);
        return AL_OK;
    }
    const al_table *t = NULL;
    for (int i = 0; i < ts->n; i++)
        if (!strcmp(ts->t[i]->name, g->table)) t = ts->t[i];
    if (!t) {
        char names[600], p[64];
        int o = 0;
        for (int i = 0; i < ts->n && o < (int)sizeof names; i++)
            o += snprintf(names + o, sizeof names - (size_t)o, "%s%s", i ? ", " : "", ts->t[i]->name);
        snprintf(p, sizeof p, "%s.table", g->jpath);
        return al_spec_bad(s, e, p, "step %s has no table '%s' (tables: %s)", s->steps[g->step].name, g->table, names);
    }
    al_figure *f = g->kind == AL_FIG_LINES ? al_lines(s, g, t, e) : al_heatmap(s, g, t, e);
    if (!f) return e->status;
    al_status st = al_figure_write(f, dir, render, e);
    al_figure_free(f);
    return st;
}
