/* Synthetic recordings with known planted structure, for demos, tests and benchmarks. Each head gets a
 * role by (layer * H + head) mod 6: sink, previous, local, hidden, broad, retrieval (see docs/synth.md). */
#ifndef AL_SYNTH_H
#define AL_SYNTH_H

#include <stdint.h>

#include "../core/dtype.h"
#include "../core/status.h"

typedef enum { AL_SYN_SINK, AL_SYN_PREV, AL_SYN_LOCAL, AL_SYN_HIDDEN, AL_SYN_BROAD, AL_SYN_RETRIEVAL, AL_SYN_NKINDS } al_syn_kind;

extern const char *const al_syn_kind_names[AL_SYN_NKINDS];

typedef struct {
    uint64_t seed;
    int64_t samples, layers, heads, kv_heads, tokens, head_dim;
    al_dtype dtype;
    int bidirectional;
} al_synth_params;

void al_synth_defaults(al_synth_params *p);
al_syn_kind al_synth_kind_of(int64_t l, int64_t h, int64_t H);
/* Position of the planted hidden sink for a recording of T tokens. */
int64_t al_synth_hidden_pos(int64_t T);
/* Row i (keys 0..T-1) of the planted map of (n, l, h) in double: out [T]. Pure: no I/O. */
void al_synth_row(const al_synth_params *p, int64_t n, int64_t l, int64_t h, int64_t i, double *logits, double *out);
/* Writes the recording (atomically). */
al_status al_synth_write(const al_synth_params *p, const char *path, al_error *e);

/* `synth qk`: queries and keys with a planted first-token sink in head 0 of each layer; with_maps adds the
 * attention maps they imply (softmax in double of the stored q and k). */
al_status al_synth_qk_write(const al_synth_params *p, const char *path, int with_maps, al_error *e);

/* `synth drift`: writes DIR/baseline.h5 and DIR/conflict.h5 (created together; on failure neither is left).
 * Spans system [0, T/4), user, response [T - T/4, T) in the baseline; the conflict recording's user span is
 * T/4 tokens longer. Planted drift heads: max(1, round(L H / 10)) heads from layer L/2 on, stored in the root
 * attribute planted_drift_heads as "layer,head" strings. */
al_status al_synth_drift_write(const al_synth_params *p, const char *dir, al_error *e);
/* The planted drift heads: their count, and [k, 2] (layer, head) pairs into lh when it is not NULL. */
int64_t al_synth_drift_heads(const al_synth_params *p, int64_t *lh);
/* Spans [3, 2] (system, user, response) of the baseline (conflict = 0) or conflict recording for T tokens. */
void al_synth_drift_spans(int64_t T, int conflict, int32_t *span);

#endif
