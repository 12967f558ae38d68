/* Recording a llama2.c checkpoint into format v1 (`attnlab record`), and multi-turn drift recordings
 * (format "drift": the same conversations with and without a goal-restating prefix). */
#ifndef AL_RECORD_H
#define AL_RECORD_H

#include <stdint.h>

#include "../core/dtype.h"
#include "../core/status.h"
#include "../datasets/llama2c.h"
#include "../datasets/recording.h"
#include "../datasets/token_ids.h"

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
    const char *model_name;         /* root attribute model (NULL: the checkpoint's file name) */
    int32_t *const *prompts;        /* [n_prompts][prompt_len[i]] (none: BOS alone) */
    const int64_t *prompt_len;
    int n_prompts;
    int64_t samples;                /* with one prompt: how many samples to draw from it */
    int64_t generate;               /* tokens appended to each prompt */
    double temperature;             /* 0: greedy */
    uint64_t seed;                  /* sample n draws from stream n */
    unsigned what;                  /* AL_WANT_* */
    al_dtype dtype;
    int n_spans;
    al_span spans[AL_MAX_SPANS];
    const char *tokenizer; /* llama2.c tokenizer.bin: /token_text and first_token_text (NULL: none) */
    int quiet;
} al_record_params;

void al_record_defaults(al_record_params *p);
/* "attention,q,k" into AL_WANT_* bits; returns 0, or -1 naming the bad word in why. */
int al_record_parse_what(const char *s, unsigned *what, char *why, size_t nwhy);
/* "name:start:end" into s; returns 0, or -1 with the reason. */
int al_record_parse_span(const char *arg, al_span *s, char *why, size_t nwhy);

/* The model attribute: given, or the checkpoint's file name without ".bin". */
void al_record_model_name(const al_llama *m, const char *given, char *buf, size_t n);

/* Generates, then records every sample in one prefill per sample, each layer written as it is produced. */
al_status al_record_run(const al_llama *m, const al_record_params *p, const char *out, al_error *e);

typedef struct {
    const char *model_name;
    const int32_t *prefix; /* [n_prefix]: inserted before the first turn (after BOS) in the reference run */
    int64_t n_prefix;
    int bos;               /* prepend BOS (token 1) to both runs */
    int quiet;
} al_record_drift_params;

/* Writes a drift file: per scored token row (each token of each turn, scored by the logits that predict it),
 * /row_conversation, /row_turn, /test/logits (the conversation as is), /ref/logits (with the prefix). */
al_status al_record_drift(const al_llama *m, const al_convs *cv, const al_record_drift_params *p, const char *conv_path,
                          const char *out, al_error *e);

#endif
