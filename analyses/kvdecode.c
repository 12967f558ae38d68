/* kvsim --decode C: decoding-time eviction (H2O-style). Every KV head holds at most C keys; each new key enters
 * the cache, and when it overflows the method's lowest-scoring cached key other than the newest leaves for good
 * (ties: the lower key index). Rows are measured from C on, against the cache as it stands; the scores learn from
 * the attention each query gives the cached keys, renormalised over the cache (what the model would see).
 * Layers run in parallel, rows in order within a layer. Definitions: docs/kvsim.md "Decoding-time eviction". */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/rng.h"
#include "kvprefill_acc.h"

typedef struct {
    int64_t *idx;   /* [M, L, Hkv, C + 1] cached keys */
    int64_t *cnt;   /* [M, L, Hkv] */
    double *sc;     /* [M, L, Hkv, T] score of each key (while cached) */
    double *mass;   /* [L, H] the row's mass on a cache (scratch) */
    double *o, *ok; /* [L, H, D] the row's full output per head, [L, D] kept output (scratch) */
} al_kvd;

al_status al_kvd_begin(al_kvp *a, al_error *e) {
    int64_t M = a->M, LK = a->L * a->Hkv, C = a->P;
    al_kvd *d = al_calloc(1, sizeof *d);
    if (d) {
        d->idx = al_malloc((size_t)(M * LK * (C + 1)), sizeof(int64_t));
        d->cnt = al_calloc((size_t)(M * LK), sizeof(int64_t));
        d->sc = al_malloc((size_t)(M * LK * a->T), sizeof(double));
        d->mass = al_malloc((size_t)(a->L * a->H), sizeof(double));
        d->o = al_malloc((size_t)(a->L * a->H * a->D + 1), sizeof(double));
        d->ok = al_malloc((size_t)(a->L * a->D + 1), sizeof(double));
    }
    a->dec = d;
    if (!d || !d->idx || !d->cnt || !d->sc || !d->mass || !d->o || !d->ok)
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for the decoding caches");
    return AL_OK;
}

void al_kvd_free(al_kvp *a) {
    al_kvd *d = a->dec;
    if (!d) return;
    al_free(d->idx), al_free(d->cnt), al_free(d->sc), al_free(d->mass), al_free(d->o), al_free(d->ok);
    al_free(d);
    a->dec = NULL;
}

/* The score key j enters with (h2o and tova learn theirs from the queries). */
static double al_kvd_init(const al_kvp *a, const al_kvmethod *m, int64_t n, int64_t l, int64_t g, int64_t j) {
    if (m->kind == AL_KVM_STREAMING) return j < m->sink ? INFINITY : (double)j; /* the oldest non-sink leaves */
    if (m->kind == AL_KVM_KNORM) {
        double s;
        al_kvm_knorm(a->k + ((l * a->Hkv + g) * a->T + j) * a->D, 1, a->D, &s);
        return s;
    }
    if (m->kind == AL_KVM_RANDOM) {
        al_rng r;
        al_rng_seed(&r, m->seed, ((uint64_t)n << 40) ^ ((uint64_t)l << 32) ^ ((uint64_t)g << 24) ^ (uint64_t)j);
        return al_rng_uniform(&r);
    }
    return 0;
}

/* Key i enters cache (q, l, g); when it overflows, the lowest-scoring older key leaves. */
static void al_kvd_enter(const al_kvp *a, al_kvd *d, int q, int64_t n, int64_t l, int64_t g, int64_t i) {
    int64_t t = (q * a->L + l) * a->Hkv + g, C = a->P;
    int64_t *idx = d->idx + t * (C + 1), *cnt = d->cnt + t;
    double *sc = d->sc + t * a->T;
    sc[i] = al_kvd_init(a, &a->m[q], n, l, g, i);
    idx[(*cnt)++] = i;
    if (*cnt <= C) return;
    int64_t worst = -1;
    for (int64_t c = 0; c < *cnt - 1; c++) /* the newest key, last, stays */
        if (worst < 0 || sc[idx[c]] < sc[idx[worst]] || (sc[idx[c]] == sc[idx[worst]] && idx[c] < idx[worst]))
            worst = c;
    idx[worst] = idx[--(*cnt)];
}

/* Row i of head h (layer l) measured on the cache of run q; its mass on the cache to d->mass. */
static void al_kvd_measure(const al_kvp *a, al_kvd *d, int q, int64_t l, int64_t h, const float *row, int64_t i,
                           const double *o, double *ok, double *s) {
    int64_t t = (q * a->L + l) * a->Hkv + h / a->G, C = a->P, D = a->D, cnt = d->cnt[t];
    const int64_t *idx = d->idx + t * (C + 1);
    double m = 0;
    for (int64_t c = 0; c < cnt; c++)
        m += (double)row[idx[c]];
    d->mass[l * a->H + h] = m;
    s[0] += m;
    s[1] += (double)cnt / (double)(i + 1);
    if (!a->v) return;
    const float *vg = a->v + (l * a->Hkv + h / a->G) * a->T * D;
    for (int64_t x = 0; x < D; x++)
        ok[x] = 0;
    for (int64_t c = 0; c < cnt; c++)
        for (int64_t x = 0; x < D; x++)
            ok[x] += (double)row[idx[c]] * (double)vg[idx[c] * D + x];
    double num = 0, den = 0;
    for (int64_t x = 0; x < D; x++) {
        double y = ok[x] / m - o[x];
        num += y * y, den += o[x] * o[x];
    }
    s[2] += den > 0 ? sqrt(num / den) : 0;
}

/* h2o: each cached key's score grows by its attention (renormalised over the cache), aggregated over the group;
 * tova: the score becomes that attention, aggregated over every head of the layer. */
static void al_kvd_learn(const al_kvp *a, al_kvd *d, int q, int64_t l, const float *A, int64_t nr, int64_t lda,
                         int64_t r) {
    const al_kvmethod *m = &a->m[q];
    if (m->kind != AL_KVM_H2O && m->kind != AL_KVM_TOVA) return;
    int64_t C = a->P, H = a->H, G = m->kind == AL_KVM_TOVA ? H : a->G;
    for (int64_t g = 0; g < a->Hkv; g++) {
        int64_t t = (q * a->L + l) * a->Hkv + g, cnt = d->cnt[t], h0 = m->kind == AL_KVM_TOVA ? 0 : g * a->G;
        const int64_t *idx = d->idx + t * (C + 1);
        double *sc = d->sc + t * a->T;
        for (int64_t c = 0; c < cnt; c++) {
            int64_t j = idx[c];
            double x = 0;
            for (int64_t h = h0; h < h0 + G; h++) {
                double y = (double)A[((l * H + h) * nr + r) * lda + j] / d->mass[l * H + h];
                x = h == h0 ? y : a->agg == AL_GQA_MAX ? fmax(x, y) : x + y;
            }
            if (a->agg == AL_GQA_MEAN) x /= (double)G;
            sc[j] = m->kind == AL_KVM_H2O ? sc[j] + x : x;
        }
    }
}

al_status al_kvd_block(al_kvp *a, int64_t n, const float *A, int64_t lda, int64_t row0, int64_t nr, double *cur,
                       al_error *e) {
    al_kvd *d = a->dec;
    int64_t D = a->D, H = a->H;
    (void)e;
    if (row0 == 0) memset(d->cnt, 0, sizeof(int64_t) * (size_t)(a->M * a->L * a->Hkv));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t l = 0; l < a->L; l++)
        for (int64_t r = 0; r < nr; r++) {
            int64_t i = row0 + r;
            for (int64_t h = 0; h < H && a->v && i >= a->P; h++) {
                const float *row = A + ((l * H + h) * nr + r) * lda, *vg = a->v + (l * a->Hkv + h / a->G) * a->T * D;
                double *o = d->o + (l * H + h) * D;
                for (int64_t x = 0; x < D; x++)
                    o[x] = 0;
                for (int64_t j = 0; j <= i; j++)
                    for (int64_t x = 0; x < D; x++)
                        o[x] += (double)row[j] * (double)vg[j * D + x];
            }
            for (int q = 0; q < a->M; q++) {
                for (int64_t g = 0; g < a->Hkv; g++)
                    al_kvd_enter(a, d, q, n, l, g, i);
                for (int64_t h = 0; h < H; h++) {
                    double s[AL_KVP_STATS] = {0, 0, 0};
                    al_kvd_measure(a, d, q, l, h, A + ((l * H + h) * nr + r) * lda, i, d->o + (l * H + h) * D,
                                   d->ok + l * D, s);
                    if (i >= a->P)
                        for (int k = 0; k < AL_KVP_STATS; k++)
                            cur[((l * H + h) * a->Q + q) * AL_KVP_STATS + k] += s[k];
                }
                al_kvd_learn(a, d, q, l, A, nr, lda, r);
            }
        }
    return AL_OK;
}
