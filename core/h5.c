/* HDF5 access for attnlab. Every failure becomes one attnlab error naming file and dataset; HDF5's own
 * error stack is switched off. f16 is recognised from the type's 10-bit mantissa, bf16 from its attribute. */
#include "h5.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "h5guard.h"

void al_h5_quiet(void) {
    static _Thread_local int done; /* HDF5's error stack, and its printing, is per thread */
    if (!done) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        done = 1;
    }
}

hid_t al_h5_open(const char *path, al_error *e) {
    al_h5_quiet();
    struct stat st;
    if (stat(path, &st) != 0) {
        al_fail(e, errno == ENOENT ? AL_ENOENT : AL_EIO, path, NULL, "%s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        al_fail(e, AL_EIO, path, NULL, "is a folder, not a file");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        al_fail(e, AL_EIO, path, NULL, "%s", strerror(errno));
        return -1;
    }
    fclose(f);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) {
        al_fail(e, AL_EFORMAT, path, NULL, "not an HDF5 file");
        return -1;
    }
    if (al_h5_guard(path, e) != AL_OK) return -1;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (fid < 0) al_fail(e, AL_EFORMAT, path, NULL, "cannot open as HDF5 (truncated or corrupt file?)");
    return fid;
}

int al_h5_exists(hid_t loc, const char *path) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
        *p = '/';
    }
    return H5Lexists(loc, buf, H5P_DEFAULT) > 0;
}

static int al_attr_open(hid_t obj, const char *name, hid_t *a) {
    if (H5Aexists(obj, name) <= 0) return 0;
    *a = H5Aopen(obj, name, H5P_DEFAULT);
    return *a >= 0 ? 1 : -1;
}

static int al_attr_scalar(hid_t a) {
    hid_t sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    return n == 1;
}

int al_h5_attr_int(hid_t obj, const char *name, int64_t *v, const char *file, al_error *e) {
    hid_t a;
    int r = al_attr_open(obj, name, &a);
    if (r <= 0) {
        if (r < 0) al_fail(e, AL_EFORMAT, file, name, "cannot read attribute");
        return r;
    }
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    int ok = al_attr_scalar(a);
    if (ok && c == H5T_INTEGER) {
        long long x;
        ok = H5Aread(a, H5T_NATIVE_LLONG, &x) >= 0;
        *v = x;
    } else if (ok && c == H5T_FLOAT) {
        double x;
        ok = H5Aread(a, H5T_NATIVE_DOUBLE, &x) >= 0 && x == (double)(long long)x && x > -9e18 && x < 9e18;
        if (ok) *v = (int64_t)x;
    } else {
        ok = 0;
    }
    H5Tclose(t);
    H5Aclose(a);
    if (!ok) {
        al_fail(e, AL_EFORMAT, file, NULL, "attribute '%s' is not an integer", name);
        return -1;
    }
    return 1;
}

int al_h5_attr_double(hid_t obj, const char *name, double *v, const char *file, al_error *e) {
    hid_t a;
    int r = al_attr_open(obj, name, &a);
    if (r <= 0) {
        if (r < 0) al_fail(e, AL_EFORMAT, file, name, "cannot read attribute");
        return r;
    }
    hid_t t = H5Aget_type(a);
    H5T_class_t c = H5Tget_class(t);
    int ok = al_attr_scalar(a) && (c == H5T_INTEGER || c == H5T_FLOAT) && H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
    H5Tclose(t);
    H5Aclose(a);
    if (!ok) {
        al_fail(e, AL_EFORMAT, file, NULL, "attribute '%s' is not a number", name);
        return -1;
    }
    return 1;
}

/* Reads element 0 (scalar) or element idx of a string attribute of either fixed or variable length.
 * Returns 1 when read, 0 when HDF5 cannot read it, -1 when out of memory. */
static int al_attr_read_str(hid_t a, hid_t t, int64_t idx, int64_t n_elem, char *buf, size_t n) {
    int ok = 0;
    if (H5Tis_variable_str(t) > 0) {
        char **v = al_calloc((size_t)n_elem, sizeof *v);
        if (!v) return -1;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (v && H5Aread(a, mt, v) >= 0) {
            snprintf(buf, n, "%s", v[idx] ? v[idx] : "");
            ok = 1;
            hid_t sp = H5Aget_space(a);
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
            H5Sclose(sp);
        }
        H5Tclose(mt);
        al_free(v);
    } else {
        size_t sz = H5Tget_size(t);
        char *raw = al_malloc((size_t)n_elem, sz + 1);
        if (!raw) return -1;
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz);
        H5Tset_strpad(mt, H5T_STR_NULLPAD); /* all sz bytes: a NULLTERM type of size sz keeps only sz - 1 */
        if (raw && H5Aread(a, mt, raw) >= 0) {
            size_t l = strnlen(raw + idx * sz, sz);
            snprintf(buf, n, "%.*s", (int)l, raw + idx * sz);
            ok = 1;
        }
        H5Tclose(mt);
        al_free(raw);
    }
    return ok;
}

int al_h5_attr_str(hid_t obj, const char *name, char *buf, size_t n, const char *file, al_error *e) {
    hid_t a;
    int r = al_attr_open(obj, name, &a);
    if (r <= 0) {
        if (r < 0) al_fail(e, AL_EFORMAT, file, name, "cannot read attribute");
        return r;
    }
    hid_t t = H5Aget_type(a);
    int ok = H5Tget_class(t) == H5T_STRING && al_attr_scalar(a) ? al_attr_read_str(a, t, 0, 1, buf, n) : 0;
    H5Tclose(t);
    H5Aclose(a);
    if (ok < 0) {
        al_fail(e, AL_ENOMEM, file, NULL, "out of memory reading attribute '%s'", name);
        return -1;
    }
    if (!ok) {
        al_fail(e, AL_EFORMAT, file, NULL, "attribute '%s' is not a string", name);
        return -1;
    }
    return 1;
}

int al_h5_attr_strings(hid_t obj, const char *name, char (*out)[64], int maxn, const char *file, al_error *e) {
    hid_t a;
    int r = al_attr_open(obj, name, &a);
    if (r <= 0) {
        if (r < 0) al_fail(e, AL_EFORMAT, file, name, "cannot read attribute");
        return r;
    }
    hid_t t = H5Aget_type(a);
    hid_t sp = H5Aget_space(a);
    hssize_t cnt = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    int ok = H5Tget_class(t) == H5T_STRING && cnt >= 0 && cnt <= maxn;
    for (int64_t i = 0; ok > 0 && i < cnt; i++) ok = al_attr_read_str(a, t, i, cnt, out[i], 64);
    H5Tclose(t);
    H5Aclose(a);
    if (ok < 0) {
        al_fail(e, AL_ENOMEM, file, NULL, "out of memory reading attribute '%s'", name);
        return -1;
    }
    if (!ok) {
        al_fail(e, AL_EFORMAT, file, NULL, "attribute '%s' is not a list of at most %d strings", name, maxn);
        return -1;
    }
    return (int)cnt;
}

void al_h5_chunk_cache(hid_t dapl, int64_t bytes) {
    if (bytes < (1 << 20)) bytes = 1 << 20;
    H5Pset_chunk_cache(dapl, 12421, (size_t)bytes, 1.0);
}

/* Sizes read from a file are checked against what it stores before anything is allocated from them: a forged
 * shape (a small file claiming 10^12 elements in chunks never written) stops here. Deflate shrinks data by at
 * most 1032:1, so a compressed dataset must store at least 1/1100 of its bytes; any other must store them all
 * (datasets that were created but never, or only partly, written are refused too). */
static al_status al_h5_check_storage(const al_h5_dset *d, size_t elem, const char *fname, al_error *e) {
    uint64_t bytes = elem;
    for (int i = 0; i < d->rank; i++) {
        uint64_t n = (uint64_t)d->dims[i];
        if (n && bytes > UINT64_MAX / n)
            return al_fail(e, AL_ESHAPE, fname, d->path, "shape too large (its size overflows 64 bits)");
        bytes *= n;
    }
    uint64_t stored = (uint64_t)H5Dget_storage_size(d->id);
    uint64_t need = d->compressed ? bytes / 1100 : bytes;
    if (bytes > 0 && stored < need) {
        char shape[160];
        int o = snprintf(shape, sizeof shape, "[");
        for (int i = 0; i < d->rank && o < (int)sizeof shape - 24; i++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%lld", i ? ", " : "", (long long)d->dims[i]);
        snprintf(shape + o, sizeof shape - (size_t)o, "]");
        return al_fail(e, AL_ESHAPE, fname, d->path,
                       "shape %s means %llu bytes of data, but the file stores %llu%s: the dataset was never (fully) "
                       "written, or its shape is wrong",
                       shape, (unsigned long long)bytes, (unsigned long long)stored, d->compressed ? " compressed" : "");
    }
    return AL_OK;
}

al_status al_h5_dset_open(hid_t file, const char *path, int want_float, al_h5_dset *d, const char *fname,
                          al_error *e) {
    memset(d, 0, sizeof *d);
    d->id = -1;
    d->memtype = -1;
    snprintf(d->path, sizeof d->path, "%s", path);
    if (!al_h5_exists(file, path)) return al_fail(e, AL_EFORMAT, fname, path, "dataset is missing");
    d->id = H5Dopen2(file, path, H5P_DEFAULT);
    if (d->id < 0) return al_fail(e, AL_EFORMAT, fname, path, "not a readable dataset");
    hid_t sp = H5Dget_space(d->id);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank < 0 || rank > AL_MAX_RANK) {
        H5Sclose(sp);
        return al_fail(e, AL_ESHAPE, fname, path, "unsupported rank %d", rank);
    }
    hsize_t dims[AL_MAX_RANK];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    d->rank = rank;
    for (int i = 0; i < rank; i++) d->dims[i] = (int64_t)dims[i];

    hid_t t = H5Dget_type(d->id);
    H5T_class_t cls = H5Tget_class(t);
    size_t sz = H5Tget_size(t);
    int bf16 = 0;
    if (H5Aexists(d->id, "dtype") > 0) {
        char s[64];
        if (al_h5_attr_str(d->id, "dtype", s, sizeof s, fname, e) < 0) {
            H5Tclose(t);
            return e->status;
        }
        bf16 = !strcmp(s, "bfloat16") || !strcmp(s, "bf16");
    }
    H5T_order_t order = H5Tget_order(t);
    d->foreign_order = cls == H5T_FLOAT && order != H5Tget_order(H5T_NATIVE_FLOAT);
    if (cls == H5T_FLOAT && sz == 4) {
        d->dtype = AL_DT_F32;
        d->memtype = H5Tcopy(H5T_NATIVE_FLOAT);
    } else if (cls == H5T_FLOAT && sz == 8) {
        d->dtype = AL_DT_F64;
        d->memtype = H5Tcopy(H5T_NATIVE_DOUBLE);
    } else if (cls == H5T_FLOAT && sz == 2) {
        size_t spos, epos, esize, mpos, msize;
        H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize);
        if (msize != 10 || esize != 5 || order != H5T_ORDER_LE) {
            H5Tclose(t);
            return al_fail(e, AL_EDTYPE, fname, path, "16-bit float with %zu-bit mantissa is not IEEE half", msize);
        }
        d->dtype = AL_DT_F16;
        d->memtype = H5Tcopy(t); /* the file's own type: no conversion inside HDF5 */
    } else if (cls == H5T_INTEGER && sz == 2 && bf16) {
        d->dtype = AL_DT_BF16;
        d->memtype = H5Tcopy(H5T_NATIVE_UINT16);
    } else if (!want_float && cls == H5T_INTEGER && sz <= 8) {
        d->dtype = sz == 1 ? AL_DT_U8 : AL_DT_I32;
        d->memtype = H5Tcopy(sz == 1 ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT32);
    } else {
        H5Tclose(t);
        return al_fail(e, AL_EDTYPE, fname, path, "%s data cannot be read here (expected %s)",
                       cls == H5T_INTEGER ? "integer" : cls == H5T_STRING ? "string" : "this type of",
                       want_float ? "float32, float16, or bfloat16 stored as uint16 with dtype=\"bfloat16\""
                                  : "numbers");
    }
    H5Tclose(t);

    hid_t dcpl = H5Dget_create_plist(d->id);
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
        hsize_t ch[AL_MAX_RANK];
        d->chunked = 1;
        H5Pget_chunk(dcpl, rank, ch);
        for (int i = 0; i < rank; i++) d->chunk[i] = (int64_t)ch[i];
    }
    int nf = H5Pget_nfilters(dcpl);
    for (int i = 0; i < nf; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL);
        if (id == H5Z_FILTER_DEFLATE) {
            d->compressed = 1;
        } else if (id != H5Z_FILTER_SHUFFLE) {
            H5Pclose(dcpl);
            return al_fail(e, AL_EFORMAT, fname, path,
                           "compressed with filter %d (%s), which attnlab does not read; rewrite it with gzip "
                           "(h5py: compression=\"gzip\")",
                           (int)id, id == 32000 ? "lzf" : name[0] ? name : "unknown");
        }
    }
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int external = H5Pget_external_count(dcpl) > 0;
    H5Pclose(dcpl);
    if (layout == H5D_VIRTUAL || external)
        return al_fail(e, AL_EFORMAT, fname, path, "%s; attnlab reads data stored in the file itself",
                       external ? "data stored in external files" : "a virtual dataset (data in other files)");
    return al_h5_check_storage(d, sz, fname, e);
}

void al_h5_dset_close(al_h5_dset *d) {
    if (d->memtype >= 0) H5Tclose(d->memtype);
    if (d->id >= 0) H5Dclose(d->id);
    d->id = d->memtype = -1;
}

al_status al_h5_read(const al_h5_dset *d, const int64_t *start, const int64_t *count, void *dst, const char *fname,
                     al_error *e) {
    hsize_t st[AL_MAX_RANK], ct[AL_MAX_RANK];
    hsize_t total = 1;
    for (int i = 0; i < d->rank; i++) {
        if (start[i] < 0 || count[i] < 0 || start[i] + count[i] > d->dims[i])
            return al_fail(e, AL_EINTERNAL, fname, d->path, "read outside the dataset");
        st[i] = (hsize_t)start[i];
        ct[i] = (hsize_t)count[i];
        total *= ct[i];
    }
    if (total == 0) return AL_OK;
    al_h5_quiet(); /* reads may come from worker threads */
    hid_t fs = H5Dget_space(d->id);
    /* a memory space of the selection's own shape lets HDF5 copy whole rows instead of element by element */
    hid_t ms = H5Screate_simple(d->rank, ct, NULL);
    herr_t r = H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL);
    if (r >= 0) r = H5Dread(d->id, d->memtype, ms, fs, H5P_DEFAULT, dst);
    H5Sclose(ms);
    H5Sclose(fs);
    if (r < 0) return al_fail(e, AL_EIO, fname, d->path, "read failed (truncated or corrupt file?)");
    return AL_OK;
}
