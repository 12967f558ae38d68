/* Llama-family models from GGUF files (architectures llama — Llama 2/3, SmolLM2, Mistral — and qwen2 with
 * q/k/v biases): configuration from the metadata, every weight tensor looked up and its shape checked, and
 * a forward pass that dequantises each weight slice by slice into float32 for BLAS while it runs, so the
 * model is never held in float32. Same observer interface as the llama2.c runner (analyses/llama_run.h). */
#ifndef AL_LLAMA_GGUF_H
#define AL_LLAMA_GGUF_H

#include <stdint.h>

#include "../analyses/llama_run.h"
#include "../core/rng.h"
#include "../core/status.h"
#include "gguf.h"
#include "tokenizer.h"

typedef struct {
    const al_gguf_tensor *attn_norm, *wq, *wk, *wv, *wo, *bq, *bk, *bv, *ffn_norm, *w_gate, *w_up, *w_down;
} al_gl_layer;

typedef struct {
    al_gguf *g;
    al_tokenizer *tok;
    char arch[32], name[256], quant[128];
    int64_t dim, n_layers, n_heads, n_kv_heads, head_dim, hidden, vocab, ctx, rot_dim;
    double rms_eps, rope_base, rope_scale; /* angle = pos * rope_scale * base^(-2i / rot_dim) / freq_factor[i] */
    float *rope_ff;                        /* [rot_dim / 2] frequency factors (rope_freqs.weight), or NULL */
    int permuted_qk;                       /* llama: q/k rows are in llama.cpp's interleaved rope order */
    const al_gguf_tensor *tok_emb, *out_norm, *output; /* output: token_embd when tied */
    al_gl_layer *layer;                                /* [n_layers] */
} al_gl_model;

/* Opens, validates (architecture, metadata, every tensor's presence, type and shape) and reads the tokenizer.
 * An architecture other than llama/qwen2 exits 2 naming general.architecture. */
al_status al_gl_open(const char *path, al_gl_model **out, al_error *e);
void al_gl_close(al_gl_model *m);

/* Output features per slice of a linear layer (a multiple of every head size used here): the unit of
 * parallel work and of dequantisation. */
#define AL_GL_SLICE 128

typedef struct {
    const al_gl_model *m;
    int64_t Tmax, att_rows, logit_rows, n_ws;
    float *x, *xb, *xo, *q; /* [Tmax, dim] */
    float *kc, *vc;         /* [L, Tmax, kv_dim] */
    float *hb, *hb2;        /* [Tmax, hidden] */
    float *att;             /* [n_heads, att_rows, Tmax] */
    float *lg;              /* [logit_rows, V] */
    float *ws;              /* [n_ws, 2, AL_GL_SLICE, max(dim, hidden)]: per-thread dequantised slices */
    float *vec;             /* [max(dim, hidden)]: norms and biases */
    double *sw;             /* [V] sampling workspace */
} al_gl_run;

al_status al_gl_run_init(al_gl_run *s, const al_gl_model *m, int64_t Tmax, al_error *e);
void al_gl_run_free(al_gl_run *s);
/* As al_llm_prefill / al_llm_generate. */
al_status al_gl_prefill(al_gl_run *s, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs,
                        float *last, al_error *e);
al_status al_gl_generate(al_gl_run *s, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature, al_rng *rng,
                         al_error *e);

/* y [T, n] = x [T, k] W^T for a GGUF weight W (ne = [k, n]), slice by slice; perm_hd > 0 reorders each head's
 * rows (perm_hd of them) from llama.cpp's interleaved rope order to the split-half order. Tuned; the
 * reference dequantises W whole with al_dequant_ref and multiplies in double. */
void al_gl_linear(const al_gl_run *s, const float *x, int64_t T, const al_gguf_tensor *W, int64_t perm_hd, float *y);
void al_gl_linear_ref(const float *x, int64_t T, const al_gguf_tensor *W, int64_t perm_hd, float *y);

/* Rotary embedding in split-half (NeoX) order on x [T, nh * hd] (row stride ldx): pair (i, i + rot/2) of each
 * head turns by angle pos * scale * base^(-2i / rot) / ff[i] (ff NULL: 1). Angles and rotation in double. */
void al_gl_rope(float *x, int64_t T, int64_t nh, int64_t hd, int64_t rot, int64_t ldx, int64_t pos0, double base,
                double scale, const float *ff);

#endif
