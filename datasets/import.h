/* `attnlab import`: a .npy map dump ([N, L, H, T, T] or [L, H, T, T]) or an HDF5 file holding one such
 * array, converted into a format-v1 recording, streamed row block by row block. */
#ifndef AL_IMPORT_H
#define AL_IMPORT_H

#include <stdint.h>

#include "../core/dtype.h"
#include "../core/status.h"

typedef struct {
    const char *model;
    int bidirectional; /* causal = 0 */
    int no_bos;
    int dtype_set; /* 0: keep the input's float type */
    al_dtype dtype;
    int64_t mem;
} al_import_params;

al_status al_import(const char *in, const char *out, const al_import_params *p, al_error *e);

#endif
