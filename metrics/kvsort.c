/* Sorting 64 floats for the KV-cache selections (metrics/kvselect.c): a row's sample, read for the band that
 * likely holds a cut (metrics/kvguess.c), and a selection's last values. AVX2 bitonic network, or qsort: alike. */
#include <math.h>
#include <stdlib.h>

#include "kvselect.h"

enum { S = AL_KV_FEW };

static int al_kv_asc(const void *u, const void *v) {
    float x = *(const float *)u, y = *(const float *)v;
    return (x > y) - (x < y);
}

/* Evenly spaced keys: an attention row's structure (sinks, a local window) is sampled in proportion. */
static void al_kv_take(const float *a, int64_t n, float *d) {
    for (int q = 0; q < S; q++) d[q] = a[(2 * q + 1) * n / (2 * S)];
}

void al_kv_sample_plain(const float *a, int64_t n, float *d) {
    al_kv_take(a, n, d);
    qsort(d, S, sizeof *d, al_kv_asc);
}

void al_kv_sort_plain(const float *v, int64_t n, float *w) {
    for (int q = 0; q < S; q++) w[q] = q < n ? v[q] : -INFINITY;
    qsort(w, S, sizeof *w, al_kv_asc);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AL_AVX2 __attribute__((target("avx2")))

AL_AVX2 static inline __m256 al_rev(__m256 v) {
    return _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
}

/* A bitonic vector sorted: half-cleaners at distances 4, 2, 1. */
AL_AVX2 static inline __m256 al_clean8(__m256 v) {
    __m256 p = _mm256_permute2f128_ps(v, v, 1);
    v = _mm256_blend_ps(_mm256_min_ps(v, p), _mm256_max_ps(v, p), 0xF0);
    p = _mm256_permute_ps(v, 0x4E);
    v = _mm256_blend_ps(_mm256_min_ps(v, p), _mm256_max_ps(v, p), 0xCC);
    p = _mm256_permute_ps(v, 0xB1);
    return _mm256_blend_ps(_mm256_min_ps(v, p), _mm256_max_ps(v, p), 0xAA);
}

/* compare-exchange: min to a, max to b */
#define AL_CE(a, b)                                                                                                    \
    do {                                                                                                               \
        __m256 t_ = _mm256_min_ps(a, b);                                                                               \
        b = _mm256_max_ps(a, b), a = t_;                                                                               \
    } while (0)
/* the first step of merging run x with run y (as the reversed y): the smaller values to x, the larger to y */
#define AL_XR(x, y)                                                                                                    \
    do {                                                                                                               \
        __m256 r_ = al_rev(y);                                                                                         \
        y = al_rev(_mm256_max_ps(x, r_)), x = _mm256_min_ps(x, r_);                                                    \
    } while (0)
#define AL_CLEAN(v0, v1, v2, v3, v4, v5, v6, v7)                                                                       \
    v0 = al_clean8(v0), v1 = al_clean8(v1), v2 = al_clean8(v2), v3 = al_clean8(v3), v4 = al_clean8(v4),             \
    v5 = al_clean8(v5), v6 = al_clean8(v6), v7 = al_clean8(v7)

/* d [64] ascending: an optimal 8-input network down the lanes (8 sorted columns), a transpose (8 sorted runs of
 * 8), then bitonic merges into runs of 16, 32 and 64. Named vectors, so that they stay in registers. */
AL_AVX2 static void al_kv_sort64(float *d) {
    __m256 v0 = _mm256_loadu_ps(d), v1 = _mm256_loadu_ps(d + 8), v2 = _mm256_loadu_ps(d + 16);
    __m256 v3 = _mm256_loadu_ps(d + 24), v4 = _mm256_loadu_ps(d + 32), v5 = _mm256_loadu_ps(d + 40);
    __m256 v6 = _mm256_loadu_ps(d + 48), v7 = _mm256_loadu_ps(d + 56);
    AL_CE(v0, v2); AL_CE(v1, v3); AL_CE(v4, v6); AL_CE(v5, v7);
    AL_CE(v0, v4); AL_CE(v1, v5); AL_CE(v2, v6); AL_CE(v3, v7);
    AL_CE(v0, v1); AL_CE(v2, v3); AL_CE(v4, v5); AL_CE(v6, v7);
    AL_CE(v2, v4); AL_CE(v3, v5);
    AL_CE(v1, v4); AL_CE(v3, v6);
    AL_CE(v1, v2); AL_CE(v3, v4); AL_CE(v5, v6);
    __m256 t0 = _mm256_unpacklo_ps(v0, v1), t1 = _mm256_unpackhi_ps(v0, v1);
    __m256 t2 = _mm256_unpacklo_ps(v2, v3), t3 = _mm256_unpackhi_ps(v2, v3);
    __m256 t4 = _mm256_unpacklo_ps(v4, v5), t5 = _mm256_unpackhi_ps(v4, v5);
    __m256 t6 = _mm256_unpacklo_ps(v6, v7), t7 = _mm256_unpackhi_ps(v6, v7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    v0 = _mm256_permute2f128_ps(u0, u4, 0x20), v1 = _mm256_permute2f128_ps(u1, u5, 0x20);
    v2 = _mm256_permute2f128_ps(u2, u6, 0x20), v3 = _mm256_permute2f128_ps(u3, u7, 0x20);
    v4 = _mm256_permute2f128_ps(u0, u4, 0x31), v5 = _mm256_permute2f128_ps(u1, u5, 0x31);
    v6 = _mm256_permute2f128_ps(u2, u6, 0x31), v7 = _mm256_permute2f128_ps(u3, u7, 0x31);
    AL_XR(v0, v1); AL_XR(v2, v3); AL_XR(v4, v5); AL_XR(v6, v7); /* 8 -> 16 */
    AL_CLEAN(v0, v1, v2, v3, v4, v5, v6, v7);
    AL_XR(v0, v3); AL_XR(v1, v2); AL_XR(v4, v7); AL_XR(v5, v6); /* 16 -> 32 */
    AL_CE(v0, v1); AL_CE(v2, v3); AL_CE(v4, v5); AL_CE(v6, v7);
    AL_CLEAN(v0, v1, v2, v3, v4, v5, v6, v7);
    AL_XR(v0, v7); AL_XR(v1, v6); AL_XR(v2, v5); AL_XR(v3, v4); /* 32 -> 64 */
    AL_CE(v0, v2); AL_CE(v1, v3); AL_CE(v4, v6); AL_CE(v5, v7);
    AL_CE(v0, v1); AL_CE(v2, v3); AL_CE(v4, v5); AL_CE(v6, v7);
    AL_CLEAN(v0, v1, v2, v3, v4, v5, v6, v7);
    _mm256_storeu_ps(d, v0), _mm256_storeu_ps(d + 8, v1), _mm256_storeu_ps(d + 16, v2);
    _mm256_storeu_ps(d + 24, v3), _mm256_storeu_ps(d + 32, v4), _mm256_storeu_ps(d + 40, v5);
    _mm256_storeu_ps(d + 48, v6), _mm256_storeu_ps(d + 56, v7);
}

/* w [64]: v [n] (n <= 64), then -inf, by masked loads (none past v's end) */
AL_AVX2 static void al_kv_pad64(const float *v, int64_t n, float *w) {
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), N = _mm256_set1_epi32((int)n);
    __m256 inf = _mm256_set1_ps(-INFINITY);
    for (int q = 0; q < S; q += 8, lane = _mm256_add_epi32(lane, _mm256_set1_epi32(8))) {
        __m256i in = _mm256_cmpgt_epi32(N, lane);
        _mm256_storeu_ps(w + q, _mm256_blendv_ps(inf, _mm256_maskload_ps(v + q, in), _mm256_castsi256_ps(in)));
    }
}
#endif

void al_kv_sample(const float *a, int64_t n, float *d) {
    al_kv_take(a, n, d);
#if defined(__x86_64__) && defined(__GNUC__)
    if (al_kv_simd()) {
        al_kv_sort64(d);
        return;
    }
#endif
    qsort(d, S, sizeof *d, al_kv_asc);
}

void al_kv_sort(const float *v, int64_t n, float *w) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (al_kv_simd()) {
        al_kv_pad64(v, n, w);
        al_kv_sort64(w);
        return;
    }
#endif
    al_kv_sort_plain(v, n, w);
}
