/* KV-cache and sparse-attention policies (METRICS.md section 7): which keys K_i one query row of a causal
 * map keeps, and what that costs (retained mass, output error). Pure kernels, explicit shapes. */
#ifndef AL_METRICS_KVPOLICY_H
#define AL_METRICS_KVPOLICY_H

#include <stddef.h>
#include <stdint.h>

#include "kvselect.h"

typedef enum { AL_KV_WINDOW, AL_KV_SINK, AL_KV_H2O, AL_KV_TOPK, AL_KV_COVERAGE, AL_KV_DUO } al_kv_kind;

typedef struct {
    al_kv_kind kind;
    int64_t s, w, b, k; /* sink tokens, window, heavy hitters, top-k (those the kind uses) */
    double g;           /* coverage target */
    double threshold;   /* duo: gate threshold (with gates) or distant-mass threshold (without) */
    char gates[1024];   /* duo: gate file path (no commas), "" when none */
} al_kvpolicy;

/* Parses a policy SPEC ("window:16", "sink:4,window:16", "h2o:8,window:8", "topk:8", "coverage:0.9",
 * "duo:4,16[,gates=FILE][,threshold=t]"). Returns 0, or -1 with a reason in why[n]. */
int al_kvpolicy_parse(const char *spec, al_kvpolicy *p, char *why, size_t n);

/* The tuned evaluation of one row (metrics/kvrow.c), every policy of the row sharing its sums and scratch:
 * al_kv_row_begin once per row, then al_kv_eval per policy. Rankings select (expected O(i)) instead of sorting,
 * on long rows within the band a sample of the row points to (one pass extracts it, checked, else the whole row);
 * kept sets and counts equal the reference's; retained mass agrees with al_kv_row to a few ulps, bit for bit when
 * every key is kept (and al_kv_err makes it al_kv_row's sum exactly). */
typedef struct {
    const float *a;     /* [i + 1] the row's keys 0..i */
    int64_t i;
    const double *recv; /* [i + 1] h2o's received attention over rows < i, or NULL */
    double *pre;        /* [T + 1] pre[k] = a_0 + ... + a_{k-1} in key order (pre[i + 1]: the row's total) */
    double *suf;        /* [T + 1] suf[k] = a_i + a_{i-1} + ... + a_{i-k+1}, from key i down */
    double *x, *y;      /* [T] each: h2o's selection scratch (partitions go from one to the other) */
    int64_t *idx;       /* [T] the keys h2o ranks, in key order */
    float *f[3];        /* [T + 8] each: top-k's and coverage's selection scratch */
    float *ff[2];       /* [T + 8] each: the row's first partition, shared by its rankings */
    al_kv_first first;  /* that partition once made (first.G set) */
    float smp[AL_KV_FEW]; /* the row's sample (al_kv_sample), once taken (sampled set), shared likewise */
    int sampled;
    int64_t npre, nsuf; /* entries of pre, suf filled so far: extended on demand, shared by later policies */
} al_kv_rowctx;

/* Bytes of scratch (ws, 8-byte aligned) for rows of up to T keys; the caller owns it and reuses it every row. */
size_t al_kv_ws_bytes(int64_t T);
void al_kv_row_begin(al_kv_rowctx *c, const float *a, int64_t i, const double *recv, void *ws, int64_t T);
/* |K_i| of policy p on the row (full: keep every key), its retained mass in *mass; keep: [i + 1] 0/1 mask of
 * K_i, or NULL when not needed (only the output error needs it). hint: the policy's state from the row before
 * (0 before the first row), which speeds the selection and never changes what it selects. */
int64_t al_kv_eval(const al_kvpolicy *p, int full, al_kv_rowctx *c, double *hint, double *mass, uint8_t *keep);
/* recv [n] += a [n] (h2o's received attention, in double): AVX2 where available, the same sums either way. */
void al_kv_accum(double *recv, const float *a, int64_t n);
/* o: [D] the full output sum_j a_j v_j of row i, v: [i + 1, ldv]; once per row, shared by every policy. */
void al_kv_out(const float *a, int64_t i, const float *v, int64_t ldv, int64_t D, double *o);
/* Output error of K_i (keep, n = |K_i|) given the full output o: [D]; ok: [D] scratch. The same sums in the same
 * order as al_kv_row, the retained mass *m included: it is replaced by the key-order sum (the error magnifies a
 * difference in the last bits of m when K_i holds nearly all of o). */
double al_kv_err(const float *a, int64_t i, const uint8_t *keep, int64_t n, double *m, const float *v, int64_t ldv,
                 int64_t D, const double *o, double *ok);

/* Reference: marks K_i of row i (a: [i + 1]; recv: [i + 1], read by h2o only; keep: [i + 1] 0/1 output), the
 * definition read literally, repeated linear scans for the largest remaining key. Returns |K_i|. */
int64_t al_kv_keep_ref(const al_kvpolicy *p, int full, const float *a, int64_t i, const double *recv, uint8_t *keep);

/* Retained mass of row i (sum of a over kept keys, in key order, double). With values v: [i + 1, ldv] (D used)
 * also *err = ||o_K - o|| / ||o||, o = sum_j a_j v_j, o_K = the kept sum / retained; o: [2, D] scratch. */
double al_kv_row(const float *a, int64_t i, const uint8_t *keep, const float *v, int64_t ldv, int64_t D, double *o,
                 double *err);

#endif
