/* The reference twins of the KV-compression methods' decisions (docs/kvsim.md "Methods"): each definition read
 * literally from the prompt's maps, queries, keys and values, with repeated linear scans for the selection. The
 * tuned path (analyses/kvprefill.c) accumulates the same quantities while streaming and is tested against these. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvpress.h"

/* Per query head scores x [H, P] (0 where undefined) aggregated per KV head into S [Hkv, P]. */
static void al_kvm_ref_group(const double *x, const al_kvm_dims *d, double *S) {
    int64_t G = d->H / d->Hkv;
    for (int64_t g = 0; g < d->Hkv; g++)
        for (int64_t j = 0; j < d->P; j++) {
            double a = x[(g * G) * d->P + j];
            for (int64_t t = 1; t < G; t++) {
                double b = x[(g * G + t) * d->P + j];
                a = d->agg == AL_GQA_MAX ? (b > a ? b : a) : a + b;
            }
            S[g * d->P + j] = d->agg == AL_GQA_MAX ? a : a / (double)G;
        }
}

/* Keys [lo, hi) of every KV head get the largest score over the layer plus one (kvpress's padding). */
static void al_kvm_ref_pad(double *S, const al_kvm_dims *d, int64_t lo, int64_t hi) {
    double mx = -INFINITY;
    for (int64_t g = 0; g < d->Hkv; g++)
        for (int64_t j = 0; j < d->P; j++)
            if (j < lo || j >= hi) mx = S[g * d->P + j] > mx ? S[g * d->P + j] : mx;
    for (int64_t g = 0; g < d->Hkv; g++)
        for (int64_t j = lo; j < hi; j++)
            S[g * d->P + j] = mx + 1;
}

/* SnapKV's scores: mean attention of the last w queries on keys j < P - w, pooled, aggregated, window padded. */
static void al_kvm_ref_snap(const al_kvmethod *m, const al_kvm_dims *d, const double *A, double *x, double *S) {
    int64_t P = d->P, w = m->window, h2 = m->kernel / 2;
    for (int64_t h = 0; h < d->H; h++)
        for (int64_t j = 0; j < P; j++) {
            double pooled = 0;
            for (int64_t t = j - h2; t <= j + h2 && j < P - w; t++) {
                if (t < 0 || t >= P - w) continue;
                double mean = 0;
                for (int64_t i = P - w; i < P; i++)
                    mean += A[(h * P + i) * P + t];
                pooled += mean / (double)w;
            }
            x[h * P + j] = pooled / (double)m->kernel;
        }
    al_kvm_ref_group(x, d, S);
    al_kvm_ref_pad(S, d, P - w, P);
}

/* ExpectedAttention for query head h, literally: the quadratic term as the mean of squared centred projections. */
static void al_kvm_ref_expected(const al_kvmethod *m, const al_kvm_dims *d, const float *q, const float *k, int64_t h,
                                double *x) {
    int64_t P = d->P, D = d->D, s0 = m->sink, G = d->H / d->Hkv;
    const float *kh = k + (h / G) * P * D, *qh = q + h * P * D;
    double z = 0, mx = -INFINITY;
    for (int64_t j = 0; j < P; j++) {
        x[j] = 0;
        if (j < s0) continue;
        double lin = 0, quad = 0;
        for (int64_t i = s0; i < P; i++) {
            double dot = 0;
            for (int64_t t = 0; t < D; t++)
                dot += (double)qh[i * D + t] * (double)kh[j * D + t];
            lin += dot;
        }
        lin /= (double)(P - s0);
        for (int64_t i = s0; i < P && m->cov; i++) {
            double c = 0;
            for (int64_t t = 0; t < D; t++) {
                double mu = 0;
                for (int64_t u = s0; u < P; u++)
                    mu += (double)qh[u * D + t];
                c += ((double)qh[i * D + t] - mu / (double)(P - s0)) * (double)kh[j * D + t];
            }
            quad += c * c / (double)(P - s0);
        }
        x[j] = lin / sqrt((double)D) + quad / (double)D / 2;
        mx = x[j] > mx ? x[j] : mx;
    }
    for (int64_t j = s0; j < P; j++)
        z += exp(x[j] - mx);
    for (int64_t j = s0; j < P; j++)
        x[j] = exp(x[j] - mx) / z;
}

/* Scores S [Hkv, P] of a scorer (every kind but duo and quest). */
static void al_kvm_ref_scores(const al_kvmethod *m, const al_kvm_dims *d, const double *A, const float *q,
                              const float *k, const float *v, double *x, double *S) {
    int64_t P = d->P, H = d->H, Hkv = d->Hkv, D = d->D;
    switch (m->base) {
    case AL_KVM_STREAMING: {
        int64_t pruned = P - (int64_t)((double)P * (1.0 - d->ratio));
        for (int64_t t = 0; t < Hkv * P; t++)
            S[t] = t % P >= m->sink && t % P < m->sink + pruned ? 0 : 1;
        break;
    }
    case AL_KVM_KNORM:
        for (int64_t t = 0; t < Hkv * P; t++) {
            double a = 0;
            for (int64_t u = 0; u < D; u++)
                a += (double)k[t * D + u] * (double)k[t * D + u];
            S[t] = -sqrt(a);
        }
        break;
    case AL_KVM_SNAPKV:
    case AL_KVM_PYRAMID: al_kvm_ref_snap(m, d, A, x, S); break;
    case AL_KVM_TOVA:
        for (int64_t j = 0; j < P; j++) {
            double a = j < P - 1 ? A[((0) * P + P - 1) * P + j] : 0;
            for (int64_t h = 1; h < H; h++) {
                double b = j < P - 1 ? A[(h * P + P - 1) * P + j] : 0;
                a = d->agg == AL_GQA_MAX ? (b > a ? b : a) : a + b;
            }
            for (int64_t g = 0; g < Hkv; g++)
                S[g * P + j] = d->agg == AL_GQA_MAX ? a : a / (double)H;
        }
        al_kvm_ref_pad(S, d, P - 1, P);
        break;
    case AL_KVM_OBSERVED:
        for (int64_t h = 0; h < H; h++)
            for (int64_t j = 0; j < P; j++) {
                double a = 0;
                for (int64_t i = 0; i < P; i++)
                    a += A[(h * P + i) * P + j];
                x[h * P + j] = a / (double)(P - j);
            }
        al_kvm_ref_group(x, d, S);
        break;
    case AL_KVM_EXPECTED:
        for (int64_t h = 0; h < H; h++)
            al_kvm_ref_expected(m, d, q, k, h, x + h * P);
        al_kvm_ref_group(x, d, S);
        for (int64_t t = 0; t < Hkv * P && m->vnorm; t++) {
            double a = 0;
            for (int64_t u = 0; u < D; u++)
                a += (double)v[t * D + u] * (double)v[t * D + u];
            S[t] = (S[t] + m->eps) * sqrt(a);
        }
        al_kvm_ref_pad(S, d, 0, m->sink);
        break;
    default:
        for (int64_t g = 0; g < Hkv; g++)
            al_kvm_random(m->seed, d->sample, d->l, g, P, S + g * P);
    }
}

void al_kvm_keep_ref(const al_kvmethod *m, const al_kvm_dims *d, const double *A, const float *q, const float *k,
                     const float *v, const uint8_t *streaming, uint8_t *keep) {
    int64_t P = d->P, Hkv = d->Hkv;
    if (m->kind == AL_KVM_DUO) {
        for (int64_t g = 0; g < Hkv; g++)
            for (int64_t j = 0; j < P; j++)
                keep[g * P + j] = !streaming[g] || j < m->sink || j >= P - m->recent;
        return;
    }
    double *x = malloc(sizeof(double) * (size_t)(d->H * P)), *S = malloc(sizeof(double) * (size_t)(Hkv * P));
    if (!x || !S) { /* the twin is for small test inputs: out of memory keeps nothing, which no test accepts */
        memset(keep, 0, (size_t)(Hkv * P));
        free(x);
        free(S);
        return;
    }
    al_kvm_ref_scores(m, d, A, q, k, v, x, S);
    int64_t n = m->kind == AL_KVM_PYRAMID ? al_kvm_pyramid_budget(P, d->ratio, m->window, m->beta, d->L, d->l)
                                          : al_kvm_budget(P, d->ratio);
    if (m->kind == AL_KVM_ADAKV)
        al_kvm_adakv_ref(S, Hkv, P, n, m->alpha, keep);
    else
        for (int64_t g = 0; g < Hkv; g++)
            al_kvm_select_ref(S + g * P, P, n, keep + g * P);
    free(x);
    free(S);
}

void al_kvm_quest_ref(const al_kvmethod *m, const float *q, int64_t G, const float *k, int64_t P, int64_t D,
                      double ratio, al_gqa agg, uint8_t *keep) {
    int64_t np = (P + m->page - 1) / m->page, want = al_kvm_budget(P, ratio) / m->page;
    double *s = malloc(sizeof(double) * (size_t)np);
    uint8_t *kp = malloc((size_t)np);
    memset(keep, 0, (size_t)P);
    if (!s || !kp) {
        free(s);
        free(kp);
        return;
    }
    for (int64_t p = 0; p < np; p++) {
        double best = 0;
        for (int64_t g = 0; g < G; g++) {
            double a = 0;
            for (int64_t t = 0; t < D; t++) {
                double lo = INFINITY, hi = -INFINITY;
                for (int64_t j = p * m->page; j < P && j < (p + 1) * m->page; j++) {
                    lo = fmin(lo, (double)k[j * D + t]);
                    hi = fmax(hi, (double)k[j * D + t]);
                }
                double qd = (double)q[g * D + t];
                a += qd * lo > qd * hi ? qd * lo : qd * hi;
            }
            best = g == 0 ? a : agg == AL_GQA_MAX ? fmax(best, a) : best + a;
        }
        s[p] = agg == AL_GQA_MAX ? best : best / (double)G;
    }
    al_kvm_select_ref(s, np, want < 1 ? 1 : want, kp);
    for (int64_t j = 0; j < P; j++)
        keep[j] = kp[j / m->page];
    free(s);
    free(kp);
}
