/* KV-compression methods as shipped (KVPress's presses, docs/kvsim.md "Methods"): parsing, budgets, the scoring
 * kernels that turn what a method sees at the end of the prompt into key scores, and the selection of the kept
 * keys per KV head (quickselect), each with a literal reference twin. Pure kernels, explicit shapes. */
#ifndef AL_METRICS_KVPRESS_H
#define AL_METRICS_KVPRESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    AL_KVM_STREAMING, /* StreamingLLM: sinks and the most recent keys */
    AL_KVM_KNORM,     /* smallest key norms */
    AL_KVM_SNAPKV,    /* mean attention of the last `window` prompt queries, pooled */
    AL_KVM_TOVA,      /* the last prompt query's attention, mean over all heads of the layer */
    AL_KVM_OBSERVED,  /* mean attention received from the prompt's queries */
    AL_KVM_EXPECTED,  /* expected attention of future queries from the prompt queries' mean and covariance */
    AL_KVM_PYRAMID,   /* SnapKV scores, per-layer budgets */
    AL_KVM_ADAKV,     /* a scorer's scores, the layer's budget shared across its KV heads by one top-k */
    AL_KVM_DUO,       /* DuoAttention: streaming heads keep sinks and recent keys, retrieval heads all */
    AL_KVM_QUEST,     /* per decoding query, pages of keys ranked by their min/max key bound */
    AL_KVM_RANDOM,    /* uniform random scores: the floor */
    AL_KVM_H2O,       /* decoding mode only: attention received while generating */
    AL_KVM_COUNT
} al_kvm_kind;

typedef enum { AL_GQA_MEAN, AL_GQA_MAX } al_gqa;

typedef struct {
    al_kvm_kind kind, base; /* base: adakv's scorer (else == kind) */
    int64_t sink, window, kernel, beta, page, recent;
    double alpha, eps;
    int cov, vnorm;
    uint64_t seed;
    char gates[1024]; /* duo: gate file ("" : heads split by the prompt's distant mass) */
} al_kvmethod;

extern const char *const al_kvm_name[AL_KVM_COUNT];

/* Parses NAME[:key=value,...] (adakv:BASE[,key=value...]); defaults as kvpress 0.5.5. Returns 0, or -1 with a
 * reason in why[n] naming what is wrong. */
int al_kvmethod_parse(const char *spec, al_kvmethod *m, char *why, size_t n);
/* Whether the method can run on a prompt of P keys in a model of L layers at compression ratio r (and, decoding,
 * with a cache of C keys; 0 when prefilling). 0, or -1 with the reason in why[n]. */
int al_kvmethod_check(const al_kvmethod *m, double r, int64_t P, int64_t C, char *why, size_t n);

/* kvpress's budget: max(1, int(P (1 - r))) keys per KV head (0 <= r < 1), sinks and windows inside it. */
int64_t al_kvm_budget(int64_t P, double r);
/* PyramidKV's budget for layer l of L (kvpress PyramidKVPress.get_layer_budget, round half to even). */
int64_t al_kvm_pyramid_budget(int64_t P, double r, int64_t window, int64_t beta, int64_t L, int64_t l);

/* Scoring kernels. All write s [n] (higher: keep). */
/* out [n] = mean or max over G rows of x [G, ldx] (the query heads of one KV group). */
void al_kvm_group(const double *x, int64_t G, int64_t ldx, int64_t n, al_gqa agg, double *out);
/* Average pooling of x [n] with an odd kernel, zero padding counted (torch avg_pool1d, padding kernel / 2). */
void al_kvm_pool(const double *x, int64_t n, int64_t kernel, double *out);
/* -||k_j|| of k [n, D]. */
void al_kvm_knorm(const float *k, int64_t n, int64_t D, double *s);
/* Expected attention of one query head over keys j >= sink: q [P, D] its prompt queries (queries from sink on
 * give the mean mu and covariance C), k [P, D]; s[j] = softmax_j(mu.k_j / sqrt(D) + k_j^T C k_j / (2 D)) for
 * j >= sink (cov = 0: no covariance term), s[j] = 0 below. work [D + D * D] doubles. */
void al_kvm_expected(const float *q, const float *k, int64_t P, int64_t D, int64_t sink, int cov, double *work,
                     double *s);
/* Quest's bound for each page of `page` keys of k [n, D] given query q [D]: sum_d max(q_d kmin_d, q_d kmax_d)
 * (in float); kmin, kmax [npages, D] precomputed by al_kvm_pages. */
void al_kvm_pages(const float *k, int64_t n, int64_t D, int64_t page, float *kmin, float *kmax);
void al_kvm_quest(const float *q, const float *kmin, const float *kmax, int64_t npages, int64_t D, double *s);

/* sum of a [n] over the keys keep [n] (0/1) marks, in double, in 4 lanes by key mod 4 folded (0 + 1) + (2 + 3):
 * AVX2 where the processor has it, else plain, the same sum either way. */
double al_kvm_kept_sum(const float *a, const uint8_t *keep, int64_t n);
double al_kvm_kept_sum_plain(const float *a, const uint8_t *keep, int64_t n);

/* Selection: keep [n] 0/1 marks the k largest of s [n], ties to the lower index. Tuned: quickselect (x, y [n]
 * scratch); reference: repeated linear scans. Both return k (clamped to n). */
int64_t al_kvm_select(const double *s, int64_t n, int64_t k, double *x, double *y, uint8_t *keep);
int64_t al_kvm_select_ref(const double *s, int64_t n, int64_t k, uint8_t *keep);
/* AdaKV over a layer: S [H, n] scores of its KV heads; each head first keeps its n_safe = int(k alpha) best
 * (at least 1 when alpha > 0), then the rest of the layer's H k keys go to the largest remaining scores, ties to
 * the lower flattened index. keep [H, n]. x, y [H n] scratch; work [H n] doubles. */
void al_kvm_adakv(const double *S, int64_t H, int64_t n, int64_t k, double alpha, double *x, double *y, double *work,
                  uint8_t *keep);
void al_kvm_adakv_ref(const double *S, int64_t H, int64_t n, int64_t k, double alpha, uint8_t *keep);

/* DuoAttention's split (kvpress DuoAttentionPress): the round(n r) heads of lowest score x [n] (over all layers
 * and KV heads; ties: lower index first) become streaming heads: streaming [n] = 1. */
void al_kvm_duo_split(const double *x, int64_t n, double r, uint8_t *streaming);
/* The distant mass of one prompt row a [i + 1]: keys sink <= j < i + 1 - recent (duo without a gate file). */
double al_kvm_distant(const float *a, int64_t i, int64_t sink, int64_t recent);

/* The reference twin of a whole prefill decision, read literally from the definitions: one (sample, layer)'s
 * prompt maps A [H, P, P] (double, causal), queries q [H, P, D], keys k [Hkv, P, D], values v [Hkv, P, D] (NULL
 * without), streaming [Hkv] (duo: the split already made, else NULL); keep [Hkv, P]. Quest decides per query. */
typedef struct {
    int64_t H, Hkv, P, D, L, l;
    double ratio;
    al_gqa agg;
    uint64_t sample;
} al_kvm_dims;
void al_kvm_keep_ref(const al_kvmethod *m, const al_kvm_dims *d, const double *A, const float *q, const float *k,
                     const float *v, const uint8_t *streaming, uint8_t *keep);
/* Quest for one decoding query: q [G, D] the group's queries, k [P, D] the prompt's keys of their KV head;
 * keep [P] marks the max(1, budget / page) best pages (the group's bounds aggregated by agg). */
void al_kvm_quest_ref(const al_kvmethod *m, const float *q, int64_t G, const float *k, int64_t P, int64_t D,
                      double ratio, al_gqa agg, uint8_t *keep);

/* Random scores of (seed, sample, layer, KV head): s [n] uniform in [0, 1). */
void al_kvm_random(uint64_t seed, uint64_t sample, int64_t l, int64_t h, int64_t n, double *s);

#endif
