/* Per-turn drift values D_t of conversations (METRICS.md section 4): what kl-drift fits. Built from token
 * rows by the analysis, or read here from precomputed CSV / JSON Lines `conversation,turn,kl[,intervention]`. */
#ifndef AL_TURNS_H
#define AL_TURNS_H

#include <stdint.h>

#include "../core/status.h"

typedef struct {
    int64_t n;                  /* (conversation, turn) values, sorted by conversation, then turn */
    int64_t *conv;              /* [n] conversation index */
    int64_t *turn;              /* [n] */
    double *d;                  /* [n] D_t */
    int64_t nconv;
    char **conv_name;           /* [nconv], in sorted order: numerically when all ids are integers */
    uint8_t *conv_intervention; /* [nconv] 1: some row of the conversation had intervention = 1 */
    int has_intervention;       /* the input carried intervention flags */
} al_turn_series;

/* Allocates the arrays for n values and nconv conversations (names NULL). */
al_status al_turns_alloc(al_turn_series *s, int64_t n, int64_t nconv, al_error *e);
void al_turns_free(al_turn_series *s);

/* Precomputed values: JSON Lines when the first character is '{', CSV otherwise. A repeated
 * (conversation, turn) or a non-finite kl is an error naming the line. */
al_status al_turns_read(const char *path, al_turn_series *s, al_error *e);

#endif
