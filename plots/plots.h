/* gnuplot script writers for attnlab's figures: heatmaps (layer x head and the like) and line plots.
 * Each returns a figure (script + data) for the output layer to write and render; NULL when out of memory. */
#ifndef AL_PLOTS_H
#define AL_PLOTS_H

#include <stdint.h>

#include "../core/figure.h"

typedef struct {
    const char *title, *xlabel, *ylabel, *cblabel;
    int log_scale;            /* log colour (heatmap) or log y (lines) */
    double zmin, zmax;        /* colour range; zmin == zmax: automatic */
    const char *const *xtics; /* optional labels for columns (heatmap) */
    const char *const *ytics; /* optional labels for rows (heatmap) */
} al_plot_opts;

/* M: [R, C] row-major; drawn with row 0 at the top (layers down, heads across). */
al_figure *al_plot_heatmap(const char *name, const double *M, int64_t R, int64_t C, const al_plot_opts *o);

/* m series over the same n x values: Y [m, n]; labels [m] (NULL: unlabeled). with_points: draw markers. */
al_figure *al_plot_lines(const char *name, const double *x, const double *Y, int64_t m, int64_t n,
                         const char *const *labels, int with_points, const al_plot_opts *o);

/* m curves of n points each: series k is (X[k, i], Y[k, i]), i < n, joined in order; labels [m]. */
al_figure *al_plot_curves(const char *name, const double *X, const double *Y, int64_t m, int64_t n,
                          const char *const *labels, const al_plot_opts *o);

/* Quotes s for a gnuplot single-quoted string into buf. */
void al_gp_quote(const char *s, char *buf, size_t n);

#endif
