/* Command-line options: one table per command, strict typed parsing, --help text and the params record.
 * Every flag value is validated here so analyses never see a malformed number. */
#ifndef AL_CLI_H
#define AL_CLI_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

typedef enum {
    AL_OPT_FLAG,   /* int, set to 1 when present */
    AL_OPT_INT,    /* int64_t within [min, max] */
    AL_OPT_DOUBLE, /* double within [min, max], finite */
    AL_OPT_STRING, /* const char * */
    AL_OPT_SIZE,   /* int64_t bytes, "512M", "1G", "4096" */
    AL_OPT_CHOICE, /* const char *, one of the '|'-separated words in choices */
    AL_OPT_LIST,   /* al_strlist, repeatable */
} al_opt_kind;

typedef struct {
    const char **v;
    int n;
} al_strlist;

typedef struct {
    const char *name; /* long name without "--" */
    char shortname;   /* 0 or e.g. 'o' */
    al_opt_kind kind;
    void *dst;
    const char *arg;     /* placeholder in help, e.g. "EPS" */
    const char *help;    /* one line */
    double min, max;     /* INT and DOUBLE bounds (inclusive); both 0: unbounded */
    const char *choices; /* CHOICE: "a|b|c" */
    int seen;            /* set by the parser */
    int hidden_in_params; /* not recorded in "params" (output paths, verbosity) */
} al_opt;

/* Options every analysis command takes; defaults filled by al_common_defaults. */
typedef struct {
    const char *format; /* table|tsv|csv|md|json */
    const char *out;    /* -o DIR or NULL */
    int64_t threads;    /* 0: all cores */
    int64_t mem;        /* bytes */
    const char *device; /* cpu|cuda */
    const char *hash;   /* fingerprint|full */
    int quiet;
    int help;
    int from_qk; /* map analyses: probabilities from recorded q and k even when maps are recorded */
    const char *figure_format; /* png|svg|pdf (core/figure.h) */
} al_common;

void al_common_defaults(al_common *c);
/* Appends the common options to opts (which must have room for AL_COMMON_NOPTS more); returns the new count. */
#define AL_COMMON_NOPTS 10
/* Capacity of every command's option table: its own options plus the common ones. */
#define AL_OPTS_MAX 48
int al_common_opts(al_common *c, al_opt *opts, int n);

/* Parses argv[1..argc-1] (argv[0] is the command name). Positionals go to pos (at most maxpos). */
al_status al_parse_args(int argc, char **argv, al_opt *opts, int nopts, const char **pos, int *npos, int maxpos,
                        al_error *e);
void al_print_help(FILE *f, const char *usage, const char *summary, const al_opt *opts, int nopts);
/* {"name": value, ...} for every option not hidden, defaults included. */
cJSON *al_opts_params(const al_opt *opts, int nopts);

/* Strict parsers (whole string, finite, in range); return 0 on success. */
int al_parse_double_str(const char *s, double *out);
int al_parse_int_str(const char *s, int64_t *out);
int al_parse_size_str(const char *s, int64_t *out);
/* "0,1,2" or "0-3,7" into a sorted unique list; returns count or -1. */
int al_parse_index_list(const char *s, int64_t *out, int maxn);

#endif
