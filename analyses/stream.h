/* The streaming engine for map analyses: reads each head's map in blocks of query rows sized from --mem,
 * validates each block, and hands it to every registered visitor, so several statistics share one read. */
#ifndef AL_STREAM_H
#define AL_STREAM_H

#include <stdint.h>

#include "../core/cli.h"
#include "../datasets/recording.h"

typedef struct {
    int64_t n, l, h; /* sample, layer, query head */
    int64_t T;       /* analysed tokens: rows and keys */
    int causal;
} al_head_id;

typedef struct {
    void *ctx;
    /* A: [nrows, lda] rows row0..row0+nrows-1 of the head's map, keys 0..T-1 (lda >= T). */
    void (*block)(void *ctx, const al_head_id *hd, const float *A, int64_t lda, int64_t row0, int64_t nrows);
    /* After the head's last block. */
    void (*head_done)(void *ctx, const al_head_id *hd);
} al_map_visitor;

/* Rows per block for a map of T keys within a budget of mem bytes (at least 1, at most T). */
int64_t al_stream_rows(int64_t T, int64_t mem, size_t elem_bytes);

/* Streams maps of every (layer, sample, head), first T rows and keys. */
al_status al_stream_maps(al_rec *r, int64_t T, const al_common *c, al_map_visitor *v, int nv, al_error *e);

/* Resolves --tokens for map analyses: causal maps take tokens (or def when tokens <= 0); non-causal ones are
 * analysed whole and reject a smaller value. Checks sample lengths. Returns T or -1 (e set). */
int64_t al_resolve_tokens(const al_rec *r, int64_t tokens, int64_t def, al_error *e);

#endif
