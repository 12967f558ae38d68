/* The `sinks` analysis: key importance alpha per head, sink rate Sink_k^eps overall and per layer,
 * hidden sinks (ACT), from one streaming pass over a recording's maps. */
#ifndef AL_ANALYSIS_SINKS_H
#define AL_ANALYSIS_SINKS_H

#include "../core/result.h"
#include "../datasets/recording.h"
#include "stream.h"

typedef struct {
    double epsilon;             /* sink threshold, default 0.3 */
    int64_t tokens;             /* analysed tokens; <= 0: the default 64 (causal) or the whole map */
    int64_t positions;          /* K: report Sink_0..Sink_{K-1}, default 10 */
    double hidden_threshold;    /* tau for hidden sinks, default 0.1 */
    int64_t hidden_min_queries; /* hidden sinks only among keys seen by >= m queries (causal), default 16 */
} al_sinks_params;

void al_sinks_defaults(al_sinks_params *p);

/* Per-head accumulators, usable as a visitor of a shared streaming pass. */
typedef struct al_sinks_acc al_sinks_acc;
al_sinks_acc *al_sinks_acc_new(const al_rec *r, int64_t T, const al_sinks_params *p, al_error *e);
al_map_visitor al_sinks_visitor(al_sinks_acc *a);
void al_sinks_acc_free(al_sinks_acc *a);
/* Adds the sinks fields, tables and figures to res. */
al_status al_sinks_report(const al_sinks_acc *a, al_result *res, al_error *e);

/* Whole analysis: resolve tokens, stream, report. */
al_status al_sinks_run(al_rec *r, const al_sinks_params *p, const al_common *c, al_result *res, al_error *e);

#endif
