/* The passes over whole rows behind the KV-cache selections (metrics/kvselect.c): 3-way partition, band and
 * threshold filters, and h2o's running column sum, in AVX2 (8 keys per compare, kept keys packed by a permutation
 * table) or plain C, with the same results. */
#include <math.h>
#include <stdlib.h>

#include "kvpolicy.h"
#include "kvselect.h"

/* The lanes of a sum over keys by key mod 8, folded as the AVX2 path folds its two vectors of four. */
static double al_kv_fold8(const double *l) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

double al_kv_part_plain(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l) {
    int64_t ng = 0, nl = 0;
    double m[8] = {0};
    for (int64_t k = 0; k < n; k++) {
        float v = s[k];
        G[ng] = v;
        L[nl] = v;
        m[k % 8] += v > p ? (double)v : 0.0;
        ng += v > p;
        nl += v < p;
    }
    *g = ng, *l = nl;
    return al_kv_fold8(m);
}

double al_kv_band_plain(const float *s, int64_t n, float lo, float hi, float *B, int64_t *nb, int64_t *na) {
    int64_t b = 0, c = 0;
    double m[8] = {0};
    for (int64_t k = 0; k < n; k++) {
        float v = s[k];
        B[b] = v;
        m[k % 8] += v > hi ? (double)v : 0.0;
        c += v > hi;
        b += v >= lo && !(v > hi);
    }
    *nb = b, *na = c;
    return al_kv_fold8(m);
}

int64_t al_kv_above_plain(const float *s, int64_t n, float lo, float *B) {
    int64_t b = 0;
    for (int64_t k = 0; k < n; k++) {
        B[b] = s[k];
        b += s[k] >= lo;
    }
    return b;
}

void al_kv_accum_plain(double *recv, const float *a, int64_t n) {
    for (int64_t j = 0; j < n; j++) recv[j] += (double)a[j];
}

int64_t al_kv_filter_plain(const double *x, int64_t n, double lo, int64_t *idx) {
    int64_t k = 0;
    for (int64_t j = 0; j < n; j++) {
        idx[k] = j;
        k += x[j] >= lo;
    }
    return k;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include <pthread.h>

#define AL_AVX2 __attribute__((target("avx2")))

static uint32_t al_kv_pack[256][8]; /* lanes of mask m, lowest first: the permutation that packs them */
static int al_kv_avx2, al_kv_ready; /* ready: set (release) once al_kv_init has run */
static pthread_once_t al_kv_once = PTHREAD_ONCE_INIT;

static void al_kv_init(void) {
    for (int m = 0; m < 256; m++)
        for (int k = 0, q = 0; k < 8; k++)
            if (m >> k & 1) al_kv_pack[m][q++] = (uint32_t)k;
    al_kv_avx2 = __builtin_cpu_supports("avx2") && !getenv("ATTNLAB_NO_SIMD");
}

static int al_kv_has_avx2(void) {
    if (!__atomic_load_n(&al_kv_ready, __ATOMIC_ACQUIRE)) { /* selections on short rows call this very often */
        pthread_once(&al_kv_once, al_kv_init);
        __atomic_store_n(&al_kv_ready, 1, __ATOMIC_RELEASE);
    }
    return al_kv_avx2;
}

/* Stores the lanes of v in mask m, packed, at d (writing 8 floats: d has room); returns how many. */
AL_AVX2 static inline int al_kv_put(float *d, __m256 v, unsigned m) {
    _mm256_storeu_ps(d, _mm256_permutevar8x32_ps(v, _mm256_loadu_si256((const __m256i *)al_kv_pack[m])));
    return __builtin_popcount(m);
}

/* The last 0 < n < 8 values at s, the other lanes pad (a masked load: no bytes read past the row). */
AL_AVX2 static inline __m256 al_kv_tail(const float *s, int64_t n, __m256 pad) {
    __m256i in = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_blendv_ps(pad, _mm256_maskload_ps(s, in), _mm256_castsi256_ps(in));
}

/* al_kv_fold8 of lanes m0 (keys 0..3 mod 8) and m1 (4..7), in registers, in the same order. */
AL_AVX2 static inline double al_kv_fold(__m256d m0, __m256d m1) {
    __m256d h = _mm256_hadd_pd(m0, m1); /* l0 + l1, l4 + l5, l2 + l3, l6 + l7 */
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* Adds the lanes of v in mask gt (as floats) to the sums m0, m1. */
AL_AVX2 static inline void al_kv_sum8(__m256 v, __m256 gt, __m256d *m0, __m256d *m1) {
    __m256 vg = _mm256_and_ps(v, gt);
    *m0 = _mm256_add_pd(*m0, _mm256_cvtps_pd(_mm256_castps256_ps128(vg)));
    *m1 = _mm256_add_pd(*m1, _mm256_cvtps_pd(_mm256_extractf128_ps(vg, 1)));
}

/* One vector of the partition, the values > p also summed. */
AL_AVX2 static inline void al_kv_part8(__m256 v, __m256 P, float *G, float *L, int64_t *ng, int64_t *nl, __m256d *m0,
                                       __m256d *m1) {
    __m256 gt = _mm256_cmp_ps(v, P, _CMP_GT_OQ);
    al_kv_sum8(v, gt, m0, m1);
    *ng += al_kv_put(G + *ng, v, (unsigned)_mm256_movemask_ps(gt));
    *nl += al_kv_put(L + *nl, v, (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, P, _CMP_LT_OQ)));
}

AL_AVX2 static double al_kv_part_avx2(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l) {
    int64_t ng = 0, nl = 0, k = 0;
    __m256 P = _mm256_set1_ps(p);
    __m256d m0 = _mm256_setzero_pd(), m1 = _mm256_setzero_pd();
    for (; k + 8 <= n; k += 8) al_kv_part8(_mm256_loadu_ps(s + k), P, G, L, &ng, &nl, &m0, &m1);
    if (k < n) /* padded with p, which goes to neither side and adds +0 */
        al_kv_part8(al_kv_tail(s + k, n - k, P), P, G, L, &ng, &nl, &m0, &m1);
    *g = ng, *l = nl;
    return al_kv_fold(m0, m1);
}

/* One vector of the band pass: those in [lo, hi] stored, those above counted and summed. */
AL_AVX2 static inline void al_kv_band8(__m256 v, __m256 LO, __m256 HI, float *B, int64_t *nb, int64_t *na,
                                       __m256d *m0, __m256d *m1) {
    __m256 gt = _mm256_cmp_ps(v, HI, _CMP_GT_OQ);
    al_kv_sum8(v, gt, m0, m1);
    *na += __builtin_popcount((unsigned)_mm256_movemask_ps(gt));
    *nb += al_kv_put(B + *nb, v, (unsigned)_mm256_movemask_ps(_mm256_andnot_ps(gt, _mm256_cmp_ps(v, LO, _CMP_GE_OQ))));
}

AL_AVX2 static double al_kv_band_avx2(const float *s, int64_t n, float lo, float hi, float *B, int64_t *nb,
                                      int64_t *na) {
    int64_t b = 0, c = 0, k = 0;
    __m256 LO = _mm256_set1_ps(lo), HI = _mm256_set1_ps(hi);
    __m256d m0 = _mm256_setzero_pd(), m1 = _mm256_setzero_pd();
    for (; k + 8 <= n; k += 8) al_kv_band8(_mm256_loadu_ps(s + k), LO, HI, B, &b, &c, &m0, &m1);
    if (k < n) /* padded with NaN, false against both bounds */
        al_kv_band8(al_kv_tail(s + k, n - k, _mm256_set1_ps(NAN)), LO, HI, B, &b, &c, &m0, &m1);
    *nb = b, *na = c;
    return al_kv_fold(m0, m1);
}

AL_AVX2 static int64_t al_kv_above_avx2(const float *s, int64_t n, float lo, float *B) {
    int64_t b = 0, k = 0;
    __m256 LO = _mm256_set1_ps(lo);
    for (; k + 8 <= n; k += 8) {
        __m256 v = _mm256_loadu_ps(s + k);
        b += al_kv_put(B + b, v, (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, LO, _CMP_GE_OQ)));
    }
    if (k < n) {
        __m256 v = al_kv_tail(s + k, n - k, _mm256_set1_ps(NAN));
        b += al_kv_put(B + b, v, (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, LO, _CMP_GE_OQ)));
    }
    return b;
}

AL_AVX2 static void al_kv_accum_avx2(double *recv, const float *a, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        _mm256_storeu_pd(recv + j, _mm256_add_pd(_mm256_loadu_pd(recv + j), _mm256_cvtps_pd(_mm_loadu_ps(a + j))));
    for (; j < n; j++) recv[j] += (double)a[j];
}

AL_AVX2 static int64_t al_kv_filter_avx2(const double *x, int64_t n, double lo, int64_t *idx) {
    int64_t k = 0, j = 0;
    __m256d L = _mm256_set1_pd(lo);
    for (; j + 8 <= n; j += 8) {
        unsigned ge = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(x + j), L, _CMP_GE_OQ)) |
                      (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(x + j + 4), L, _CMP_GE_OQ)) << 4;
        for (; ge; ge &= ge - 1) idx[k++] = j + __builtin_ctz(ge);
    }
    for (; j < n; j++)
        if (x[j] >= lo) idx[k++] = j;
    return k;
}
#else
static int al_kv_has_avx2(void) { return 0; }
static double al_kv_part_avx2(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l) {
    return 0;
}
static double al_kv_band_avx2(const float *s, int64_t n, float lo, float hi, float *B, int64_t *nb, int64_t *na) {
    return 0;
}
static int64_t al_kv_above_avx2(const float *s, int64_t n, float lo, float *B) { return 0; }
static void al_kv_accum_avx2(double *recv, const float *a, int64_t n) {}
static int64_t al_kv_filter_avx2(const double *x, int64_t n, double lo, int64_t *idx) { return 0; }
#endif

int al_kv_simd(void) { return al_kv_has_avx2(); }

double al_kv_part(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l) {
    return al_kv_has_avx2() ? al_kv_part_avx2(s, n, p, G, L, g, l) : al_kv_part_plain(s, n, p, G, L, g, l);
}

double al_kv_band(const float *s, int64_t n, float lo, float hi, float *B, int64_t *nb, int64_t *na) {
    return al_kv_has_avx2() ? al_kv_band_avx2(s, n, lo, hi, B, nb, na) : al_kv_band_plain(s, n, lo, hi, B, nb, na);
}

int64_t al_kv_above(const float *s, int64_t n, float lo, float *B) {
    return al_kv_has_avx2() ? al_kv_above_avx2(s, n, lo, B) : al_kv_above_plain(s, n, lo, B);
}

void al_kv_accum(double *recv, const float *a, int64_t n) {
    if (al_kv_has_avx2()) al_kv_accum_avx2(recv, a, n);
    else al_kv_accum_plain(recv, a, n);
}

int64_t al_kv_filter(const double *x, int64_t n, double lo, int64_t *idx) {
    return al_kv_has_avx2() ? al_kv_filter_avx2(x, n, lo, idx) : al_kv_filter_plain(x, n, lo, idx);
}
