/* A strict CSV reader for the tabular inputs (similarities, per-turn KL values, correctness): a header
 * row, RFC 4180 quoting, the same number of fields on every row; errors name the line and column. */
#ifndef AL_CSV_H
#define AL_CSV_H

#include <stdint.h>

#include "../core/status.h"

typedef struct {
    char path[4096];
    char *buf;       /* the file's text; fields are NUL-terminated in place */
    int ncols;
    char **head;     /* [ncols] column names */
    int64_t nrows;
    char **cells;    /* [nrows, ncols] */
    int64_t *line;   /* [nrows] line number where each row starts (the header is line 1 or later) */
} al_csv;

/* Reads the whole file. Blank lines are skipped; unquoted fields lose surrounding spaces and tabs. */
al_status al_csv_read(const char *path, al_csv *c, al_error *e);
void al_csv_free(al_csv *c);

/* Column index of name, or -1. */
int al_csv_col(const al_csv *c, const char *name);
/* Finds each of names[n] (idx[k] = its column); a missing one is an error listing the header. */
al_status al_csv_need(const al_csv *c, const char *const *names, int n, int *idx, al_error *e);
static inline const char *al_csv_cell(const al_csv *c, int64_t row, int col) { return c->cells[row * c->ncols + col]; }
/* Strict typed cells: the whole text must be a finite number / an integer; errors name line and column. */
al_status al_csv_double(const al_csv *c, int64_t row, int col, double *v, al_error *e);
al_status al_csv_int(const al_csv *c, int64_t row, int col, int64_t *v, al_error *e);

#endif
