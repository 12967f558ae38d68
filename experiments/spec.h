/* Experiment specs for `attnlab run SPEC.json`: the JSON format of docs/experiments.md parsed with cJSON and
 * validated completely (every problem named by its JSON path) before any work starts. */
#ifndef AL_SPEC_H
#define AL_SPEC_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../analyses/catalog.h"
#include "../core/status.h"

#define AL_SPEC_MAX_INPUTS 64
#define AL_SPEC_MAX_STEPS 128
#define AL_SPEC_MAX_FIGS 64
#define AL_SPEC_MAX_Y 8
#define AL_ITEM_MAXF 2

/* ---- what the spec may say: the parameter schema of every analysis and generator (spec_schema.c) ---- */

/* al_pdef, al_adef, al_ptype, al_combine: the catalogue of analyses (analyses/catalog.h) */

typedef enum { AL_GEN_SYNTH, AL_GEN_LOGS, AL_GEN_RECORD } al_gen_how;

typedef struct {
    const char *kind; /* "maps", "drift", "kl-drift", ... ; "record" for recordings of a llama2.c model */
    al_gen_how how;
    int nfiles;
    const char *files[AL_ITEM_MAXF]; /* names of the files of one generated item */
    const al_pdef *params;
} al_gdef;

/* The schema of an analysis: NULL when name is not a command, or is one that writes inputs, not results. */
const al_adef *al_adef_find(const char *name);
const al_gdef *al_gdef_find(const char *kind);
/* "a, b, c" lists for error messages. */
void al_adef_names(char *buf, int n);
void al_gdef_names(char *buf, int n);

/* ---- the parsed spec ---- */

typedef enum { AL_IN_FILES, AL_IN_GEN } al_in_kind;

typedef struct {
    char name[64];
    al_in_kind kind;
    int optional;
    const al_gdef *gen;    /* AL_IN_GEN */
    const cJSON *params;   /* AL_IN_GEN: generator parameters (may be NULL) */
    const char *model;     /* record: the checkpoint, as written */
    int64_t count;         /* AL_IN_GEN: items generated (seed, seed + 1, ...) */
    const cJSON *files;    /* AL_IN_FILES: the "files" array */
    int item0, nitems;     /* its items in al_spec.items, after resolving */
    char unavailable[640]; /* optional input that is absent: why (its steps are skipped) */
} al_input;

typedef struct {
    char id[96];     /* folder name of its results: the input's name, or NAME-k when it has several items */
    char label[256]; /* file name(s) or generator, for tables */
    int input;
    int64_t index; /* k within its input */
    int nfiles;
    char *files[AL_ITEM_MAXF]; /* paths; generated ones relative to the output folder */
    int generated;
} al_item;

typedef struct {
    char name[64];
    const al_adef *def;
    char analysis[32];
    int input;
    const cJSON *params; /* validated; may be NULL */
    const char *title, *note;
    char skip[640]; /* set while planning: why the step cannot run here (e.g. an optional input is absent) */
} al_step;

typedef enum { AL_FIG_LINES, AL_FIG_HEATMAP } al_fig_kind;

typedef struct {
    char name[64];
    al_fig_kind kind;
    int step;
    char table[64];
    char x[64], series[64]; /* lines */
    char y[AL_SPEC_MAX_Y][64];
    int ny;
    char row[64], col[64], value[64]; /* heatmap */
    const char *title, *xlabel, *ylabel, *caption;
    int logscale;
    char jpath[32]; /* "figures[3]" */
} al_figspec;

typedef struct {
    char file[4096]; /* the spec's path as given: the prefix of every error */
    char dir[4096];  /* absolute folder of the spec: relative paths resolve against it */
    char sha[65];    /* sha256 of the spec text */
    char *text;      /* the spec as read (run.json keeps it for merge) */
    cJSON *root;
    char name[64];
    const char *title, *description, *mirrors, *needs, *intro;
    int full_hash;     /* "hash": "full": inputs identified by the sha256 of their whole content */
    int figure_format; /* "figure_format": al_figfmt of every figure, or -1 (the command line's, png by default) */
    int max_rows, max_cols;
    const cJSON *captions;
    int ninputs, nsteps, nfigs;
    al_input inputs[AL_SPEC_MAX_INPUTS];
    al_step steps[AL_SPEC_MAX_STEPS];
    al_figspec figs[AL_SPEC_MAX_FIGS];
    int nitems;
    al_item *items;
} al_spec;

/* Reads and validates SPEC.json. Exit-2 errors read "SPEC.json:JSON.PATH: what is wrong". */
al_status al_spec_load(const char *path, al_spec **out, al_error *e);
/* The same from text (merge re-reads the spec a run stored); dir: where relative paths resolved. */
al_status al_spec_parse(const char *text, const char *file, const char *dir, al_spec **out, al_error *e);
/* Expands inputs into items (globs sorted, generated files under outdir/inputs), checks that files and path
 * parameters exist; an absent optional input makes its steps skipped (al_step.skip), not an error. */
al_status al_spec_resolve(al_spec *s, al_error *e);
void al_spec_free(al_spec *s);

/* A step's parameter value by canonical name (NULL when not given). */
const cJSON *al_step_param(const al_step *st, const char *name);
/* Canonical flag name of a spec key: '_' read as '-'. */
void al_param_canon(const char *key, char *out, int n);

#endif
