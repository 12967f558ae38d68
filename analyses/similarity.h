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

/* The similarity of a recording's heads, P = L * H in (layer, head) order. */
typedef struct {
    int64_t N, L, H, P, T;
    int64_t rows;  /* valid (sample, row) pairs over the samples, the divisor of the mean (N * T without padding) */
    double *sum;   /* [P, P] upper triangle: JS summed over samples and query rows (the sufficient statistic) */
    double *js;    /* [P, P] mean JS over rows and samples: symmetric, zero diagonal */
    double *mds;   /* [P, 2] classical MDS coordinates of the heads (second column 0 when P = 1) */
    double eig[2]; /* the eigenvalues of the k = min(P, 2) coordinates */
    int64_t k;
} al_similarity_out;

/* Whole analysis: resolve tokens, stream all heads, mean JS and MDS; release out with al_similarity_out_free
 * (also after a failure). */
al_status al_similarity_compute(al_rec *r, const al_similarity_params *p, const al_exec *x, al_similarity_out *out,
                                al_error *e);
void al_similarity_out_free(al_similarity_out *o);

/* Pairwise sums, usable as a visitor of the all-heads row-block stream. B: rows per block it will see. */
typedef struct al_similarity_acc al_similarity_acc;
al_similarity_acc *al_similarity_acc_new(const al_rec *r, int64_t T, int64_t B, al_error *e);
al_rows_visitor al_similarity_visitor(al_similarity_acc *a);
/* After the stream: moves the sums into out and derives js and mds (the accumulator is freed either way). */
al_status al_similarity_acc_finish(al_similarity_acc *a, al_similarity_out *out, al_error *e);
void al_similarity_acc_free(al_similarity_acc *a);

/* Presentation (analyses/similarity_emit.c): the similarity fields, tables and figures of res. */
al_status al_similarity_emit(const al_similarity_out *o, al_result *res, al_error *e);

#endif
