/* q/k to probabilities. Keys are transposed once per head into panels of 64 keys ([T/64, D, 64]); the score
 * kernel keeps a tile of 4 rows x 64 keys in AVX-512 registers (4 x 16 in AVX2) while it runs over d, so nothing is
 * packed per block and a block of any number of rows costs the same per row. Only the visible part of a causal block is
 * computed. The softmax uses a polynomial exp and row sums in 16 double lanes. Every code path does the same
 * float operations in the same order (this file is compiled with -ffp-contract=off), so the AVX-512, AVX2
 * and plain-C paths give the same bits. */
#include "qk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

void al_qk_probs_ref(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                     int causal, float *P, int64_t ldp) {
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = row0 + r, vis = causal ? (i + 1 < T ? i + 1 : T) : T;
        double m = -INFINITY, z = 0;
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++)
                s += (double)Q[r * D + d] * (double)K[j * D + d];
            s *= scale;
            if (s > m) m = s;
        }
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++)
                s += (double)Q[r * D + d] * (double)K[j * D + d];
            z += exp(s * scale - m);
        }
        for (int64_t j = 0; j < T; j++) {
            if (j >= vis) {
                P[r * ldp + j] = 0;
                continue;
            }
            double s = 0;
            for (int64_t d = 0; d < D; d++)
                s += (double)Q[r * D + d] * (double)K[j * D + d];
            P[r * ldp + j] = (float)(exp(s * scale - m) / z);
        }
    }
}

int64_t al_qk_ldk(int64_t T) {
    return (T + AL_QK_PANEL - 1) / AL_QK_PANEL * AL_QK_PANEL;
}

/* key j, component d of the panel layout */
static inline int64_t al_kp(int64_t D, int64_t d, int64_t j) {
    return (j / AL_QK_PANEL) * D * AL_QK_PANEL + d * AL_QK_PANEL + j % AL_QK_PANEL;
}

void al_qk_pack_keys(const float *K, int64_t T, int64_t D, float *Kt, int64_t ldk) {
    for (int64_t j = 0; j < ldk; j++)
        for (int64_t d = 0; d < D; d++)
            Kt[al_kp(D, d, j)] = j < T ? K[j * D + d] : 0.0f;
}

/* ---- exp ---- */

#define AL_EXP_LO (-87.0f) /* below: 0 (exp(-87) = 1.6e-38, the smallest normal float's order) */
#define AL_EXP_HI 88.0f

static inline float al_f32_from_bits(int32_t b) {
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline float al_expf_inline(float x) {
    if (!(x >= AL_EXP_LO)) return 0.0f;
    if (x > AL_EXP_HI) x = AL_EXP_HI;
    float n = nearbyintf(x * 1.44269504f);
    float r = fmaf(n, -0.693359375f, x); /* ln 2 in two parts: n * 0.693359375 is exact */
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    float z = r * r;
    float y = fmaf(p, z, r) + 1.0f;
    return y * al_f32_from_bits(((int32_t)n + 127) << 23);
}

float al_expf_poly(float x) {
    return al_expf_inline(x);
}

/* ---- plain-C paths (the reference twins) ---- */

static inline int64_t al_group_cols(int64_t T, int64_t row0, int64_t g, int64_t R, int causal) {
    return causal ? (row0 + g + R < T ? row0 + g + R : T) : T;
}

void al_qk_scores_ref(const float *Q, int64_t nrows, int64_t D, const float *Kt, int64_t ldk, int64_t T, int64_t row0,
                      int causal, float scale, float *S, int64_t lds) {
    for (int64_t g = 0; g < nrows; g += 4) {
        int64_t R = nrows - g < 4 ? nrows - g : 4, nc = al_group_cols(T, row0, g, R, causal);
        for (int64_t r = g; r < g + R; r++)
            for (int64_t j = 0; j < nc; j++) {
                float acc = 0;
                for (int64_t d = 0; d < D; d++)
                    acc = fmaf(Q[r * D + d], Kt[al_kp(D, d, j)], acc);
                S[r * lds + j] = acc * scale;
            }
    }
    (void)ldk;
}

/* 16 double lanes folded in one fixed order */
static inline double al_fold16(const double *l) {
    double a = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    double b = ((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15]));
    return a + b;
}

static inline int64_t al_row_vis(int64_t ncols, int64_t row0, int64_t r, int causal) {
    return causal ? (row0 + r + 1 < ncols ? row0 + r + 1 : ncols) : ncols;
}

/* exp(x) over [j0, vis), x = s - m, into s; e added to lane[j mod 16] and e x to lex[j mod 16] */
static void al_softmax_tail(float *s, int64_t j0, int64_t vis, float m, double *lane, double *lex) {
    for (int64_t j = j0; j < vis; j++) {
        float x = s[j] - m, e = al_expf_inline(x);
        s[j] = e;
        lane[j & 15] += (double)e;
        lex[j & 15] += (double)(e * x);
    }
}

/* 1 / z in float, and the row's entropy ln z - sum e x / z (= -sum p ln p) where asked */
static inline float al_row_finish(const double *lane, const double *lex, double *ent) {
    double z = al_fold16(lane);
    if (ent) *ent = log(z) - al_fold16(lex) / z;
    return (float)(1.0 / z);
}

void al_softmax_rows_ref(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal, double *ent) {
    for (int64_t r = 0; r < nrows; r++) {
        float *s = S + r * lds;
        int64_t vis = al_row_vis(ncols, row0, r, causal);
        float m = -INFINITY;
        for (int64_t j = 0; j < vis; j++)
            m = s[j] > m ? s[j] : m;
        double lane[16] = {0}, lex[16] = {0};
        al_softmax_tail(s, 0, vis, m, lane, lex);
        float inv = al_row_finish(lane, lex, ent ? ent + r : NULL);
        for (int64_t j = 0; j < vis; j++)
            s[j] *= inv;
        for (int64_t j = vis; j < ncols; j++)
            s[j] = 0;
    }
}

/* ---- AVX-512 and AVX2 paths ---- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AL_AVX512 __attribute__((target("avx512f,fma")))
#define AL_AVX2 __attribute__((target("avx2,fma")))

/* A tile of R rows x NV vectors of 16 keys at offset o of the panel kp ([D, 64]); the last vector stores
 * only the keys in mask */
static inline __attribute__((always_inline)) AL_AVX512 void al_tile512(const float *Q, int64_t D, const float *kp,
                                                                       int64_t o, int R, int NV, __mmask16 last,
                                                                       float scale, float *S, int64_t lds) {
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++)
            acc[r][c] = _mm512_setzero_ps();
    for (int64_t d = 0; d < D; d++) {
        const float *k = kp + d * AL_QK_PANEL + o;
        __m512 kv[4];
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++)
            kv[c] = _mm512_loadu_ps(k + 16 * c);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m512 q = _mm512_set1_ps(Q[r * D + d]);
#pragma GCC unroll 4
            for (int c = 0; c < NV; c++)
                acc[r][c] = _mm512_fmadd_ps(q, kv[c], acc[r][c]);
        }
    }
    __m512 sc = _mm512_set1_ps(scale);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int c = 0; c < NV; c++) {
            __m512 v = _mm512_mul_ps(acc[r][c], sc);
            if (c == NV - 1)
                _mm512_mask_storeu_ps(S + r * lds + o + 16 * c, last, v);
            else
                _mm512_storeu_ps(S + r * lds + o + 16 * c, v);
        }
}

/* R rows (4 or 1) against the keys [j, min(j + 64, nc)) of one panel */
static inline AL_AVX512 void al_panel512(const float *Q, int64_t D, const float *kp, int64_t j, int64_t nc, int R,
                                         float scale, float *S, int64_t lds) {
    S += j;
    if (nc - j >= AL_QK_PANEL) {
        if (R == 4)
            al_tile512(Q, D, kp, 0, 4, 4, 0xffff, scale, S, lds);
        else
            al_tile512(Q, D, kp, 0, 1, 4, 0xffff, scale, S, lds);
        return;
    }
    for (int64_t o = 0; o < nc - j; o += 16) {
        __mmask16 m = nc - j - o >= 16 ? 0xffff : (__mmask16)((1u << (nc - j - o)) - 1);
        if (R == 4)
            al_tile512(Q, D, kp, o, 4, 1, m, scale, S, lds);
        else
            al_tile512(Q, D, kp, o, 1, 1, m, scale, S, lds);
    }
}

/* panel-major: each panel of 64 keys (16 or 32 KiB) stays in the L1 cache while every group of rows that
 * sees it runs over it; the rows' queries stay there too */
AL_AVX512 static void al_scores_avx512(const float *Q, int64_t nrows, int64_t D, const float *Kt, int64_t ldk,
                                       int64_t T, int64_t row0, int causal, float scale, float *S, int64_t lds) {
    int64_t ncmax = al_group_cols(T, row0, (nrows - 1) / 4 * 4, nrows - (nrows - 1) / 4 * 4, causal);
    for (int64_t j = 0; j < ncmax; j += AL_QK_PANEL) {
        const float *kp = Kt + (j / AL_QK_PANEL) * D * AL_QK_PANEL;
        for (int64_t g = 0; g < nrows; g += 4) {
            int64_t R = nrows - g < 4 ? nrows - g : 4, nc = al_group_cols(T, row0, g, R, causal);
            if (nc <= j) continue;
            if (R == 4)
                al_panel512(Q + g * D, D, kp, j, nc, 4, scale, S + g * lds, lds);
            else
                for (int64_t r = g; r < g + R; r++)
                    al_panel512(Q + r * D, D, kp, j, nc, 1, scale, S + r * lds, lds);
        }
    }
    (void)ldk;
}

static inline __attribute__((always_inline)) AL_AVX2 void
al_tile256(const float *Q, int64_t D, const float *kp, int64_t o, int R, float scale, float *S, int64_t lds) {
    __m256 acc[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t d = 0; d < D; d++) {
        const float *k = kp + d * AL_QK_PANEL + o;
        __m256 k0 = _mm256_loadu_ps(k), k1 = _mm256_loadu_ps(k + 8);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m256 q = _mm256_set1_ps(Q[r * D + d]);
            acc[r][0] = _mm256_fmadd_ps(q, k0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(q, k1, acc[r][1]);
        }
    }
    __m256 sc = _mm256_set1_ps(scale);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        _mm256_storeu_ps(S + r * lds + o, _mm256_mul_ps(acc[r][0], sc));
        _mm256_storeu_ps(S + r * lds + o + 8, _mm256_mul_ps(acc[r][1], sc));
    }
}

AL_AVX2 static void al_scores_avx2(const float *Q, int64_t nrows, int64_t D, const float *Kt, int64_t ldk, int64_t T,
                                   int64_t row0, int causal, float scale, float *S, int64_t lds) {
    int64_t ncmax = al_group_cols(T, row0, (nrows - 1) / 4 * 4, nrows - (nrows - 1) / 4 * 4, causal);
    for (int64_t j = 0; j < ncmax; j += AL_QK_PANEL) {
        const float *kp = Kt + (j / AL_QK_PANEL) * D * AL_QK_PANEL;
        for (int64_t g = 0; g < nrows; g += 4) {
            int64_t R = nrows - g < 4 ? nrows - g : 4, nc = al_group_cols(T, row0, g, R, causal), o = 0;
            for (; o < AL_QK_PANEL && j + o + 16 <= nc; o += 16) {
                if (R == 4)
                    al_tile256(Q + g * D, D, kp, o, 4, scale, S + g * lds + j, lds);
                else
                    for (int64_t r = g; r < g + R; r++)
                        al_tile256(Q + r * D, D, kp, o, 1, scale, S + r * lds + j, lds);
            }
            for (int64_t r = g; o < AL_QK_PANEL && r < g + R; r++) /* the last keys of the group, fewer than 16 */
                for (int64_t jj = j + o; jj < nc && jj < j + AL_QK_PANEL; jj++) {
                    float acc = 0;
                    for (int64_t d = 0; d < D; d++)
                        acc = fmaf(Q[r * D + d], kp[d * AL_QK_PANEL + jj - j], acc);
                    S[r * lds + jj] = acc * scale;
                }
        }
    }
    (void)ldk;
}

/* exp of 16 floats: the steps of al_expf_inline */
static inline AL_AVX512 __m512 al_exp16(__m512 x) {
    __mmask16 ok = _mm512_cmp_ps_mask(x, _mm512_set1_ps(AL_EXP_LO), _CMP_GE_OQ);
    x = _mm512_min_ps(x, _mm512_set1_ps(AL_EXP_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps(ok, _mm512_mul_ps(y, _mm512_castsi512_ps(e)));
}

static inline AL_AVX512 __m512d al_lo8(__m512 v) {
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}
static inline AL_AVX512 __m512d al_hi8(__m512 v) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

AL_AVX512 static void al_softmax_avx512(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal,
                                        double *ent) {
    for (int64_t r = 0; r < nrows; r++) {
        float *s = S + r * lds;
        int64_t vis = al_row_vis(ncols, row0, r, causal), j;
        __m512 vm = _mm512_set1_ps(-INFINITY);
        for (j = 0; j + 16 <= vis; j += 16)
            vm = _mm512_max_ps(vm, _mm512_loadu_ps(s + j));
        __mmask16 tail = (__mmask16)((1u << (vis - j)) - 1);
        vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, s + j));
        float m = _mm512_reduce_max_ps(vm);
        __m512 mv = _mm512_set1_ps(m);
        __m512d z0 = _mm512_setzero_pd(), z1 = _mm512_setzero_pd(), w0 = _mm512_setzero_pd(), w1 = _mm512_setzero_pd();
        for (j = 0; j + 16 <= vis; j += 16) {
            __m512 x = _mm512_sub_ps(_mm512_loadu_ps(s + j), mv), e = al_exp16(x), ex = _mm512_mul_ps(e, x);
            _mm512_storeu_ps(s + j, e);
            z0 = _mm512_add_pd(z0, al_lo8(e));
            z1 = _mm512_add_pd(z1, al_hi8(e));
            w0 = _mm512_add_pd(w0, al_lo8(ex));
            w1 = _mm512_add_pd(w1, al_hi8(ex));
        }
        double lane[16], lex[16];
        _mm512_storeu_pd(lane, z0);
        _mm512_storeu_pd(lane + 8, z1);
        _mm512_storeu_pd(lex, w0);
        _mm512_storeu_pd(lex + 8, w1);
        al_softmax_tail(s, j, vis, m, lane, lex);
        __m512 inv = _mm512_set1_ps(al_row_finish(lane, lex, ent ? ent + r : NULL));
        for (j = 0; j + 16 <= vis; j += 16)
            _mm512_storeu_ps(s + j, _mm512_mul_ps(_mm512_loadu_ps(s + j), inv));
        _mm512_mask_storeu_ps(s + j, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, s + j), inv));
        if (ncols > vis) memset(s + vis, 0, sizeof(float) * (size_t)(ncols - vis));
    }
}

static inline AL_AVX2 __m256 al_exp8(__m256 x) {
    __m256 ok = _mm256_cmp_ps(x, _mm256_set1_ps(AL_EXP_LO), _CMP_GE_OQ);
    x = _mm256_min_ps(x, _mm256_set1_ps(AL_EXP_HI));
    __m256 n =
        _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(ok, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

AL_AVX2 static void al_softmax_avx2(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal,
                                    double *ent) {
    for (int64_t r = 0; r < nrows; r++) {
        float *s = S + r * lds;
        int64_t vis = al_row_vis(ncols, row0, r, causal), j;
        __m256 vm = _mm256_set1_ps(-INFINITY);
        for (j = 0; j + 8 <= vis; j += 8)
            vm = _mm256_max_ps(vm, _mm256_loadu_ps(s + j));
        float l8[8], m = -INFINITY;
        _mm256_storeu_ps(l8, vm);
        for (int k = 0; k < 8; k++)
            m = l8[k] > m ? l8[k] : m;
        for (; j < vis; j++)
            m = s[j] > m ? s[j] : m;
        __m256 mv = _mm256_set1_ps(m);
        __m256d z[4], w[4];
        for (int h = 0; h < 4; h++)
            z[h] = w[h] = _mm256_setzero_pd();
        for (j = 0; j + 16 <= vis; j += 16)
            for (int h = 0; h < 2; h++) {
                __m256 x = _mm256_sub_ps(_mm256_loadu_ps(s + j + 8 * h), mv), e = al_exp8(x), ex = _mm256_mul_ps(e, x);
                _mm256_storeu_ps(s + j + 8 * h, e);
                z[2 * h] = _mm256_add_pd(z[2 * h], _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
                z[2 * h + 1] = _mm256_add_pd(z[2 * h + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
                w[2 * h] = _mm256_add_pd(w[2 * h], _mm256_cvtps_pd(_mm256_castps256_ps128(ex)));
                w[2 * h + 1] = _mm256_add_pd(w[2 * h + 1], _mm256_cvtps_pd(_mm256_extractf128_ps(ex, 1)));
            }
        double lane[16], lex[16];
        for (int h = 0; h < 4; h++) {
            _mm256_storeu_pd(lane + 4 * h, z[h]);
            _mm256_storeu_pd(lex + 4 * h, w[h]);
        }
        al_softmax_tail(s, j, vis, m, lane, lex);
        float invf = al_row_finish(lane, lex, ent ? ent + r : NULL);
        __m256 inv = _mm256_set1_ps(invf);
        for (j = 0; j + 8 <= vis; j += 8)
            _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
        for (; j < vis; j++)
            s[j] *= invf;
        if (ncols > vis) memset(s + vis, 0, sizeof(float) * (size_t)(ncols - vis));
    }
}

static int al_isa_cap = 2;

static int al_qk_isa(void) { /* 2: AVX-512, 1: AVX2 + FMA, 0: plain C */
    static int v = -1;
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512f")                                   ? 2
            : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1
                                                                                : 0;
    }
    return v < al_isa_cap ? v : al_isa_cap;
}
#else
static int al_isa_cap = 0;
static int al_qk_isa(void) {
    return 0;
}
#define al_scores_avx512 al_qk_scores_ref
#define al_scores_avx2 al_qk_scores_ref
#define al_softmax_avx512 al_softmax_rows_ref
#define al_softmax_avx2 al_softmax_rows_ref
#endif

int al_qk_isa_cap(int cap) {
    al_isa_cap = cap;
    return al_qk_isa();
}

void al_qk_scores(const float *Q, int64_t nrows, int64_t D, const float *Kt, int64_t ldk, int64_t T, int64_t row0,
                  int causal, float scale, float *S, int64_t lds) {
    int isa = al_qk_isa();
    if (isa == 2)
        al_scores_avx512(Q, nrows, D, Kt, ldk, T, row0, causal, scale, S, lds);
    else if (isa == 1)
        al_scores_avx2(Q, nrows, D, Kt, ldk, T, row0, causal, scale, S, lds);
    else
        al_qk_scores_ref(Q, nrows, D, Kt, ldk, T, row0, causal, scale, S, lds);
}

void al_softmax_rows_ent(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal, double *ent) {
    int isa = al_qk_isa();
    if (isa == 2)
        al_softmax_avx512(S, nrows, ncols, lds, row0, causal, ent);
    else if (isa == 1)
        al_softmax_avx2(S, nrows, ncols, lds, row0, causal, ent);
    else
        al_softmax_rows_ref(S, nrows, ncols, lds, row0, causal, ent);
}

void al_softmax_rows(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal) {
    al_softmax_rows_ent(S, nrows, ncols, lds, row0, causal, NULL);
}

void al_qk_probs_packed(const float *Q, const float *Kt, int64_t ldk, int64_t nrows, int64_t T, int64_t D, int64_t row0,
                        double scale, int causal, float *P, int64_t ldp, double *ent) {
    al_qk_scores(Q, nrows, D, Kt, ldk, T, row0, causal, (float)scale, P, ldp);
    al_softmax_rows_ent(P, nrows, T, ldp, row0, causal, ent);
}

int al_qk_probs(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                int causal, float *P, int64_t ldp) {
    int64_t ldk = al_qk_ldk(T);
    float *Kt = al_malloc((size_t)(D * ldk), sizeof(float)); /* [D, ldk] */
    if (!Kt) return -1;
    al_qk_pack_keys(K, T, D, Kt, ldk);
    al_qk_probs_packed(Q, Kt, ldk, nrows, T, D, row0, scale, causal, P, ldp, NULL);
    al_free(Kt);
    return 0;
}
