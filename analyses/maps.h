/* The `maps` analysis: the attention maps themselves as heatmaps (mean over samples; mean over heads or one
 * panel per head), for chosen layers, with token labels from /token_text when present. Figures only. */
#ifndef AL_ANALYSIS_MAPS_H
#define AL_ANALYSIS_MAPS_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/recording.h"

typedef struct {
    int64_t tokens;     /* analysed tokens; <= 0: the recorded length */
    const char *layers; /* "0,1,2" or "0-3" */
    const char *heads;  /* "mean" (one panel per layer) or "all" (one panel per head) */
    int log;            /* logarithmic colour scale */
} al_maps_params;

void al_maps_defaults(al_maps_params *p);
al_status al_maps_run(al_rec *r, const al_maps_params *p, const al_exec *x, al_result *res, al_error *e);

#endif
