/* Reader of GGUF files (llama.cpp's format, versions 2 and 3): the file is mapped read-only and every key,
 * value, tensor shape, type, offset and size is checked against the file's length before anything uses it. */
#ifndef AL_GGUF_H
#define AL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

/* Value types of metadata (GGUF numbering). */
typedef enum {
    AL_GV_U8 = 0,
    AL_GV_I8 = 1,
    AL_GV_U16 = 2,
    AL_GV_I16 = 3,
    AL_GV_U32 = 4,
    AL_GV_I32 = 5,
    AL_GV_F32 = 6,
    AL_GV_BOOL = 7,
    AL_GV_STRING = 8,
    AL_GV_ARRAY = 9,
    AL_GV_U64 = 10,
    AL_GV_I64 = 11,
    AL_GV_F64 = 12,
    AL_GV_COUNT
} al_gguf_vtype;

/* Tensor types (ggml numbering) that attnlab dequantises. */
typedef enum {
    AL_GT_F32 = 0,
    AL_GT_F16 = 1,
    AL_GT_Q4_0 = 2,
    AL_GT_Q4_1 = 3,
    AL_GT_Q5_0 = 6,
    AL_GT_Q5_1 = 7,
    AL_GT_Q8_0 = 8,
    AL_GT_Q4_K = 12,
    AL_GT_Q5_K = 13,
    AL_GT_Q6_K = 14,
    AL_GT_BF16 = 30
} al_gguf_ttype;

#define AL_GGUF_MAX_DIMS 4
#define AL_GGUF_MAX_NAME 256

typedef struct {
    const char *key; /* not NUL-terminated: key_len bytes in the map */
    uint64_t key_len;
    al_gguf_vtype type;
    al_gguf_vtype elem; /* arrays: element type */
    uint64_t count;     /* arrays: elements; strings: bytes */
    const uint8_t *val; /* scalar, string bytes, or first array element */
} al_gguf_kv;

typedef struct {
    char name[AL_GGUF_MAX_NAME];
    int n_dims;
    int64_t ne[AL_GGUF_MAX_DIMS]; /* ne[0] is the contiguous (row) dimension; unused dims are 1 */
    al_gguf_ttype type;
    uint64_t offset, nbytes; /* relative to the data section; validated */
    const uint8_t *data;
} al_gguf_tensor;

typedef struct {
    char path[4096];
    const uint8_t *map;
    size_t size;
    uint32_t version;
    uint64_t alignment;
    int64_t n_kv, n_tensors;
    al_gguf_kv *kv;         /* [n_kv] */
    al_gguf_tensor *tensor; /* [n_tensors] */
} al_gguf;

/* Parses and validates a GGUF image held in memory (buf[0 .. n-1]; not copied: must outlive g). */
al_status al_gguf_parse(const uint8_t *buf, size_t n, const char *path, al_gguf *g, al_error *e);
/* Maps path and parses it. */
al_status al_gguf_open(const char *path, al_gguf **out, al_error *e);
void al_gguf_free(al_gguf *g); /* frees what al_gguf_parse allocated (not the buffer) */
void al_gguf_close(al_gguf *g);
/* 1 when the file at path starts with the GGUF magic. */
int al_gguf_is_gguf(const char *path);

/* Name of a ggml tensor type ("Q4_K"), NULL when attnlab does not read it. */
const char *al_gguf_type_name(uint32_t t);
/* Elements per block and bytes per block of a supported type (0 when unsupported). */
int64_t al_gguf_block_elems(uint32_t t);
int64_t al_gguf_block_bytes(uint32_t t);

const al_gguf_kv *al_gguf_find(const al_gguf *g, const char *key);
const al_gguf_tensor *al_gguf_tensor_find(const al_gguf *g, const char *name);

/* Typed getters: AL_OK, or AL_EFORMAT naming the key when it is absent (and required) or of another type.
 * Integers of any integer type are accepted when the value fits; floats from f32 or f64. */
al_status al_gguf_get_int(const al_gguf *g, const char *key, int required, int64_t *v, al_error *e);
al_status al_gguf_get_float(const al_gguf *g, const char *key, int required, double *v, al_error *e);
al_status al_gguf_get_bool(const al_gguf *g, const char *key, int required, int *v, al_error *e);
/* String value copied into buf (truncated to n - 1 bytes); "" when absent and not required. */
al_status al_gguf_get_str(const al_gguf *g, const char *key, int required, char *buf, size_t n, al_error *e);
/* Every element of an array of strings: ptr[i] (not NUL-terminated), len[i]; [kv->count] each. */
void al_gguf_arr_strs(const al_gguf_kv *kv, const char **ptr, uint64_t *len);
/* Element i of a numeric array as double. */
double al_gguf_arr_num(const al_gguf_kv *kv, uint64_t i);

#endif
