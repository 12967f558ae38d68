/* Running a llama2.c checkpoint: a prefill over positions [t0, t1) on top of a KV cache (the whole sequence
 * per layer when t0 = 0), with an observer that receives each layer's tensors as they are produced, and
 * generation (greedy or sampled) that extends a prompt one token at a time. */
#ifndef AL_LLAMA_RUN_H
#define AL_LLAMA_RUN_H

#include <stdint.h>

#include "../core/rng.h"
#include "../core/status.h"
#include "../datasets/llama2c.h"

/* Receives tensors of the running sequence; any callback may be NULL. Positions are absolute. */
typedef struct {
    void *ctx;
    /* Rows row0.. of head h's map in layer l: att [nrows, T] (keys 0..T-1, zeros after the query). */
    al_status (*map_rows)(void *ctx, int64_t l, int64_t h, int64_t row0, int64_t nrows, const float *att, int64_t T,
                          al_error *e);
    /* Layer l's queries and keys after rotary embedding, and values: q [T, dim], k, v [T, kv_dim]. */
    al_status (*qkv)(void *ctx, int64_t l, const float *q, const float *k, const float *v, int64_t T, al_error *e);
    /* Residual stream entry l (0 = embeddings, l + 1 = output of block l): x [T, dim]. */
    al_status (*hidden)(void *ctx, int64_t l, const float *x, int64_t T, al_error *e);
    /* Logits of positions t0 .. t0 + nt - 1: [nt, V]. */
    al_status (*logits)(void *ctx, int64_t t0, int64_t nt, const float *lg, al_error *e);
} al_llm_observer;

typedef struct {
    const al_llama *m;
    int64_t Tmax;       /* longest sequence the buffers hold */
    int64_t att_rows;   /* query rows per attention block (bounds the map buffer) */
    int64_t logit_rows; /* rows per logits block */
    float *x, *xb, *xo; /* [Tmax, dim]: residual, normed input, attention output / FFN output */
    float *q;           /* [Tmax, dim] */
    float *kc, *vc;     /* [L, Tmax, kv_dim]: the KV cache */
    float *hb, *hb2;    /* [Tmax, hidden_dim] */
    float *att;         /* [n_heads, att_rows, Tmax]: one block of map rows per head */
    float *lg;          /* [logit_rows, V] */
    double *ws;         /* [V]: sampling workspace */
} al_llm;

/* Query rows per block of maps and of logits: bounds those buffers to 64 x Tmax and 64 x V floats. */
#define AL_LLM_BLOCK_ROWS 64
/* Output features per slice of a linear layer (the unit of parallel work). */
#define AL_LLM_COL_SLICE 128

/* Allocates every buffer once for sequences up to Tmax tokens. */
al_status al_llm_init(al_llm *s, const al_llama *m, int64_t Tmax, al_error *e);
void al_llm_free(al_llm *s);

/* Runs tokens tok[t0 .. t1-1] (tok holds the whole sequence) through every layer, reading and extending
 * the KV cache. With obs->logits all rows' logits are computed; last (if not NULL) receives the logits of
 * position t1 - 1: [V]. */
al_status al_llm_prefill(al_llm *s, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs,
                         float *last, al_error *e);

/* Extends tok[0 .. n_prompt-1] to tok[0 .. n_total-1]: greedy when temperature is 0, else sampled from
 * softmax(logits / temperature) with coins from rng. */
al_status al_llm_generate(al_llm *s, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature, al_rng *rng,
                          al_error *e);

#endif
