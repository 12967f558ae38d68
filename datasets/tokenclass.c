/* Builds the key-class membership masks once, before streaming, so the per-row kernels only test a byte.
 * Mask datasets written by h5py from numpy bool arrays are HDF5 enums of int8; they are read in their own type. */
#include "tokenclass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"

#define AL_MAX_CLASS_IDS 65536

void al_token_classes_free(al_token_classes *c) {
    al_free(c->member);
    c->member = NULL;
}

static int al_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static al_status al_class_from_ids(al_rec *r, const char *spec, int64_t k, al_token_classes *c, int32_t *tok, int64_t *ids,
                                   al_error *e) {
    const char *eq = strchr(spec, '=');
    const char *list = eq ? eq + 1 : spec;
    if (eq) snprintf(c->names[k], sizeof c->names[k], "%.*s", (int)(eq - spec) < 63 ? (int)(eq - spec) : 63, spec);
    else snprintf(c->names[k], sizeof c->names[k], "ids%lld", (long long)k);
    if (eq && eq == spec) return al_fail(e, AL_EUSAGE, "--class-tokens", NULL, "'%s': empty class name before '='", spec);
    int m = al_parse_index_list(list, ids, AL_MAX_CLASS_IDS);
    if (m <= 0)
        return al_fail(e, AL_EUSAGE, "--class-tokens", NULL, "'%s' is not a list of token ids such as 1,2,13 or NAME=0-9,42", spec);
    if (!r->has_tokens)
        return al_fail(e, AL_EUSAGE, r->path, "tokens", "--class-tokens needs the token ids (/tokens), which this file lacks");
    for (int64_t n = 0; n < c->N; n++) {
        if (al_rec_read_tokens(r, n, c->T, tok, e) != AL_OK) return e->status;
        uint8_t *mem = c->member + (n * c->K + k) * c->T;
        for (int64_t t = 0; t < c->T; t++) {
            int64_t id = tok[t];
            mem[t] = bsearch(&id, ids, (size_t)m, sizeof *ids, al_cmp_i64) != NULL;
        }
    }
    return AL_OK;
}

static al_status al_class_from_mask(al_rec *r, const char *name, int64_t k, al_token_classes *c, al_error *e) {
    const char *base = strrchr(name, '/');
    snprintf(c->names[k], sizeof c->names[k], "%s", base ? base + 1 : name);
    if (r->kind != AL_REC_HDF5 || !al_h5_exists(r->file, name))
        return al_fail(e, AL_EUSAGE, r->path, name, "--class-mask: no such dataset in the recording");
    hid_t d = H5Dopen2(r->file, name, H5P_DEFAULT);
    if (d < 0) return al_fail(e, AL_EFORMAT, r->path, name, "not a readable dataset");
    hid_t ft = H5Dget_type(d), sp = H5Dget_space(d), mt = -1;
    H5T_class_t cls = H5Tget_class(ft);
    size_t sz = H5Tget_size(ft);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank == 2) H5Sget_simple_extent_dims(sp, dims, NULL);
    al_status st = AL_OK;
    if (rank != 2 || (int64_t)dims[0] != c->N || (int64_t)dims[1] < c->T)
        st = al_fail(e, AL_ESHAPE, r->path, name, "a class mask must be [N=%lld, T>=%lld] (one flag per token)", (long long)c->N,
                     (long long)c->T);
    else if (cls == H5T_ENUM && sz == 1)
        mt = H5Tget_native_type(ft, H5T_DIR_ASCEND); /* numpy bool, as h5py stores it */
    else if (cls == H5T_INTEGER && sz == 1)
        mt = H5Tcopy(H5T_NATIVE_UINT8);
    else if (cls == H5T_INTEGER)
        mt = H5Tcopy(H5T_NATIVE_INT32);
    else
        st = al_fail(e, AL_EDTYPE, r->path, name, "a class mask must be boolean or integer 0/1");
    int wide = cls == H5T_INTEGER && sz > 1;
    void *buf = st == AL_OK ? al_malloc((size_t)c->T, wide ? 4 : 1) : NULL;
    if (st == AL_OK && !buf) st = al_fail(e, AL_ENOMEM, r->path, name, "out of memory");
    for (int64_t n = 0; st == AL_OK && n < c->N; n++) {
        hsize_t start[2] = {(hsize_t)n, 0}, count[2] = {1, (hsize_t)c->T}, tot = (hsize_t)c->T;
        hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &tot, NULL);
        herr_t rr = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
        if (rr >= 0) rr = H5Dread(d, mt, ms, fs, H5P_DEFAULT, buf);
        H5Sclose(ms);
        H5Sclose(fs);
        if (rr < 0) {
            st = al_fail(e, AL_EIO, r->path, name, "read failed");
            break;
        }
        uint8_t *mem = c->member + (n * c->K + k) * c->T;
        for (int64_t t = 0; t < c->T; t++) {
            int64_t v = wide ? ((int32_t *)buf)[t] : ((uint8_t *)buf)[t];
            if (v != 0 && v != 1) {
                st = al_fail(e, AL_EVALUE, r->path, name, "sample %lld, token %lld: %lld is not a flag (0 or 1)", (long long)n,
                             (long long)t, (long long)v);
                break;
            }
            mem[t] = (uint8_t)v;
        }
    }
    al_free(buf);
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(ft);
    H5Sclose(sp);
    H5Dclose(d);
    return st;
}

al_status al_token_classes_load(al_rec *r, int64_t T, const al_strlist *ids, const al_strlist *masks, al_token_classes *out,
                                al_error *e) {
    memset(out, 0, sizeof *out);
    int64_t K = (int64_t)ids->n + masks->n;
    if (K == 0) return AL_OK;
    if (K > AL_MAX_CLASSES)
        return al_fail(e, AL_EUSAGE, "--class-tokens", NULL, "%lld token classes requested, at most %d", (long long)K, AL_MAX_CLASSES);
    out->K = K;
    out->N = r->N;
    out->T = T;
    out->member = al_calloc((size_t)(r->N * K), (size_t)T);
    int32_t *tok = al_malloc((size_t)T, sizeof(int32_t));
    int64_t *idbuf = al_malloc(AL_MAX_CLASS_IDS, sizeof(int64_t));
    al_status st = out->member && tok && idbuf ? AL_OK : al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for token classes");
    for (int k = 0; st == AL_OK && k < ids->n; k++) st = al_class_from_ids(r, ids->v[k], k, out, tok, idbuf, e);
    for (int k = 0; st == AL_OK && k < masks->n; k++) st = al_class_from_mask(r, masks->v[k], ids->n + k, out, e);
    for (int64_t a = 0; st == AL_OK && a < K; a++)
        for (int64_t b = 0; b < a; b++)
            if (!strcmp(out->names[a], out->names[b]))
                st = al_fail(e, AL_EUSAGE, "--class-tokens", NULL, "two token classes are named '%s'", out->names[a]);
    al_free(tok);
    al_free(idbuf);
    if (st != AL_OK) al_token_classes_free(out);
    return st;
}
