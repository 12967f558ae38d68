/* Drawing the figures a spec asks for ("figures": lines or heatmaps of a step's combined tables).
 * Figures are gnuplot scripts with their data, rendered to PNG when gnuplot is installed. */
#ifndef AL_RUN_FIGS_H
#define AL_RUN_FIGS_H

#include <stddef.h>

#include "combine.h"
#include "spec.h"

/* Writes NAME.gp (and its data, and NAME.png when render) into dir. A step without results leaves the figure
 * undrawn with the reason in why (not an error); a table or column the step does not have is a spec error
 * naming the figure's JSON path. */
al_status al_draw_figure(const al_spec *s, const al_figspec *g, const al_tabset *ts, const char *dir, int render,
                         char *why, size_t nwhy, al_error *e);

#endif
