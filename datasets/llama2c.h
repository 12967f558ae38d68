/* Reader of llama2.c checkpoints (legacy version-0 header): validates the seven header values against each
 * other and against the file length before anything is allocated, then maps the float32 weights read-only. */
#ifndef AL_LLAMA2C_H
#define AL_LLAMA2C_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

/* Sanity limits on header values: far above any checkpoint llama2.c can run, low enough that every
 * size computed from them fits in 64 bits. */
#define AL_LLAMA_MAX_DIM (1 << 16)
#define AL_LLAMA_MAX_HIDDEN (1 << 20)
#define AL_LLAMA_MAX_LAYERS 1024
#define AL_LLAMA_MAX_VOCAB (1 << 22)
#define AL_LLAMA_MAX_SEQ (1 << 20)

typedef struct {
    int64_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int64_t head_size, kv_dim; /* dim / n_heads, n_kv_heads * head_size */
    int shared_classifier;     /* header vocab_size > 0 */
} al_llama_config;

/* Pointers into the mapped file; shapes are row-major, W[out, in]. */
typedef struct {
    const float *tok_emb;   /* [V, dim] */
    const float *rms_att;   /* [L, dim] */
    const float *wq;        /* [L, dim, dim] */
    const float *wk;        /* [L, kv_dim, dim] */
    const float *wv;        /* [L, kv_dim, dim] */
    const float *wo;        /* [L, dim, dim] */
    const float *rms_ffn;   /* [L, dim] */
    const float *w1;        /* [L, hidden, dim] */
    const float *w2;        /* [L, dim, hidden] */
    const float *w3;        /* [L, hidden, dim] */
    const float *rms_final; /* [dim] */
    const float *wcls;      /* [V, dim]: tok_emb when shared */
} al_llama_weights;

typedef struct {
    char path[4096];
    al_llama_config c;
    al_llama_weights w;
    void *map;
    size_t map_bytes;
} al_llama;

/* Checks a raw header (7 int32 as stored) and the file size it must imply; fills c. Pure: no I/O. */
al_status al_llama_check_header(const int32_t h[7], uint64_t file_bytes, al_llama_config *c, const char *path,
                                al_error *e);
/* Bytes a checkpoint with config c has (header included). */
uint64_t al_llama_file_bytes(const al_llama_config *c);
/* Opens, validates (header, length, every weight finite) and maps the checkpoint. */
al_status al_llama_open(const char *path, al_llama **out, al_error *e);
void al_llama_close(al_llama *m);

#endif
