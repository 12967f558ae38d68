/* Rank selection for the tuned KV-cache policies (metrics/kvrow.c): quickselect by rank or by running mass, on
 * the passes of metrics/kvscan.c (AVX2 or plain), and the literal fallback for coverage's close calls. */
#ifndef AL_METRICS_KVSELECT_H
#define AL_METRICS_KVSELECT_H

#include <stdint.h>

/* A ranking's cut: every value > t is taken, then take - gt of the eq values == t (to the lowest keys). */
typedef struct {
    double t;
    int64_t gt, eq, take; /* counts over the whole ranked set */
    double mass;          /* sum of the values taken, in no set order: within a few ulps per term of any other */
} al_kv_cut;

/* Quickselect over the values src [0, n): when r >= 0, the value of rank r (0-based, decreasing); for r < 0,
 * coverage: the fewest largest values whose running sum, adding them by decreasing value as the reference does,
 * reaches g (est: its expected count, which only guides the pivots; < 0 when unknown). Each pass partitions
 * what remains into two of the scratch buffers buf[3] ([n + 8] each); first, when not NULL, is the first pass
 * already made (al_kv_part of src, shared by the selections of one row). Returns 0 (c set), 1 when coverage's sum
 * seems never to reach g (the caller confirms it, from all the positive values), -1 when coverage's sums cannot
 * decide: they run in another order than the reference's, so a crossing within tol = 8 (k + 4) 2^-53 (mass + g)
 * of g is left to al_kv_cover_exact (sums of k positive terms in any order lie within 2.01 k 2^-53 of each other,
 * and the terms up to a crossing are all positive). */
typedef struct {
    float p;              /* the pivot */
    const float *G, *L;   /* [g], [l]: the values above and below it */
    int64_t g, l;
    double mg;            /* sum of the values above, as al_kv_part returns it */
} al_kv_first;
int al_kv_cut_find_f(const float *src, int64_t n, int64_t r, double g, double est, const al_kv_first *first,
                     float *const buf[3], al_kv_cut *c);
/* That first pass over a [n] (n > 8), around the median of three, into G and L ([n + 8] each). */
void al_kv_first_pass(const float *a, int64_t n, float *G, float *L, al_kv_first *f);
/* By rank only, over doubles src [0, n) (0 <= r < n), partitioning between x and y ([n] each; src in neither or
 * y). Returns 0. */
int al_kv_cut_find(const double *src, int64_t n, int64_t r, double *x, double *y, al_kv_cut *c);
/* Coverage decided literally: x [n] (all of the row's values) sorted and summed as the reference does. */
void al_kv_cover_exact(double *x, int64_t n, double g, al_kv_cut *c);

/* The passes (metrics/kvscan.c): AVX2 where the processor has it (not with ATTNLAB_NO_SIMD set), else plain;
 * the same output either way, checked by the tests. */
/* 3-way partition of s [n] around p: the *g values > p to G, the *l values < p to L (in key order; G, L: [n + 8],
 * the last vector stored whole); those equal to p are only counted out. Returns the sum of the values > p (in 8
 * lanes by key mod 8, folded in a fixed order). */
double al_kv_part(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l);
double al_kv_part_plain(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l);
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
