/* Recording a model into format v1 (`attnlab record`: llama2.c checkpoints and GGUF models behind one
 * interface), and multi-turn drift recordings of llama2.c checkpoints (format "drift": the same
 * conversations with and without a goal-restating prefix). */
#ifndef AL_RECORD_H
#define AL_RECORD_H

#include <stdint.h>

#include "../core/dtype.h"
#include "../core/status.h"
#include "../datasets/llama2c.h"
#include "../datasets/recording.h"
#include "../datasets/token_ids.h"
#include "../model/llama_gguf.h"
#include "llama_run.h"

enum {
    AL_WANT_ATT = 1,
    AL_WANT_Q = 2,
    AL_WANT_K = 4,
    AL_WANT_V = 8,
    AL_WANT_HIDDEN = 16,
    AL_WANT_LOGITS = 32,
    AL_WANT_ALL = 63,
};

typedef struct {
    char name[64];
    int64_t start, end; /* half-open token range */
} al_span;

typedef struct {
    const char *model_name;  /* root attribute model (NULL: the checkpoint's file name) */
    int32_t *const *prompts; /* [n_prompts][prompt_len[i]] (none: BOS alone) */
    const int64_t *prompt_len;
    int n_prompts;
    int64_t samples;    /* with one prompt: how many samples to draw from it */
    int64_t generate;   /* tokens appended to each prompt */
    double temperature; /* 0: greedy */
    uint64_t seed;      /* sample n draws from stream n */
    unsigned what;      /* AL_WANT_* */
    al_dtype dtype;
    int n_spans;
    al_span spans[AL_MAX_SPANS];
    const char *tokenizer; /* llama2.c tokenizer.bin: /token_text and first_token_text (NULL: none) */
    const int32_t *sample_spans; /* [N, n_spans, 2] per-sample ranges ([-1, -1]: absent), or NULL: spans[] */
    const int32_t *stop;         /* generation ends after any of these ids (n_stop of them; the rest is padding) */
    int n_stop;
    int quiet;
} al_record_params;

/* A model the recorder runs: its shape and a forward pass with the observer interface of llama_run.h. */
typedef struct al_rec_model {
    const char *path;                /* the model file, for messages and the default model name */
    al_llama_config c;               /* dim, n_layers, n_heads, n_kv_heads, head_size, kv_dim, vocab_size, seq_len */
    int32_t bos;                     /* token of the default prompt and of first_token_is_bos (-1: none) */
    const char *arch, *quant, *name; /* provenance root attributes (NULL: not written) */
    const void *impl;                /* al_llama or al_gl_model */
    const al_gl_model *gguf;         /* the GGUF model (tokenizer, chat template), NULL for llama2.c */
    void *run;                       /* forward-pass state between start and stop */
    al_status (*start)(struct al_rec_model *m, int64_t Tmax, al_error *e);
    al_status (*prefill)(void *run, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs, float *last,
                         al_error *e);
    al_status (*generate)(void *run, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature, al_rng *rng,
                          al_error *e);
    void (*stop)(struct al_rec_model *m);
    /* Decoded text of a token (for /token_text); NULL: the model has no tokenizer. */
    size_t (*piece)(const struct al_rec_model *m, int32_t id, char *buf, size_t n);
} al_rec_model;

/* The recorder's view of a llama2.c checkpoint (BOS = 1, no tokenizer). */
void al_rec_model_llama2c(const al_llama *m, al_rec_model *rm);
/* The recorder's view of a GGUF llama-family model (model/llama_gguf.h): BOS, token text and provenance from
 * the file. */
void al_rec_model_gguf(const al_gl_model *g, al_rec_model *rm);

void al_record_defaults(al_record_params *p);
/* "attention,q,k" into AL_WANT_* bits; returns 0, or -1 naming the bad word in why. */
int al_record_parse_what(const char *s, unsigned *what, char *why, size_t nwhy);
/* "name:start:end" into s; returns 0, or -1 with the reason. */
int al_record_parse_span(const char *arg, al_span *s, char *why, size_t nwhy);

/* The model attribute: given, or the model file's name without ".bin" / ".gguf". */
void al_record_model_name(const char *path, const char *given, char *buf, size_t n);

/* Generates, then records every sample in one prefill per sample, each layer written as it is produced. */
al_status al_record_run(al_rec_model *m, const al_record_params *p, const char *out, al_error *e);

typedef struct {
    const char *model_name;
    const int32_t *prefix; /* [n_prefix]: inserted before the first turn (after BOS) in the reference run */
    int64_t n_prefix;
    int bos; /* prepend BOS (token 1) to both runs */
    int quiet;
} al_record_drift_params;

/* Writes a drift file: per scored token row (each token of each turn, scored by the logits that predict it),
 * /row_conversation, /row_turn, /test/logits (the conversation as is), /ref/logits (with the prefix). */
al_status al_record_drift(const al_llama *m, const al_convs *cv, const al_record_drift_params *p, const char *conv_path,
                          const char *out, al_error *e);

#endif
