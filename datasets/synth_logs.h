/* Synthetic model-output logs with planted answers (KL drift with reminders, similarities across generations,
 * CRAS judge scores): the stand-ins that let the paper-protocol specs run as shipped. */
#ifndef AL_SYNTH_LOGS_H
#define AL_SYNTH_LOGS_H

#include <stdint.h>

#include "../core/status.h"

/* Per-turn D_t as CSV conversation,turn,kl,intervention: D_1 = start + noise |z|, then
 * D_{t+1} = D_t + kappa (E - D_t) + noise z, floored at 0, with E = equilibrium, or equilibrium (1 - effect) in
 * the reminder conversations (the first round(reminders x C)), whose turns t with t mod every == 0 carry
 * intervention = 1. */
typedef struct {
    uint64_t seed;
    int64_t conversations, turns, reminder_every;
    double kappa, equilibrium, start, noise, reminders, reminder_effect;
} al_synth_kl_params;

/* Similarities as CSV direction,generation,sample,similarity for the four directions of the reference
 * (t2t, i2i at g = 2, 4, ..., 20; t2i, i2t at g = 1, 3, ..., 19): a exp(-b g) + c with planted (b, c) per
 * direction, a = 1 - c, plus noise per sample, clipped to [-1, 1]. */
typedef struct {
    uint64_t seed;
    int64_t samples;
    double noise;
} al_synth_sem_params;

/* Judge scores as JSON Lines query, role, GA, RC, KBA, CC, correct: integer scores
 * clamp(round(3 + q_quality + role_bias + dim_bias + 0.7 z), 1, 5); correct = 1 when the query's quality > 0. */
typedef struct {
    uint64_t seed;
    int64_t queries, records;
    const char *const *roles; /* nroles names; NULL: mathematician, historian, physician, lawyer */
    int nroles;
} al_synth_cras_params;

void al_synth_kl_defaults(al_synth_kl_params *p);
void al_synth_sem_defaults(al_synth_sem_params *p);
void al_synth_cras_defaults(al_synth_cras_params *p);

al_status al_synth_kl_write(const al_synth_kl_params *p, const char *path, al_error *e);
al_status al_synth_sem_write(const al_synth_sem_params *p, const char *path, al_error *e);
al_status al_synth_cras_write(const al_synth_cras_params *p, const char *path, al_error *e);

/* The planted (b, c) of direction d (0..3) and its name. */
void al_synth_sem_planted(int d, const char **name, double *b, double *c);

#endif
