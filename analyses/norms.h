/* The `norms` analysis: per-token residual-stream norms by layer (Attention-Sink), massive activations (top-3
 * and median |h|, locuslab/massive-activations), key and value norms when /k and /v are recorded. */
#ifndef AL_ANALYSIS_NORMS_H
#define AL_ANALYSIS_NORMS_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/recording.h"

typedef struct {
    int64_t tokens; /* first T tokens; <= 0: the recorded length */
} al_norms_params;

void al_norms_defaults(al_norms_params *p);

/* Samples shorter than T (by /lengths) contribute only their valid tokens: token_norm[t] is the mean over the
 * samples that have token t, top-3 and median run over valid tokens. */
al_status al_norms_run(al_rec *r, const al_norms_params *p, const al_exec *ex, al_result *res, al_error *e);

#endif
