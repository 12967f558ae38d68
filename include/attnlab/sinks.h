/* Attention sinks (spec METRICS.md section 1): key importance alpha per head, the sink rate Sink_k^eps overall
 * and per layer, hidden sinks. al_sinks_compute fills al_sinks_out with sufficient statistics (integer hit
 * counts, sums of alpha over samples) from which every reported number follows. */
#ifndef ATTNLAB_SINKS_H
#define ATTNLAB_SINKS_H

#include <stdint.h>

#include "exec.h"
#include "export.h"
#include "recording.h"
#include "status.h"

typedef struct {
    double epsilon;             /* sink threshold, default 0.3 */
    int64_t tokens;             /* analysed tokens; <= 0: the default 64 (causal) or the whole map */
    int64_t positions;          /* K: report Sink_0..Sink_{K-1}; <= 0: min(10, T) */
    double hidden_threshold;    /* tau for hidden sinks, default 0.1 */
    int64_t hidden_min_queries; /* hidden sinks only among keys seen by >= m queries (causal), default 16 */
} al_sinks_params;

/* Sufficient statistics of one or more recordings of one shape. Outputs of the same shape and parameters merge
 * exactly: hits, N and skipped add as integers, alpha_sum adds (al_sinks_merge). */
typedef struct {
    al_sinks_params params; /* as resolved: tokens = T, positions = K */
    int64_t N, L, H, T, K;  /* samples analysed, layers, query heads, analysed tokens, reported positions */
    int64_t skipped;        /* samples with fewer than T valid tokens, left out (Sink_k needs one common T) */
    int causal;
    int64_t *hits;     /* [L, K] (sample, head) pairs of the layer with float(alpha[k]) > float(eps) */
    double *alpha_sum; /* [L, H, T] alpha of each head summed over samples */
} al_sinks_out;

AL_API void al_sinks_defaults(al_sinks_params *p);
/* Resolves tokens, streams the maps, fills out (release with al_sinks_out_free, also after a failure). */
AL_API al_status al_sinks_compute(al_rec *r, const al_sinks_params *p, const al_exec *x, al_sinks_out *out,
                                  al_error *e);
AL_API void al_sinks_out_free(al_sinks_out *o);
/* dst += src; both of one shape (L, H, T, K, causal) and parameters, else AL_ESHAPE / AL_EUSAGE. */
AL_API al_status al_sinks_merge(al_sinks_out *dst, const al_sinks_out *src, al_error *e);
/* The statistics as text (path written whole at a temporary name, then renamed): every number exact, so
 * load(save(o)) == o bit for bit and shards saved apart merge exactly. */
AL_API al_status al_sinks_save(const al_sinks_out *o, const char *path, al_error *e);
/* Fills o (release with al_sinks_out_free); a file that is not such statistics is AL_EFORMAT. */
AL_API al_status al_sinks_load(const char *path, al_sinks_out *o, al_error *e);
/* rate: [K] percent of all (sample, layer, head) over eps; lrate: [L, K] the same per layer (either may be NULL). */
AL_API void al_sinks_rates(const al_sinks_out *o, double *rate, double *lrate);
/* mean: [T] alpha of head (l, h) averaged over samples. */
AL_API void al_sinks_head_alpha(const al_sinks_out *o, int64_t l, int64_t h, double *mean);
/* Hidden sinks of head (l, h): positions j >= 1 of its mean alpha over tau; pos: [T]. Returns the count, or -1
 * when out of memory. */
AL_API int64_t al_sinks_hidden(const al_sinks_out *o, int64_t l, int64_t h, int64_t *pos);

#endif
