/* The output of one analysis run: a JSON document (provenance first), tables and figures.
 * al_result_emit renders it to stdout in the chosen format or, with -o DIR, writes every file atomically. */
#ifndef AL_RESULT_H
#define AL_RESULT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "cli.h"
#include "figure.h"
#include "json.h"
#include "status.h"
#include "table.h"

#define AL_RESULT_MAX 32

typedef struct {
    char command[64];
    cJSON *doc; /* attnlab_version, command, inputs, params, then the analysis's own fields */
    int ntables;
    al_table *tables[AL_RESULT_MAX];
    int stdout_table[AL_RESULT_MAX]; /* printed on stdout in text formats */
    int nfigs;
    al_figure *figs[AL_RESULT_MAX];
    uint64_t cjson_fail0; /* al_alloc_cjson_failures() at creation: a later change means a field went missing */
    int failed;           /* a table or figure could not be added */
} al_result;

/* Builds the provenance part; params ownership passes to the result (NULL params, as al_opts_params returns
 * when out of memory, is an out-of-memory failure). NULL on failure (e is set). */
al_result *al_result_new(const char *command, int argc, char **argv, const char *const *inputs, int ninputs,
                         cJSON *params, const al_common *c, al_error *e);
void al_result_free(al_result *r);
/* Ownership passes to r (freed on failure too). Returns 0, or -1 when out of memory. */
int al_result_table(al_result *r, al_table *t, int on_stdout);
int al_result_figure(al_result *r, al_figure *f);
/* The params object, to record values resolved after parsing (e.g. the tokens actually analysed). */
cJSON *al_result_params(al_result *r);
/* Sets params[key] = v (replacing the parsed value); v is owned: on failure (out of memory) it is freed and
 * the result refuses to be emitted. cJSON_ReplaceItemInObject leaks v when its own allocation fails. */
void al_result_param(al_result *r, const char *key, cJSON *v);

al_status al_result_emit(al_result *r, const al_common *c, al_error *e);

#endif
