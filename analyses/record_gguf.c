/* A GGUF llama-family model (model/llama_gguf.h) behind the recorder's model interface: shape, provenance
 * (general.name, architecture, quantisation) and token text from the file's own tokenizer. */
#include <string.h>

#include "../core/alloc.h"
#include "../model/llama_gguf.h"
#include "record.h"

static al_status al_grec_start(al_rec_model *m, int64_t Tmax, al_error *e) {
    al_gl_run *s = al_calloc(1, sizeof *s);
    if (!s) return al_fail(e, AL_ENOMEM, m->path, NULL, "out of memory");
    al_status st = al_gl_run_init(s, m->impl, Tmax, e);
    if (st != AL_OK)
        al_free(s);
    else
        m->run = s;
    return st;
}

static al_status al_grec_prefill(void *run, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs,
                                 float *last, al_error *e) {
    return al_gl_prefill(run, tok, t0, t1, obs, last, e);
}

static al_status al_grec_generate(void *run, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature,
                                  al_rng *rng, al_error *e) {
    return al_gl_generate(run, tok, n_prompt, n_total, temperature, rng, e);
}

static void al_grec_stop(al_rec_model *m) {
    if (!m->run) return;
    al_gl_run_free(m->run);
    al_free(m->run);
    m->run = NULL;
}

/* The token's text with incomplete UTF-8 (a byte token, half a character) shown as U+FFFD. */
static size_t al_grec_piece(const al_rec_model *m, int32_t id, char *buf, size_t n) {
    const al_gl_model *g = m->impl;
    char raw[256];
    size_t l = al_tok_piece(g->tok, id, raw, sizeof raw), o = 0;
    if (l >= sizeof raw) l = sizeof raw - 1;
    for (size_t i = 0; i < l && o + 4 < n;) {
        unsigned char c = (unsigned char)raw[i];
        int k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        int ok = k > 0 && i + (size_t)k <= l;
        for (int j = 1; ok && j < k; j++)
            ok = ((unsigned char)raw[i + (size_t)j] & 0xC0) == 0x80;
        if (ok) {
            memcpy(buf + o, raw + i, (size_t)k);
            o += (size_t)k;
            i += (size_t)k;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    buf[o] = 0;
    return o;
}

void al_rec_model_gguf(const al_gl_model *g, al_rec_model *rm) {
    memset(rm, 0, sizeof *rm);
    rm->path = g->g->path;
    al_llama_config *c = &rm->c;
    c->dim = g->dim;
    c->hidden_dim = g->hidden;
    c->n_layers = g->n_layers;
    c->n_heads = g->n_heads;
    c->n_kv_heads = g->n_kv_heads;
    c->vocab_size = g->vocab;
    c->seq_len = g->ctx;
    c->head_size = g->head_dim;
    c->kv_dim = g->n_kv_heads * g->head_dim;
    rm->bos = al_tok_bos(g->tok);
    rm->arch = g->arch;
    rm->quant = g->quant;
    rm->name = g->name[0] ? g->name : NULL;
    rm->impl = g;
    rm->gguf = g;
    rm->start = al_grec_start;
    rm->prefill = al_grec_prefill;
    rm->generate = al_grec_generate;
    rm->stop = al_grec_stop;
    rm->piece = al_grec_piece;
}
