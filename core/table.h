/* A typed, column-named table: what every analysis produces for text output.
 * Writers render it as aligned text, TSV, CSV, Markdown, or a JSON array of row objects. */
#ifndef AL_TABLE_H
#define AL_TABLE_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "numtext.h" /* al_num_str */

typedef enum { AL_CELL_NULL, AL_CELL_INT, AL_CELL_NUM, AL_CELL_STR } al_cell_kind;

typedef struct {
    al_cell_kind kind;
    int64_t i;
    double d;
    char *s; /* owned */
} al_cell;

typedef struct {
    char *name;  /* file stem, e.g. "sinks_heads" */
    char *title; /* one line shown above the table on a terminal */
    int ncols;
    char **cols;
    int64_t nrows, cap;
    al_cell *cells; /* [nrows, ncols] */
} al_table;

/* cols: comma-separated column names. NULL on allocation failure. */
al_table *al_table_new(const char *name, const char *title, const char *cols);
void al_table_free(al_table *t);
/* Appends a row and returns it (ncols cells, all NULL), or NULL on allocation failure. */
al_cell *al_table_row(al_table *t);
void al_cell_int(al_cell *c, int64_t v);
void al_cell_num(al_cell *c, double v); /* NaN and Inf are written as null/"nan" */
int al_cell_str(al_cell *c, const char *s);

typedef enum { AL_FMT_TABLE, AL_FMT_TSV, AL_FMT_CSV, AL_FMT_MD, AL_FMT_JSON } al_format;
al_format al_format_parse(const char *s); /* NULL: table on a terminal, else tsv */

int al_table_write(const al_table *t, al_format fmt, FILE *f);
cJSON *al_table_json(const al_table *t); /* array of row objects */

#endif
