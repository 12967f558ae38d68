/* Reading /token_text. h5py writes Python str arrays as variable-length UTF-8 and numpy bytes arrays as
 * fixed-length strings; both are read in their own string type and trimmed here for labels. */
#include "tokentext.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"

static void al_label(const char *s, size_t len, char *dst) {
    size_t k = 0;
    for (size_t i = 0; i < len && s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        size_t clen = ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 1;
        if (k + clen > AL_TOKEN_LABEL - 1) break;
        if (ch < 0x20 || ch == 0x7f) dst[k++] = ' ';
        else
            for (size_t b = 0; b < clen && i + b < len; b++) dst[k++] = s[i + b];
        i += clen - 1;
    }
    dst[k] = 0;
}

al_status al_token_text_read(al_rec *r, int64_t n, int64_t T, char (*out)[AL_TOKEN_LABEL], al_error *e) {
    if (r->kind != AL_REC_HDF5 || !r->has_token_text) return al_fail(e, AL_EFORMAT, r->path, "token_text", "no /token_text");
    hid_t d = H5Dopen2(r->file, "token_text", H5P_DEFAULT);
    if (d < 0) return al_fail(e, AL_EFORMAT, r->path, "token_text", "not a readable dataset");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d), mt = -1;
    hsize_t dims[2] = {0, 0};
    al_status st = AL_OK;
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    int vlen = H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) > 0;
    size_t fixed = H5Tget_class(ft) == H5T_STRING && !vlen ? H5Tget_size(ft) : 0;
    if (rank != 2 || (int64_t)dims[0] != r->N || (int64_t)dims[1] < T)
        st = al_fail(e, AL_ESHAPE, r->path, "token_text", "expected strings [N=%lld, T>=%lld]", (long long)r->N, (long long)T);
    else if (!vlen && !fixed)
        st = al_fail(e, AL_EDTYPE, r->path, "token_text", "expected strings");
    void *buf = NULL;
    if (st == AL_OK) {
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, vlen ? H5T_VARIABLE : fixed);
        H5Tset_cset(mt, H5Tget_cset(ft));
        buf = al_malloc((size_t)T, vlen ? sizeof(char *) : fixed);
        if (!buf) st = al_fail(e, AL_ENOMEM, r->path, "token_text", "out of memory");
    }
    if (st == AL_OK) {
        hsize_t start[2] = {(hsize_t)n, 0}, count[2] = {1, (hsize_t)T}, tot = (hsize_t)T;
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &tot, NULL);
        herr_t rr = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
        if (rr >= 0) rr = H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf);
        if (rr < 0) {
            st = al_fail(e, AL_EIO, r->path, "token_text", "read failed");
        } else {
            for (int64_t t = 0; t < T; t++) {
                const char *s = vlen ? ((char **)buf)[t] : (const char *)buf + (size_t)t * fixed;
                al_label(s ? s : "", vlen ? (s ? strlen(s) : 0) : fixed, out[t]);
            }
            if (vlen) H5Dvlen_reclaim(mt, ms, H5P_DEFAULT, buf);
        }
        H5Sclose(ms);
        H5Sclose(fs);
    }
    al_free(buf);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    return st;
}
