/* A recording opened for analysis: format v1 HDF5 or a .npy map dump, validated for structure on open.
 * Reads return float32 blocks of rows; values are checked by the streaming engine as they pass. */
#ifndef AL_RECORDING_H
#define AL_RECORDING_H

#include <stdint.h>

#include "../core/dtype.h"
#include "../core/h5.h"
#include "../core/h5chunk.h"
#include "../core/npy.h"
#include "../core/status.h"
#include "attnlab/recording.h" /* the opaque handle, al_rec_open, al_rec_close, al_rec_get_info */

#define AL_MAX_LAYERS 4096
#define AL_MAX_SPANS 32

typedef enum { AL_REC_HDF5, AL_REC_NPY } al_rec_kind;
typedef enum { AL_T_ATT, AL_T_Q, AL_T_K, AL_T_V, AL_T_HIDDEN, AL_T_COUNT } al_rec_tensor;

typedef struct al_rec {
    char path[4096];
    al_rec_kind kind;
    char model[256];
    int64_t N, L, H, H_kv, D; /* samples, layers, heads, KV heads, head_dim */
    int64_t T;                /* recorded tokens (map side, or q/k length) */
    int64_t d_model;          /* hidden width, 0 when no hidden states */
    int causal, bos;
    int has[AL_T_COUNT];
    al_dtype dtype[AL_T_COUNT];
    int has_tokens, has_lengths, has_spans, has_token_text, has_logits;
    double q_scale;    /* softmax scale for q k^T */
    int64_t *lengths;  /* [N]: valid tokens per sample */
    int n_spans;
    char span_names[AL_MAX_SPANS][64];

    /* readers */
    hid_t file;
    al_h5_dset *dsets[AL_T_COUNT]; /* [L] each (hidden: [L+1]) */
    al_npy npy;
    int npy_has_n; /* .npy of rank 5 ([N, L, H, T, T]) rather than 4 */
    void *scratch; /* raw bytes of the last block, for f16/bf16 conversion */
    size_t scratch_bytes;
    al_chunk_plan *att_plan; /* [L] direct chunk reading of compressed maps */
    al_chunk_ws chunk_ws;
    int fd; /* the file open for pread of contiguous float32 maps, or -1 */
    int64_t *att_offset;      /* [L] file offset of each contiguous float32 map dataset, or -1 */
} al_rec;

/* al_rec_open (attnlab/recording.h) validates the structure: attributes, dataset ranks and shapes, dtypes,
 * filters. */

/* Reads rows [row0, row0+nrows) and columns [0, ncols) of the map of (n, l, h) into dst: [nrows, ncols]. */
al_status al_rec_read_att(al_rec *r, int64_t n, int64_t l, int64_t h, int64_t row0, int64_t nrows, int64_t ncols,
                          float *dst, al_error *e);
/* The same for heads h0..h0+np-1 at once: dst + p * stride holds [nrows, ncols] of head h0 + p. Compressed
 * chunked maps are decompressed in parallel (OpenMP), the rest read head by head. */
al_status al_rec_read_att_heads(al_rec *r, int64_t n, int64_t l, int64_t h0, int64_t np, int64_t row0, int64_t nrows,
                                int64_t ncols, float *dst, int64_t stride, al_error *e);
/* Block reading from several threads: al_rec_att_fetch does everything that touches HDF5 and must run under the
 * caller's lock (one thread at a time); al_rec_att_finish inflates what was fetched into dst ([nrows, ncols])
 * and may run in parallel, each thread with its own reader. Same result as al_rec_read_att. */
al_status al_rec_att_fetch(al_rec *r, al_chunk_reader *rd, int64_t n, int64_t l, int64_t h, int64_t row0, int64_t nrows,
                           int64_t ncols, float *dst, al_error *e);
al_status al_rec_att_finish(const al_rec *r, al_chunk_reader *rd, int64_t l, int64_t row0, int64_t nrows, int64_t ncols,
                            float *dst, al_error *e);

/* Reads rows [row0, row0+nrows) x keys [0, ncols) of the map of (n, l, h) into dst ([nrows, ncols]) straight
 * from the file with pread when they are stored
 * contiguously as float32: thread-safe, no HDF5. Returns 1 when done, 0 when not possible, -1 on a read error
 * (the file shrank under us). */
int al_rec_att_pread(const al_rec *r, int64_t n, int64_t l, int64_t h, int64_t row0, int64_t nrows, int64_t ncols,
                     float *dst);

/* Rows of one chunk of layer l's maps when they are read chunk by chunk (blocks should be multiples), else 0. */
int64_t al_rec_chunk_rows(const al_rec *r, int64_t l);

/* Reads rows [t0, t0+nt) of q (query head h), k or v (KV head h) of layer l: dst [nt, D]. */
al_status al_rec_read_qkv(al_rec *r, al_rec_tensor which, int64_t n, int64_t l, int64_t h, int64_t t0, int64_t nt,
                          float *dst, al_error *e);
/* Reads tokens t0..t0+nt of hidden layer entry l (0 = embeddings): dst [nt, d_model]. */
al_status al_rec_read_hidden(al_rec *r, int64_t n, int64_t l, int64_t t0, int64_t nt, float *dst, al_error *e);
/* /tokens row n, first nt ids. */
al_status al_rec_read_tokens(al_rec *r, int64_t n, int64_t nt, int32_t *dst, al_error *e);
/* /spans of sample n: dst [n_spans, 2]. */
al_status al_rec_read_spans(al_rec *r, int64_t n, int32_t *dst, al_error *e);

/* Dataset name of a tensor of layer l, e.g. "attention/L003" (for messages). */
void al_rec_dset_name(const al_rec *r, al_rec_tensor which, int64_t l, char *buf, size_t n);

#endif
