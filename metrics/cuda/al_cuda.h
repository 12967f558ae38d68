/* The CUDA path's C interface: fused statistics of attention maps over device-resident row blocks, flash-style
 * statistics from queries and keys on tensor cores, and KL divergence of logit rows. Each kernel's oracle is
 * the CPU reference beside it (metrics/alpha.c, metrics/headstats.c, metrics/qk.c, metrics/kl.c). */
#ifndef AL_CUDA_H
#define AL_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types as stored: float32, float16, bfloat16 (same numbering as al_dtype's first three). */
enum { AL_CU_F32 = 0, AL_CU_F16 = 1, AL_CU_BF16 = 2 };

/* Per-row totals the map kernel returns, [nrows, AL_CQ] doubles (sums over the row's visible keys but FUT). */
enum {
    AL_CQ_ENT,     /* -sum a ln a */
    AL_CQ_CLARK,   /* -sum a' ln a' over visible keys, a' = 0.9999 a + 1e-4 / T (masked keys added on the host) */
    AL_CQ_FIRST,   /* a[0] */
    AL_CQ_SELF,    /* a[i] */
    AL_CQ_PREV,    /* a[i-1] */
    AL_CQ_NEXT,    /* a[i+1] (non-causal) */
    AL_CQ_DIST,    /* sum a[j] |i - j| */
    AL_CQ_DISTANT, /* sum a[j], s <= j <= i - r */
    AL_CQ_SUM,     /* sum a[j] (validation: rows sum to 1) */
    AL_CQ_BAD,     /* count of entries outside [-1e-3, 1.001] or not finite (validation) */
    AL_CQ_FUT,     /* sum a[j] over a causal row's masked keys j > i (validation: none there) */
    AL_CQ
};

typedef struct {
    int64_t T;       /* analysed keys; rows are query positions row0.. */
    int causal;
    int64_t sink_tokens, recent; /* distant mass window */
    int clark;       /* compute AL_CQ_CLARK */
} al_cu_mapcfg;

/* 0 when a CUDA device can be used; else -1 with a reason in why. */
int al_cuda_init(char *why, size_t n);

/* One stream of map blocks of one shape: pinned, double-buffered host staging and device buffers. */
typedef struct al_cu_maps al_cu_maps;
al_cu_maps *al_cu_maps_new(int64_t T, int64_t max_rows, int elem, char *why, size_t n);
void al_cu_maps_free(al_cu_maps *m);
/* Pinned host buffer `slot` (0 or 1): [max_rows, T] elements of the stored type, to be filled by the reader. */
void *al_cu_maps_staging(al_cu_maps *m, int slot);
/* Zeroes the device column sums of the current head. */
int al_cu_maps_head_begin(al_cu_maps *m);
/* Asynchronously: copies slot's nrows rows to the device, computes the statistics, adds the column sums to the
 * head's, and copies the row totals back. Returns at once; al_cu_maps_wait(slot) finishes it. */
int al_cu_maps_submit(al_cu_maps *m, int slot, int64_t row0, int64_t nrows, const al_cu_mapcfg *cfg);
/* Waits for slot's work; rowtot: [nrows, AL_CQ] of the submitted block. */
int al_cu_maps_wait(al_cu_maps *m, int slot, double *rowtot);
/* Waits for everything and copies the head's column sums: colsum [T]. */
int al_cu_maps_colsum(al_cu_maps *m, double *colsum);

/* Synchronous, for tests: statistics of host rows A [nrows, lda] (stored type elem) on the device. */
int al_cu_mapstats(const void *A, int elem, int64_t nrows, int64_t lda, int64_t row0, const al_cu_mapcfg *cfg,
                   double *colsum /* [T], added to */, double *rowtot /* [nrows, AL_CQ] */);

/* Per-row outputs of the q/k kernel, [T, AL_QQ] floats: row max, normaliser, and probability-weighted sums. */
enum {
    AL_QQ_M,       /* row max of the scaled logits */
    AL_QQ_L,       /* sum exp(s - m) */
    AL_QQ_ENT,     /* entropy -sum p ln p */
    AL_QQ_FIRST,   /* p[0] */
    AL_QQ_SELF,    /* p[i] */
    AL_QQ_PREV,    /* p[i-1] */
    AL_QQ_DIST,    /* sum p |i - j| */
    AL_QQ_DISTANT, /* sum p over s <= j <= i - r */
    AL_QQ
};

typedef struct {
    int64_t T, D;
    double scale;
    int causal;
    int64_t sink_tokens, recent;
    int fast; /* float32 inputs: single-pass TF32 instead of 3xTF32 (METRICS.md section 8: --precision fast) */
} al_cu_qkcfg;

/* Statistics of one head from q [T, D] and k [T, D] (stored type elem, host memory): rows [T, AL_QQ] (double)
 * and column sums colsum [T] (double) of the probabilities. The T x T map is never formed. */
int al_cu_qkstats(const void *q, const void *k, int elem, const al_cu_qkcfg *cfg, double *rows, double *colsum);

/* KL(test || ref) of R logit rows of V entries each (float32, host): out [R]. */
int al_cu_kl_rows(const float *test, const float *ref, int64_t R, int64_t V, double temperature, double *out);

/* Benchmarks on device-resident data (ms per call, median of reps); -1 on error. */
double al_cu_bench_mapstats(int64_t heads, int64_t T, int elem, int reps, double *gbs);
double al_cu_bench_copy(size_t bytes, int reps, double *gbs);
double al_cu_bench_qk(int64_t heads, int64_t T, int64_t D, int elem, int fast, int reps);

const char *al_cuda_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
