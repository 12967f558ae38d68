/* Per-row statistics of one head's map (METRICS.md section 2, after clarkkev/attention-analysis): entropy,
 * Clark's entropy, first, self, prev, next, distance, distant mass, class mass. Pure kernels, explicit shapes. */
#ifndef AL_METRICS_HEADSTATS_H
#define AL_METRICS_HEADSTATS_H

#include <stdint.h>

/* Slots of a head accumulator: sums over query rows (and the row counts that divide them). */
enum {
    AL_HS_ENTROPY,      /* sum of row entropies over visible keys */
    AL_HS_ENTROPY_NORM, /* sum of entropy / ln(visible) over rows with more than one visible key */
    AL_HS_NORM_ROWS,    /* number of those rows */
    AL_HS_CLARK,        /* sum of Clark-smoothed row entropies (only when cfg->clark) */
    AL_HS_FIRST,        /* sum of A[i, 0] */
    AL_HS_SELF,         /* sum of A[i, i] */
    AL_HS_PREV,         /* sum of A[i, i-1], rows i >= 1 */
    AL_HS_NEXT,         /* sum of A[i, i+1], rows i <= T-2 (non-causal maps) */
    AL_HS_DISTANCE,     /* sum of sum_j A[i, j] |i - j| */
    AL_HS_DISTANT,      /* sum of the mass on keys s <= j <= i - r */
    AL_HS_COUNT         /* then one slot per token class: sum of the mass on the class's keys */
};

typedef struct {
    int64_t T;              /* analysed keys (and rows) */
    int causal;             /* row i sees keys 0..i, else all T */
    int64_t sink_tokens;    /* s of distant_mass */
    int64_t recent;         /* r of distant_mass */
    int clark;              /* also accumulate Clark's entropy (a log per key more) */
    int64_t nclass;         /* K token classes */
    const uint8_t *classes; /* [K, ldc]: 1 where key j belongs to class k (this sample), NULL when K = 0 */
    int64_t ldc;            /* row stride of classes (>= T); 0: T */
    const double *row_entropy; /* [nrows] entropies of the rows given (tuned kernel only), NULL: computed here */
} al_rowstat_cfg;

/* Single-row references, in double, summing keys in index order. a: [vis] (or [T] where noted). */
double al_row_entropy_ref(const float *a, int64_t vis);                  /* -sum a ln a, 0 ln 0 = 0 */
double al_row_clark_entropy_ref(const float *a, int64_t vis, int64_t T); /* a' = 0.9999 a + 1e-4/T on all T keys */
double al_row_distance_ref(const float *a, int64_t vis, int64_t i);      /* sum a[j] |i - j| */
double al_row_distant_ref(const float *a, int64_t vis, int64_t i, int64_t s, int64_t r); /* keys s <= j <= i - r */
double al_row_class_mass_ref(const float *a, int64_t vis, const uint8_t *member);        /* member: [vis] */

/* Adds the rows row0..row0+nrows-1 of one head's map to acc: [AL_HS_COUNT + K]. A: [nrows, lda], lda >= T.
 * The reference calls the single-row functions above; the tuned kernel makes one pass over each row and
 * agrees with it to rounding (relative 1e-12). */
void al_headstats_rows_ref(const float *A, int64_t nrows, int64_t lda, int64_t row0, const al_rowstat_cfg *c,
                           double *acc);
void al_headstats_rows(const float *A, int64_t nrows, int64_t lda, int64_t row0, const al_rowstat_cfg *c, double *acc);

#endif
