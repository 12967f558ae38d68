/* llama2.c's tokenizer.bin (max_token_length, then per token: float score, int32 length, bytes), read to decode
 * recorded token ids into text: the pieces as llama2.c's decode() gives them, raw bytes <0xXX> as those bytes. */
#ifndef AL_L2CTOK_H
#define AL_L2CTOK_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

typedef struct {
    int64_t vocab;
    char **piece; /* [vocab] NUL-terminated pieces */
    size_t *len;  /* [vocab] their byte lengths */
} al_l2ctok;

/* Reads vocab pieces from path; a file shorter than vocab entries, or a length beyond the file, is an error. */
al_status al_l2ctok_load(const char *path, int64_t vocab, al_l2ctok *t, al_error *e);
void al_l2ctok_free(al_l2ctok *t);

/* Text of each of the n tokens ids [n] into out [n] (each malloc'd, NUL-terminated): llama2.c's decode (a piece
 * after BOS = 1 loses its leading space; <0xXX> is that byte), then grouped into whole UTF-8 characters: a token
 * ending inside a character gets "", the token completing it the character. Returns 0, or -1 out of memory. */
int al_l2ctok_texts(const al_l2ctok *t, const int32_t *ids, int64_t n, char **out);

#endif
