/* The state of `kvsim --prefill/--decode`, shared by the pass (kvprefill.c, kvdecode.c) and the report
 * (kvprefill_report.c) only: the methods, what the prompt showed them, their kept sets, the sums over samples. */
#ifndef AL_ANALYSIS_KVPREFILL_ACC_H
#define AL_ANALYSIS_KVPREFILL_ACC_H

#include "../core/table.h"
#include "kvprefill.h"

#define AL_KVP_STATS 3 /* retained, kept_fraction, output_error */
#define AL_KVP_WIN 16  /* distinct SnapKV windows */

struct al_kvp {
    al_rec *r;
    int M, R, Q;                             /* methods, ratios, runs q = method * R + ratio (decoding: R = 1) */
    al_kvmethod *m;                          /* [M] */
    char **names;                            /* [M] the SPEC strings */
    double *ratios;                          /* [R] */
    int64_t N, L, H, Hkv, G, D, T, P, C, np; /* P: prompt (prefill) or cache (decode); np: Quest pages of P */
    al_gqa agg;
    int has_v, decoding;
    int need_col, need_last, need_k, need_q, nwin, ndist;
    int64_t win[AL_KVP_WIN];
    int *wslot, *dslot; /* [M] each: window slot (snapkv, pyramid, adakv:snapkv), distant-mass slot (duo), or -1 */
    /* this sample's */
    double *col;        /* [L, H, P] column sums of the prompt's rows (observed) */
    double *wsum;       /* [nwin, L, H, P] column sums of the last w prompt rows (keys < P - w) */
    double *last;       /* [L, H, P] the last prompt row (tova) */
    double *dist;       /* [ndist, L, H] distant mass summed over the prompt's rows (duo without gates) */
    double *gsc;        /* [M, L, Hkv] duo head scores from a gate file */
    float *k, *v;       /* [L, Hkv, T, D] keys (need_k) and values (has_v) of the sample's tokens */
    float *qb;          /* [L, H, B, D] the block's queries (quest) */
    float *kmin, *kmax; /* [L, Hkv, np, D] Quest's page bounds */
    uint8_t *mask;      /* [Q, L, Hkv, P] kept prompt keys */
    int64_t *nkept;     /* [Q, L, Hkv] */
    uint8_t *pmask;     /* [Q, L, Hkv, B, np] Quest's kept pages for the block's rows */
    int decided;
    int64_t B;
    double *sum;    /* [Q, L, H, STATS] per-sample row means, summed over samples */
    double *pre;    /* [Q, L, Hkv] kept fraction of the prompt, summed over samples (prefill) */
    void *dec;      /* decoding state (kvdecode.c) */
    al_table *kept; /* kvsim_kept rows (--kept), or NULL */
};

/* kvdecode.c: the decoding-time eviction mode. */
al_status al_kvd_begin(al_kvp *a, al_error *e);
void al_kvd_free(al_kvp *a);
/* Rows row0.. of every head (A [L H, nr, lda]); measures of rows from C on added to cur [L H, M, STATS]. */
al_status al_kvd_block(al_kvp *a, int64_t n, const float *A, int64_t lda, int64_t row0, int64_t nr, double *cur,
                       al_error *e);

/* The measures of one row i >= P of a head for one kept set: adds retained mass, kept fraction and output error
 * to s [STATS]. row [i + 1]; keep [P] the kept prompt keys (nk of them; every key from P on is kept); suf_m the
 * row's mass on keys P..i. With values v [i + 1, D]: o [D] the full output, suf_o [D] its part from keys P..i,
 * ok [D] scratch. */
void al_kvp_measure(const al_kvp *a, const float *row, int64_t i, const uint8_t *keep, int64_t nk, const float *v,
                    const double *o, const double *suf_o, double suf_m, double *ok, double *s);

#endif
