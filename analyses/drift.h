/* The `drift` analysis (METRICS.md section 3, the project's own definition): how attention over named spans
 * moves between a baseline and a conflict recording; per-head components, score, focal heads and layers. */
#ifndef AL_ANALYSIS_DRIFT_H
#define AL_ANALYSIS_DRIFT_H

#include "../core/result.h"
#include "../datasets/recording.h"
#include "stream.h"

typedef struct {
    const char *query_span;  /* default "response" (else the last token) */
    const char *target_span; /* default "system" */
    int query_given, target_given; /* set on the command line: a missing span is then an error */
    double top_percent;      /* focal heads: top-percent of all heads, default 10 */
} al_drift_params;

void al_drift_defaults(al_drift_params *p);

/* Per-sample group distributions of one recording, filled by a streaming pass (visitor below). */
typedef struct {
    int64_t N, L, H, T, G, S; /* T analysed tokens; G key groups = S named spans + 1 ("other"), or T keys */
    const int32_t *span;      /* [N, S, 2] spans in group order (NULL in per-key mode) */
    const uint8_t *inside;    /* [N, T] 1 where a span covers the key (NULL in per-key mode) */
    const int64_t *qrows;     /* [N, 2] query rows [q0, q1) per sample */
    double *dist;             /* [N, L, H, G] mean over query rows (output) */
} al_drift_pass;
al_map_visitor al_drift_visitor(al_drift_pass *p);

/* Everything after the two passes: components, scores, focal sets, JSON, tables, figures. p, q: [N, L, H, G];
 * names: [G] group labels; target: group index. */
al_status al_drift_report(const double *p, const double *q, int64_t N, int64_t L, int64_t H, int64_t G, int64_t target,
                          const char *const *names, const al_drift_params *prm, al_result *res, al_error *e);

/* Whole analysis: checks that the recordings match, aligns them through their spans, streams both. */
al_status al_drift_run(al_rec *base, al_rec *conf, const al_drift_params *p, const al_exec *x, al_result *res, al_error *e);

#endif
