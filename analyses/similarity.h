/* The `similarity` analysis: Jensen-Shannon divergence between every pair of heads (Clark's smoothing, mean
 * over query rows and samples) and a 2-D classical MDS of the heads from it, as in Clark et al.'s head map. */
#ifndef AL_ANALYSIS_SIMILARITY_H
#define AL_ANALYSIS_SIMILARITY_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/recording.h"
#include "stream_rows.h"

typedef struct {
    int64_t tokens; /* analysed tokens; <= 0: the recorded length */
} al_similarity_params;

void al_similarity_defaults(al_similarity_params *p);

/* Pairwise sums, usable as a visitor of the all-heads row-block stream. B: rows per block it will see. */
typedef struct al_similarity_acc al_similarity_acc;
al_similarity_acc *al_similarity_acc_new(const al_rec *r, int64_t T, int64_t B, al_error *e);
al_rows_visitor al_similarity_visitor(al_similarity_acc *a);
void al_similarity_acc_free(al_similarity_acc *a);
/* js: [P, P] mean JS over rows and samples (symmetric, zero diagonal), P = L * H in (layer, head) order. */
void al_similarity_matrix(const al_similarity_acc *a, double *js);
al_status al_similarity_report(const al_similarity_acc *a, al_result *res, al_error *e);

al_status al_similarity_run(al_rec *r, const al_similarity_params *p, const al_exec *x, al_result *res, al_error *e);

#endif
