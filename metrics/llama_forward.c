/* Forward-pass kernels. The matrix products go to OpenBLAS; everything else accumulates in double, so the
 * result stays within float32 rounding of a float64 forward (what the conformance reference computes). */
#include "llama_forward.h"

#include <cblas.h>

#include "qk.h"
#include <math.h>
#include <string.h>

void al_linear(const float *x, int64_t T, int64_t k, int64_t ldx, const float *W, int64_t n, float *out, int64_t ldo) {
    if (T <= 0 || n <= 0) return;
    if (T == 1)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)n, (blasint)k, 1.0f, W, (blasint)k, x, 1, 0.0f, out, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)T, (blasint)n, (blasint)k, 1.0f, x, (blasint)ldx,
                    W, (blasint)k, 0.0f, out, (blasint)ldo);
}

void al_linear_ref(const float *x, int64_t T, int64_t k, int64_t ldx, const float *W, int64_t n, float *out,
                   int64_t ldo) {
    for (int64_t t = 0; t < T; t++)
        for (int64_t o = 0; o < n; o++) {
            double s = 0;
            for (int64_t i = 0; i < k; i++)
                s += (double)x[t * ldx + i] * (double)W[o * k + i];
            out[t * ldo + o] = (float)s;
        }
}

void al_rmsnorm(const float *x, int64_t T, int64_t d, int64_t ldx, const float *g, double eps, float *out,
                int64_t ldo) {
    for (int64_t t = 0; t < T; t++) {
        const float *xr = x + t * ldx;
        double ss = 0;
        for (int64_t i = 0; i < d; i++)
            ss += (double)xr[i] * (double)xr[i];
        double inv = 1.0 / sqrt(ss / (double)d + eps);
        float *o = out + t * ldo;
        for (int64_t i = 0; i < d; i++)
            o[i] = (float)((double)xr[i] * inv * (double)g[i]);
    }
}

/* The angle of pair i depends on the position and i mod hs only: cos and sin are computed once per token for
 * the hs / 2 pairs of a head and used for every head (pow once per call) */
void al_rope(float *x, int64_t T, int64_t nh, int64_t hs, int64_t ldx, int64_t pos0, double base) {
    double fr[256], cs[256], sn[256]; /* [hs / 2]; head sizes beyond 512 take the direct path */
    int tab = hs <= 512;
    for (int64_t i = 0; tab && i < hs; i += 2)
        fr[i / 2] = pow(base, -(double)i / (double)hs);
    for (int64_t t = 0; t < T; t++) {
        double pos = (double)(pos0 + t);
        float *r = x + t * ldx;
        for (int64_t i = 0; tab && i < hs; i += 2) {
            cs[i / 2] = cos(pos * fr[i / 2]);
            sn[i / 2] = sin(pos * fr[i / 2]);
        }
        for (int64_t i = 0; i < nh * hs; i += 2) {
            double c, s;
            if (tab) {
                c = cs[(i % hs) / 2];
                s = sn[(i % hs) / 2];
            } else {
                double ang = pos * pow(base, -(double)(i % hs) / (double)hs);
                c = cos(ang);
                s = sin(ang);
            }
            double a = r[i], b = r[i + 1];
            r[i] = (float)(a * c - b * s);
            r[i + 1] = (float)(a * s + b * c);
        }
    }
}

void al_attention_rows(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                       int64_t row0, int64_t nrows, int64_t hs, double scale, float *att, int64_t ldatt, float *out,
                       int64_t ldo) {
    int64_t nk = row0 + nrows;
    /* scores scaled inside sgemm; the vectorised softmax of the q/k path (metrics/qk.c) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nrows, (blasint)nk, (blasint)hs, (float)scale, q,
                (blasint)ldq, k, (blasint)ldk, 0.0f, att, (blasint)ldatt);
    al_softmax_rows(att, nrows, nk, ldatt, row0, 1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nrows, (blasint)hs, (blasint)nk, 1.0f, att,
                (blasint)ldatt, v, (blasint)ldv, 0.0f, out, (blasint)ldo);
}

void al_attention_rows_ref(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                           int64_t row0, int64_t nrows, int64_t hs, double scale, float *att, int64_t ldatt, float *out,
                           int64_t ldo) {
    int64_t nk = row0 + nrows;
    for (int64_t i = 0; i < nrows; i++) {
        float *a = att + i * ldatt;
        int64_t vis = row0 + i + 1;
        double m = -INFINITY, z = 0;
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < hs; d++)
                s += (double)q[i * ldq + d] * (double)k[j * ldk + d];
            m = fmax(m, s * scale);
        }
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < hs; d++)
                s += (double)q[i * ldq + d] * (double)k[j * ldk + d];
            z += exp(s * scale - m);
        }
        for (int64_t j = 0; j < vis; j++) {
            double s = 0;
            for (int64_t d = 0; d < hs; d++)
                s += (double)q[i * ldq + d] * (double)k[j * ldk + d];
            a[j] = (float)(exp(s * scale - m) / z);
        }
        for (int64_t j = vis; j < nk; j++)
            a[j] = 0.0f;
        for (int64_t d = 0; d < hs; d++) {
            double s = 0;
            for (int64_t j = 0; j < vis; j++)
                s += (double)a[j] * (double)v[j * ldv + d];
            out[i * ldo + d] = (float)s;
        }
    }
}

void al_swiglu(float *h1, const float *h3, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double a = h1[i];
        h1[i] = (float)(a / (1.0 + exp(-a)) * (double)h3[i]);
    }
}

void al_add(float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        a[i] += b[i];
}

int64_t al_argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

int64_t al_sample_softmax(const float *x, int64_t n, double temperature, double coin, double *ws) {
    double m = -INFINITY, z = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, (double)x[i] / temperature);
    for (int64_t i = 0; i < n; i++)
        z += (ws[i] = exp((double)x[i] / temperature - m));
    double cdf = 0, target = coin * z;
    for (int64_t i = 0; i < n; i++) {
        cdf += ws[i];
        if (target < cdf) return i;
    }
    return n - 1; /* rounding: coin * z can reach the total */
}
