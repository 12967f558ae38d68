/* The kvsim accumulator, shared by the streaming part (kvsim.c) and the report (kvsim_report.c) only:
 * per-policy sums over samples, both DuoAttention outcomes, and the per-head workspace layout. */
#ifndef AL_ANALYSIS_KVSIM_ACC_H
#define AL_ANALYSIS_KVSIM_ACC_H

#include "../metrics/kvpolicy.h"
#include "kvsim.h"

#define AL_KV_STATS 3 /* retained, kept_fraction, output_error */

struct al_kvsim_acc {
    int P;
    al_kvpolicy *pol;    /* [P] */
    char **names;        /* [P] the SPEC strings */
    int64_t N, L, H, Hkv, D, T;
    int has_v, need_recv;
    float *v;            /* [N, L, Hkv, T, D] values of the analysed tokens, or NULL */
    uint8_t *gate;       /* [P, L, H] retrieval heads by gate file (duo with gates=), else unused */
    double *sum;         /* [P, 2, L, H, AL_KV_STATS] per-sample row means summed over samples; variant 1: keep all */
    double *dist;        /* [P, L, H] distant mass (s, r = w of the policy) summed over samples (duo) */
    size_t off_o, off_acc, off_row, off_keep, ws_bytes; /* workspace layout (recv [T] at 0) */
};

/* Which accumulated variant of policy q holds head (l, h): 1 for a DuoAttention retrieval head split by distant
 * mass (keep everything), else 0 (heads split by a gate file are simulated as they are in variant 0). */
int al_kvsim_variant(const al_kvsim_acc *a, int q, int64_t l, int64_t h);

#endif
