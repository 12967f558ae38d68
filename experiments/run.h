/* The experiment driver behind `attnlab run` and `attnlab merge`: units of work (one step on one input item),
 * their content keys, the output folder's layout, and the phases that end in tables, figures and report.md. */
#ifndef AL_RUN_H
#define AL_RUN_H

#include <cjson/cJSON.h>

#include "../core/cli.h"
#include "../core/progress.h"
#include "run_argv.h"
#include "spec.h"

#define AL_IDENT_MAX 96 /* "fingerprint:" or "sha256:" or "generated:" + 64 hex digits */

typedef enum {
    AL_U_PENDING,   /* not looked at yet */
    AL_U_DONE,      /* results in OUT/steps/STEP/ITEM (this run or an earlier one) */
    AL_U_FAILED,    /* the analysis refused the input; reason holds its error line */
    AL_U_SKIPPED,   /* could not run here (absent optional input); reason says why */
    AL_U_ELSEWHERE, /* belongs to another shard */
} al_ustate;

typedef struct {
    int step, item;
    char key[65];
    al_ustate state;
    int status;    /* exit status of a failed unit: 2 bad input, 1 internal */
    int ran;       /* computed by this process (not found up to date) */
    char pass[64]; /* "stats:heads,similarity" when computed in the recording's shared pass (part of the key) */
    char reason[1100];
} al_unit;

typedef struct {
    al_spec *spec;
    char out[4096]; /* absolute output folder */
    int shard, nshards;
    int merged_from; /* > 0: made by merge from this many shard folders */
    al_common common;
    int nunits;
    al_unit *units;
    char (*ident)[AL_IDENT_MAX]; /* [nitems] content identity of each item ("" until known) */
    int lockfd;
    struct al_own_set *own; /* what the driver wrote in OUT (runown.h) */
    al_progress prog;       /* the bar, on a terminal */
    char label[48];
    int tty;
} al_run;

/* Units of every step x item (steps skipped at resolve time get SKIPPED units); shard i/n keeps the units
 * whose item index is i mod n. */
al_status al_run_plan(al_run *r, al_error *e);
/* Refuses an OUT that is not new, empty or a run of ours, locks it (one driver per folder) and empties the
 * driver's temporaries folder of what killed runs left there (runown.h). */
al_status al_run_prepare_dir(al_run *r, al_error *e);
/* Generates missing inputs and runs every pending unit of this shard, grouped by item. */
al_status al_run_execute(al_run *r, al_error *e);
/* One item made ready for its units: generated (al_gen_item), or its files' identities into r->ident[item]. */
al_status al_run_item_prepare(al_run *r, int item, al_error *e);
/* Marks the units g[n] of an item whose preparation failed as failed, with ge's reason. */
void al_run_item_failed(al_run *r, al_unit **g, int n, al_status st, const al_error *ge);
/* The units g[n] of one prepared item: keys checked, the shared pass where it applies, the rest one by one. */
void al_run_group(al_run *r, al_unit **g, int n);
/* Removes unit folders that no unit of the spec claims (steps renamed or removed, inputs changed), as far as
 * the ownership record names their entries. */
void al_run_prune(al_run *r);
/* ok: the run finished (its ownership record is then rewritten without the entries that are gone). */
void al_run_free(al_run *r, int ok);
/* "WHERE: MSG" of e as a unit's reason, without a WHERE that only says "attnlab". */
void al_run_reason(char *reason, size_t n, const al_error *e);

/* One generated input item: OUT/inputs/ITEM/ made (or found up to date) atomically; its identity is the
 * generator's key (kind, parameters, version), since HDF5 files carry creation times. */
al_status al_gen_item(al_run *r, int item, al_error *e);
/* The key of a generated item, from the spec alone; -1 when out of memory. */
int al_gen_key(const al_spec *s, int item, const char *model_ident, char hex[65]);
/* Identity of a file: its fingerprint, or sha256 with full (provenance.h). */
al_status al_file_ident(const char *path, int full, char out[AL_IDENT_MAX], al_error *e);

/* Runs one unit into a staging folder and renames it into OUT/steps/STEP/ITEM. */
al_status al_unit_run(al_run *r, al_unit *u, al_error *e);
/* The run-wide end of every analysis call: -o stage --quiet, --threads, --mem, --hash, --device. */
void al_argv_tail(const al_run *r, al_argv *a, const char *stage);
/* A fresh staging folder OUT/.attnlab-unit-PID-N for a unit's outputs. */
al_status al_unit_stage(const al_run *r, char *stage, size_t n, al_error *e);
/* Completes a unit whose analysis wrote into stage (a the call that did it, K the positions a sinks step
 * reports): stats.json for sinks, unit.json, then the rename into place; stage is removed on failure. */
al_status al_unit_commit(al_run *r, al_unit *u, const al_argv *a, const char *stage, int64_t K, al_error *e);
/* The shared pass of one item: the units among g[n] (map steps) that one `attnlab stats` call can serve (sinks,
 * heads, similarity, parameters it takes, one token count, one unit per analysis) go into f, with their pass
 * set; returns how many (0 when fewer than two). Decided from the spec and the recording alone, so a unit is
 * always computed the same way. */
int al_fuse_plan(al_run *r, al_unit **g, int n, al_unit **f, int64_t *T, int64_t *K);
/* Runs the pass and completes its members still pending (the others' fresh outputs are dropped); 0, or -1
 * when the call failed (members still pending are then left to run on their own). */
int al_fuse_exec(al_run *r, al_unit **f, int nf, int64_t T, int64_t K);
/* The unit's key: sha256 of version, analysis, canonical parameters and the identities of its files. */
al_status al_unit_key(al_run *r, al_unit *u, al_error *e);
/* {"key": ...} of OUT/steps/STEP/ITEM/unit.json, or "" when absent or unreadable. */
void al_unit_stored_key(const al_run *r, const al_unit *u, char key[65]);
/* Absolute path of a file of an item (generated ones live under OUT). */
void al_item_path(const al_run *r, int item, int f, char *out, size_t n);

/* Parameters with canonical names, sorted, path values replaced by the identity of their file: the part of
 * the key that parameters contribute. NULL when out of memory (or a path parameter cannot be read: e set). */
cJSON *al_params_canonical(al_run *r, const al_step *st, al_error *e);

/* run.json: spec (text and sha256), version, shard, items with identities, units with keys and states. */
al_status al_run_write_manifest(al_run *r, al_error *e);
/* Combined tables OUT/tables/STEP/NAME.{tsv,json}, figures OUT/figures/, then OUT/report.md. */
al_status al_run_finish(al_run *r, al_error *e);

/* Prints the summary line (unless quiet) and, when units failed, one "attnlab: error:" line naming the first;
 * returns the exit status (0, or the first failed unit's). */
int al_run_outcome(const al_run *r, const char *who);

/* The progress of the driver: a bar on a terminal, one plain line per unit otherwise (silent with --quiet). */
void al_run_say(const al_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
