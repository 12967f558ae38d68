/* Direct chunk reading for compressed map datasets: raw chunks come out of HDF5 serially (H5Dread_chunk),
 * and are inflated (libdeflate), unshuffled and converted to float32 in parallel threads outside HDF5's lock. */
#ifndef AL_H5CHUNK_H
#define AL_H5CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "h5.h"

#define AL_CHUNK_MAX_FILTERS 4

/* How a dataset's chunks are stored: set by al_chunk_plan; usable only when ok. */
typedef struct {
    int ok;                    /* rank-4 chunks of (1, 1, rows, cols), filters among deflate and shuffle */
    int64_t crows, ccols;      /* chunk extent in the last two dimensions */
    int nfilters;
    int filter[AL_CHUNK_MAX_FILTERS]; /* H5Z filter ids in write order */
    size_t elem;               /* stored element size */
    size_t chunk_bytes;        /* decoded size of one chunk */
} al_chunk_plan;

/* Reusable buffers for one batch of chunk reads; grown on demand, freed by al_chunk_ws_free. */
typedef struct {
    int64_t n, cap;
    uint8_t **raw;     /* [cap] compressed bytes of each chunk */
    size_t *raw_cap, *raw_len;
    uint32_t *mask;    /* [cap] filter mask HDF5 reports (skipped filters) */
    int64_t (*coord)[4];
    uint8_t *decoded;  /* [threads, chunk_bytes + chunk_bytes] inflate output and unshuffle space */
    size_t decoded_cap;
    int threads;
} al_chunk_ws;

void al_chunk_plan_init(const al_h5_dset *d, al_chunk_plan *p);

/* Reads rows [row0, row0+nr) x cols [0, ncols) of the maps of (n, h0 + p) for p < np from dataset d
 * into dst + p * dst_stride ([nr, ncols] each), as float32. Only for plans with ok set. */
al_status al_chunk_read_rows(const al_h5_dset *d, const al_chunk_plan *pl, al_chunk_ws *ws, int64_t n, int64_t h0,
                             int64_t np, int64_t row0, int64_t nr, int64_t ncols, float *dst, int64_t dst_stride,
                             const char *fname, al_error *e);
void al_chunk_ws_free(al_chunk_ws *ws);

/* The two halves of al_chunk_read_rows, for callers that run their own threads. _fetch asks HDF5 for the raw
 * chunks of the rows into ws (one thread at a time: HDF5 is not thread-safe) with decode room for `threads`
 * slots; _decode_range undoes the filters of fetched chunks [i0, i1) (0 <= i1 <= ws->n) into dst using slot
 * `slot` and its own decompressor, safe in parallel for disjoint ranges. Returns 0, or -1 for a corrupt chunk. */
struct libdeflate_decompressor;
al_status al_chunk_fetch(const al_h5_dset *d, const al_chunk_plan *pl, al_chunk_ws *ws, int64_t n, int64_t h0, int64_t np,
                         int64_t row0, int64_t nr, int64_t ncols, int threads, const char *fname, al_error *e);
int al_chunk_decode_range(const al_h5_dset *d, const al_chunk_plan *pl, const al_chunk_ws *ws, int64_t i0, int64_t i1,
                          int64_t row0, int64_t nr, int64_t ncols, float *dst, int64_t dst_stride, int slot,
                          struct libdeflate_decompressor *dec);

/* One thread's reader: its own chunk buffers and inflater, so that it decodes while another thread is in HDF5. */
typedef struct {
    al_chunk_ws ws;
    struct libdeflate_decompressor *dec;
} al_chunk_reader;
int al_chunk_reader_init(al_chunk_reader *rd); /* 0, or -1 out of memory */
void al_chunk_reader_free(al_chunk_reader *rd);

/* Byte unshuffle of HDF5's shuffle filter: n bytes of elements of size es. Exposed for tests. */
void al_unshuffle(const uint8_t *in, uint8_t *out, size_t n, size_t es);

#endif
