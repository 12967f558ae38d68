/* Reader for NumPy .npy files (format versions 1-3): header parsing and positioned reads of C-order data.
 * The header is parsed strictly; the data size is checked against the file size before any read. */
#ifndef AL_NPY_H
#define AL_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#define AL_NPY_MAX_RANK 8

typedef struct {
    int fd;
    al_dtype dtype;
    int rank;
    int64_t shape[AL_NPY_MAX_RANK];
    int64_t data_offset;
    int64_t file_size;
} al_npy;

/* Parses a header held in memory (for fuzzing and tests): buf holds the first n bytes of the file. */
al_status al_npy_parse_header(const uint8_t *buf, size_t n, al_npy *out, const char *fname, al_error *e);
al_status al_npy_open(const char *path, al_npy *out, al_error *e);
void al_npy_close(al_npy *f);
/* Reads nbytes at element offset elem_off (in elements of the array) into dst. */
al_status al_npy_read(const al_npy *f, int64_t elem_off, int64_t n_elem, void *dst, const char *fname, al_error *e);

#endif
