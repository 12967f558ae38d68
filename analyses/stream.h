/* The streaming engine for map analyses: reads maps in blocks of query rows sized from --mem, validates
 * each block, and hands it to every registered visitor, so several statistics share one read of the file.
 *
 * Contract for visitors (what makes results independent of --threads):
 *  - per head: head_begin, then block for rows in increasing order, then head_done;
 *  - heads of one batch are processed concurrently, each with its own workspace ws (ws_bytes, zeroed);
 *    head_begin and block may write only to ws (and read ctx);
 *  - head_done calls are serialised, in (layer, sample, head) order: the place to fold ws into ctx. */
#ifndef AL_STREAM_H
#define AL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/exec.h"
#include "../datasets/recording.h"

typedef struct {
    int64_t n, l, h; /* sample, layer, query head */
    int64_t T;       /* this sample's analysed tokens, rows and keys: min(window, its valid length) */
    int causal;
    const double *row_entropy; /* in block(): the block's row entropies [nrows] where the engine has them
                                * (q/k path: from the logits), else NULL */
} al_head_id;

/* Padded batches (/lengths): every engine streams sample n over its own valid tokens only, rows and keys
 * 0..hd->T-1 with hd->T = al_sample_tokens(r, n, window) <= window; workspaces are sized for the window. A
 * visitor that needs one common T (the sink rate) skips the samples with hd->T < its window itself. */
typedef struct {
    void *ctx;
    size_t ws_bytes; /* per-head workspace, given the window T at registration */
    void (*head_begin)(void *ctx, const al_head_id *hd, void *ws); /* may be NULL */
    /* A: [nrows, lda] rows row0..row0+nrows-1 of the head's map, keys 0..T-1 (lda >= T). */
    void (*block)(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0, int64_t nrows);
    void (*head_done)(void *ctx, const al_head_id *hd, void *ws);
    /* Optional, for engines that compute the statistics elsewhere (--device cuda): instead of blocks, the head's
     * column sums colsum [T] and row sums hs [AL_HS_COUNT] (metrics/headstats.h layout) over all its rows.
     * A visitor without it cannot run on the GPU. */
    void (*head_summary)(void *ctx, const al_head_id *hd, void *ws, const double *colsum, const double *hs);
    int needs_clark, needs_classes; /* what hs must hold; the GPU engine refuses what it cannot give */
    int needs_window;               /* hs[AL_HS_DISTANT] is used, with this window: */
    int64_t sink_tokens, recent;
} al_map_visitor;

/* Rows per block for a batch of P heads of T keys within a budget of mem bytes (at least 1, at most T). */
int64_t al_stream_rows(int64_t T, int64_t P, int64_t mem, size_t elem_bytes);

/* Streams the first T rows and keys of the map of every (layer, sample, head); with --device cuda the
 * statistics are computed on the GPU (analyses/stream_cuda.c) and handed over through head_summary. */
al_status al_stream_maps(al_rec *r, int64_t T, const al_exec *x, al_map_visitor *v, int nv, al_error *e);

/* Resolves --tokens for map analyses: causal maps take tokens (or def when tokens <= 0, or the longest
 * sample's valid length when def <= 0 too); non-causal ones are analysed whole and reject another value. T may
 * not exceed the longest sample; shorter samples are analysed over their own length. Returns T or -1 (e set). */
int64_t al_resolve_tokens(const al_rec *r, int64_t tokens, int64_t def, al_error *e);

/* Tokens of sample n analysed in a window of T: min(T, its valid length). */
int64_t al_sample_tokens(const al_rec *r, int64_t n, int64_t T);

/* Samples with fewer than T valid tokens, which an analysis needing one common T leaves out; unless quiet, a
 * warning on stderr says how many and for which analysis. */
int64_t al_short_samples(const al_rec *r, int64_t T, const char *analysis, int quiet);

/* Valid (sample, row) pairs in a window of T: the sum over samples of al_sample_tokens. */
int64_t al_valid_rows(const al_rec *r, int64_t T);

#ifdef AL_HAVE_CUDA
al_status al_stream_cuda(al_rec *r, int64_t T, const al_exec *x, al_map_visitor *v, int nv, al_error *e);
#endif

#endif
