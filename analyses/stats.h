/* The fused map pass as one library call: sinks, heads and similarity from ONE read of a recording's maps (or
 * q and k). Each output equals what the analysis's own compute gives at the same token count. */
#ifndef AL_ANALYSIS_STATS_H
#define AL_ANALYSIS_STATS_H

#include "heads.h"
#include "similarity.h"
#include "sinks.h"

/* T: the analysed tokens, resolved by the caller (sp->tokens and hp->tokens are not read). An output that is
 * NULL is not computed; the others are filled (release each with its al_X_out_free, also after a failure).
 * Without similarity the per-head engine serves the pass (zero-copy reads, the GPU path); with it, the
 * all-heads row-block stream feeds all three. */
al_status al_stats_compute(al_rec *r, int64_t T, const al_sinks_params *sp, const al_heads_params *hp, const al_exec *x,
                           al_sinks_out *so, al_heads_out *ho, al_similarity_out *jo, al_error *e);

#endif
