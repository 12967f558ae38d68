/* Thin, checked wrappers over HDF5 1.10's C API: open, attributes, dataset shape and type, block reads.
 * Reads use the file's own element type as memory type, so HDF5 never converts element by element. */
#ifndef AL_H5_H
#define AL_H5_H

#include <hdf5.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#define AL_MAX_RANK 6

typedef struct {
    hid_t id;
    hid_t memtype; /* type used for H5Dread: the file's type for f16, a native one otherwise */
    al_dtype dtype;
    int rank;
    int64_t dims[AL_MAX_RANK];
    int chunked;
    int64_t chunk[AL_MAX_RANK];
    int compressed;
    int foreign_order; /* stored bytes in the other byte order (big-endian floats): HDF5's reads convert them,
                          readers of raw bytes (pread, direct chunk reads) must not take them */
    char path[256];
} al_h5_dset;

/* Silences HDF5's own error printing, once per thread. */
void al_h5_quiet(void);
/* Opens read-only; a file that is not HDF5 (or missing, or unreadable) gets a clear error. */
hid_t al_h5_open(const char *path, al_error *e);
int al_h5_exists(hid_t loc, const char *path); /* link exists (each level checked) */

/* Attribute readers: return 1 when found and read, 0 when absent, -1 (e set) when of the wrong kind. */
int al_h5_attr_int(hid_t obj, const char *name, int64_t *v, const char *file, al_error *e);
int al_h5_attr_double(hid_t obj, const char *name, double *v, const char *file, al_error *e);
int al_h5_attr_str(hid_t obj, const char *name, char *buf, size_t n, const char *file, al_error *e);
/* A 1-D attribute of strings (e.g. span names): returns the count (<= maxn), -1 on error, 0 when absent. */
int al_h5_attr_strings(hid_t obj, const char *name, char (*out)[64], int maxn, const char *file, al_error *e);

/* Opens a dataset, reads its type, shape and filters. Only float types (and uint16 marked bfloat16) are
 * accepted when want_float; integer datasets are accepted as I32/U8 otherwise. */
al_status al_h5_dset_open(hid_t file, const char *path, int want_float, al_h5_dset *d, const char *fname,
                          al_error *e);
void al_h5_dset_close(al_h5_dset *d);
/* Reads the hyperslab start[rank], count[rank] into dst in the dataset's element type (contiguous). */
al_status al_h5_read(const al_h5_dset *d, const int64_t *start, const int64_t *count, void *dst, const char *fname,
                     al_error *e);
/* Sets a chunk cache large enough for the given number of chunks (reads of row blocks smaller than a chunk). */
void al_h5_chunk_cache(hid_t dapl, int64_t bytes);

#endif
