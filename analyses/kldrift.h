/* The `kl-drift` analysis (METRICS.md section 4): D_t per conversation turn from token KLs or precomputed values,
 * per-turn statistics, the pooled equilibrium fit with bootstrap intervals over conversations, interventions. */
#ifndef AL_ANALYSIS_KLDRIFT_H
#define AL_ANALYSIS_KLDRIFT_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/drift.h"
#include "../datasets/turns.h"
#include "../metrics/linfit.h"

typedef struct {
    double temperature;    /* softmax(logits / temperature), default 1 */
    const char *token_agg; /* "mean" (default) or "sum": D_t from the turn's token KLs */
    int64_t bootstrap;     /* resamples, default 1000; 0: no intervals */
    int64_t seed;          /* default 0 */
} al_kldrift_params;

void al_kldrift_defaults(al_kldrift_params *p);

/* D_t per (conversation, turn) from the token rows of a drift file, read in row blocks that fit in x->mem. */
al_status al_kldrift_series(al_drift *d, const al_kldrift_params *p, const al_exec *x, al_turn_series *s, al_error *e);

/* The equilibrium fit of one set of conversations, with its bootstrap. */
typedef struct {
    al_linfit f;           /* a, b, r2 */
    int64_t n_pairs, n_conv; /* pairs and the conversations that contribute them */
    double kappa, eq;      /* -b; -a / b when b < 0, else NaN */
    int64_t resamples, used, left_out, degenerate; /* left_out: b >= 0; degenerate: x without spread */
    double kappa_ci[2], eq_ci[2]; /* NaN when no resample was usable */
} al_eqfit;

/* Fits the conversations c with in[c] != 0 (in == NULL: all). Bootstrap streams use `purpose`
 * (0 all conversations, 1 intervention, 2 no intervention; see metrics/bootstrap.h). */
al_status al_kldrift_fit(const al_turn_series *s, const uint8_t *in, const al_kldrift_params *p, uint64_t purpose,
                         al_eqfit *out, al_error *e);

/* Per-turn mean, sd (n - 1) and count over the conversations with in[c] != 0 (NULL: all). turns, mean, sd, n:
 * [s->n] room; returns the number of distinct turns. */
int64_t al_kldrift_turn_stats(const al_turn_series *s, const uint8_t *in, int64_t *turns, double *mean, double *sd,
                              int64_t *n);

/* Fills res: turns, fit, interventions, tables and figures. source (owned by res afterwards) describes the
 * input; path names it in messages. No pair of consecutive turns to fit is an error. */
al_status al_kldrift_report(const al_turn_series *s, const al_kldrift_params *p, const char *path, cJSON *source,
                            al_result *res, al_error *e);

/* Whole analysis on path: a drift file (HDF5) or precomputed per-turn values (CSV / JSON Lines). */
al_status al_kldrift_run(const char *path, const al_kldrift_params *p, const al_exec *x, al_result *res, al_error *e);

#endif
