/* The prompts of `attnlab record`: token ids (--tokens/--ids), texts (--text) and chats (--chat FILE.json,
 * rendered with a GGUF model's chat template), turned into the recorder's prompts, per-sample spans (one
 * per chat role, plus the generated response) and stop tokens. */
#ifndef AL_RECORD_INPUTS_H
#define AL_RECORD_INPUTS_H

#include "../analyses/record.h"
#include "../core/cli.h"

typedef struct {
    const al_strlist *tokens, *ids, *texts, *chats;
    int special;  /* --text: special-token text becomes special tokens */
    int stop_eos; /* GGUF generation ends at EOS / end of turn */
    /* built by al_rec_inputs_build */
    int32_t **prompt; /* [n][len[i]] */
    int64_t *len;
    int n, cap;
    char (*names)[64]; /* [n_names] span names: --span first, then chat roles */
    int n_names;
    int32_t *spans; /* [n, n_names, 2] */
    int32_t stop[2];
} al_rec_inputs;

/* Samples the inputs give without reading any file (a chat file may hold several: counted as one here). */
int al_rec_inputs_count(const al_rec_inputs *in);
/* Tokenizes and renders every input for model m and points p's prompts, spans and stop ids at them. */
al_status al_rec_inputs_build(al_rec_inputs *in, const al_rec_model *m, al_record_params *p, al_error *e);
void al_rec_inputs_free(al_rec_inputs *in);

#endif
