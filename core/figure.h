/* A figure as attnlab writes it: a gnuplot script plus the data files it reads, rendered to PNG when
 * gnuplot is installed. The plots/ writers build these; the output layer writes and renders them. */
#ifndef AL_FIGURE_H
#define AL_FIGURE_H

#include "buf.h"
#include "status.h"

#define AL_FIG_MAX_DATA 8

typedef struct {
    char name[128]; /* file stem: NAME.gp, NAME.png */
    al_buf script;  /* gnuplot commands, without terminal and output lines */
    int ndata;
    char data_name[AL_FIG_MAX_DATA][160]; /* e.g. NAME.dat */
    al_buf data[AL_FIG_MAX_DATA];
} al_figure;

/* Rendered format of every figure of this process: png (default, pngcairo), pdf (pdfcairo, fonts embedded) or
 * svg (pdfcairo, then poppler's pdftocairo -svg from the script itself: glyphs embedded as paths). Set by
 * --figure-format (core/cli.h) or an experiment spec's "figure_format". */
typedef enum { AL_FIGFMT_PNG, AL_FIGFMT_SVG, AL_FIGFMT_PDF } al_figfmt;
int al_figfmt_parse(const char *s); /* "png" | "svg" | "pdf" -> al_figfmt, or -1 */
void al_figure_format_set(al_figfmt f);
al_figfmt al_figure_format_get(void);
const char *al_figure_ext(void); /* "png", "svg" or "pdf" */

al_figure *al_figure_new(const char *name);
/* Adds a data file NAME<suffix> and returns its buffer to fill. */
al_buf *al_figure_data(al_figure *f, const char *suffix);
void al_figure_free(al_figure *f);

/* Writes DIR/NAME.gp and its data into dir (a staging folder); renders NAME.png (.svg, .pdf) there when gnuplot
 * is on PATH (a failed render is reported on stderr but is not an error: the script is the output). */
al_status al_figure_write(const al_figure *f, const char *dir, int render, al_error *e);
int al_gnuplot_available(void);

#endif
