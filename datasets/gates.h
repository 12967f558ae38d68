/* DuoAttention gate files (full_attention_heads.tsv as mit-han-lab/duo-attention publishes them): rows =
 * layers, tab-separated columns = KV heads, values in [0, 1]. Read and validated here, binarised in metrics/. */
#ifndef AL_GATES_H
#define AL_GATES_H

#include <stdint.h>

#include "../core/status.h"

typedef struct {
    int64_t rows, cols; /* layers, KV heads */
    double *g;          /* [rows, cols] */
} al_gates;

/* Reads path; every value must be a finite number in [0, 1], every row the same width. Blank lines at the
 * end and a trailing CR are accepted. On failure e names the file, row and column. */
al_status al_gates_read(const char *path, al_gates *out, al_error *e);
/* The file must have one row per layer and one column per KV head of the recording. */
al_status al_gates_check_shape(const al_gates *g, const char *path, int64_t L, int64_t Hkv, const char *rec, al_error *e);
void al_gates_free(al_gates *g);

#endif
