/* A recording opened for analysis (format v1 HDF5 or a .npy map dump, spec RECORDING.md), validated for structure
 * on open. The handle is opaque: its shape is read with al_rec_get_info. */
#ifndef ATTNLAB_RECORDING_H
#define ATTNLAB_RECORDING_H

#include <stdint.h>

#include "export.h"
#include "status.h"

typedef struct al_rec al_rec;

typedef struct {
    int64_t samples, layers, heads, kv_heads, head_dim, tokens; /* N, L, H, H_kv, D, T */
    int causal;                                                 /* maps are causal (lower triangular) */
    int has_maps, has_qk;                                       /* recorded attention maps; recorded q and k */
} al_rec_info;

/* *out is NULL on failure (e is set). */
AL_API al_status al_rec_open(const char *path, al_rec **out, al_error *e);
AL_API void al_rec_close(al_rec *r);
AL_API void al_rec_get_info(const al_rec *r, al_rec_info *info);

#endif
