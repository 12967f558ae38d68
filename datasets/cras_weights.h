/* Dimension weights for CRAS (METRICS.md section 6): equal by default, from `--weights GA=1,RC=1,KBA=1,CC=1`,
 * or per role from a JSON file {"default": {"GA": 1, ...}, "roles": {"mathematician": {"GA": 2, ...}}}. */
#ifndef AL_CRAS_WEIGHTS_H
#define AL_CRAS_WEIGHTS_H

#include <stdint.h>

#include "../core/status.h"
#include "cras_scores.h"

typedef struct {
    double def[AL_CRAS_NDIM];
    int64_t nrole;
    char **role;                /* [nrole] */
    double (*w)[AL_CRAS_NDIM];  /* [nrole] */
} al_cras_weights;

void al_cras_weights_equal(al_cras_weights *w);
/* "GA=1,RC=1,KBA=1,CC=1": every dimension once, finite and >= 0, with a positive sum. */
al_status al_cras_weights_parse(const char *spec, al_cras_weights *w, al_error *e);
al_status al_cras_weights_read(const char *path, al_cras_weights *w, al_error *e);
/* The weights in force for a role. */
const double *al_cras_weights_for(const al_cras_weights *w, const char *role);
void al_cras_weights_free(al_cras_weights *w);

#endif
