/* Streaming in the other order: per sample, blocks of rows of every (layer, head) at once, which pairs of heads
 * need; memory is bounded by --mem through the block height, never by the number of maps. */
#ifndef AL_STREAM_ROWS_H
#define AL_STREAM_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/exec.h"
#include "../datasets/recording.h"

typedef struct {
    void *ctx;
    /* A: [P, nrows, lda], P = L * H, head p = l * H + h: rows row0..row0+nrows-1 of sample n, keys 0..Tn-1
     * (Tn = al_sample_tokens(r, n, T): the sample's own valid tokens; lda >= Tn), already validated. Called
     * serially in (sample, row) order, rows 0..Tn-1; the visitor may run OpenMP inside. ent: [P, nrows] the rows'
     * entropies where the engine has them (from q and k: from the logits), else NULL. */
    al_status (*block)(void *ctx, int64_t n, int64_t Tn, const float *A, int64_t P, int64_t lda, int64_t row0,
                       int64_t nrows, const double *ent, al_error *e);
} al_rows_visitor;

/* Rows per block for T keys when the visitor needs extra bytes of scratch per map element beside the float32
 * block itself: the whole set fits in half of mem (at least 1 row, at most T). */
int64_t al_stream_rows_all(const al_rec *r, int64_t T, int64_t mem, size_t extra);

/* Streams the first T rows and keys of all maps (each sample's valid ones), B rows at a time (from recorded maps, or
 * from q and k when the recording has no maps or x->from_qk). */
al_status al_stream_all_heads(al_rec *r, int64_t T, int64_t B, const al_exec *x, al_rows_visitor *v, al_error *e);

#endif
