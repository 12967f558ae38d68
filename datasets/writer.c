/* Format-v1 writer. Data are converted to the storage type in attnlab's code and written with a memory
 * type equal to the file type, so HDF5 only copies bytes. */
#include "writer.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/h5.h"
#include "../core/outdir.h"

hid_t al_h5_f16_type(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
}

static void al_attr_int(hid_t obj, const char *name, int64_t v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    long long x = v;
    H5Awrite(a, H5T_NATIVE_LLONG, &x);
    H5Aclose(a);
    H5Sclose(sp);
}

static void al_attr_str(hid_t obj, const char *name, const char *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
}

al_status al_v1_open_tmp(al_v1_writer *w, const char *path, al_dtype dtype, al_error *e) {
    memset(w, 0, sizeof *w);
    al_h5_quiet();
    snprintf(w->path, sizeof w->path, "%s", path);
    al_clean_stale(path); /* what a killed run left */
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp-%ld", path, (long)getpid());
    w->dtype = dtype;
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (w->file < 0) return al_fail(e, AL_EWRITE, path, NULL, "cannot create the file");
    /* HDF5 flocks the file while it is open: how al_clean_stale tells a live writer's temporary */
    return AL_OK;
}

al_status al_v1_create(al_v1_writer *w, const char *path, al_dtype dtype, const al_v1_attrs *a, al_error *e) {
    if (al_v1_open_tmp(w, path, dtype, e) != AL_OK) return e->status;
    al_attr_str(w->file, "attnlab_format", "recording");
    al_attr_int(w->file, "format_version", 1);
    al_attr_str(w->file, "model", a->model ? a->model : "unknown");
    al_attr_int(w->file, "n_layers", a->n_layers);
    al_attr_int(w->file, "n_heads", a->n_heads);
    al_attr_int(w->file, "n_kv_heads", a->n_kv_heads);
    al_attr_int(w->file, "head_dim", a->head_dim);
    al_attr_int(w->file, "causal", a->causal);
    al_attr_int(w->file, "first_token_is_bos", a->first_token_is_bos);
    al_attr_str(w->file, "source", a->source ? a->source : "attnlab");
    if (a->has_first_token) {
        al_attr_int(w->file, "first_token_id", a->first_token_id);
        al_attr_str(w->file, "first_token_text", a->first_token_text ? a->first_token_text : "");
    }
    return AL_OK;
}

static hid_t al_v1_ftype(al_dtype t) {
    if (t == AL_DT_F16) return al_h5_f16_type();
    if (t == AL_DT_BF16) return H5Tcopy(H5T_STD_U16LE);
    return H5Tcopy(H5T_IEEE_F32LE);
}

al_status al_v1_dataset(al_v1_writer *w, const char *name, int rank, const int64_t *dims, int64_t chunk_rows,
                        al_error *e) {
    hsize_t d[8] = {0}, ch[8] = {0};
    for (int i = 0; i < rank; i++) {
        d[i] = (hsize_t)dims[i];
        ch[i] = 1;
    }
    ch[rank - 1] = d[rank - 1] ? d[rank - 1] : 1;
    if (rank >= 2) ch[rank - 2] = (hsize_t)(chunk_rows < dims[rank - 2] ? chunk_rows : dims[rank - 2]);
    if (ch[rank - 2] < 1) ch[rank - 2] = 1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    /* as h5py writes them: float16 in gzip + shuffle chunks of whole rows, the rest contiguous */
    if (w->dtype == AL_DT_F16) {
        H5Pset_chunk(dcpl, rank, ch);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t sp = H5Screate_simple(rank, d, NULL);
    hid_t ft = al_v1_ftype(w->dtype);
    hid_t ds = H5Dcreate2(w->file, name, ft, sp, lcpl, dcpl, H5P_DEFAULT);
    if (ds >= 0 && w->dtype == AL_DT_BF16) al_attr_str(ds, "dtype", "bfloat16");
    H5Tclose(ft);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
    if (ds < 0) return al_fail(e, AL_EWRITE, w->path, name, "cannot create dataset");
    H5Dclose(ds);
    return AL_OK;
}

al_status al_v1_write(al_v1_writer *w, const char *name, const int64_t *start, const int64_t *count, const float *src,
                      al_error *e) {
    hid_t ds = H5Dopen2(w->file, name, H5P_DEFAULT);
    if (ds < 0) return al_fail(e, AL_EWRITE, w->path, name, "no such dataset");
    hid_t fs = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(fs);
    hsize_t st[8], ct[8], total = 1;
    for (int i = 0; i < rank; i++) {
        st[i] = (hsize_t)start[i];
        ct[i] = (hsize_t)count[i];
        total *= ct[i];
    }
    hid_t ms = H5Screate_simple(1, &total, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL);
    herr_t r;
    if (w->dtype == AL_DT_F32) {
        r = H5Dwrite(ds, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, src);
    } else {
        uint16_t *b = al_malloc((size_t)total, 2);
        if (!b) {
            r = -1;
        } else {
            for (hsize_t i = 0; i < total; i++)
                b[i] = w->dtype == AL_DT_F16 ? al_f32_to_f16(src[i]) : al_f32_to_bf16(src[i]);
            hid_t mt = al_v1_ftype(w->dtype);
            r = H5Dwrite(ds, mt, ms, fs, H5P_DEFAULT, b);
            H5Tclose(mt);
            al_free(b);
        }
    }
    H5Sclose(ms);
    H5Sclose(fs);
    if (H5Dclose(ds) < 0) r = -1; /* the close writes the chunk cache */
    return r < 0 ? al_fail(e, AL_EWRITE, w->path, name, "write failed") : AL_OK;
}

al_status al_v1_write_i32(al_v1_writer *w, const char *name, int rank, const int64_t *dims, const int32_t *src,
                          al_error *e) {
    hsize_t d[8];
    for (int i = 0; i < rank; i++)
        d[i] = (hsize_t)dims[i];
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t sp = H5Screate_simple(rank, d, NULL);
    hid_t ds = H5Dcreate2(w->file, name, H5T_STD_I32LE, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = ds >= 0 ? H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, src) : -1;
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(sp);
    H5Pclose(lcpl);
    return r < 0 ? al_fail(e, AL_EWRITE, w->path, name, "write failed") : AL_OK;
}

al_status al_v1_write_strings(al_v1_writer *w, const char *name, int64_t N, int64_t T, const char *const *s,
                              al_error *e) {
    hsize_t d[2] = {(hsize_t)N, (hsize_t)T};
    const char **v = al_malloc((size_t)(N * T), sizeof(char *)); /* [N, T] */
    if (!v) return al_fail(e, AL_ENOMEM, w->path, name, "out of memory");
    for (int64_t i = 0; i < N * T; i++)
        v[i] = s[i] ? s[i] : "";
    hid_t sp = H5Screate_simple(2, d, NULL), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t ds = H5Dcreate2(w->file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = ds >= 0 ? H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) : -1;
    if (ds >= 0) H5Dclose(ds);
    H5Tclose(t);
    H5Sclose(sp);
    al_free((void *)v);
    return r < 0 ? al_fail(e, AL_EWRITE, w->path, name, "write failed") : AL_OK;
}

al_status al_v1_attr_strings(al_v1_writer *w, const char *obj, const char *name, const char *const *v, int n,
                             al_error *e) {
    hid_t o = H5Oopen(w->file, obj, H5P_DEFAULT);
    if (o < 0) return al_fail(e, AL_EWRITE, w->path, obj, "no such object");
    hsize_t d = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &d, NULL);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t a = H5Acreate2(o, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t r = a >= 0 ? H5Awrite(a, t, v) : -1;
    if (a >= 0) H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
    H5Oclose(o);
    return r < 0 ? al_fail(e, AL_EWRITE, w->path, name, "cannot write attribute") : AL_OK;
}

/* Closes the HDF5 file of a write that is being given up. On a full disk a close whose flush fails leaves
 * HDF5 1.10.8 with a half-freed file that crashes the next H5Fclose or the library's shutdown at exit, so the
 * temporary is truncated first: that frees the space the close's flush needs. It is removed either way. */
static void al_v1_discard(al_v1_writer *w) {
    if (w->file >= 0) {
        if (truncate(w->tmp, 0) != 0) { /* nothing to free: the close below flushes what it can */
        }
        H5Fclose(w->file);
    }
    w->file = -1;
    unlink(w->tmp);
}

al_status al_v1_attr_str(al_v1_writer *w, const char *name, const char *v, al_error *e) {
    if (H5Aexists(w->file, name) > 0) return al_fail(e, AL_EWRITE, w->path, name, "attribute exists");
    al_attr_str(w->file, name, v);
    return H5Aexists(w->file, name) > 0 ? AL_OK : al_fail(e, AL_EWRITE, w->path, name, "cannot write attribute");
}

al_status al_v1_finish(al_v1_writer *w, al_error *e) {
    /* a failed flush leaves the file usable (a failed close would not): flush first, close once it succeeded */
    if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0) {
        al_v1_discard(w);
        return al_fail(e, AL_EWRITE, w->path, NULL, "cannot finish writing the file (disk full?)");
    }
    herr_t r = H5Fclose(w->file);
    w->file = -1;
    /* the data on disk before the name points at it, and the name on disk before we report success */
    if (r < 0 || al_fsync_path(w->tmp) != 0 || rename(w->tmp, w->path) != 0 || al_fsync_parent(w->path) != 0) {
        unlink(w->tmp);
        return al_fail(e, AL_EWRITE, w->path, NULL, "cannot finish writing the file");
    }
    return AL_OK;
}

void al_v1_abort(al_v1_writer *w) {
    al_v1_discard(w);
}
