/* The decision at the end of the prompt (kvsim --prefill): from what the pass gathered over rows 0..P-1, each
 * method's key scores per layer and KV head (GQA aggregation by --gqa), then the kept prompt keys by
 * quickselect (AdaKV: one selection over the layer's heads; DuoAttention: a split of all heads). Quest decides
 * per decoding query instead (al_kvp_quest_block). The literal twin is al_kvm_keep_ref (metrics/kvpress_ref.c). */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "kvprefill_acc.h"

typedef struct {
    double *x, *S, *sx, *sy, *work, *ew; /* [H P], [Hkv P], [H P] x2, [Hkv P], [H, D + D D] */
    float *q;                            /* [H, P, D] the layer's prompt queries (expected) */
} al_kvp_scr;

/* Keys [lo, hi) of S [Hkv, P] get the layer's largest other score plus one (kvpress's padding). */
static void al_kvp_pad(const al_kvp *a, double *S, int64_t lo, int64_t hi) {
    double mx = -INFINITY;
    for (int64_t t = 0; t < a->Hkv * a->P; t++)
        if (t % a->P < lo || t % a->P >= hi) mx = fmax(mx, S[t]);
    for (int64_t g = 0; g < a->Hkv; g++)
        for (int64_t j = lo; j < hi; j++)
            S[g * a->P + j] = mx + 1;
}

/* Scores S [Hkv, P] of scorer q on layer l (streaming's depend on the ratio r). */
static al_status al_kvp_scores(al_kvp *a, int q, int64_t n, int64_t l, double r, al_kvp_scr *s, al_error *e) {
    const al_kvmethod *m = &a->m[q];
    int64_t P = a->P, H = a->H, Hkv = a->Hkv, D = a->D, G = a->G;
    double *S = s->S, *x = s->x;
    const float *kl = a->k ? a->k + l * Hkv * a->T * D : NULL;
    switch (m->base) {
    case AL_KVM_STREAMING: {
        int64_t pruned = P - (int64_t)((double)P * (1.0 - r));
        for (int64_t t = 0; t < Hkv * P; t++)
            S[t] = t % P >= m->sink && t % P < m->sink + pruned ? 0 : 1;
        return AL_OK;
    }
    case AL_KVM_KNORM:
        for (int64_t g = 0; g < Hkv; g++)
            al_kvm_knorm(kl + g * a->T * D, P, D, S + g * P);
        return AL_OK;
    case AL_KVM_SNAPKV:
    case AL_KVM_PYRAMID: {
        int64_t w = m->window;
        const double *ws = a->wsum + (a->wslot[q] * a->L + l) * H * P;
        for (int64_t h = 0; h < H; h++) {
            for (int64_t j = 0; j < P - w; j++)
                s->sy[j] = ws[h * P + j] / (double)w;
            al_kvm_pool(s->sy, P - w, m->kernel, x + h * P);
        }
        for (int64_t g = 0; g < Hkv; g++)
            al_kvm_group(x + g * G * P, G, P, P - w, a->agg, S + g * P);
        al_kvp_pad(a, S, P - w, P);
        return AL_OK;
    }
    case AL_KVM_TOVA:
        al_kvm_group(a->last + l * H * P, H, P, P, a->agg, S);
        for (int64_t g = 1; g < Hkv; g++)
            memcpy(S + g * P, S, sizeof(double) * (size_t)P);
        al_kvp_pad(a, S, P - 1, P);
        return AL_OK;
    case AL_KVM_OBSERVED:
        for (int64_t t = 0; t < H * P; t++)
            x[t] = a->col[l * H * P + t] / (double)(P - t % P);
        for (int64_t g = 0; g < Hkv; g++)
            al_kvm_group(x + g * G * P, G, P, P, a->agg, S + g * P);
        return AL_OK;
    case AL_KVM_EXPECTED: {
        for (int64_t h = 0; h < H; h++)
            if (al_rec_read_qkv(a->r, AL_T_Q, n, l, h, 0, P, s->q + h * P * D, e) != AL_OK) return e->status;
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t h = 0; h < H; h++)
            al_kvm_expected(s->q + h * P * D, kl + (h / G) * a->T * D, P, D, m->sink, m->cov, s->ew + h * (D + D * D),
                            x + h * P);
        for (int64_t g = 0; g < Hkv; g++) {
            al_kvm_group(x + g * G * P, G, P, P, a->agg, S + g * P);
            const float *vg = a->v + (l * Hkv + g) * a->T * D;
            for (int64_t j = 0; j < P && m->vnorm; j++) {
                double nv = 0;
                for (int64_t d = 0; d < D; d++)
                    nv += (double)vg[j * D + d] * (double)vg[j * D + d];
                S[g * P + j] = (S[g * P + j] + m->eps) * sqrt(nv);
            }
        }
        al_kvp_pad(a, S, 0, m->sink);
        return AL_OK;
    }
    default:
        for (int64_t g = 0; g < Hkv; g++)
            al_kvm_random(m->seed, (uint64_t)n, l, g, P, S + g * P);
        return AL_OK;
    }
}

/* DuoAttention's streaming heads for method q at ratio r over all layers: streaming [L, Hkv]. */
static void al_kvp_duo(al_kvp *a, int q, double r, double *x, uint8_t *streaming) {
    int64_t LK = a->L * a->Hkv;
    if (a->m[q].gates[0]) {
        memcpy(x, a->gsc + q * LK, sizeof(double) * (size_t)LK);
    } else {
        /* a head's retrieval score: its prompt rows' mean distant mass, aggregated over its group */
        const double *d = a->dist + a->dslot[q] * a->L * a->H;
        for (int64_t t = 0; t < LK; t++)
            al_kvm_group(d + t * a->G, a->G, 1, 1, a->agg, x + t);
    }
    al_kvm_duo_split(x, LK, r, streaming);
}

/* Kept prompt keys of run (q, t) on layer l into mask/nkept. */
static void al_kvp_keep(al_kvp *a, int q, int t, int64_t l, al_kvp_scr *s, const uint8_t *streaming) {
    const al_kvmethod *m = &a->m[q];
    int64_t P = a->P, Hkv = a->Hkv, run = q * a->R + t;
    uint8_t *keep = a->mask + ((run * a->L + l) * Hkv) * P;
    int64_t *nk = a->nkept + (run * a->L + l) * Hkv;
    double r = a->ratios[t];
    if (m->kind == AL_KVM_DUO) {
        for (int64_t g = 0; g < Hkv; g++) {
            nk[g] = 0;
            for (int64_t j = 0; j < P; j++)
                nk[g] += keep[g * P + j] = !streaming[l * Hkv + g] || j < m->sink || j >= P - m->recent;
        }
        return;
    }
    int64_t k =
        m->kind == AL_KVM_PYRAMID ? al_kvm_pyramid_budget(P, r, m->window, m->beta, a->L, l) : al_kvm_budget(P, r);
    if (k > P) k = P;
    if (m->kind == AL_KVM_ADAKV) {
        al_kvm_adakv(s->S, Hkv, P, k, m->alpha, s->sx, s->sy, s->work, keep);
        for (int64_t g = 0; g < Hkv; g++) {
            nk[g] = 0;
            for (int64_t j = 0; j < P; j++)
                nk[g] += keep[g * P + j];
        }
        return;
    }
    for (int64_t g = 0; g < Hkv; g++)
        nk[g] = al_kvm_select(s->S + g * P, P, k, s->sx, s->sy, keep + g * P);
}

static void al_kvp_scr_free(al_kvp_scr *s) {
    al_free(s->x), al_free(s->S), al_free(s->sx), al_free(s->sy), al_free(s->work), al_free(s->q), al_free(s->ew);
}

al_status al_kvp_decide(al_kvp *a, int64_t n, al_error *e);
al_status al_kvp_decide(al_kvp *a, int64_t n, al_error *e) {
    int64_t P = a->P, H = a->H, Hkv = a->Hkv, L = a->L, HP = (H > Hkv ? H : Hkv) * P;
    al_kvp_scr s = {0};
    s.x = al_malloc((size_t)HP, sizeof(double));
    s.S = al_malloc((size_t)(Hkv * P), sizeof(double));
    s.sx = al_malloc((size_t)HP, sizeof(double));
    s.sy = al_malloc((size_t)HP, sizeof(double));
    s.work = al_malloc((size_t)(Hkv * P), sizeof(double));
    s.q = a->need_q ? al_malloc((size_t)(H * P * a->D), sizeof(float)) : NULL;
    s.ew = a->need_q ? al_malloc((size_t)(H * (a->D + a->D * a->D)), sizeof(double)) : NULL;
    uint8_t *streaming = al_malloc((size_t)(L * Hkv), 1);
    double *dx = al_malloc((size_t)(L * Hkv), sizeof(double));
    al_status st = AL_OK;
    if (!s.x || !s.S || !s.sx || !s.sy || !s.work || (a->need_q && (!s.q || !s.ew)) || !streaming || !dx)
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for the kvsim decisions");
    for (int q = 0; st == AL_OK && q < a->M; q++) {
        const al_kvmethod *m = &a->m[q];
        if (m->kind == AL_KVM_DUO)
            for (int t = 0; t < a->R; t++) {
                al_kvp_duo(a, q, a->ratios[t], dx, streaming);
                for (int64_t l = 0; l < L; l++)
                    al_kvp_keep(a, q, t, l, &s, streaming);
            }
        for (int t = 0; m->kind == AL_KVM_QUEST && t < a->R; t++) {
            int64_t pages = al_kvm_budget(P, a->ratios[t]) / m->page, nk = (pages < 1 ? 1 : pages) * m->page;
            for (int64_t u = 0; u < L * Hkv; u++)
                a->nkept[(q * a->R + t) * L * Hkv + u] = nk < P ? nk : P; /* nominal */
        }
        if (m->kind == AL_KVM_DUO || m->kind == AL_KVM_QUEST) continue;
        for (int64_t l = 0; st == AL_OK && l < L; l++)
            for (int t = 0; st == AL_OK && t < a->R; t++) {
                /* the scores depend on the ratio only for streaming */
                if (t == 0 || m->base == AL_KVM_STREAMING) st = al_kvp_scores(a, q, n, l, a->ratios[t], &s, e);
                if (st == AL_OK) al_kvp_keep(a, q, t, l, &s, streaming);
            }
    }
    al_kvp_scr_free(&s);
    al_free(streaming);
    al_free(dx);
    a->decided = 1;
    return st;
}
