/* Token-id inputs of `attnlab record`: comma-separated id lists (--tokens, --prefix) and conversation files
 * for drift recordings (one turn of ids per line, a blank line between conversations, '#' comment lines). */
#ifndef AL_TOKEN_IDS_H
#define AL_TOKEN_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

/* Parses "1, 2,3" (len bytes of s) into *out (allocated, al_free it); every id in [0, vocab).
 * Returns the count, or -1 (bad input) or -2 (out of memory) with the reason in why (nothing left allocated). */
int64_t al_ids_parse(const char *s, size_t len, int64_t vocab, int32_t **out, char *why, size_t nwhy);

typedef struct {
    int64_t n_conv, n_turns, n_ids;
    int32_t *ids;        /* [n_ids]: every turn's ids, in file order */
    int64_t *turn_start; /* [n_turns + 1]: offsets of each turn in ids */
    int64_t *conv_turn;  /* [n_conv + 1]: first turn of each conversation */
    int64_t *turn_line;  /* [n_turns]: 1-based line of each turn in the file */
} al_convs;

/* Reads a conversation file; ids must lie in [0, vocab). Errors name the file and line. */
al_status al_convs_read(const char *path, int64_t vocab, al_convs *c, al_error *e);
void al_convs_free(al_convs *c);

#endif
