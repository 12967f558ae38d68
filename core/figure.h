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

al_figure *al_figure_new(const char *name);
/* Adds a data file NAME<suffix> and returns its buffer to fill. */
al_buf *al_figure_data(al_figure *f, const char *suffix);
void al_figure_free(al_figure *f);

/* Writes DIR/NAME.gp and its data into dir (a staging folder); renders NAME.png there when gnuplot
 * is on PATH (a failed render is reported on stderr but is not an error: the script is the output). */
al_status al_figure_write(const al_figure *f, const char *dir, int render, al_error *e);
int al_gnuplot_available(void);

#endif
