/* More figure kinds (same contract as plots.h): categorical maps (roles), scatter plots (MDS of heads), clustered
 * bars (span masses) and multi-panel heatmaps (attention maps); NULL when out of memory. */
#ifndef AL_PLOTS_KINDS_H
#define AL_PLOTS_KINDS_H

#include <stdint.h>

#include "plots.h"

/* Title and axis labels of o into a script. */
void al_gp_set_labels(al_buf *b, const al_plot_opts *o);

/* M: [R, C] category indices in 0..ncat-1 (negative: blank); names, colors: [ncat] ("#rrggbb"). */
al_figure *al_plot_categories(const char *name, const int *M, int64_t R, int64_t C, const char *const *names,
                              const char *const *colors, int ncat, const al_plot_opts *o);

/* n points (x[i], y[i]) coloured by group[i] (e.g. layer), labelled by labels[i] when labels is not NULL
 * and n <= 64. */
al_figure *al_plot_scatter(const char *name, const double *x, const double *y, const int64_t *group, int64_t n,
                           const char *const *labels, const char *grouplabel, const al_plot_opts *o);

/* Clustered bars: Y [m, G], m series (series[m] names) over G categories (cats[G] names). */
al_figure *al_plot_bars(const char *name, const double *Y, int64_t m, int64_t G, const char *const *series,
                        const char *const *cats, const al_plot_opts *o);

/* P heatmaps M [P, R, C] in one figure, panel p titled titles[p]; xtics/ytics label columns and rows (may be
 * NULL; thinned to at most 48 labels). o->log_scale: logarithmic colours, values <= 0 left blank. */
al_figure *al_plot_panels(const char *name, const double *M, int64_t P, int64_t R, int64_t C, const char *const *titles,
                          const char *const *xtics, const char *const *ytics, const al_plot_opts *o);

#endif
