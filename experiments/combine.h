/* The combined tables of a step: `sinks` pools its sufficient statistics, every other analysis stacks its inputs'
 * rows under an "input" column; deterministic given the unit folders, so reruns and merges give the same bytes. */
#ifndef AL_COMBINE_H
#define AL_COMBINE_H

#include "../core/table.h"
#include "run.h"

#define AL_COMBINE_MAX 48

typedef struct {
    int n;
    al_table *t[AL_COMBINE_MAX];
    int units;     /* finished units combined */
    cJSON *params; /* canonical parameters, from the first unit's unit.json (NULL when none finished) */
} al_tabset;

/* Builds the combined tables of step (nothing when it has no finished unit). */
al_status al_combine_step(const al_run *r, int step, al_tabset *ts, al_error *e);
void al_tabset_free(al_tabset *ts);

/* Reads a table written by al_result_emit (NAME.tsv: '#' provenance lines, a header, tab-separated rows) with
 * typed cells: integers and numbers where their text reads back exactly, else strings; empty cells null. */
al_table *al_tsv_read(const char *path, const char *name, al_error *e);
/* A row of table t as a string, cell c (""  for null). */
void al_cell_text_of(const al_table *t, int64_t row, int c, char *buf, size_t n);
/* Index of column name, or -1. */
int al_table_col(const al_table *t, const char *name);
/* Numeric value of a cell (NaN for strings and nulls). */
double al_cell_value(const al_table *t, int64_t row, int c);

#endif
