/* The catalogue of analyses: one row per analysis with its name, summary, what input it needs, its parameters
 * (name, kind, bounds, help, field of the params struct, whether the fused pass takes it) and how the results
 * of several inputs combine. Option parsing and --help (experiments/cmd_sinks.c), the spec schema, fusion
 * eligibility of the runner, and `attnlab info` are generated from it. One X-macro list names the analyses; the
 * table's row count is checked against it at compile time (catalog.c), so a forgotten row fails to build. */
#ifndef AL_CATALOG_H
#define AL_CATALOG_H

#include <stddef.h>

/* id, name: the order of the table */
#define AL_ANALYSIS_LIST(X)                                                                                            \
    X(INFO, "info")                                                                                                    \
    X(SINKS, "sinks")                                                                                                  \
    X(HEADS, "heads")                                                                                                  \
    X(SIMILARITY, "similarity")                                                                                        \
    X(MAPS, "maps")                                                                                                    \
    X(DRIFT, "drift")                                                                                                  \
    X(KVSIM, "kvsim")                                                                                                  \
    X(NORMS, "norms")                                                                                                  \
    X(KLDRIFT, "kl-drift")                                                                                             \
    X(SEMDRIFT, "semdrift")                                                                                            \
    X(CRAS, "cras")

typedef enum {
#define AL_ANALYSIS_ENUM(id, name) AL_AN_##id,
    AL_ANALYSIS_LIST(AL_ANALYSIS_ENUM)
#undef AL_ANALYSIS_ENUM
        AL_ANALYSIS_COUNT
} al_analysis_id;

typedef enum {
    AL_PT_NUM,    /* JSON number; --flag X.Y */
    AL_PT_INT,    /* JSON number with an integral value */
    AL_PT_BOOL,   /* true: the flag is given; false: it is not */
    AL_PT_STR,    /* JSON string */
    AL_PT_CHOICE, /* one of the '|'-separated words of choices */
    AL_PT_IDS,    /* "0,2-4" or [0, 2, 3, 4] */
    AL_PT_STRS,   /* a string or a list of strings: the flag repeated */
    AL_PT_PATH,   /* a file: a path relative to the spec's folder, or {"input": NAME} */
} al_ptype;

/* AL_FIELD(type, member): where a parameter lives in its analysis's params struct (0: in no field of it). */
#define AL_FIELD(type, member) (offsetof(type, member) + 1)

typedef struct {
    const char *name; /* the command's long flag without "--" ("_" in a spec reads as "-") */
    al_ptype type;
    double min, max; /* NUM and INT bounds, inclusive; both 0: unbounded */
    const char *choices;
    int required;
    size_t field;           /* AL_FIELD(...) or 0 (a common option, or one the command resolves itself) */
    int fused;              /* the fused map pass (`stats`, the runner's shared pass) takes it */
    const char *arg, *help; /* --help: placeholder and one line */
} al_pdef;

typedef enum { AL_COMBINE_STACK, AL_COMBINE_SINKS } al_combine;

/* what an analysis reads */
enum {
    AL_NEEDS_MAPS = 1,   /* attention maps, or q and k to recompute them */
    AL_NEEDS_STATES = 2, /* hidden states, keys or values */
    AL_NEEDS_LOGS = 4,   /* a logs file (kl-drift logits, semdrift similarities, cras scores), not a recording */
    AL_NEEDS_CAUSAL = 8, /* causal maps only (kvsim: a cache grows token by token) */
};

typedef struct {
    const char *name;      /* the command in al_commands */
    const char *summary;   /* one line */
    unsigned needs;        /* AL_NEEDS_* bits; 0: anything (info) */
    int nfiles;            /* files per input item: 2 for drift (baseline, conflict) */
    int maps;              /* reads attention maps: a member of a recording's shared streaming group */
    int fused;             /* has a visitor of the fused map pass (al_map_visitor or al_rows_visitor) */
    al_combine combine;    /* how the results of several inputs become one table (docs/experiments.md) */
    const al_pdef *params; /* NULL-terminated */
} al_adef;

/* one row per AL_ANALYSIS_LIST entry, in its order (the count is checked where the table is defined) */
extern const al_adef al_analyses[];
/* the names of AL_ANALYSIS_LIST, for checking the rows against the list */
extern const char *const al_analysis_names[AL_ANALYSIS_COUNT];

/* NULL when no analysis has that name. */
const al_adef *al_analysis_find(const char *name);
/* The parameter of a that the fused pass takes under that name, or NULL. */
const al_pdef *al_fused_param(const al_adef *a, const char *name);

#endif
