/* Judge scores for role adherence (METRICS.md section 6): the DLA-ICLR `scores.json`
 * {query: {role: [ {GA: {score}, RC, KBA, CC}, ... ]}} or JSON Lines `query, role, GA, RC, KBA, CC[, correct]`. */
#ifndef AL_CRAS_SCORES_H
#define AL_CRAS_SCORES_H

#include <stdint.h>

#include "../core/status.h"
#include "strtab.h"

#define AL_CRAS_NDIM 4
extern const char *const al_cras_dims[AL_CRAS_NDIM]; /* GA, RC, KBA, CC */

typedef struct {
    al_strtab queries;    /* in order of first appearance */
    al_strtab roles;      /* in order of first appearance */
    int64_t npair;        /* (query, role) groups, sorted by query, then first appearance */
    int64_t *pair_q;      /* [npair] */
    int64_t *pair_r;      /* [npair] */
    int64_t *pair_first;  /* [npair] index of its first record */
    int64_t *pair_count;  /* [npair] records (>= 1) */
    int64_t nrec;
    double *score;        /* [nrec, 4] in the order GA, RC, KBA, CC */
    double *correct;      /* [nq] per-query correctness, NaN where unknown */
    int has_correct;
} al_cras_data;

/* Reads either format (JSON Lines when the first line is a whole object with a "query" field). A score outside
 * [1, 5], a missing dimension, a non-numeric score or a malformed (e.g. truncated) file is an error naming the
 * query, role and record (or the line). */
al_status al_cras_read(const char *path, al_cras_data *d, al_error *e);
/* Per-query correctness from CSV `query,correct` (numbers in [0, 1]); replaces values from JSON Lines. */
al_status al_cras_read_correct(const char *path, al_cras_data *d, al_error *e);
void al_cras_free(al_cras_data *d);

#endif
