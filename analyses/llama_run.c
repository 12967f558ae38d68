/* The forward pass of llama2.c's run.c, one layer at a time over a block of positions, so that a recorder
 * sees each layer's maps, q, k, v and residual stream while only one layer's worth is in memory. */
#include "llama_run.h"

#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/llama_forward.h"

al_status al_llm_init(al_llm *s, const al_llama *m, int64_t Tmax, al_error *e) {
    memset(s, 0, sizeof *s);
    const al_llama_config *c = &m->c;
    s->m = m;
    s->Tmax = Tmax;
    /* fixed blocks: the numbers then do not depend on a memory setting (BLAS rounds differently per shape) */
    s->att_rows = Tmax < AL_LLM_BLOCK_ROWS ? Tmax : AL_LLM_BLOCK_ROWS;
    s->logit_rows = s->att_rows;
    size_t T = (size_t)Tmax, d = (size_t)c->dim, kv = (size_t)c->kv_dim, L = (size_t)c->n_layers;
    s->x = al_malloc(T * d, sizeof(float));
    s->xb = al_malloc(T * d, sizeof(float));
    s->xo = al_malloc(T * d, sizeof(float));
    s->q = al_malloc(T * d, sizeof(float));
    s->kc = al_malloc(L * T * kv, sizeof(float));
    s->vc = al_malloc(L * T * kv, sizeof(float));
    s->hb = al_malloc(T * (size_t)c->hidden_dim, sizeof(float));
    s->hb2 = al_malloc(T * (size_t)c->hidden_dim, sizeof(float));
    s->att = al_malloc((size_t)(c->n_heads * s->att_rows) * T, sizeof(float));
    s->lg = al_malloc((size_t)s->logit_rows * (size_t)c->vocab_size, sizeof(float));
    s->ws = al_malloc((size_t)c->vocab_size, sizeof(double));
    if (!s->x || !s->xb || !s->xo || !s->q || !s->kc || !s->vc || !s->hb || !s->hb2 || !s->att || !s->lg || !s->ws) {
        al_llm_free(s);
        return al_fail(e, AL_ENOMEM, m->path, NULL, "out of memory for a %lld-token forward pass", (long long)Tmax);
    }
    return AL_OK;
}

void al_llm_free(al_llm *s) {
    al_free(s->x);
    al_free(s->xb);
    al_free(s->xo);
    al_free(s->q);
    al_free(s->kc);
    al_free(s->vc);
    al_free(s->hb);
    al_free(s->hb2);
    al_free(s->att);
    al_free(s->lg);
    al_free(s->ws);
    memset(s, 0, sizeof *s);
}

/* out [T, n] = x [T, k] W[n, k]^T in fixed slices of output features, one OpenMP task each: the slices
 * (and so the rounding) do not depend on the number of threads. */
static void al_llm_linear(const float *x, int64_t T, int64_t k, const float *W, int64_t n, float *out) {
    int64_t ns = (n + AL_LLM_COL_SLICE - 1) / AL_LLM_COL_SLICE;
#pragma omp parallel for schedule(static) if (ns > 1 && T * k * n > (1 << 20))
    for (int64_t c = 0; c < ns; c++) {
        int64_t o0 = c * AL_LLM_COL_SLICE, m = n - o0 < AL_LLM_COL_SLICE ? n - o0 : AL_LLM_COL_SLICE;
        al_linear(x, T, k, k, W + o0 * k, m, out + o0, n);
    }
}

/* One block on rows t0..t1-1 of s->x; the KV cache of layer l gets rows t0..t1-1. */
static al_status al_llm_layer(al_llm *s, int64_t l, int64_t t0, int64_t t1, const al_llm_observer *obs, al_error *e) {
    const al_llama_config *c = &s->m->c;
    const al_llama_weights *w = &s->m->w;
    int64_t n = t1 - t0, d = c->dim, kvd = c->kv_dim, hs = c->head_size, hid = c->hidden_dim, H = c->n_heads;
    int64_t grp = H / c->n_kv_heads;
    float *x = s->x + t0 * d, *xb = s->xb + t0 * d, *xo = s->xo + t0 * d, *q = s->q + t0 * d;
    float *kl = s->kc + l * s->Tmax * kvd, *vl = s->vc + l * s->Tmax * kvd; /* [Tmax, kv_dim] */
    float *hb = s->hb + t0 * hid, *hb2 = s->hb2 + t0 * hid;
    al_status st = AL_OK;

    al_rmsnorm(x, n, d, d, w->rms_att + l * d, AL_LLAMA_RMS_EPS, xb, d);
    al_llm_linear(xb, n, d, w->wq + l * d * d, d, q);
    al_llm_linear(xb, n, d, w->wk + l * kvd * d, kvd, kl + t0 * kvd);
    al_llm_linear(xb, n, d, w->wv + l * kvd * d, kvd, vl + t0 * kvd);
    al_rope(q, n, H, hs, d, t0, AL_LLAMA_ROPE_BASE);
    al_rope(kl + t0 * kvd, n, c->n_kv_heads, hs, kvd, t0, AL_LLAMA_ROPE_BASE);
    if (obs && obs->qkv && (st = obs->qkv(obs->ctx, l, s->q, kl, vl, t1, e)) != AL_OK) return st;

    double scale = 1.0 / sqrt((double)hs);
    int64_t blk = s->att_rows * s->Tmax; /* one head's map rows in s->att */
    for (int64_t r0 = t0; r0 < t1; r0 += s->att_rows) {
        int64_t nr = t1 - r0 < s->att_rows ? t1 - r0 : s->att_rows;
#pragma omp parallel for schedule(static) if (H > 1 && nr * (r0 + nr) * hs > (1 << 16))
        for (int64_t h = 0; h < H; h++) {
            float *a = s->att + h * blk; /* [nr, t1] */
            al_attention_rows(s->q + r0 * d + h * hs, d, kl + (h / grp) * hs, kvd, vl + (h / grp) * hs, kvd, r0, nr, hs, scale,
                              a, t1, s->xo + r0 * d + h * hs, d);
            for (int64_t i = 0; i < nr; i++) memset(a + i * t1 + r0 + nr, 0, sizeof(float) * (size_t)(t1 - r0 - nr));
        }
        for (int64_t h = 0; obs && obs->map_rows && h < H; h++)
            if ((st = obs->map_rows(obs->ctx, l, h, r0, nr, s->att + h * blk, t1, e)) != AL_OK) return st;
    }
    al_llm_linear(xo, n, d, w->wo + l * d * d, d, xb);
    al_add(x, xb, n * d);

    al_rmsnorm(x, n, d, d, w->rms_ffn + l * d, AL_LLAMA_RMS_EPS, xb, d);
    al_llm_linear(xb, n, d, w->w1 + l * hid * d, hid, hb);
    al_llm_linear(xb, n, d, w->w3 + l * hid * d, hid, hb2);
    al_swiglu(hb, hb2, n * hid);
    al_llm_linear(hb, n, hid, w->w2 + l * d * hid, d, xo);
    al_add(x, xo, n * d);
    if (obs && obs->hidden && (st = obs->hidden(obs->ctx, l + 1, s->x, t1, e)) != AL_OK) return st;
    return AL_OK;
}

al_status al_llm_prefill(al_llm *s, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs,
                         float *last, al_error *e) {
    const al_llama_config *c = &s->m->c;
    const al_llama_weights *w = &s->m->w;
    int64_t d = c->dim, V = c->vocab_size;
    if (t0 < 0 || t1 > s->Tmax || t0 >= t1) return al_fail(e, AL_EINTERNAL, s->m->path, NULL, "bad prefill range");
    for (int64_t t = t0; t < t1; t++) memcpy(s->x + t * d, w->tok_emb + (int64_t)tok[t] * d, sizeof(float) * (size_t)d);
    al_status st = AL_OK;
    if (obs && obs->hidden && (st = obs->hidden(obs->ctx, 0, s->x, t1, e)) != AL_OK) return st;
    for (int64_t l = 0; l < c->n_layers; l++)
        if ((st = al_llm_layer(s, l, t0, t1, obs, e)) != AL_OK) return st;
    int want_all = obs && obs->logits;
    int64_t r_first = want_all ? t0 : t1 - 1;
    for (int64_t r0 = r_first; r0 < t1; r0 += s->logit_rows) {
        int64_t nr = t1 - r0 < s->logit_rows ? t1 - r0 : s->logit_rows;
        al_rmsnorm(s->x + r0 * d, nr, d, d, w->rms_final, AL_LLAMA_RMS_EPS, s->xb + r0 * d, d);
        al_llm_linear(s->xb + r0 * d, nr, d, w->wcls, V, s->lg);
        for (int64_t i = 0; i < nr * V; i++)
            if (!isfinite(s->lg[i]))
                return al_fail(e, AL_EVALUE, s->m->path, NULL, "the forward pass overflowed: logit of position %lld is not finite",
                               (long long)(r0 + i / V));
        if (want_all && (st = obs->logits(obs->ctx, r0, nr, s->lg, e)) != AL_OK) return st;
        if (last && r0 + nr == t1) memcpy(last, s->lg + (nr - 1) * V, sizeof(float) * (size_t)V);
    }
    return AL_OK;
}

al_status al_llm_generate(al_llm *s, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature, al_rng *rng,
                          al_error *e) {
    int64_t V = s->m->c.vocab_size;
    if (n_total <= n_prompt) return AL_OK;
    float *lg = al_malloc((size_t)V, sizeof(float)); /* [V] */
    if (!lg) return al_fail(e, AL_ENOMEM, s->m->path, NULL, "out of memory");
    al_status st = al_llm_prefill(s, tok, 0, n_prompt, NULL, lg, e);
    for (int64_t t = n_prompt; st == AL_OK && t < n_total; t++) {
        tok[t] = (int32_t)(temperature > 0 ? al_sample_softmax(lg, V, temperature, al_rng_uniform(rng), s->ws) : al_argmax(lg, V));
        if (t + 1 < n_total) st = al_llm_prefill(s, tok, t, t + 1, NULL, lg, e);
    }
    al_free(lg);
    return st;
}
