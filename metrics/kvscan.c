/* The passes over whole rows behind the KV-cache selections (metrics/kvselect.c): 3-way partition, threshold
 * filter and h2o's running column sum, in AVX2 (8 keys per compare, kept keys packed by a permutation table) or
 * plain C, with the same results. */
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

static uint32_t al_kv_pack[256][8]; /* lanes of mask m, lowest first: the permutation that packs them */
static int al_kv_avx2;
static pthread_once_t al_kv_once = PTHREAD_ONCE_INIT;

static void al_kv_init(void) {
    for (int m = 0; m < 256; m++)
        for (int k = 0, q = 0; k < 8; k++)
            if (m >> k & 1) al_kv_pack[m][q++] = (uint32_t)k;
    al_kv_avx2 = __builtin_cpu_supports("avx2") && !getenv("ATTNLAB_NO_SIMD");
}

static int al_kv_has_avx2(void) {
    pthread_once(&al_kv_once, al_kv_init);
    return al_kv_avx2;
}

/* Stores the lanes of v in mask m, packed, at d (writing 8 floats: d has room); returns how many. */
__attribute__((target("avx2"))) static inline int al_kv_put(float *d, __m256 v, unsigned m) {
    _mm256_storeu_ps(d, _mm256_permutevar8x32_ps(v, _mm256_loadu_si256((const __m256i *)al_kv_pack[m])));
    return __builtin_popcount(m);
}

/* One vector of the partition; the values > p also summed, in two vectors of four double lanes. */
__attribute__((target("avx2"))) static inline void al_kv_part8(__m256 v, __m256 P, float *G, float *L, int64_t *ng,
                                                              int64_t *nl, __m256d *m0, __m256d *m1) {
    __m256 gt = _mm256_cmp_ps(v, P, _CMP_GT_OQ), vg = _mm256_and_ps(v, gt);
    *m0 = _mm256_add_pd(*m0, _mm256_cvtps_pd(_mm256_castps256_ps128(vg)));
    *m1 = _mm256_add_pd(*m1, _mm256_cvtps_pd(_mm256_extractf128_ps(vg, 1)));
    *ng += al_kv_put(G + *ng, v, (unsigned)_mm256_movemask_ps(gt));
    *nl += al_kv_put(L + *nl, v, (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, P, _CMP_LT_OQ)));
}

__attribute__((target("avx2"))) static double al_kv_part_avx2(const float *s, int64_t n, float p, float *G, float *L,
                                                             int64_t *g, int64_t *l) {
    int64_t ng = 0, nl = 0, k = 0;
    __m256 P = _mm256_set1_ps(p);
    __m256d m0 = _mm256_setzero_pd(), m1 = _mm256_setzero_pd();
    for (; k + 8 <= n; k += 8) al_kv_part8(_mm256_loadu_ps(s + k), P, G, L, &ng, &nl, &m0, &m1);
    if (k < n) { /* the rest padded with p, which goes to neither side and adds +0 to the sum */
        float t[8];
        for (int q = 0; q < 8; q++) t[q] = k + q < n ? s[k + q] : p;
        al_kv_part8(_mm256_loadu_ps(t), P, G, L, &ng, &nl, &m0, &m1);
    }
    double m[8];
    _mm256_storeu_pd(m, m0);
    _mm256_storeu_pd(m + 4, m1);
    *g = ng, *l = nl;
    return al_kv_fold8(m);
}

__attribute__((target("avx2"))) static void al_kv_accum_avx2(double *recv, const float *a, int64_t n) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        _mm256_storeu_pd(recv + j, _mm256_add_pd(_mm256_loadu_pd(recv + j), _mm256_cvtps_pd(_mm_loadu_ps(a + j))));
    for (; j < n; j++) recv[j] += (double)a[j];
}

__attribute__((target("avx2"))) static int64_t al_kv_filter_avx2(const double *x, int64_t n, double lo, int64_t *idx) {
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
static void al_kv_accum_avx2(double *recv, const float *a, int64_t n) {}
static int64_t al_kv_filter_avx2(const double *x, int64_t n, double lo, int64_t *idx) { return 0; }
#endif

double al_kv_part(const float *s, int64_t n, float p, float *G, float *L, int64_t *g, int64_t *l) {
    return al_kv_has_avx2() ? al_kv_part_avx2(s, n, p, G, L, g, l) : al_kv_part_plain(s, n, p, G, L, g, l);
}

void al_kv_accum(double *recv, const float *a, int64_t n) {
    if (al_kv_has_avx2()) al_kv_accum_avx2(recv, a, n);
    else al_kv_accum_plain(recv, a, n);
}

int64_t al_kv_filter(const double *x, int64_t n, double lo, int64_t *idx) {
    return al_kv_has_avx2() ? al_kv_filter_avx2(x, n, lo, idx) : al_kv_filter_plain(x, n, lo, idx);
}
