/* Tokenizers read from a GGUF file, as llama.cpp runs them: SentencePiece (tokenizer.ggml.model "llama":
 * score-ordered merges with byte fallback) and byte-level BPE ("gpt2": ranked merges after the
 * pre-tokenizer that tokenizer.ggml.pre names, with PCRE2's Unicode classes). Special tokens are kept whole. */
#ifndef AL_TOKENIZER_H
#define AL_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"
#include "gguf.h"

typedef struct al_tokenizer al_tokenizer;

/* Reads vocabulary, scores or merges, token types and special ids; refuses models and pre-tokenizers it
 * does not implement (exit 2 naming the key). */
al_status al_tok_open(const al_gguf *g, al_tokenizer **out, al_error *e);
void al_tok_close(al_tokenizer *t);

/* Token ids of text[0 .. n-1] (valid UTF-8), BOS/EOS added as the file says (add_bos_token, add_eos_token).
 * special: the text of control tokens (<|im_start|>) becomes that token; user-defined tokens always do.
 * *ids is allocated (al_free). */
al_status al_tok_encode(const al_tokenizer *t, const char *text, size_t n, int special, int32_t **ids, int64_t *n_ids,
                        al_error *e);
/* Same without BOS/EOS. */
al_status al_tok_encode_plain(const al_tokenizer *t, const char *text, size_t n, int special, int32_t **ids,
                              int64_t *n_ids, al_error *e);

/* The text a token stands for (byte-level and SentencePiece markers decoded; a byte token gives its byte),
 * NUL-terminated in buf, truncated to n - 1 bytes; returns the full length. */
size_t al_tok_piece(const al_tokenizer *t, int32_t id, char *buf, size_t n);
/* Id of a token given by its exact vocabulary text, -1 when absent. */
int32_t al_tok_find(const al_tokenizer *t, const char *text);

int64_t al_tok_vocab(const al_tokenizer *t);
int32_t al_tok_bos(const al_tokenizer *t); /* -1: none */
int32_t al_tok_eos(const al_tokenizer *t);
int32_t al_tok_eot(const al_tokenizer *t); /* end of turn (tokenizer.ggml.eot_token_id or eos) */
int al_tok_adds_bos(const al_tokenizer *t);

#endif
