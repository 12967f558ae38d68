/* Figure kinds of kl-drift, semdrift and cras: conversation series with mean and equilibrium, a phase plot with its
 * line, fitted-curve panels, means with intervals. Each returns a figure (script + data), NULL when out of memory. */
#ifndef AL_PLOTS_LOGS_H
#define AL_PLOTS_LOGS_H

#include <stdint.h>

#include "plots.h"

/* C series (conversations): series k has points start[k] .. start[k+1]-1 of x, y (start: [C + 1]), drawn
 * thin and grey; the mean mx, my [nm] drawn thick; a dashed horizontal line at level (skipped when NaN). */
al_figure *al_plot_series_mean(const char *name, const int64_t *start, const double *x, const double *y, int64_t C,
                               const double *mx, const double *my, int64_t nm, double level, const char *level_label,
                               const al_plot_opts *o);

/* n points (x, y) and the line y = a + b x over their x range (skipped when a or b is NaN), with y = 0 dotted. */
al_figure *al_plot_phase(const char *name, const double *x, const double *y, int64_t n, double a, double b,
                         const char *line_label, const al_plot_opts *o);

/* One panel per series k (titles [m]): points start[k] .. start[k+1]-1 of x, y and the curve
 * abc[3k] exp(-abc[3k+1] x) + abc[3k+2] (no curve when abc[3k] is NaN). */
al_figure *al_plot_expfit_panels(const char *name, const char *const *titles, int64_t m, const int64_t *start,
                                 const double *x, const double *y, const double *abc, const al_plot_opts *o);

/* n means v with intervals [lo, hi] (NaN: no bar), one labelled box each. */
al_figure *al_plot_means_ci(const char *name, const char *const *labels, const double *v, const double *lo,
                            const double *hi, int64_t n, const al_plot_opts *o);

#endif
