/* Reader of drift files. Logit blocks are read in the file's own type into the destination buffer and
 * widened to double in place from the end, so no second block-sized buffer is needed. */
#include "drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/dtype.h"

static const char *const al_side[2] = {"test", "ref"};

void al_drift_close(al_drift *d) {
    if (!d) return;
    for (int s = 0; s < 2; s++) {
        if (d->logits[s].id > 0) al_h5_dset_close(&d->logits[s]);
        if (d->ids[s].id > 0) al_h5_dset_close(&d->ids[s]);
        if (d->lps[s].id > 0) al_h5_dset_close(&d->lps[s]);
    }
    if (d->file >= 0) H5Fclose(d->file);
    al_free(d->conv);
    al_free(d->turn);
    al_free(d->intervention);
    al_free(d->dup_ws);
    al_free(d);
}

/* numpy booleans as h5py writes them: an enum over a small integer ({FALSE: 0, TRUE: 1}), read as its base
 * integers. Returns 1 when name is such a dataset (read into *out, or e set), 0 when it is not an enum. */
static int al_read_enum(al_drift *d, const char *name, int64_t **out, al_error *e) {
    hid_t id = H5Dopen2(d->file, name, H5P_DEFAULT);
    if (id < 0) return 0;
    hid_t t = H5Dget_type(id), base = H5Tget_class(t) == H5T_ENUM ? H5Tget_super(t) : -1;
    if (base < 0) {
        H5Tclose(t);
        H5Dclose(id);
        return 0;
    }
    hid_t sp = H5Dget_space(id);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
    size_t sz = H5Tget_size(base);
    int sgn = H5Tget_sign(base) == H5T_SGN_2;
    H5Sclose(sp);
    if (rank != 1 || H5Tget_class(base) != H5T_INTEGER || sz > 8 || (d->R >= 0 && (int64_t)dims[0] != d->R)) {
        al_fail(e, AL_ESHAPE, d->path, name, "expected one 0/1 entry per scored row, shape [%lld]", (long long)d->R);
    } else {
        int64_t R = (int64_t)dims[0];
        unsigned char *raw = al_malloc((size_t)R + 1, sz);
        hid_t mt = H5Tget_native_type(t, H5T_DIR_ASCEND);
        *out = al_malloc((size_t)R + 1, sizeof(int64_t));
        if (!raw || !*out) al_fail(e, AL_ENOMEM, d->path, name, "out of memory");
        else if (R && H5Dread(id, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0)
            al_fail(e, AL_EIO, d->path, name, "read failed (truncated or corrupt file?)");
        for (int64_t i = 0; e->status == AL_OK && i < R; i++) {
            uint64_t u = 0;
            for (size_t k = 0; k < sz; k++) u |= (uint64_t)raw[i * sz + k] << (8 * k); /* little-endian hosts */
            if (sgn && sz < 8 && (u >> (8 * sz - 1)) & 1) u |= ~0ull << (8 * sz);
            (*out)[i] = (int64_t)u;
        }
        H5Tclose(mt);
        al_free(raw);
    }
    H5Tclose(base);
    H5Tclose(t);
    H5Dclose(id);
    return 1;
}

/* A whole 1-D integer dataset of R entries as int64. */
static al_status al_read_ids(al_drift *d, const char *name, int64_t **out, al_error *e) {
    if (al_h5_exists(d->file, name) && al_read_enum(d, name, out, e)) return e->status;
    al_h5_dset ds;
    if (al_h5_dset_open(d->file, name, 0, &ds, d->path, e) != AL_OK) return e->status;
    al_status st = AL_OK;
    if (ds.dtype != AL_DT_I32 && ds.dtype != AL_DT_U8)
        st = al_fail(e, AL_EDTYPE, d->path, name, "expected integers, found %s", al_dtype_name(ds.dtype));
    else if (ds.rank != 1)
        st = al_fail(e, AL_ESHAPE, d->path, name, "expected one entry per scored row, shape [R]; found rank %d", ds.rank);
    else if (d->R >= 0 && ds.dims[0] != d->R)
        st = al_fail(e, AL_ESHAPE, d->path, name, "%lld entries, but row_conversation has %lld", (long long)ds.dims[0],
                     (long long)d->R);
    if (st == AL_OK) {
        int64_t R = ds.dims[0];
        *out = al_malloc((size_t)R + 1, sizeof(int64_t));
        if (!*out) st = al_fail(e, AL_ENOMEM, d->path, name, "out of memory");
        else if (R && H5Dread(ds.id, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0)
            st = al_fail(e, AL_EIO, d->path, name, "read failed (truncated or corrupt file?)");
        if (d->R < 0) d->R = R;
    }
    al_h5_dset_close(&ds);
    return st;
}

static al_status al_open_2d(al_drift *d, int side, const char *what, int want_float, al_h5_dset *ds, al_error *e) {
    char name[64];
    snprintf(name, sizeof name, "%s/%s", al_side[side], what);
    if (al_h5_dset_open(d->file, name, want_float, ds, d->path, e) != AL_OK) return e->status;
    if (!want_float && ds->dtype != AL_DT_I32 && ds->dtype != AL_DT_U8)
        return al_fail(e, AL_EDTYPE, d->path, name, "token ids must be integers, found %s", al_dtype_name(ds->dtype));
    if (ds->rank != 2) return al_fail(e, AL_ESHAPE, d->path, name, "expected shape [R, %s], found rank %d", want_float ? "V" : "K", ds->rank);
    if (ds->dims[0] != d->R)
        return al_fail(e, AL_ESHAPE, d->path, name, "%lld rows, but row_conversation has %lld", (long long)ds->dims[0],
                       (long long)d->R);
    if (ds->dims[1] < 1) return al_fail(e, AL_ESHAPE, d->path, name, "has no columns");
    return AL_OK;
}

static al_status al_drift_groups(al_drift *d, al_error *e) {
    int dense[2], topk[2];
    for (int s = 0; s < 2; s++) {
        char a[64], b[64], c[64];
        snprintf(a, sizeof a, "%s/logits", al_side[s]);
        snprintf(b, sizeof b, "%s/topk_ids", al_side[s]);
        snprintf(c, sizeof c, "%s/topk_logprobs", al_side[s]);
        dense[s] = al_h5_exists(d->file, a);
        topk[s] = al_h5_exists(d->file, b) || al_h5_exists(d->file, c);
        if (!dense[s] && !topk[s])
            return al_fail(e, AL_EFORMAT, d->path, al_side[s], "needs either 'logits' [R, V] or 'topk_ids' and 'topk_logprobs' [R, K]");
        if (dense[s] && topk[s])
            return al_fail(e, AL_EFORMAT, d->path, al_side[s], "has both dense 'logits' and top-k datasets: keep one kind");
    }
    if (dense[0] != dense[1])
        return al_fail(e, AL_EFORMAT, d->path, NULL, "the test side has %s but the reference side has %s: both must be of one kind",
                       dense[0] ? "dense logits" : "top-k logprobs", dense[1] ? "dense logits" : "top-k logprobs");
    d->kind = dense[0] ? AL_DRIFT_DENSE : AL_DRIFT_TOPK;
    for (int s = 0; s < 2; s++) {
        if (d->kind == AL_DRIFT_DENSE) {
            if (al_open_2d(d, s, "logits", 1, &d->logits[s], e) != AL_OK) return e->status;
        } else {
            if (al_open_2d(d, s, "topk_ids", 0, &d->ids[s], e) != AL_OK) return e->status;
            if (al_open_2d(d, s, "topk_logprobs", 1, &d->lps[s], e) != AL_OK) return e->status;
            d->k[s] = d->ids[s].dims[1];
            if (d->lps[s].dims[1] != d->k[s])
                return al_fail(e, AL_ESHAPE, d->path, d->lps[s].path, "%lld columns, but %s has %lld",
                               (long long)d->lps[s].dims[1], d->ids[s].path, (long long)d->k[s]);
        }
    }
    if (d->kind == AL_DRIFT_DENSE) {
        d->V = d->logits[0].dims[1];
        if (d->logits[1].dims[1] != d->V)
            return al_fail(e, AL_ESHAPE, d->path, d->logits[1].path,
                           "vocabularies of different sizes: test/logits has %lld entries per row, ref/logits has %lld",
                           (long long)d->V, (long long)d->logits[1].dims[1]);
    } else {
        int64_t km = d->k[0] > d->k[1] ? d->k[0] : d->k[1];
        if (!(d->dup_ws = al_malloc((size_t)km, sizeof(int32_t)))) return al_fail(e, AL_ENOMEM, d->path, NULL, "out of memory");
    }
    return AL_OK;
}

al_status al_drift_open(const char *path, al_drift **out, al_error *e) {
    *out = NULL;
    al_drift *d = al_calloc(1, sizeof *d);
    if (!d) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    for (int s = 0; s < 2; s++) d->logits[s].id = d->ids[s].id = d->lps[s].id = -1;
    snprintf(d->path, sizeof d->path, "%s", path);
    d->R = -1;
    d->file = al_h5_open(path, e);
    if (d->file < 0) goto fail;
    char fmt[64] = "";
    int64_t ver = 0;
    int r = al_h5_attr_str(d->file, "attnlab_format", fmt, sizeof fmt, path, e);
    if (r < 0) goto fail;
    if (r == 0 || strcmp(fmt, "drift")) {
        al_fail(e, AL_EFORMAT, path, NULL, "not a drift file (root attribute attnlab_format is %s%s%s, expected \"drift\")",
                r ? "\"" : "absent", r ? fmt : "", r ? "\"" : "");
        goto fail;
    }
    r = al_h5_attr_int(d->file, "format_version", &ver, path, e);
    if (r < 0) goto fail;
    if (r == 0 || ver != 1) {
        al_fail(e, AL_EFORMAT, path, NULL, "format_version %s: this attnlab reads drift format version 1", r ? "is not 1" : "is missing");
        goto fail;
    }
    if (al_read_ids(d, "row_conversation", &d->conv, e) != AL_OK) goto fail;
    if (al_read_ids(d, "row_turn", &d->turn, e) != AL_OK) goto fail;
    if (d->R == 0) {
        al_fail(e, AL_ESHAPE, path, "row_conversation", "no scored rows");
        goto fail;
    }
    if (al_h5_exists(d->file, "intervention")) {
        int64_t *iv = NULL;
        if (al_read_ids(d, "intervention", &iv, e) != AL_OK) goto fail;
        d->intervention = al_malloc((size_t)d->R, 1);
        for (int64_t i = 0; d->intervention && i < d->R; i++) {
            if (iv[i] != 0 && iv[i] != 1) {
                al_fail(e, AL_EVALUE, path, "intervention", "row %lld: %lld (expected 0 or 1)", (long long)i, (long long)iv[i]);
                break;
            }
            d->intervention[i] = (uint8_t)iv[i];
        }
        al_free(iv);
        if (!d->intervention) al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        if (e->status != AL_OK) goto fail;
    }
    if (al_drift_groups(d, e) != AL_OK) goto fail;
    *out = d;
    return AL_OK;
fail:
    al_drift_close(d);
    return e->status;
}

/* Widens n elements of type t stored at the start of dst to double, in place, from the end. */
static void al_widen(al_dtype t, double *dst, int64_t n) {
    if (t == AL_DT_F64) return;
    size_t sz = al_dtype_size(t);
    float tmp[1024];
    for (int64_t c1 = n; c1 > 0;) {
        int64_t c0 = c1 > 1024 ? c1 - 1024 : 0;
        al_convert_to_f32(t, (const char *)dst + (size_t)c0 * sz, tmp, (size_t)(c1 - c0));
        for (int64_t i = c1 - 1; i >= c0; i--) dst[i] = tmp[i - c0];
        c1 = c0;
    }
}

static al_status al_read_wide(al_drift *d, const al_h5_dset *ds, int64_t row0, int64_t n, double *dst, al_error *e) {
    int64_t W = ds->dims[1], start[2] = {row0, 0}, count[2] = {n, W};
    if (al_h5_read(ds, start, count, dst, d->path, e) != AL_OK) return e->status;
    al_widen(ds->dtype, dst, n * W);
    for (int64_t i = 0; i < n * W; i++)
        if (!isfinite(dst[i]))
            return al_fail(e, AL_EVALUE, d->path, ds->path, "row %lld, column %lld: %s value (all entries must be finite)",
                           (long long)(row0 + i / W), (long long)(i % W), isnan(dst[i]) ? "NaN" : "infinite");
    return AL_OK;
}

al_status al_drift_read_logits(al_drift *d, int side, int64_t row0, int64_t n, double *dst, al_error *e) {
    return al_read_wide(d, &d->logits[side], row0, n, dst, e);
}

static int al_cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

al_status al_drift_read_topk(al_drift *d, int side, int64_t row0, int64_t n, int32_t *ids, double *lp, al_error *e) {
    const al_h5_dset *di = &d->ids[side];
    int64_t K = d->k[side], start[2] = {row0, 0}, count[2] = {n, K};
    if (al_h5_read(di, start, count, ids, d->path, e) != AL_OK) return e->status;
    if (di->dtype == AL_DT_U8)
        for (int64_t i = n * K - 1; i >= 0; i--) ids[i] = ((const uint8_t *)ids)[i];
    for (int64_t r = 0; r < n; r++) {
        memcpy(d->dup_ws, ids + r * K, (size_t)K * sizeof(int32_t));
        qsort(d->dup_ws, (size_t)K, sizeof(int32_t), al_cmp_i32);
        for (int64_t j = 1; j < K; j++)
            if (d->dup_ws[j] == d->dup_ws[j - 1])
                return al_fail(e, AL_EVALUE, d->path, di->path, "row %lld: token id %d appears twice", (long long)(row0 + r),
                               (int)d->dup_ws[j]);
    }
    return al_read_wide(d, &d->lps[side], row0, n, lp, e);
}
