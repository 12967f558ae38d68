/* The shape of an opened recording, as the public header gives it to callers who cannot see al_rec's fields. */
#include "recording.h"

void al_rec_get_info(const al_rec *r, al_rec_info *info) {
    info->samples = r->N;
    info->layers = r->L;
    info->heads = r->H;
    info->kv_heads = r->H_kv;
    info->head_dim = r->D;
    info->tokens = r->T;
    info->causal = r->causal;
    info->has_maps = r->has[AL_T_ATT];
    info->has_qk = r->has[AL_T_Q] && r->has[AL_T_K];
}
