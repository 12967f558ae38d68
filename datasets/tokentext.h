/* Decoded token strings (/token_text [N, T], variable- or fixed-length UTF-8), read and trimmed for use as
 * plot labels. */
#ifndef AL_TOKENTEXT_H
#define AL_TOKENTEXT_H

#include <stdint.h>

#include "recording.h"

#define AL_TOKEN_LABEL 24

/* Labels of the first T tokens of sample n, each cut to AL_TOKEN_LABEL - 1 bytes (on a UTF-8 boundary) with
 * control characters shown as spaces. out: [T][AL_TOKEN_LABEL]. */
al_status al_token_text_read(al_rec *r, int64_t n, int64_t T, char (*out)[AL_TOKEN_LABEL], al_error *e);

#endif
