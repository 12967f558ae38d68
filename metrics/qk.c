/* q/k to probabilities. Only the visible part of each block is multiplied (a causal block of rows
 * row0..row0+n-1 needs keys 0..row0+n-1), which halves the work over a whole sequence. */
#include "qk.h"

#include <cblas.h>
#include <math.h>

void al_qk_probs_ref(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                     int causal, float *P, int64_t ldp) {
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = row0 + r, vis = causal ? (i + 1 < T ? i + 1 : T) : T;
        double m = -INFINITY, z = 0;
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++) s += (double)Q[r * D + d] * (double)K[j * D + d];
            s *= scale;
            if (s > m) m = s;
        }
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < D; d++) s += (double)Q[r * D + d] * (double)K[j * D + d];
            z += exp(s * scale - m);
        }
        for (int64_t j = 0; j < T; j++) {
            if (j >= vis) {
                P[r * ldp + j] = 0;
                continue;
            }
            double s = 0;
            for (int64_t d = 0; d < D; d++) s += (double)Q[r * D + d] * (double)K[j * D + d];
            P[r * ldp + j] = (float)(exp(s * scale - m) / z);
        }
    }
}

void al_softmax_rows(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal) {
    for (int64_t r = 0; r < nrows; r++) {
        float *s = S + r * lds;
        int64_t i = row0 + r, vis = causal ? (i + 1 < ncols ? i + 1 : ncols) : ncols;
        float m = -INFINITY;
        for (int64_t j = 0; j < vis; j++) m = s[j] > m ? s[j] : m;
        double z = 0;
        for (int64_t j = 0; j < vis; j++) {
            float x = expf(s[j] - m);
            s[j] = x;
            z += x;
        }
        float inv = (float)(1.0 / z);
        for (int64_t j = 0; j < vis; j++) s[j] *= inv;
        for (int64_t j = vis; j < ncols; j++) s[j] = 0;
    }
}

void al_qk_probs(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                 int causal, float *P, int64_t ldp) {
    for (int64_t t0 = row0; t0 < row0 + nrows;) {
        int64_t t1 = (t0 / AL_QK_TILE + 1) * AL_QK_TILE; /* the end of t0's aligned tile */
        if (t1 > row0 + nrows) t1 = row0 + nrows;
        int64_t m = t1 - t0, ncols = causal ? ((t0 / AL_QK_TILE + 1) * AL_QK_TILE < T ? (t0 / AL_QK_TILE + 1) * AL_QK_TILE : T) : T;
        const float *q = Q + (t0 - row0) * D;
        float *p = P + (t0 - row0) * ldp;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)ncols, (int)D, (float)scale, q, (int)D, K,
                    (int)D, 0.0f, p, (int)ldp);
        al_softmax_rows(p, m, ncols, ldp, t0, causal);
        for (int64_t r = 0; r < m; r++)
            for (int64_t j = ncols; j < T; j++) p[r * ldp + j] = 0;
        t0 = t1;
    }
}
