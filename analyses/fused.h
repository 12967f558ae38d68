/* One read of a recording for several map analyses: per-head statistics (sinks, heads) are fed from the
 * all-heads row-block stream that pairwise statistics (similarity) need, so `attnlab stats` reads the maps once. */
#ifndef AL_FUSED_H
#define AL_FUSED_H

#include "stream.h"
#include "stream_rows.h"

typedef struct al_fused al_fused;

/* Wraps per-head visitors v [nv] (copied) for the all-heads stream of r at T tokens; rows: an optional
 * all-heads visitor called after them on the same block. */
al_fused *al_fused_new(const al_rec *r, int64_t T, const al_map_visitor *v, int nv, const al_rows_visitor *rows,
                       al_error *e);
al_rows_visitor al_fused_visitor(al_fused *f);
/* Bytes per map element the fused visitor keeps beside the block (for sizing blocks from --mem). */
size_t al_fused_extra_bytes(const al_rec *r, int64_t T, const al_map_visitor *v, int nv);
void al_fused_free(al_fused *f);

#endif
