/* The `sinks` analysis (METRICS.md section 1): key importance alpha per head, sink rate Sink_k^eps overall and
 * per layer, hidden sinks. al_sinks_compute fills al_sinks_out, the sufficient statistics (integer hit counts,
 * sums of alpha over samples) from which every reported number follows; analyses/sinks_emit.c presents them. */
#ifndef AL_ANALYSIS_SINKS_H
#define AL_ANALYSIS_SINKS_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/recording.h"
#include "stream.h"

#include "attnlab/sinks.h" /* al_sinks_params, al_sinks_out and their functions */

/* Accumulator, usable as a visitor of a shared streaming pass (the fused `stats` pass). */
typedef struct al_sinks_acc al_sinks_acc;
al_sinks_acc *al_sinks_acc_new(const al_rec *r, int64_t T, const al_sinks_params *p, al_error *e);
al_map_visitor al_sinks_visitor(al_sinks_acc *a);
/* The statistics gathered so far; the accumulator keeps ownership. */
const al_sinks_out *al_sinks_acc_out(const al_sinks_acc *a);
/* Moves the statistics into out and frees the accumulator. */
void al_sinks_acc_take(al_sinks_acc *a, al_sinks_out *out);
void al_sinks_acc_free(al_sinks_acc *a);

/* Presentation (analyses/sinks_emit.c): the sinks fields, tables and figures of res. */
al_status al_sinks_emit(const al_sinks_out *o, al_result *res, al_error *e);

#endif
