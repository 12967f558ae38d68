/* Rank selection for the tuned KV-cache policies (metrics/kvrow.c): quickselect by rank or by running mass, on
 * the passes of metrics/kvscan.c (AVX2 or plain), the bands read from a row's sample, and coverage's fallback. */
#ifndef AL_METRICS_KVSELECT_H
#define AL_METRICS_KVSELECT_H

#include <stdint.h>

/* A ranking's cut: every value > t is taken, then take - gt of the eq values == t (to the lowest keys). */
typedef struct {
    double t;
    int64_t gt, eq, take; /* counts over the whole ranked set */
    double mass;          /* sum of the values taken, in no set order: within a few ulps per term of any other */
} al_kv_cut;

/* Values a selection sorts outright rather than partitions, and the size of a row's sample. */
enum { AL_KV_FEW = 64 };

/* Quickselect over the values src [0, n): when r >= 0, the value of rank r (0-based, decreasing); for r < 0,
 * coverage: the fewest largest values whose running sum, adding them by decreasing value as the reference does,
 * reaches g (est: its expected count, which only guides the pivots; < 0 when unknown). above values, summing to
 * M, are known to lie above all of src (a band, al_kv_band): r and the counts of c are over them and src together.
 * Each pass partitions what remains into two of the scratch buffers buf[3] ([n + 8] each) until AL_KV_FEW are
 * left, which are sorted; first, when not NULL, is the first pass already made (al_kv_part of src, shared by the
 * selections of one row). Returns 0 (c set), 1 when coverage's sum seems never to reach g (the caller confirms
 * it), -1 when coverage's sums cannot decide: they run in another order than the reference's, so a crossing
 * within tol = 8 (k + 4) 2^-53 (mass + g) of g is left to al_kv_cover_exact (sums of k positive terms in any
 * order lie within 2.01 k 2^-53 of each other, and the terms up to a crossing are all positive). */
typedef struct {
    float p;              /* the pivot */
    const float *G, *L;   /* [g], [l]: the values above and below it */
    int64_t g, l;
    double mg;            /* sum of the values above, as al_kv_part returns it */
} al_kv_first;
int al_kv_cut_find_f(const float *src, int64_t n, int64_t r, double g, double est, const al_kv_first *first,
                     float *const buf[3], int64_t above, double M, al_kv_cut *c);
/* That first pass over a [n] (n > 8), around the median of three, into G and L ([n + 8] each). */
void al_kv_first_pass(const float *a, int64_t n, float *G, float *L, al_kv_first *f);
/* By rank only, over doubles src [0, n) (0 <= r < n), partitioning between x and y ([n] each; src in neither or
 * y). Returns 0. */
int al_kv_cut_find(const double *src, int64_t n, int64_t r, double *x, double *y, al_kv_cut *c);
/* Coverage decided literally: x [n] (all of the row's values) sorted and summed as the reference does. */
void al_kv_cover_exact(double *x, int64_t n, double g, al_kv_cut *c);

/* Where a row's cut likely lies (metrics/kvguess.c), read from its sample d [AL_KV_FEW] (al_kv_sample, ascending):
 * the band [lo, hi] of the row's n values, by rank r or by mass g (rows sum to 1 within 1e-2), that holds the cut
 * unless the sample misleads (rarely: the caller checks). Returns 0, or -1 when the band would hold most of the row. */
int al_kv_guess_rank(const float *d, int64_t n, int64_t r, float *lo, float *hi);
int al_kv_guess_mass(const float *d, int64_t n, double g, float *lo, float *hi);

/* Sorting (metrics/kvsort.c), in AVX2 or by qsort, with the same result. */
/* d [AL_KV_FEW]: the values of a [n] at keys (2 q + 1) n / (2 AL_KV_FEW), sorted ascending (n >= AL_KV_FEW). */
void al_kv_sample(const float *a, int64_t n, float *d);
void al_kv_sample_plain(const float *a, int64_t n, float *d);
/* w [AL_KV_FEW]: the n <= AL_KV_FEW values of v, ascending, at its top; -inf below them. */
void al_kv_sort(const float *v, int64_t n, float *w);
void al_kv_sort_plain(const float *v, int64_t n, float *w);

/* The passes (metrics/kvscan.c): AVX2 where the processor has it (not with ATTNLAB_NO_SIMD set), else plain;
 * the same output either way, checked by the tests. Sums over keys run in 8 lanes by key mod 8, folded in a fixed
 * order. Outputs G, L, B are [n + 8]: the last vector is stored whole. */
int al_kv_simd(void);
/* 3-way partition of s [n] around p: the *g values > p to G, the *l values < p to L (in key order); those equal to
 * p are only counted out. Returns the sum of the values > p. */
double al_kv_part(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l);
double al_kv_part_plain(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l);
/* The band [lo, hi] of s [n]: its *nb values to B (in key order), the *na values > hi only counted; returns
 * their sum. */
double al_kv_band(const float *s, int64_t n, float lo, float hi, float *B, int64_t *nb, int64_t *na);
double al_kv_band_plain(const float *s, int64_t n, float lo, float hi, float *B, int64_t *nb, int64_t *na);
/* The values >= lo of s [n] to B (in key order); returns how many (al_kv_band with hi = +inf, without sums). */
int64_t al_kv_above(const float *s, int64_t n, float lo, float *B);
int64_t al_kv_above_plain(const float *s, int64_t n, float lo, float *B);
/* al_kv_accum (metrics/kvpolicy.h) without AVX2. */
void al_kv_accum_plain(double *recv, const float *a, int64_t n);
/* idx [n]: the keys j < n with x_j >= lo, in key order; returns how many. */
int64_t al_kv_filter(const double *x, int64_t n, double lo, int64_t *idx);
int64_t al_kv_filter_plain(const double *x, int64_t n, double lo, int64_t *idx);

/* Sums in four interleaved partial sums (selections need them within a few ulps): of x [n], and of the positive
 * values of a [n]. */
double al_kv_sum4(const double *x, int64_t n);
double al_kv_possum(const float *a, int64_t n);

#endif
