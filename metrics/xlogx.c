/* Vectorisable natural log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln x = e ln 2 + ln m, ln m from the
 * odd series in s = (m - 1) / (m + 1): 2 (s + s^3/3 + ... ), exact to float rounding over that range. Plain
 * C on bit patterns, no branches, so GCC turns the loops below into AVX2 code. */
#include "xlogx.h"

#include <math.h>
#include <string.h>


static inline float al_logf_inline(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    int32_t e = (int32_t)((u >> 23) & 0xff) - 127;
    u = (u & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
    float m;
    memcpy(&m, &u, 4);
    if (m > 1.41421356f) { /* move m to [sqrt(1/2), sqrt(2)) */
        m *= 0.5f;
        e += 1;
    }
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    /* 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + s^7/7 + s^9/9), |s| <= 0.1716 */
    float p = 0.11111111f;
    p = p * s2 + 0.14285715f;
    p = p * s2 + 0.2f;
    p = p * s2 + 0.33333334f;
    p = p * s2 + 1.0f;
    return (float)e * 0.69314718f + 2.0f * s * p;
}

float al_logf_poly(float x) { return al_logf_inline(x); }

double al_neg_xlogx_sum_ref(const float *a, int64_t n) {
    double h = 0;
    for (int64_t j = 0; j < n; j++) {
        double x = (double)a[j];
        if (x > 0) h -= x * log(x);
    }
    return h;
}

double al_neg_ylogy_sum_ref(const float *a, int64_t n, double c) {
    double h = 0;
    for (int64_t j = 0; j < n; j++) {
        double y = 0.9999 * (double)a[j] + c;
        h -= y * log(y);
    }
    return h;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* ln of 8 floats > 0: the same steps as al_logf_inline, in AVX2 registers */
__attribute__((target("avx2,fma"))) static inline __m256 al_log8(__m256 x) {
    __m256i u = _mm256_castps_si256(x);
    __m256i man = _mm256_and_si256(u, _mm256_set1_epi32(0x007fffff));
    __m256i big = _mm256_cmpgt_epi32(man, _mm256_set1_epi32(0x3504f3)); /* mantissa of m > sqrt(2): -1 */
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(u, 23), _mm256_set1_epi32(127));
    e = _mm256_sub_epi32(e, big);
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(man, _mm256_add_epi32(_mm256_set1_epi32(0x3f800000), _mm256_slli_epi32(big, 23))));
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 s = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one)), s2 = _mm256_mul_ps(s, s);
    __m256 p = _mm256_set1_ps(0.11111111f);
    p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(0.14285715f));
    p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(0.2f));
    p = _mm256_fmadd_ps(p, s2, _mm256_set1_ps(0.33333334f));
    p = _mm256_fmadd_ps(p, s2, one);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(e), _mm256_set1_ps(0.69314718f), _mm256_mul_ps(_mm256_add_ps(s, s), p));
}

/* 8 lanes of double partial sums; lanes are folded in a fixed order so the result never depends on timing */
__attribute__((target("avx2,fma"))) static double al_xlogx_avx2(const float *a, int64_t n, int clark, double c) {
    __m256d h0 = _mm256_setzero_pd(), h1 = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_loadu_ps(a + j), y, t;
        if (clark) {
            y = _mm256_fmadd_ps(_mm256_set1_ps(0.9999f), v, _mm256_set1_ps((float)c));
        } else { /* entries <= 1e-37 stand in as 1 (1 ln 1 = 0) */
            y = _mm256_blendv_ps(_mm256_set1_ps(1.0f), v, _mm256_cmp_ps(v, _mm256_set1_ps(1e-37f), _CMP_GT_OQ));
        }
        t = _mm256_mul_ps(y, al_log8(y));
        h0 = _mm256_add_pd(h0, _mm256_cvtps_pd(_mm256_castps256_ps128(t)));
        h1 = _mm256_add_pd(h1, _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1)));
    }
    double l[8];
    _mm256_storeu_pd(l, h0);
    _mm256_storeu_pd(l + 4, h1);
    double h = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    for (; j < n; j++) {
        float y = clark ? 0.9999f * a[j] + (float)c : (a[j] > 1e-37f ? a[j] : 1.0f);
        h += (double)(y * al_logf_inline(y));
    }
    return -h;
}

static int al_has_avx2_fma(void) {
    static int v = -1;
    if (v < 0) v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return v;
}
#else
static int al_has_avx2_fma(void) { return 0; }
static double al_xlogx_avx2(const float *a, int64_t n, int clark, double c) { return 0; }
#endif

/* Portable path: float log per term, summed in double. */
static double al_xlogx_plain(const float *a, int64_t n, int clark, double c) {
    double h = 0;
    for (int64_t j = 0; j < n; j++) {
        float y = clark ? 0.9999f * a[j] + (float)c : (a[j] > 1e-37f ? a[j] : 1.0f);
        h += (double)(y * al_logf_inline(y));
    }
    return -h;
}

double al_neg_xlogx_sum(const float *a, int64_t n) {
    return al_has_avx2_fma() ? al_xlogx_avx2(a, n, 0, 0) : al_xlogx_plain(a, n, 0, 0);
}

double al_neg_ylogy_sum(const float *a, int64_t n, double c) {
    return al_has_avx2_fma() ? al_xlogx_avx2(a, n, 1, c) : al_xlogx_plain(a, n, 1, c);
}
