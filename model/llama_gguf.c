/* Loading a llama-family GGUF model: hyperparameters under the architecture's key prefix, RoPE settings,
 * the quantisation summary for provenance, and every tensor checked for presence, shape and type. */
#include "llama_gguf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "quant.h"

static al_status al_gl_key_int(const al_gl_model *m, const char *suffix, int required, int64_t lo, int64_t hi,
                               int64_t *v, al_error *e) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    if (al_gguf_get_int(m->g, key, required, v, e) != AL_OK) return e->status;
    if (*v < lo || *v > hi)
        return al_fail(e, AL_EFORMAT, m->g->path, key, "%lld is outside %lld..%lld", (long long)*v, (long long)lo,
                       (long long)hi);
    return AL_OK;
}

static al_status al_gl_key_float(const al_gl_model *m, const char *suffix, double *v, al_error *e) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    if (al_gguf_get_float(m->g, key, 0, v, e) != AL_OK) return e->status;
    if (!isfinite(*v) || *v <= 0) return al_fail(e, AL_EFORMAT, m->g->path, key, "must be a positive finite number");
    return AL_OK;
}

/* Looks up a tensor and checks its shape: ne0 (row length) and ne1 (rows; 0 for a vector). */
static al_status al_gl_tensor(const al_gl_model *m, const char *name, int64_t ne0, int64_t ne1, int required,
                              const al_gguf_tensor **out, al_error *e) {
    *out = al_gguf_tensor_find(m->g, name);
    if (!*out) return required ? al_fail(e, AL_EFORMAT, m->g->path, name, "tensor missing") : AL_OK;
    const al_gguf_tensor *t = *out;
    int dims = ne1 ? 2 : 1;
    if (t->n_dims != dims || t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1))
        return al_fail(e, AL_ESHAPE, m->g->path, name, "shape [%lld, %lld] (%d dims), expected [%lld%s%lld]",
                       (long long)t->ne[0], (long long)t->ne[1], t->n_dims, (long long)ne0, ne1 ? ", " : "",
                       (long long)ne1);
    if (!ne1 && t->type != AL_GT_F32)
        return al_fail(e, AL_EDTYPE, m->g->path, name, "norm and bias vectors must be F32");
    return AL_OK;
}

static al_status al_gl_layers(al_gl_model *m, al_error *e) {
    int64_t d = m->dim, kv = m->n_kv_heads * m->head_dim, q = m->n_heads * m->head_dim, h = m->hidden;
    int bias = !strcmp(m->arch, "qwen2");
    for (int64_t l = 0; l < m->n_layers; l++) {
        al_gl_layer *L = &m->layer[l];
        char n[96];
#define AL_GL_T(field, nm, a, b, req)                                                                                  \
    snprintf(n, sizeof n, "blk.%lld." nm, (long long)l);                                                               \
    if (al_gl_tensor(m, n, a, b, req, &L->field, e) != AL_OK) return e->status;
        AL_GL_T(attn_norm, "attn_norm.weight", d, 0, 1)
        AL_GL_T(wq, "attn_q.weight", d, q, 1)
        AL_GL_T(wk, "attn_k.weight", d, kv, 1)
        AL_GL_T(wv, "attn_v.weight", d, kv, 1)
        AL_GL_T(wo, "attn_output.weight", q, d, 1)
        AL_GL_T(bq, "attn_q.bias", q, 0, bias)
        AL_GL_T(bk, "attn_k.bias", kv, 0, bias)
        AL_GL_T(bv, "attn_v.bias", kv, 0, bias)
        AL_GL_T(ffn_norm, "ffn_norm.weight", d, 0, 1)
        AL_GL_T(w_gate, "ffn_gate.weight", d, h, 1)
        AL_GL_T(w_up, "ffn_up.weight", d, h, 1)
        AL_GL_T(w_down, "ffn_down.weight", h, d, 1)
#undef AL_GL_T
    }
    return AL_OK;
}

/* RoPE: base, dimensions, linear scaling, llama3-style frequency factors; YaRN and others are refused. */
static al_status al_gl_rope_cfg(al_gl_model *m, al_error *e) {
    m->rope_base = 10000.0;
    m->rope_scale = 1.0;
    m->rot_dim = m->head_dim;
    if (al_gl_key_float(m, "rope.freq_base", &m->rope_base, e) != AL_OK) return e->status;
    if (al_gl_key_int(m, "rope.dimension_count", 0, 2, m->head_dim, &m->rot_dim, e) != AL_OK) return e->status;
    char key[96], type[32] = "";
    if (m->rot_dim % 2 || (m->permuted_qk && m->rot_dim != m->head_dim))
        return al_fail(e, AL_EFORMAT, m->g->path, "rope.dimension_count",
                       "%lld rotary dimensions of %lld are not supported", (long long)m->rot_dim,
                       (long long)m->head_dim);
    snprintf(key, sizeof key, "%s.rope.scaling.type", m->arch);
    if (al_gguf_get_str(m->g, key, 0, type, sizeof type, e) != AL_OK) return e->status;
    double f = 1.0;
    if (!strcmp(type, "linear")) {
        if (al_gl_key_float(m, "rope.scaling.factor", &f, e) != AL_OK) return e->status;
    } else if (type[0] && strcmp(type, "none") != 0) {
        return al_fail(e, AL_EFORMAT, m->g->path, key, "RoPE scaling '%s' is not supported (none and linear are)",
                       type);
    }
    if (al_gl_key_float(m, "rope.scale_linear", &f, e) != AL_OK) return e->status;
    m->rope_scale = 1.0 / f;
    const al_gguf_tensor *ff;
    if (al_gl_tensor(m, "rope_freqs.weight", m->rot_dim / 2, 0, 0, &ff, e) != AL_OK) return e->status;
    if (ff) {
        m->rope_ff = al_malloc((size_t)(m->rot_dim / 2), sizeof(float));
        if (!m->rope_ff) return al_fail(e, AL_ENOMEM, m->g->path, NULL, "out of memory");
        memcpy(m->rope_ff, ff->data, sizeof(float) * (size_t)(m->rot_dim / 2));
        for (int64_t i = 0; i < m->rot_dim / 2; i++)
            if (!(m->rope_ff[i] > 0) || !isfinite(m->rope_ff[i]))
                return al_fail(e, AL_EVALUE, m->g->path, "rope_freqs.weight", "a frequency factor is not positive");
    }
    return AL_OK;
}

/* "Q4_1" from general.file_type, with the count of each tensor type. */
static void al_gl_quant(al_gl_model *m) {
    static const char *const ft[] = {"F32",    "F16",    "Q4_0",   "Q4_1",   "",       "",       "",
                                     "Q8_0",   "Q5_0",   "Q5_1",   "Q2_K",   "Q3_K_S", "Q3_K_M", "Q3_K_L",
                                     "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"};
    int64_t f = -1, cnt[32] = {0};
    al_error e;
    if (al_gguf_get_int(m->g, "general.file_type", 0, &f, &e) != AL_OK) f = -1;
    const char *name = f >= 0 && f < (int64_t)(sizeof ft / sizeof *ft) && ft[f][0] ? ft[f] : f == 32 ? "BF16" : "mixed";
    for (int64_t i = 0; i < m->g->n_tensors; i++)
        cnt[m->g->tensor[i].type & 31]++;
    size_t o = (size_t)snprintf(m->quant, sizeof m->quant, "%s (tensors:", name);
    for (int t = 0; t < 32 && o < sizeof m->quant; t++)
        if (cnt[t])
            o += (size_t)snprintf(m->quant + o, sizeof m->quant - o, " %lld %s", (long long)cnt[t],
                                  al_gguf_type_name((uint32_t)t));
    if (o < sizeof m->quant - 1) snprintf(m->quant + o, sizeof m->quant - o, ")");
}

static al_status al_gl_config(al_gl_model *m, al_error *e) {
    if (al_gguf_get_str(m->g, "general.architecture", 1, m->arch, sizeof m->arch, e) != AL_OK) return e->status;
    if (strcmp(m->arch, "llama") != 0 && strcmp(m->arch, "qwen2") != 0)
        return al_fail(e, AL_EFORMAT, m->g->path, "general.architecture",
                       "architecture '%s' is not supported (llama, qwen2 are)", m->arch);
    m->permuted_qk = !strcmp(m->arch, "llama");
    if (al_gguf_get_str(m->g, "general.name", 0, m->name, sizeof m->name, e) != AL_OK) return e->status;
    if (al_gl_key_int(m, "embedding_length", 1, 1, 1 << 16, &m->dim, e) != AL_OK ||
        al_gl_key_int(m, "block_count", 1, 1, 1024, &m->n_layers, e) != AL_OK ||
        al_gl_key_int(m, "feed_forward_length", 1, 1, 1 << 20, &m->hidden, e) != AL_OK ||
        al_gl_key_int(m, "attention.head_count", 1, 1, 1024, &m->n_heads, e) != AL_OK)
        return e->status;
    m->n_kv_heads = m->n_heads;
    m->ctx = 4096;
    if (al_gl_key_int(m, "attention.head_count_kv", 0, 1, m->n_heads, &m->n_kv_heads, e) != AL_OK ||
        al_gl_key_int(m, "context_length", 0, 1, 1 << 20, &m->ctx, e) != AL_OK)
        return e->status;
    if (m->n_heads % m->n_kv_heads || m->dim % m->n_heads)
        return al_fail(e, AL_EFORMAT, m->g->path, "attention.head_count_kv",
                       "%lld heads do not split into %lld KV groups of a %lld-wide model", (long long)m->n_heads,
                       (long long)m->n_kv_heads, (long long)m->dim);
    m->head_dim = m->dim / m->n_heads;
    int64_t kl = m->head_dim;
    if (al_gl_key_int(m, "attention.key_length", 0, kl, kl, &kl, e) != AL_OK) return e->status;
    if (AL_GL_SLICE % m->head_dim)
        return al_fail(e, AL_EFORMAT, m->g->path, NULL, "head size %lld does not divide %d", (long long)m->head_dim,
                       AL_GL_SLICE);
    m->rms_eps = 1e-5;
    if (al_gl_key_float(m, "attention.layer_norm_rms_epsilon", &m->rms_eps, e) != AL_OK) return e->status;
    return al_gl_rope_cfg(m, e);
}

static al_status al_gl_tensors(al_gl_model *m, al_error *e) {
    const al_gguf_tensor *emb = al_gguf_tensor_find(m->g, "token_embd.weight");
    if (!emb) return al_fail(e, AL_EFORMAT, m->g->path, "token_embd.weight", "tensor missing");
    m->vocab = emb->ne[1];
    if (al_gl_tensor(m, "token_embd.weight", m->dim, m->vocab, 1, &m->tok_emb, e) != AL_OK ||
        al_gl_tensor(m, "output_norm.weight", m->dim, 0, 1, &m->out_norm, e) != AL_OK ||
        al_gl_tensor(m, "output.weight", m->dim, m->vocab, 0, &m->output, e) != AL_OK)
        return e->status;
    if (!m->output) m->output = m->tok_emb;
    if (al_tok_vocab(m->tok) != m->vocab)
        return al_fail(e, AL_EFORMAT, m->g->path, "tokenizer.ggml.tokens",
                       "%lld tokens, but token_embd.weight has %lld rows", (long long)al_tok_vocab(m->tok),
                       (long long)m->vocab);
    m->layer = al_calloc((size_t)m->n_layers, sizeof *m->layer);
    if (!m->layer) return al_fail(e, AL_ENOMEM, m->g->path, NULL, "out of memory");
    return al_gl_layers(m, e);
}

al_status al_gl_open(const char *path, al_gl_model **out, al_error *e) {
    *out = NULL;
    al_gl_model *m = al_calloc(1, sizeof *m);
    if (!m) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    al_status st = al_gguf_open(path, &m->g, e);
    if (st == AL_OK) st = al_gl_config(m, e);
    if (st == AL_OK) st = al_tok_open(m->g, &m->tok, e);
    if (st == AL_OK) st = al_gl_tensors(m, e);
    if (st != AL_OK) {
        al_gl_close(m);
        return st;
    }
    al_gl_quant(m);
    *out = m;
    return AL_OK;
}

void al_gl_close(al_gl_model *m) {
    if (!m) return;
    al_tok_close(m->tok);
    al_gguf_close(m->g);
    al_free(m->rope_ff);
    al_free(m->layer);
    al_free(m);
}
