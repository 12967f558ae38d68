/* Writing format-v1 recordings (synth, import, record): root attributes, per-layer datasets in float32,
 * float16 (gzip + shuffle chunks, as h5py writes them) or bfloat16 (uint16 with dtype attribute). */
#ifndef AL_WRITER_H
#define AL_WRITER_H

#include <hdf5.h>
#include <stdint.h>

#include "../core/dtype.h"
#include "../core/status.h"

typedef struct {
    char path[4096], tmp[4200];
    hid_t file;
    al_dtype dtype; /* storage type of float datasets */
} al_v1_writer;

typedef struct {
    const char *model, *source;
    int64_t n_layers, n_heads, n_kv_heads, head_dim;
    int causal, first_token_is_bos;
    int has_first_token;    /* also write first_token_id and first_token_text (what position 0 is) */
    int64_t first_token_id; /* -1: samples start with different tokens */
    const char *first_token_text;
} al_v1_attrs;

/* Creates PATH.tmp-PID; al_v1_finish renames it to PATH; al_v1_abort removes it. */
/* Creates PATH.tmp-PID (cleaning what a killed run left) with no attributes; the base of every writer. */
al_status al_v1_open_tmp(al_v1_writer *w, const char *path, al_dtype dtype, al_error *e);
al_status al_v1_create(al_v1_writer *w, const char *path, al_dtype dtype, const al_v1_attrs *a, al_error *e);
/* Creates dataset name (e.g. "attention/L000", groups made as needed) of the given shape in the writer's
 * dtype: float16 chunked by chunk_rows rows of the last two dimensions with gzip + shuffle, else contiguous. */
al_status al_v1_dataset(al_v1_writer *w, const char *name, int rank, const int64_t *dims, int64_t chunk_rows,
                        al_error *e);
/* Writes float32 values src into the hyperslab (start, count) of dataset name, converting to the dtype. */
al_status al_v1_write(al_v1_writer *w, const char *name, const int64_t *start, const int64_t *count, const float *src,
                      al_error *e);
/* int32 dataset written whole. */
al_status al_v1_write_i32(al_v1_writer *w, const char *name, int rank, const int64_t *dims, const int32_t *src,
                          al_error *e);
/* Variable-length UTF-8 strings s [N * T] (NULL: "") as the dataset name [N, T] (e.g. /token_text). */
al_status al_v1_write_strings(al_v1_writer *w, const char *name, int64_t N, int64_t T, const char *const *s,
                              al_error *e);
/* String-list attribute on the root or a dataset. */
al_status al_v1_attr_strings(al_v1_writer *w, const char *obj, const char *name, const char *const *v, int n,
                             al_error *e);
/* Scalar string attribute of the root. */
al_status al_v1_attr_str(al_v1_writer *w, const char *name, const char *v, al_error *e);
al_status al_v1_finish(al_v1_writer *w, al_error *e);
void al_v1_abort(al_v1_writer *w);

/* The HDF5 type of IEEE half precision, little-endian (HDF5 1.10 has no predefined one). */
hid_t al_h5_f16_type(void);

#endif
