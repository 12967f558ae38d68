/* Block formats of ggml (ggml-common.h): each block holds float16 scale(s) and packed integers; the tuned
 * path walks whole blocks, the reference decodes one element at a time. Both give the same float32 values. */
#include "quant.h"

#include <string.h>

#include "../core/dtype.h"
#include "gguf.h"

static float al_h(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return al_f16_to_f32_ref(h);
}

/* 6-bit scale and min j of a K-quant super-block (ggml's get_scale_min_k4). */
static void al_scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* ---- tuned: one block at a time ---- */

static void al_blk_q4_0(const uint8_t *b, float *y) { /* d, qs[16] */
    float d = al_h(b);
    for (int j = 0; j < 16; j++) {
        y[j] = (float)((b[2 + j] & 0xF) - 8) * d;
        y[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
    }
}

static void al_blk_q4_1(const uint8_t *b, float *y) { /* d, m, qs[16] */
    float d = al_h(b), m = al_h(b + 2);
    for (int j = 0; j < 16; j++) {
        y[j] = (float)(b[4 + j] & 0xF) * d + m;
        y[j + 16] = (float)(b[4 + j] >> 4) * d + m;
    }
}

static void al_blk_q5(const uint8_t *b, float *y, int with_min) { /* d, [m], qh[4], qs[16] */
    float d = al_h(b), m = with_min ? al_h(b + 2) : 0.0f;
    const uint8_t *p = b + (with_min ? 4 : 2);
    uint32_t qh;
    memcpy(&qh, p, 4);
    const uint8_t *qs = p + 4;
    for (int j = 0; j < 16; j++) {
        int h0 = (int)(((qh >> j) << 4) & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
        int x0 = (qs[j] & 0xF) | h0, x1 = (qs[j] >> 4) | h1;
        if (with_min) {
            y[j] = (float)x0 * d + m;
            y[j + 16] = (float)x1 * d + m;
        } else {
            y[j] = (float)(x0 - 16) * d;
            y[j + 16] = (float)(x1 - 16) * d;
        }
    }
}

static void al_blk_q8_0(const uint8_t *b, float *y) { /* d, qs[32] */
    float d = al_h(b);
    for (int j = 0; j < 32; j++)
        y[j] = (float)(int8_t)b[2 + j] * d;
}

static void al_blk_q4_k(const uint8_t *b, float *y) { /* d, dmin, scales[12], qs[128] */
    float d = al_h(b), dmin = al_h(b + 2);
    const uint8_t *sc = b + 4, *q = b + 16;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
        int s, m;
        al_scale_min_k4(is, sc, &s, &m);
        float d1 = d * (float)s, m1 = dmin * (float)m;
        al_scale_min_k4(is + 1, sc, &s, &m);
        float d2 = d * (float)s, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++)
            y[j + l] = d1 * (float)(q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++)
            y[j + 32 + l] = d2 * (float)(q[l] >> 4) - m2;
    }
}

static void al_blk_q5_k(const uint8_t *b, float *y) { /* d, dmin, scales[12], qh[32], qs[128] */
    float d = al_h(b), dmin = al_h(b + 2);
    const uint8_t *sc = b + 4, *qh = b + 16, *ql = b + 48;
    unsigned u1 = 1, u2 = 2;
    for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
        int s, m;
        al_scale_min_k4(is, sc, &s, &m);
        float d1 = d * (float)s, m1 = dmin * (float)m;
        al_scale_min_k4(is + 1, sc, &s, &m);
        float d2 = d * (float)s, m2 = dmin * (float)m;
        for (int l = 0; l < 32; l++)
            y[j + l] = d1 * (float)((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++)
            y[j + 32 + l] = d2 * (float)((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
    }
}

static void al_blk_q6_k(const uint8_t *b, float *y) { /* ql[128], qh[64], scales[16] (int8), d */
    const uint8_t *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    float d = al_h(b + 208);
    for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[n + l] = d * (float)sc[is] * (float)q1;
            y[n + l + 32] = d * (float)sc[is + 2] * (float)q2;
            y[n + l + 64] = d * (float)sc[is + 4] * (float)q3;
            y[n + l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
    }
}

void al_dequant(uint32_t t, const void *src, int64_t n, float *dst) {
    const uint8_t *s = src;
    if (t == AL_GT_F32) {
        memcpy(dst, src, sizeof(float) * (size_t)n);
        return;
    }
    if (t == AL_GT_F16 || t == AL_GT_BF16) {
        al_convert_to_f32(t == AL_GT_F16 ? AL_DT_F16 : AL_DT_BF16, src, dst, (size_t)n);
        return;
    }
    int64_t be = al_gguf_block_elems(t), bb = al_gguf_block_bytes(t);
    for (int64_t i = 0; be > 0 && i < n / be; i++) {
        const uint8_t *b = s + i * bb;
        float *y = dst + i * be;
        switch (t) {
        case AL_GT_Q4_0: al_blk_q4_0(b, y); break;
        case AL_GT_Q4_1: al_blk_q4_1(b, y); break;
        case AL_GT_Q5_0: al_blk_q5(b, y, 0); break;
        case AL_GT_Q5_1: al_blk_q5(b, y, 1); break;
        case AL_GT_Q8_0: al_blk_q8_0(b, y); break;
        case AL_GT_Q4_K: al_blk_q4_k(b, y); break;
        case AL_GT_Q5_K: al_blk_q5_k(b, y); break;
        case AL_GT_Q6_K: al_blk_q6_k(b, y); break;
        default: break;
        }
    }
}

void al_dequant_rows(uint32_t t, const void *src, int64_t cols, int64_t r0, int64_t nr, float *dst) {
    int64_t rb = cols / al_gguf_block_elems(t) * al_gguf_block_bytes(t); /* bytes per row */
    al_dequant(t, (const uint8_t *)src + r0 * rb, nr * cols, dst);
}

/* ---- reference: element j of one block, straight from the format's definition ---- */

/* 4-bit field j (0..31) of a 32-element block: low nibbles are elements 0..15, high nibbles 16..31. */
static int al_nib32(const uint8_t *qs, int j) {
    return j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4;
}

static float al_ref_small(uint32_t t, const uint8_t *b, int j) {
    uint32_t qh;
    switch (t) {
    case AL_GT_Q4_0: return al_h(b) * (float)(al_nib32(b + 2, j) - 8);
    case AL_GT_Q4_1: return al_h(b) * (float)al_nib32(b + 4, j) + al_h(b + 2);
    case AL_GT_Q8_0: return al_h(b) * (float)(int8_t)b[2 + j];
    case AL_GT_Q5_0:
        memcpy(&qh, b + 2, 4);
        return al_h(b) * (float)((al_nib32(b + 6, j) | (int)(((qh >> j) & 1) << 4)) - 16);
    default: /* Q5_1 */
        memcpy(&qh, b + 4, 4);
        return al_h(b) * (float)(al_nib32(b + 8, j) | (int)(((qh >> j) & 1) << 4)) + al_h(b + 2);
    }
}

/* K-quants with 8 sub-blocks of 32: sub-block s = j / 32 uses scale/min s; its 4 low bits come from byte
 * 32 * (s / 2) + j % 32 of qs (low nibble for even s, high for odd), Q5_K's fifth bit from bit s of qh[j % 32]. */
static float al_ref_k45(uint32_t t, const uint8_t *b, int j) {
    int s = j / 32, l = j % 32, sc, m;
    al_scale_min_k4(s, b + 4, &sc, &m);
    const uint8_t *qs = b + (t == AL_GT_Q4_K ? 16 : 48);
    int q = (s % 2 == 0 ? qs[32 * (s / 2) + l] & 0xF : qs[32 * (s / 2) + l] >> 4);
    if (t == AL_GT_Q5_K) q += ((b[16 + l] >> s) & 1) << 4;
    return al_h(b) * (float)sc * (float)q - al_h(b + 2) * (float)m;
}

/* Q6_K: half n = j / 128 of the block, quarter k = (j % 128) / 32, l = j % 32: low 4 bits from ql[64 n + l + 32 (k %
 * 2)] (low nibble for k < 2), high 2 bits from qh[32 n + l] at bit 2 k; scale 8 n + l / 16 + 2 k. */
static float al_ref_q6k(const uint8_t *b, int j) {
    int n = j / 128, k = (j % 128) / 32, l = j % 32;
    int lo = b[64 * n + l + 32 * (k % 2)];
    lo = k < 2 ? lo & 0xF : lo >> 4;
    int hi = (b[128 + 32 * n + l] >> (2 * k)) & 3;
    int sc = (int8_t)b[192 + 8 * n + l / 16 + 2 * k];
    return al_h(b + 208) * (float)sc * (float)((lo | (hi << 4)) - 32);
}

void al_dequant_ref(uint32_t t, const void *src, int64_t n, float *dst) {
    const uint8_t *s = src;
    int64_t be = al_gguf_block_elems(t), bb = al_gguf_block_bytes(t);
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *b = s + (i / be) * bb;
        int j = (int)(i % be);
        uint16_t h;
        switch (t) {
        case AL_GT_F32: memcpy(&dst[i], b, 4); break;
        case AL_GT_F16:
            memcpy(&h, b, 2);
            dst[i] = al_f16_to_f32_ref(h);
            break;
        case AL_GT_BF16:
            memcpy(&h, b, 2);
            dst[i] = al_bf16_to_f32_ref(h);
            break;
        case AL_GT_Q4_K:
        case AL_GT_Q5_K: dst[i] = al_ref_k45(t, b, j); break;
        case AL_GT_Q6_K: dst[i] = al_ref_q6k(b, j); break;
        default: dst[i] = al_ref_small(t, b, j); break;
        }
    }
}
