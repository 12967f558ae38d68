/* What the driver does for `sinks` beyond calling it: each input's sufficient statistics (stats.json) and their
 * exact combination over inputs, so that shards merged give what one run gives (docs/experiments.md). */
#ifndef AL_RUN_SINKS_H
#define AL_RUN_SINKS_H

#include <stdint.h>

#include "../core/table.h"
#include "run.h"

/* Before the call: the tokens T the analysis will use and the positions K the report shows (the call itself is
 * given --positions T, so that alpha comes back at every position: hidden sinks of the combined alpha need
 * them). Fails (exit 2) when K > T, naming the spec's JSON path. */
al_status al_sinks_prepare(const al_run *r, const al_unit *u, int64_t *T, int64_t *K, al_error *e);
/* After the call: stage/stats.json from stage/sinks.json and the recording's sample count. */
al_status al_sinks_write_stats(const al_run *r, const al_unit *u, const char *stage, int64_t K, al_error *e);

/* Combined tables sinks_rate, sinks_layers, sinks_heads (the names and columns `sinks` uses) over the given unit
 * folders' stats.json: hits summed, alpha means weighted by sample counts, hidden sinks of the combined means.
 * With one unit the tables equal the analysis's own. Inputs of different shapes: one set per input, stacked with
 * an "input" column. With several inputs also sinks_inputs: each input's own Sink_k (input, samples, tokens,
 * sink_0..): when the inputs are models, the per-model table. tables: [4] out, *ntab of them set. */
al_status al_sinks_combine(const char *const *dirs, const char *const *ids, int n, int with_input, al_table **tables,
                           int *ntab, al_error *e);

#endif
