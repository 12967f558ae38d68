/* Forward pass of a llama-family GGUF model over positions [t0, t1) on top of a KV cache, one layer at a
 * time, with each weight dequantised slice by slice (AL_GL_SLICE output rows per task) into per-thread
 * float32 buffers just before its product: the slices, and so the rounding, do not depend on the threads. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/llama_forward.h"
#include "llama_gguf.h"
#include "quant.h"

al_status al_gl_run_init(al_gl_run *s, const al_gl_model *m, int64_t Tmax, al_error *e) {
    memset(s, 0, sizeof *s);
    s->m = m;
    s->Tmax = Tmax;
    s->att_rows = Tmax < AL_LLM_BLOCK_ROWS ? Tmax : AL_LLM_BLOCK_ROWS;
    s->logit_rows = s->att_rows;
    s->n_ws = omp_get_max_threads();
    size_t T = (size_t)Tmax, d = (size_t)m->dim, kv = (size_t)(m->n_kv_heads * m->head_dim), L = (size_t)m->n_layers;
    size_t wide = (size_t)(m->hidden > m->dim ? m->hidden : m->dim);
    s->x = al_malloc(T * d, sizeof(float));
    s->xb = al_malloc(T * d, sizeof(float));
    s->xo = al_malloc(T * d, sizeof(float));
    s->q = al_malloc(T * d, sizeof(float));
    s->kc = al_malloc(L * T * kv, sizeof(float));
    s->vc = al_malloc(L * T * kv, sizeof(float));
    s->hb = al_malloc(T * (size_t)m->hidden, sizeof(float));
    s->hb2 = al_malloc(T * (size_t)m->hidden, sizeof(float));
    s->att = al_malloc((size_t)(m->n_heads * s->att_rows) * T, sizeof(float));
    s->lg = al_malloc((size_t)(s->logit_rows * m->vocab), sizeof(float));
    s->ws = al_malloc((size_t)s->n_ws * 2 * AL_GL_SLICE * wide, sizeof(float));
    s->vec = al_malloc(wide, sizeof(float));
    s->sw = al_malloc((size_t)m->vocab, sizeof(double));
    if (!s->x || !s->xb || !s->xo || !s->q || !s->kc || !s->vc || !s->hb || !s->hb2 || !s->att || !s->lg || !s->ws ||
        !s->vec || !s->sw) {
        al_gl_run_free(s);
        return al_fail(e, AL_ENOMEM, m->g->path, NULL, "out of memory for a %lld-token forward pass", (long long)Tmax);
    }
    return AL_OK;
}

void al_gl_run_free(al_gl_run *s) {
    float *f[] = {s->x, s->xb, s->xo, s->q, s->kc, s->vc, s->hb, s->hb2, s->att, s->lg, s->ws, s->vec};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        al_free(f[i]);
    al_free(s->sw);
    memset(s, 0, sizeof *s);
}

/* Rows r0 .. r0 + nr - 1 of W (dequantised) into dst [nr, k]; with perm_hd, in split-half order per head. */
static void al_gl_rows(const al_gguf_tensor *W, int64_t r0, int64_t nr, int64_t perm_hd, float *tmp, float *dst) {
    int64_t k = W->ne[0];
    if (!perm_hd) {
        al_dequant_rows(W->type, W->data, k, r0, nr, dst);
        return;
    }
    al_dequant_rows(W->type, W->data, k, r0, nr, tmp);
    int64_t half = perm_hd / 2;
    for (int64_t r = 0; r < nr; r++) { /* file row 2i + j of a head is row j * half + i in split-half order */
        int64_t h = r / perm_hd, w = r % perm_hd, src = h * perm_hd + 2 * (w % half) + w / half;
        memcpy(dst + r * k, tmp + src * k, sizeof(float) * (size_t)k);
    }
}

void al_gl_linear(const al_gl_run *s, const float *x, int64_t T, const al_gguf_tensor *W, int64_t perm_hd, float *y) {
    int64_t k = W->ne[0], n = W->ne[1], ns = (n + AL_GL_SLICE - 1) / AL_GL_SLICE;
    int64_t wide = s->m->hidden > s->m->dim ? s->m->hidden : s->m->dim;
#pragma omp parallel for schedule(static) if (ns > 1)
    for (int64_t c = 0; c < ns; c++) {
        float *buf = s->ws + (int64_t)omp_get_thread_num() * 2 * AL_GL_SLICE * wide; /* [2, SLICE, wide] */
        int64_t o0 = c * AL_GL_SLICE, m = n - o0 < AL_GL_SLICE ? n - o0 : AL_GL_SLICE;
        al_gl_rows(W, o0, m, perm_hd, buf + AL_GL_SLICE * wide, buf);
        al_linear(x, T, k, k, buf, m, y + o0, n);
    }
}

void al_gl_linear_ref(const float *x, int64_t T, const al_gguf_tensor *W, int64_t perm_hd, float *y) {
    int64_t k = W->ne[0], n = W->ne[1];
    float *w = al_malloc((size_t)(n * k), sizeof(float)), *p = al_malloc((size_t)(n * k), sizeof(float)); /* [n, k] */
    if (!w || !p) {
        al_free(w);
        al_free(p);
        return;
    }
    al_dequant_ref(W->type, W->data, n * k, w);
    for (int64_t r = 0; r < n; r++) {
        int64_t src = r;
        if (perm_hd) src = r / perm_hd * perm_hd + 2 * (r % perm_hd % (perm_hd / 2)) + r % perm_hd / (perm_hd / 2);
        memcpy(p + r * k, w + src * k, sizeof(float) * (size_t)k);
    }
    al_linear_ref(x, T, k, k, p, n, y, n);
    al_free(w);
    al_free(p);
}

void al_gl_rope(float *x, int64_t T, int64_t nh, int64_t hd, int64_t rot, int64_t ldx, int64_t pos0, double base,
                double scale, const float *ff) {
    int64_t half = rot / 2;
    for (int64_t t = 0; t < T; t++) {
        double pos = (double)(pos0 + t) * scale;
        for (int64_t i = 0; i < half; i++) {
            double ang = pos * pow(base, -2.0 * (double)i / (double)rot) / (ff ? (double)ff[i] : 1.0);
            double c = cos(ang), sn = sin(ang);
            for (int64_t h = 0; h < nh; h++) {
                float *r = x + t * ldx + h * hd;
                double a = r[i], b = r[i + half];
                r[i] = (float)(a * c - b * sn);
                r[i + half] = (float)(a * sn + b * c);
            }
        }
    }
}

/* x [T, n] += bias (F32 vector) when there is one. */
static void al_gl_bias(float *x, int64_t T, int64_t n, const al_gguf_tensor *b) {
    if (!b) return;
    const float *v = (const float *)b->data;
    for (int64_t t = 0; t < T; t++)
        for (int64_t i = 0; i < n; i++)
            x[t * n + i] += v[i];
}

static al_status al_gl_attention(al_gl_run *s, int64_t l, int64_t t0, int64_t t1, const al_llm_observer *obs,
                                 al_error *e) {
    const al_gl_model *m = s->m;
    int64_t d = m->dim, kvd = m->n_kv_heads * m->head_dim, hs = m->head_dim, H = m->n_heads, grp = H / m->n_kv_heads;
    float *kl = s->kc + l * s->Tmax * kvd, *vl = s->vc + l * s->Tmax * kvd; /* [Tmax, kv_dim] */
    double scale = 1.0 / sqrt((double)hs);
    int64_t blk = s->att_rows * s->Tmax;
    al_status st = AL_OK;
    for (int64_t r0 = t0; r0 < t1; r0 += s->att_rows) {
        int64_t nr = t1 - r0 < s->att_rows ? t1 - r0 : s->att_rows;
#pragma omp parallel for schedule(static) if (H > 1 && nr * (r0 + nr) * hs > (1 << 16))
        for (int64_t h = 0; h < H; h++) {
            float *a = s->att + h * blk; /* [nr, t1] */
            al_attention_rows(s->q + r0 * d + h * hs, d, kl + (h / grp) * hs, kvd, vl + (h / grp) * hs, kvd, r0, nr, hs,
                              scale, a, t1, s->xo + r0 * d + h * hs, d);
            for (int64_t i = 0; i < nr; i++)
                memset(a + i * t1 + r0 + nr, 0, sizeof(float) * (size_t)(t1 - r0 - nr));
        }
        for (int64_t h = 0; obs && obs->map_rows && h < H; h++)
            if ((st = obs->map_rows(obs->ctx, l, h, r0, nr, s->att + h * blk, t1, e)) != AL_OK) return st;
    }
    return AL_OK;
}

static al_status al_gl_block(al_gl_run *s, int64_t l, int64_t t0, int64_t t1, const al_llm_observer *obs, al_error *e) {
    const al_gl_model *m = s->m;
    const al_gl_layer *w = &m->layer[l];
    int64_t n = t1 - t0, d = m->dim, kvd = m->n_kv_heads * m->head_dim, hid = m->hidden,
            perm = m->permuted_qk ? m->head_dim : 0;
    float *x = s->x + t0 * d, *xb = s->xb + t0 * d, *xo = s->xo + t0 * d, *q = s->q + t0 * d;
    float *kl = s->kc + (l * s->Tmax + t0) * kvd, *vl = s->vc + (l * s->Tmax + t0) * kvd;
    float *hb = s->hb + t0 * hid, *hb2 = s->hb2 + t0 * hid;
    al_status st = AL_OK;

    al_rmsnorm(x, n, d, d, (const float *)w->attn_norm->data, m->rms_eps, xb, d);
    al_gl_linear(s, xb, n, w->wq, perm, q);
    al_gl_linear(s, xb, n, w->wk, perm, kl);
    al_gl_linear(s, xb, n, w->wv, 0, vl);
    al_gl_bias(q, n, d, w->bq);
    al_gl_bias(kl, n, kvd, w->bk);
    al_gl_bias(vl, n, kvd, w->bv);
    al_gl_rope(q, n, m->n_heads, m->head_dim, m->rot_dim, d, t0, m->rope_base, m->rope_scale, m->rope_ff);
    al_gl_rope(kl, n, m->n_kv_heads, m->head_dim, m->rot_dim, kvd, t0, m->rope_base, m->rope_scale, m->rope_ff);
    float *k0 = s->kc + l * s->Tmax * kvd, *v0 = s->vc + l * s->Tmax * kvd;
    if (obs && obs->qkv && (st = obs->qkv(obs->ctx, l, s->q, k0, v0, t1, e)) != AL_OK) return st;
    if ((st = al_gl_attention(s, l, t0, t1, obs, e)) != AL_OK) return st;
    al_gl_linear(s, xo, n, w->wo, 0, xb);
    al_add(x, xb, n * d);

    al_rmsnorm(x, n, d, d, (const float *)w->ffn_norm->data, m->rms_eps, xb, d);
    al_gl_linear(s, xb, n, w->w_gate, 0, hb);
    al_gl_linear(s, xb, n, w->w_up, 0, hb2);
    al_swiglu(hb, hb2, n * hid);
    al_gl_linear(s, hb, n, w->w_down, 0, xo);
    al_add(x, xo, n * d);
    if (obs && obs->hidden && (st = obs->hidden(obs->ctx, l + 1, s->x, t1, e)) != AL_OK) return st;
    return AL_OK;
}

static al_status al_gl_logits(al_gl_run *s, int64_t t0, int64_t t1, const al_llm_observer *obs, float *last,
                              al_error *e) {
    const al_gl_model *m = s->m;
    int64_t d = m->dim, V = m->vocab;
    int want_all = obs && obs->logits;
    al_status st = AL_OK;
    for (int64_t r0 = want_all ? t0 : t1 - 1; r0 < t1; r0 += s->logit_rows) {
        int64_t nr = t1 - r0 < s->logit_rows ? t1 - r0 : s->logit_rows;
        al_rmsnorm(s->x + r0 * d, nr, d, d, (const float *)m->out_norm->data, m->rms_eps, s->xb + r0 * d, d);
        al_gl_linear(s, s->xb + r0 * d, nr, m->output, 0, s->lg);
        for (int64_t i = 0; i < nr * V; i++)
            if (!isfinite(s->lg[i]))
                return al_fail(e, AL_EVALUE, m->g->path, NULL,
                               "the forward pass overflowed: logit of position %lld is not finite",
                               (long long)(r0 + i / V));
        if (want_all && (st = obs->logits(obs->ctx, r0, nr, s->lg, e)) != AL_OK) return st;
        if (last && r0 + nr == t1) memcpy(last, s->lg + (nr - 1) * V, sizeof(float) * (size_t)V);
    }
    return AL_OK;
}

al_status al_gl_prefill(al_gl_run *s, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs,
                        float *last, al_error *e) {
    const al_gl_model *m = s->m;
    int64_t d = m->dim;
    if (t0 < 0 || t1 > s->Tmax || t0 >= t1) return al_fail(e, AL_EINTERNAL, m->g->path, NULL, "bad prefill range");
    for (int64_t t = t0; t < t1; t++) {
        if (tok[t] < 0 || tok[t] >= m->vocab)
            return al_fail(e, AL_EUSAGE, m->g->path, NULL, "token id %d outside the vocabulary", tok[t]);
        al_dequant_rows(m->tok_emb->type, m->tok_emb->data, d, tok[t], 1, s->x + t * d);
    }
    al_status st = AL_OK;
    if (obs && obs->hidden && (st = obs->hidden(obs->ctx, 0, s->x, t1, e)) != AL_OK) return st;
    for (int64_t l = 0; l < m->n_layers; l++)
        if ((st = al_gl_block(s, l, t0, t1, obs, e)) != AL_OK) return st;
    if (!(obs && obs->logits) && !last) return AL_OK;
    return al_gl_logits(s, t0, t1, obs, last, e);
}

al_status al_gl_generate(al_gl_run *s, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature, al_rng *rng,
                         al_error *e) {
    int64_t V = s->m->vocab;
    if (n_total <= n_prompt) return AL_OK;
    float *lg = al_malloc((size_t)V, sizeof(float)); /* [V] */
    if (!lg) return al_fail(e, AL_ENOMEM, s->m->g->path, NULL, "out of memory");
    al_status st = al_gl_prefill(s, tok, 0, n_prompt, NULL, lg, e);
    for (int64_t t = n_prompt; st == AL_OK && t < n_total; t++) {
        tok[t] = (int32_t)(temperature > 0 ? al_sample_softmax(lg, V, temperature, al_rng_uniform(rng), s->sw)
                                           : al_argmax(lg, V));
        if (t + 1 < n_total) st = al_gl_prefill(s, tok, t, t + 1, NULL, lg, e);
    }
    al_free(lg);
    return st;
}
