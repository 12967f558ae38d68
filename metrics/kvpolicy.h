/* KV-cache and sparse-attention policies (METRICS.md section 7): which keys K_i one query row of a causal
 * map keeps, and what that costs (retained mass, output error). Pure kernels, explicit shapes. */
#ifndef AL_METRICS_KVPOLICY_H
#define AL_METRICS_KVPOLICY_H

#include <stddef.h>
#include <stdint.h>

typedef enum { AL_KV_WINDOW, AL_KV_SINK, AL_KV_H2O, AL_KV_TOPK, AL_KV_COVERAGE, AL_KV_DUO } al_kv_kind;

typedef struct {
    al_kv_kind kind;
    int64_t s, w, b, k; /* sink tokens, window, heavy hitters, top-k (those the kind uses) */
    double g;           /* coverage target */
    double threshold;   /* duo: gate threshold (with gates) or distant-mass threshold (without) */
    char gates[1024];   /* duo: gate file path (no commas), "" when none */
} al_kvpolicy;

/* Ranking scratch: one value and its key. */
typedef struct {
    double v;
    int64_t j;
} al_kv_rank;

/* Parses a policy SPEC ("window:16", "sink:4,window:16", "h2o:8,window:8", "topk:8", "coverage:0.9",
 * "duo:4,16[,gates=FILE][,threshold=t]"). Returns 0, or -1 with a reason in why[n]. */
int al_kvpolicy_parse(const char *spec, al_kvpolicy *p, char *why, size_t n);

/* Marks K_i of row i. a: [i + 1] the row's keys 0..i; recv: [i + 1] attention received over rows < i (read by
 * h2o only); full: keep every key (a DuoAttention retrieval head). keep: [i + 1] 0/1 output; rk: [i + 1] scratch.
 * *rk_row: 1 when rk already holds this row's keys sorted (set 0 for each new row; the call updates it), so that
 * several policies on one row sort it once. Rankings use a sort (O(i log i)); ties go to the lower key.
 * Returns |K_i|. */
int64_t al_kv_keep(const al_kvpolicy *p, int full, const float *a, int64_t i, const double *recv, uint8_t *keep,
                   al_kv_rank *rk, int *rk_row);
/* Reference: the definition read literally, repeated linear scans for the largest remaining key. */
int64_t al_kv_keep_ref(const al_kvpolicy *p, int full, const float *a, int64_t i, const double *recv, uint8_t *keep);

/* Retained mass of row i (sum of a over kept keys, in key order, double). With values v: [i + 1, ldv] (D used)
 * also *err = ||o_K - o|| / ||o||, o = sum_j a_j v_j, o_K = the kept sum / retained; o: [2, D] scratch. */
double al_kv_row(const float *a, int64_t i, const uint8_t *keep, const float *v, int64_t ldv, int64_t D, double *o,
                 double *err);

#endif
