/* Token classes for class attention (METRICS.md section 2): a class is a set of token ids (matched against
 * /tokens) or a boolean mask dataset [N, T] in the recording (e.g. punctuation, [SEP]). Read and validated here. */
#ifndef AL_TOKENCLASS_H
#define AL_TOKENCLASS_H

#include <stdint.h>

#include "../core/cli.h"
#include "recording.h"

#define AL_MAX_CLASSES 16

typedef struct {
    int64_t K, N, T;
    char names[AL_MAX_CLASSES][64];
    uint8_t *member; /* [N, K, T]: 1 where token t of sample n is in class k */
} al_token_classes;

/* ids: "--class-tokens [NAME=]ID,ID-ID,..." specs (NAME defaults to ids<k>); masks: dataset paths of
 * boolean or 0/1 integer datasets [N, >= T] (the class takes the dataset's name). T: analysed tokens. */
al_status al_token_classes_load(al_rec *r, int64_t T, const al_strlist *ids, const al_strlist *masks, al_token_classes *out,
                                al_error *e);
void al_token_classes_free(al_token_classes *c);

#endif
