/* Parallel decompression of HDF5 chunks. HDF5 1.10's global lock serialises everything it does, so it is
 * asked only for raw chunk bytes; inflating, unshuffling and type conversion happen here on all cores. */
#include "h5chunk.h"

#include <libdeflate.h>
#include <string.h>

#include "alloc.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void al_chunk_plan_init(const al_h5_dset *d, al_chunk_plan *p) {
    memset(p, 0, sizeof *p);
    if (!d->chunked || d->rank != 4 || d->chunk[0] != 1 || d->chunk[1] != 1 || d->foreign_order) return;
    hid_t dcpl = H5Dget_create_plist(d->id);
    int nf = H5Pget_nfilters(dcpl);
    int ok = nf >= 0 && nf <= AL_CHUNK_MAX_FILTERS;
    for (int i = 0; ok && i < nf; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL);
        ok = id == H5Z_FILTER_DEFLATE || id == H5Z_FILTER_SHUFFLE;
        p->filter[i] = (int)id;
    }
    H5Pclose(dcpl);
    if (!ok) return;
    p->nfilters = nf;
    p->crows = d->chunk[2];
    p->ccols = d->chunk[3];
    p->elem = al_dtype_size(d->dtype);
    p->chunk_bytes = (size_t)(p->crows * p->ccols) * p->elem;
    p->ok = 1;
}

void al_unshuffle(const uint8_t *in, uint8_t *out, size_t n, size_t es) {
    size_t ne = n / es;
    for (size_t b = 0; b < es; b++) {
        const uint8_t *src = in + b * ne;
        for (size_t i = 0; i < ne; i++) out[i * es + b] = src[i];
    }
    memcpy(out + ne * es, in + ne * es, n - ne * es); /* trailing bytes are stored as they are */
}

void al_chunk_ws_free(al_chunk_ws *ws) {
    for (int64_t i = 0; i < ws->cap; i++) al_free(ws->raw[i]);
    al_free(ws->raw);
    al_free(ws->raw_cap);
    al_free(ws->raw_len);
    al_free(ws->mask);
    al_free(ws->coord);
    al_free(ws->decoded);
    memset(ws, 0, sizeof *ws);
}

static int al_chunk_ws_reserve(al_chunk_ws *ws, int64_t n, size_t chunk_bytes, int threads) {
    if (n > ws->cap) {
        uint8_t **raw = al_realloc(ws->raw, (size_t)n, sizeof *raw);
        if (!raw) return -1;
        ws->raw = raw;
        size_t *rc = al_realloc(ws->raw_cap, (size_t)n, sizeof *rc);
        if (!rc) return -1;
        ws->raw_cap = rc;
        size_t *rl = al_realloc(ws->raw_len, (size_t)n, sizeof *rl);
        if (!rl) return -1;
        ws->raw_len = rl;
        uint32_t *m = al_realloc(ws->mask, (size_t)n, sizeof *m);
        if (!m) return -1;
        ws->mask = m;
        int64_t(*co)[4] = al_realloc(ws->coord, (size_t)n, sizeof *co);
        if (!co) return -1;
        ws->coord = co;
        for (int64_t i = ws->cap; i < n; i++) {
            ws->raw[i] = NULL;
            ws->raw_cap[i] = 0;
        }
        ws->cap = n;
    }
    size_t need = (size_t)threads * 2 * chunk_bytes;
    if (need > ws->decoded_cap) {
        uint8_t *d = al_realloc(ws->decoded, need, 1);
        if (!d) return -1;
        ws->decoded = d;
        ws->decoded_cap = need;
    }
    ws->threads = threads;
    return 0;
}

/* Undoes the filters of one chunk into out (chunk_bytes); tmp has chunk_bytes of room. Returns 0 on success. */
static int al_chunk_decode(const al_chunk_plan *pl, const uint8_t *raw, size_t len, uint32_t mask, uint8_t *out,
                           uint8_t *tmp, struct libdeflate_decompressor *dec) {
    const uint8_t *cur = raw;
    size_t cur_len = len;
    uint8_t *bufs[2] = {out, tmp};
    int which = 0;
    /* filters are undone in reverse order; a set mask bit means the filter was skipped for this chunk */
    int steps = 0;
    for (int i = pl->nfilters - 1; i >= 0; i--)
        if (!(mask & (1u << i))) steps++;
    which = steps % 2 == 0 ? 1 : 0; /* so that the last step writes into out */
    for (int i = pl->nfilters - 1; i >= 0; i--) {
        if (mask & (1u << i)) continue;
        uint8_t *dst = bufs[which];
        if (pl->filter[i] == H5Z_FILTER_DEFLATE) {
            size_t got = 0;
            if (libdeflate_zlib_decompress(dec, cur, cur_len, dst, pl->chunk_bytes, &got) != LIBDEFLATE_SUCCESS ||
                got != pl->chunk_bytes)
                return -1;
        } else {
            if (cur_len != pl->chunk_bytes) return -1;
            al_unshuffle(cur, dst, cur_len, pl->elem);
        }
        cur = dst;
        cur_len = pl->chunk_bytes;
        which ^= 1;
    }
    if (cur_len != pl->chunk_bytes) return -1;
    if (cur != out) memcpy(out, cur, cur_len);
    return 0;
}

al_status al_chunk_fetch(const al_h5_dset *d, const al_chunk_plan *pl, al_chunk_ws *ws, int64_t n, int64_t h0, int64_t np,
                         int64_t row0, int64_t nr, int64_t ncols, int threads, const char *fname, al_error *e) {
    int64_t cr0 = row0 / pl->crows, cr1 = (row0 + nr - 1) / pl->crows;
    int64_t cc1 = (ncols - 1) / pl->ccols;
    int64_t total = np * (cr1 - cr0 + 1) * (cc1 + 1);
    al_h5_quiet(); /* may run in a worker thread */
    if (al_chunk_ws_reserve(ws, total, pl->chunk_bytes, threads) != 0)
        return al_fail(e, AL_ENOMEM, fname, d->path, "out of memory for chunk buffers");
    ws->n = 0;
    int64_t k = 0;
    for (int64_t p = 0; p < np; p++)
        for (int64_t cr = cr0; cr <= cr1; cr++)
            for (int64_t cc = 0; cc <= cc1; cc++, k++) {
                hsize_t off[4] = {(hsize_t)n, (hsize_t)(h0 + p), (hsize_t)(cr * pl->crows), (hsize_t)(cc * pl->ccols)};
                hsize_t sz = 0;
                if (H5Dget_chunk_storage_size(d->id, off, &sz) < 0 || sz == 0 || sz > ((hsize_t)1 << 34))
                    return al_fail(e, AL_EIO, fname, d->path, "chunk at row %lld of sample %lld, head %lld is missing or unreadable "
                                   "(truncated or corrupt file?)", (long long)(cr * pl->crows), (long long)n, (long long)(h0 + p));
                if (sz > ws->raw_cap[k]) {
                    uint8_t *b = al_realloc(ws->raw[k], (size_t)sz, 1);
                    if (!b) return al_fail(e, AL_ENOMEM, fname, d->path, "out of memory for a chunk");
                    ws->raw[k] = b;
                    ws->raw_cap[k] = (size_t)sz;
                }
                ws->raw_len[k] = (size_t)sz;
                if (H5Dread_chunk(d->id, H5P_DEFAULT, off, &ws->mask[k], ws->raw[k]) < 0)
                    return al_fail(e, AL_EIO, fname, d->path, "cannot read a chunk (truncated or corrupt file?)");
                ws->coord[k][0] = p;
                ws->coord[k][1] = cr;
                ws->coord[k][2] = cc;
            }
    ws->n = total;
    return AL_OK;
}

int al_chunk_decode_range(const al_h5_dset *d, const al_chunk_plan *pl, const al_chunk_ws *ws, int64_t i0, int64_t i1,
                          int64_t row0, int64_t nr, int64_t ncols, float *dst, int64_t dst_stride, int slot,
                          struct libdeflate_decompressor *dec) {
    uint8_t *out = ws->decoded + (size_t)slot * 2 * pl->chunk_bytes, *tmp = out + pl->chunk_bytes;
    for (int64_t i = i0; i < i1; i++) {
        if (al_chunk_decode(pl, ws->raw[i], ws->raw_len[i], ws->mask[i], out, tmp, dec) != 0) return -1;
        int64_t p = ws->coord[i][0], cr = ws->coord[i][1], cc = ws->coord[i][2];
        int64_t r_lo = cr * pl->crows > row0 ? cr * pl->crows : row0;
        int64_t r_hi = (cr + 1) * pl->crows < row0 + nr ? (cr + 1) * pl->crows : row0 + nr;
        int64_t c_lo = cc * pl->ccols, c_hi = (cc + 1) * pl->ccols < ncols ? (cc + 1) * pl->ccols : ncols;
        for (int64_t r = r_lo; r < r_hi; r++) {
            const uint8_t *src = out + ((size_t)(r - cr * pl->crows) * (size_t)pl->ccols) * pl->elem;
            al_convert_to_f32(d->dtype, src, dst + p * dst_stride + (r - row0) * ncols + c_lo, (size_t)(c_hi - c_lo));
        }
    }
    return 0;
}

al_status al_chunk_read_rows(const al_h5_dset *d, const al_chunk_plan *pl, al_chunk_ws *ws, int64_t n, int64_t h0,
                             int64_t np, int64_t row0, int64_t nr, int64_t ncols, float *dst, int64_t dst_stride,
                             const char *fname, al_error *e) {
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    if (al_chunk_fetch(d, pl, ws, n, h0, np, row0, nr, ncols, threads, fname, e) != AL_OK) return e->status;
    /* decode and scatter in parallel: each chunk writes a disjoint part of dst */
    int failed = 0;
    int64_t total = ws->n;
#pragma omp parallel reduction(| : failed)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        struct libdeflate_decompressor *dec = libdeflate_alloc_decompressor();
        if (!dec) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < total; i++)
            if (failed || al_chunk_decode_range(d, pl, ws, i, i + 1, row0, nr, ncols, dst, dst_stride, t, dec) != 0) failed = 1;
        if (dec) libdeflate_free_decompressor(dec);
    }
    if (failed) return al_fail(e, AL_EFORMAT, fname, d->path, "a chunk does not decompress (corrupt file?)");
    return AL_OK;
}

int al_chunk_reader_init(al_chunk_reader *rd) {
    memset(rd, 0, sizeof *rd);
    rd->dec = libdeflate_alloc_decompressor();
    return rd->dec ? 0 : -1;
}

void al_chunk_reader_free(al_chunk_reader *rd) {
    al_chunk_ws_free(&rd->ws);
    if (rd->dec) libdeflate_free_decompressor(rd->dec);
    rd->dec = NULL;
}
