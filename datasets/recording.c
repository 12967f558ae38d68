/* Opening and reading recordings. Every size read from the file is checked against the others (and
 * against sane limits) before anything is allocated from it, so a lying attribute cannot exhaust memory. */
#include "recording.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdlib.h>

#include "../core/alloc.h"

static const char *const al_tensor_group[AL_T_COUNT] = {"attention", "q", "k", "v", "hidden"};

void al_rec_dset_name(const al_rec *r, al_rec_tensor which, int64_t l, char *buf, size_t n) {
    if (r->kind == AL_REC_NPY) snprintf(buf, n, "layer %lld", (long long)l);
    else snprintf(buf, n, "%s/L%03lld", al_tensor_group[which], (long long)l);
}

static al_status al_rec_scratch(al_rec *r, size_t bytes, al_error *e) {
    if (bytes <= r->scratch_bytes) return AL_OK;
    void *p = al_realloc(r->scratch, bytes, 1);
    if (!p) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for a %zu-byte read buffer", bytes);
    r->scratch = p;
    r->scratch_bytes = bytes;
    return AL_OK;
}

static al_status al_rec_open_npy(al_rec *r, al_error *e) {
    r->kind = AL_REC_NPY;
    if (al_npy_open(r->path, &r->npy, e) != AL_OK) return e->status;
    const int64_t *s = r->npy.shape;
    if (r->npy.rank != 4 && r->npy.rank != 5)
        return al_fail(e, AL_ESHAPE, r->path, NULL, "a .npy map dump must be [N, L, H, T, T] or [L, H, T, T], not rank %d",
                       r->npy.rank);
    if (r->npy.dtype != AL_DT_F32 && r->npy.dtype != AL_DT_F16 && r->npy.dtype != AL_DT_F64)
        return al_fail(e, AL_EDTYPE, r->path, NULL, "%s maps are not attention probabilities (expected float32 or float16)",
                       al_dtype_name(r->npy.dtype));
    r->npy_has_n = r->npy.rank == 5;
    int o = r->npy_has_n;
    r->N = o ? s[0] : 1;
    r->L = s[o];
    r->H = s[o + 1];
    r->T = s[o + 2];
    if (s[o + 3] != r->T)
        return al_fail(e, AL_ESHAPE, r->path, NULL, "maps are %lld x %lld; a causal map dump must be square",
                       (long long)s[o + 2], (long long)s[o + 3]);
    if (r->N < 1 || r->L < 1 || r->H < 1 || r->T < 1)
        return al_fail(e, AL_ESHAPE, r->path, NULL, "empty array");
    r->H_kv = r->H;
    r->causal = 1;
    r->bos = 1;
    r->has[AL_T_ATT] = 1;
    r->dtype[AL_T_ATT] = r->npy.dtype;
    snprintf(r->model, sizeof r->model, "unknown (.npy dump)");
    return AL_OK;
}

typedef struct {
    int64_t nl;
    char bad[64];
} al_layer_scan;

static herr_t al_layer_name_cb(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)g;
    (void)info;
    al_layer_scan *s = op;
    char want[32];
    int idx = -1, end = 0;
    if (sscanf(name, "L%d%n", &idx, &end) == 1 && name[end] == 0 && idx >= 0 && idx < s->nl) {
        snprintf(want, sizeof want, "L%03d", idx);
        if (!strcmp(want, name)) return 0;
    }
    snprintf(s->bad, sizeof s->bad, "%s", name);
    return 1;
}

/* Every member of a layer group is named L000, L001, ... in sequence (RECORDING.md): anything else (L0, L7
 * of 4 layers, layer0) is refused rather than silently ignored. */
static al_status al_rec_layer_names(al_rec *r, al_rec_tensor which, int64_t nl, al_error *e) {
    al_layer_scan s = {nl, ""};
    hid_t g = H5Gopen2(r->file, al_tensor_group[which], H5P_DEFAULT);
    herr_t rc = g >= 0 ? H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, al_layer_name_cb, &s) : -1;
    if (g >= 0) H5Gclose(g);
    if (rc < 0) return al_fail(e, AL_EFORMAT, r->path, al_tensor_group[which], "cannot list the group's members");
    if (s.bad[0]) {
        char where[128];
        snprintf(where, sizeof where, "%s/%s", al_tensor_group[which], s.bad);
        return al_fail(e, AL_EFORMAT, r->path, where,
                       "not a layer name: %s/ holds L000..L%03lld (n_layers = %lld) and nothing else",
                       al_tensor_group[which], (long long)nl - 1, (long long)r->L);
    }
    return AL_OK;
}

/* Opens the L layer datasets of one group and checks that all have the same shape. */
static al_status al_rec_open_group(al_rec *r, al_rec_tensor which, int64_t nl, al_error *e) {
    r->dsets[which] = al_calloc((size_t)nl, sizeof(al_h5_dset));
    if (!r->dsets[which]) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    for (int64_t l = 0; l < nl; l++)
        r->dsets[which][l].id = r->dsets[which][l].memtype = -1;
    if (al_rec_layer_names(r, which, nl, e) != AL_OK) return e->status;
    char name[64];
    for (int64_t l = 0; l < nl; l++) {
        al_rec_dset_name(r, which, l, name, sizeof name);
        al_h5_dset *d = &r->dsets[which][l];
        if (al_h5_dset_open(r->file, name, 1, d, r->path, e) != AL_OK) {
            if (!al_h5_exists(r->file, name))
                return al_fail(e, AL_EFORMAT, r->path, name, "missing: the file has %lld layers (n_layers) but no %s",
                               (long long)nl, name);
            return e->status;
        }
        int want_rank = which == AL_T_HIDDEN ? 3 : 4;
        if (d->rank != want_rank)
            return al_fail(e, AL_ESHAPE, r->path, name, "rank %d, expected %d (%s)", d->rank, want_rank,
                           which == AL_T_HIDDEN ? "[N, T, d_model]" : which == AL_T_ATT ? "[N, H, T, T]" : "[N, H, T, D]");
        if (l > 0) {
            const al_h5_dset *d0 = &r->dsets[which][0];
            for (int i = 0; i < d->rank; i++)
                if (d->dims[i] != d0->dims[i])
                    return al_fail(e, AL_ESHAPE, r->path, name, "shape differs from layer 0 in dimension %d (%lld vs %lld)",
                                   i, (long long)d->dims[i], (long long)d0->dims[i]);
            if (d->dtype != d0->dtype)
                return al_fail(e, AL_EDTYPE, r->path, name, "dtype %s differs from layer 0 (%s)", al_dtype_name(d->dtype),
                               al_dtype_name(d0->dtype));
        }
    }
    /* a layer beyond n_layers means the attribute and the datasets disagree: which one is right is unknown */
    al_rec_dset_name(r, which, nl, name, sizeof name);
    if (al_h5_exists(r->file, name))
        return al_fail(e, AL_EFORMAT, r->path, name, "exists, but n_layers = %lld (%s/L000..L%03lld expected)", (long long)r->L,
                       al_tensor_group[which], (long long)nl - 1);
    r->has[which] = 1;
    r->dtype[which] = r->dsets[which][0].dtype;
    return AL_OK;
}

/* Where float32 maps are stored contiguously, analyses read their rows with pread from any thread, outside
 * HDF5's global lock and without its per-call overhead. Each dataset's extent is checked against the file
 * size: a truncated file falls back to HDF5's reads (and their errors). ATTNLAB_NO_PREAD=1 forces HDF5. */
static void al_rec_find_contiguous(al_rec *r) {
    r->att_offset = al_malloc((size_t)r->L, sizeof *r->att_offset);
    if (!r->att_offset || getenv("ATTNLAB_NO_PREAD")) return;
    struct stat st;
    int fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    int any = 0;
    if (fstat(fd, &st) == 0)
        for (int64_t l = 0; l < r->L; l++) {
            const al_h5_dset *d = &r->dsets[AL_T_ATT][l];
            haddr_t off = d->chunked || d->dtype != AL_DT_F32 || d->foreign_order ? HADDR_UNDEF : H5Dget_offset(d->id);
            uint64_t bytes =
                (uint64_t)d->dims[0] * (uint64_t)d->dims[1] * (uint64_t)d->dims[2] * (uint64_t)d->dims[3] * 4;
            int ok = off != HADDR_UNDEF && (uint64_t)off + bytes <= (uint64_t)st.st_size;
            r->att_offset[l] = ok ? (int64_t)off : -1;
            any |= ok;
        }
    if (any) {
        r->fd = fd;
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    } else {
        close(fd);
    }
}

/* Reads len bytes at off in full (pread may return less). */
static int al_pread_full(int fd, void *dst, size_t len, off_t off) {
    for (size_t got = 0; got < len;) {
        ssize_t k = pread(fd, (char *)dst + got, len - got, off + (off_t)got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

int al_rec_att_pread(const al_rec *r, int64_t n, int64_t l, int64_t h, int64_t row0, int64_t nrows, int64_t ncols,
                     float *dst) {
    if (r->fd < 0 || r->att_offset[l] < 0) return 0;
    int64_t T = r->T;
    off_t off = (off_t)(r->att_offset[l] + (((n * r->H + h) * T + row0) * T) * 4);
    if (ncols == T) return al_pread_full(r->fd, dst, (size_t)(nrows * T) * 4, off) ? -1 : 1;
    for (int64_t i = 0; i < nrows; i++) /* the first ncols keys of each row */
        if (al_pread_full(r->fd, dst + i * ncols, (size_t)ncols * 4, off + (off_t)(i * T * 4))) return -1;
    return 1;
}

static int al_group_present(al_rec *r, al_rec_tensor which) { return al_h5_exists(r->file, al_tensor_group[which]); }

static al_status al_rec_need_attr(al_rec *r, const char *name, int64_t *v, int64_t lo, int64_t hi, al_error *e) {
    int got = al_h5_attr_int(r->file, name, v, r->path, e);
    if (got < 0) return e->status;
    if (got == 0) return al_fail(e, AL_EFORMAT, r->path, NULL, "root attribute '%s' is missing", name);
    if (*v < lo || *v > hi)
        return al_fail(e, AL_EFORMAT, r->path, NULL, "root attribute %s = %lld is outside %lld..%lld", name, (long long)*v,
                       (long long)lo, (long long)hi);
    return AL_OK;
}

/* RECORDING.md types format_version as int: a float 1.0 is a writer's mistake, refused by name. */
static al_status al_rec_int_typed(al_rec *r, const char *name, al_error *e) {
    if (H5Aexists(r->file, name) <= 0) return AL_OK;
    hid_t a = H5Aopen(r->file, name, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1;
    H5T_class_t c = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    if (c == H5T_INTEGER) return AL_OK;
    return al_fail(e, AL_EFORMAT, r->path, NULL, "root attribute '%s' must be an integer, not %s", name,
                   c == H5T_FLOAT    ? "a float"
                   : c == H5T_STRING ? "a string"
                                     : "of this type");
}

static al_status al_rec_open_h5(al_rec *r, al_error *e) {
    r->kind = AL_REC_HDF5;
    r->file = al_h5_open(r->path, e);
    if (r->file < 0) return e->status;
    char fmt[64] = "";
    int got = al_h5_attr_str(r->file, "attnlab_format", fmt, sizeof fmt, r->path, e);
    if (got < 0) return e->status;
    if (got == 0)
        return al_fail(e, AL_EFORMAT, r->path, NULL,
                       "not an attnlab recording (no attnlab_format attribute); `attnlab import` converts a file "
                       "holding one [N, L, H, T, T] array");
    if (strcmp(fmt, "recording") != 0)
        return al_fail(e, AL_EFORMAT, r->path, NULL, "attnlab_format is \"%s\", this command reads \"recording\" files", fmt);
    int64_t ver = 0;
    if (al_rec_int_typed(r, "format_version", e) != AL_OK) return e->status;
    if (al_rec_need_attr(r, "format_version", &ver, 1, 1, e) != AL_OK) return e->status;
    if (al_rec_need_attr(r, "n_layers", &r->L, 1, AL_MAX_LAYERS, e) != AL_OK) return e->status;
    if (al_rec_need_attr(r, "n_heads", &r->H, 1, 65536, e) != AL_OK) return e->status;
    r->H_kv = r->H;
    int64_t v;
    if ((got = al_h5_attr_int(r->file, "n_kv_heads", &v, r->path, e)) < 0) return e->status;
    if (got) {
        if (v < 1 || v > r->H || r->H % v != 0)
            return al_fail(e, AL_EFORMAT, r->path, NULL, "n_kv_heads = %lld must divide n_heads = %lld", (long long)v,
                           (long long)r->H);
        r->H_kv = v;
    }
    r->causal = 1;
    r->bos = 1;
    if ((got = al_h5_attr_int(r->file, "causal", &v, r->path, e)) < 0) return e->status;
    if (!got)
        return al_fail(e, AL_EFORMAT, r->path, NULL,
                       "root attribute 'causal' is missing (1 for a decoder's masked maps, 0 for an encoder's)");
    if (v != 0 && v != 1)
        return al_fail(e, AL_EFORMAT, r->path, NULL, "root attribute causal = %lld must be 0 or 1", (long long)v);
    r->causal = v != 0;
    if ((got = al_h5_attr_int(r->file, "first_token_is_bos", &v, r->path, e)) < 0) return e->status;
    if (got && v != 0 && v != 1)
        return al_fail(e, AL_EFORMAT, r->path, NULL, "root attribute first_token_is_bos = %lld must be 0 or 1", (long long)v);
    if (got) r->bos = v != 0;
    if (al_h5_attr_str(r->file, "model", r->model, sizeof r->model, r->path, e) < 0) return e->status;
    int64_t head_dim = 0;
    if ((got = al_h5_attr_int(r->file, "head_dim", &head_dim, r->path, e)) < 0) return e->status;

    if (al_group_present(r, AL_T_ATT)) {
        if (al_rec_open_group(r, AL_T_ATT, r->L, e) != AL_OK) return e->status;
        r->att_plan = al_calloc((size_t)r->L, sizeof *r->att_plan);
        if (!r->att_plan) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
        for (int64_t l = 0; l < r->L; l++)
            if (r->dsets[AL_T_ATT][l].compressed) al_chunk_plan_init(&r->dsets[AL_T_ATT][l], &r->att_plan[l]);
        al_rec_find_contiguous(r);
        const int64_t *d = r->dsets[AL_T_ATT][0].dims;
        if (d[1] != r->H)
            return al_fail(e, AL_ESHAPE, r->path, "attention/L000", "%lld heads, but n_heads = %lld", (long long)d[1],
                           (long long)r->H);
        if (d[2] != d[3])
            return al_fail(e, AL_ESHAPE, r->path, "attention/L000", "maps are %lld x %lld, expected square [T, T]",
                           (long long)d[2], (long long)d[3]);
        r->N = d[0];
        r->T = d[2];
    }
    int hq = al_group_present(r, AL_T_Q), hk = al_group_present(r, AL_T_K);
    if (hq && !hk) return al_fail(e, AL_EFORMAT, r->path, "q", "queries are recorded without keys (/k is missing)");
    if (hk && !hq && !r->has[AL_T_ATT])
        return al_fail(e, AL_EFORMAT, r->path, "k", "keys are recorded without queries (/q is missing)");
    if (hq && hk) {
        if (al_rec_open_group(r, AL_T_Q, r->L, e) != AL_OK || al_rec_open_group(r, AL_T_K, r->L, e) != AL_OK)
            return e->status;
        const int64_t *q = r->dsets[AL_T_Q][0].dims, *k = r->dsets[AL_T_K][0].dims;
        if (q[1] != r->H) return al_fail(e, AL_ESHAPE, r->path, "q/L000", "%lld heads, but n_heads = %lld", (long long)q[1], (long long)r->H);
        if (k[1] != r->H_kv)
            return al_fail(e, AL_ESHAPE, r->path, "k/L000", "%lld heads, but n_kv_heads = %lld", (long long)k[1], (long long)r->H_kv);
        if (k[0] != q[0] || k[2] != q[2] || k[3] != q[3])
            return al_fail(e, AL_ESHAPE, r->path, "k/L000", "shape [%lld, %lld, %lld, %lld] does not match q's", (long long)k[0],
                           (long long)k[1], (long long)k[2], (long long)k[3]);
        if (r->has[AL_T_ATT] && (q[0] != r->N || q[2] != r->T))
            return al_fail(e, AL_ESHAPE, r->path, "q/L000", "samples or length differ from the attention maps");
        r->N = q[0];
        r->T = q[2];
        r->D = q[3];
        if (r->D < 1) return al_fail(e, AL_ESHAPE, r->path, "q/L000", "head_dim 0: queries and keys of no dimensions");
        if (head_dim && head_dim != r->D)
            return al_fail(e, AL_ESHAPE, r->path, "q/L000", "head_dim %lld, but the attribute says %lld", (long long)r->D,
                           (long long)head_dim);
        r->q_scale = 1.0 / sqrt((double)r->D);
        double sc;
        hid_t qg = H5Gopen2(r->file, "q", H5P_DEFAULT); /* RECORDING.md: attribute `scale` of /q */
        got = qg >= 0 ? al_h5_attr_double(qg, "scale", &sc, r->path, e) : 0;
        if (qg >= 0) H5Gclose(qg);
        if (got == 0) got = al_h5_attr_double(r->dsets[AL_T_Q][0].id, "scale", &sc, r->path, e);
        if (got < 0) return e->status;
        if (got) {
            if (!(sc > 0) || !isfinite(sc)) return al_fail(e, AL_EVALUE, r->path, "q/L000", "scale %g must be positive", sc);
            r->q_scale = sc;
        }
    } else {
        r->D = head_dim;
    }
    if (!r->has[AL_T_ATT] && !r->has[AL_T_Q])
        return al_fail(e, AL_EFORMAT, r->path, NULL, "the recording has neither /attention maps nor /q and /k");
    if (r->N < 1 || r->T < 1) return al_fail(e, AL_ESHAPE, r->path, NULL, "empty recording (no samples or no tokens)");
    if (al_group_present(r, AL_T_V)) {
        if (al_rec_open_group(r, AL_T_V, r->L, e) != AL_OK) return e->status;
        const int64_t *v4 = r->dsets[AL_T_V][0].dims;
        if (v4[0] != r->N || v4[1] != r->H_kv || v4[2] != r->T || (r->D && v4[3] != r->D))
            return al_fail(e, AL_ESHAPE, r->path, "v/L000", "shape [%lld, %lld, %lld, %lld], expected [N=%lld, H_kv=%lld, T=%lld, D]",
                           (long long)v4[0], (long long)v4[1], (long long)v4[2], (long long)v4[3], (long long)r->N,
                           (long long)r->H_kv, (long long)r->T);
    }
    if (al_group_present(r, AL_T_HIDDEN)) {
        if (al_rec_open_group(r, AL_T_HIDDEN, r->L + 1, e) != AL_OK) return e->status;
        const int64_t *hd = r->dsets[AL_T_HIDDEN][0].dims;
        if (hd[0] != r->N || hd[1] != r->T)
            return al_fail(e, AL_ESHAPE, r->path, "hidden/L000", "shape [%lld, %lld, %lld], expected [N=%lld, T=%lld, d_model]",
                           (long long)hd[0], (long long)hd[1], (long long)hd[2], (long long)r->N, (long long)r->T);
        r->d_model = hd[2];
    }
    r->has_tokens = al_h5_exists(r->file, "tokens");
    r->has_token_text = al_h5_exists(r->file, "token_text");
    r->has_logits = al_h5_exists(r->file, "logits");
    r->has_spans = al_h5_exists(r->file, "spans");
    if (r->has_tokens) {
        al_h5_dset d;
        if (al_h5_dset_open(r->file, "tokens", 0, &d, r->path, e) != AL_OK) {
            al_h5_dset_close(&d);
            return e->status;
        }
        int ok = d.rank == 2 && d.dims[0] == r->N && d.dims[1] >= r->T && d.dtype == AL_DT_I32;
        al_h5_dset_close(&d);
        if (!ok) return al_fail(e, AL_ESHAPE, r->path, "tokens", "expected int32 [N=%lld, T=%lld]", (long long)r->N, (long long)r->T);
    }
    r->lengths = al_malloc((size_t)r->N, sizeof *r->lengths);
    if (!r->lengths) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    for (int64_t n = 0; n < r->N; n++) r->lengths[n] = r->T;
    if (al_h5_exists(r->file, "lengths")) {
        al_h5_dset d;
        if (al_h5_dset_open(r->file, "lengths", 0, &d, r->path, e) != AL_OK) {
            al_h5_dset_close(&d);
            return e->status;
        }
        int ok = d.rank == 1 && d.dims[0] == r->N && d.dtype == AL_DT_I32;
        int32_t *tmp = ok ? al_malloc((size_t)r->N, 4) : NULL;
        int64_t st0 = 0;
        if (ok && tmp && al_h5_read(&d, &st0, &r->N, tmp, r->path, e) == AL_OK) {
            for (int64_t n = 0; n < r->N; n++) {
                if (tmp[n] < 1 || tmp[n] > r->T) {
                    al_fail(e, AL_EVALUE, r->path, "lengths", "sample %lld has length %d, outside 1..%lld", (long long)n, tmp[n],
                            (long long)r->T);
                    break;
                }
                r->lengths[n] = tmp[n];
            }
        } else if (!ok) {
            al_fail(e, AL_ESHAPE, r->path, "lengths", "expected int32 [N=%lld]", (long long)r->N);
        } else if (!tmp) {
            al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
        }
        al_free(tmp);
        al_h5_dset_close(&d);
        if (e->status != AL_OK) return e->status;
        r->has_lengths = 1;
    }
    if (r->has_spans) {
        al_h5_dset d;
        if (al_h5_dset_open(r->file, "spans", 0, &d, r->path, e) != AL_OK) {
            al_h5_dset_close(&d);
            return e->status;
        }
        int ok = d.rank == 3 && d.dims[0] == r->N && d.dims[2] == 2 && d.dims[1] >= 1 && d.dims[1] <= AL_MAX_SPANS &&
                 d.dtype == AL_DT_I32;
        int64_t S = d.dims[1];
        int nn = ok ? al_h5_attr_strings(d.id, "names", r->span_names, AL_MAX_SPANS, r->path, e) : 0;
        al_h5_dset_close(&d);
        if (!ok) return al_fail(e, AL_ESHAPE, r->path, "spans", "expected int32 [N=%lld, S<=%d, 2]", (long long)r->N, AL_MAX_SPANS);
        if (nn < 0) return e->status;
        if (nn != S)
            return al_fail(e, AL_EFORMAT, r->path, "spans", "attribute 'names' has %d names for %lld spans", nn, (long long)S);
        r->n_spans = (int)S;
    }
    return AL_OK;
}

al_status al_rec_open(const char *path, al_rec **out, al_error *e) {
    *out = NULL;
    al_rec *r = al_calloc(1, sizeof *r);
    if (!r) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    r->file = -1;
    r->fd = -1;
    r->npy.fd = -1;
    snprintf(r->path, sizeof r->path, "%s", path);
    size_t pl = strlen(path);
    FILE *f = fopen(path, "rb");
    unsigned char magic[8] = {0};
    size_t got = f ? fread(magic, 1, 8, f) : 0;
    if (f) fclose(f);
    al_status st;
    if (got >= 6 && magic[0] == 0x93 && !memcmp(magic + 1, "NUMPY", 5)) st = al_rec_open_npy(r, e);
    else if (pl > 4 && !strcmp(path + pl - 4, ".npy") && f) st = al_rec_open_npy(r, e);
    else st = al_rec_open_h5(r, e);
    if (st == AL_OK && !r->lengths) {
        r->lengths = al_malloc((size_t)r->N, sizeof *r->lengths);
        if (!r->lengths) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        for (int64_t n = 0; st == AL_OK && n < r->N; n++) r->lengths[n] = r->T;
    }
    if (st != AL_OK) {
        al_rec_close(r);
        return st;
    }
    *out = r;
    return AL_OK;
}

void al_rec_close(al_rec *r) {
    if (!r) return;
    for (int w = 0; w < AL_T_COUNT; w++) {
        if (!r->dsets[w]) continue;
        int64_t nl = w == AL_T_HIDDEN ? r->L + 1 : r->L;
        for (int64_t l = 0; l < nl; l++) al_h5_dset_close(&r->dsets[w][l]);
        al_free(r->dsets[w]);
    }
    if (r->file >= 0) H5Fclose(r->file);
    if (r->npy.fd >= 0) al_npy_close(&r->npy);
    al_free(r->lengths);
    al_free(r->scratch);
    al_free(r->att_plan);
    al_free(r->att_offset);
    if (r->fd >= 0) close(r->fd);
    al_chunk_ws_free(&r->chunk_ws);
    al_free(r);
}

/* Reads a contiguous hyperslab in the stored type and converts it to float32 into dst. */
static al_status al_rec_read_conv(al_rec *r, const al_h5_dset *d, const int64_t *start, const int64_t *count,
                                  int64_t n_elem, float *dst, al_error *e) {
    if (d->dtype == AL_DT_F32) return al_h5_read(d, start, count, dst, r->path, e);
    if (al_rec_scratch(r, (size_t)n_elem * al_dtype_size(d->dtype), e) != AL_OK) return e->status;
    if (al_h5_read(d, start, count, r->scratch, r->path, e) != AL_OK) return e->status;
    al_convert_to_f32(d->dtype, r->scratch, dst, (size_t)n_elem);
    return AL_OK;
}

al_status al_rec_read_att(al_rec *r, int64_t n, int64_t l, int64_t h, int64_t row0, int64_t nrows, int64_t ncols,
                          float *dst, al_error *e) {
    if (!r->has[AL_T_ATT]) return al_fail(e, AL_EINTERNAL, r->path, NULL, "no attention maps");
    if (r->kind == AL_REC_HDF5) {
        int64_t st[4] = {n, h, row0, 0}, ct[4] = {1, 1, nrows, ncols};
        return al_rec_read_conv(r, &r->dsets[AL_T_ATT][l], st, ct, nrows * ncols, dst, e);
    }
    /* .npy: C order [N?, L, H, T, T] */
    int64_t T = r->T;
    int64_t base = (((n * r->L + l) * r->H + h) * T + row0) * T;
    size_t es = al_dtype_size(r->npy.dtype);
    if (ncols == T) {
        void *raw = r->npy.dtype == AL_DT_F32 ? (void *)dst : NULL;
        if (!raw) {
            if (al_rec_scratch(r, (size_t)(nrows * T) * es, e) != AL_OK) return e->status;
            raw = r->scratch;
        }
        if (al_npy_read(&r->npy, base, nrows * T, raw, r->path, e) != AL_OK) return e->status;
        if (raw != dst) al_convert_to_f32(r->npy.dtype, raw, dst, (size_t)(nrows * T));
        return AL_OK;
    }
    if (al_rec_scratch(r, (size_t)ncols * es, e) != AL_OK) return e->status;
    for (int64_t i = 0; i < nrows; i++) {
        if (al_npy_read(&r->npy, base + i * T, ncols, r->scratch, r->path, e) != AL_OK) return e->status;
        al_convert_to_f32(r->npy.dtype, r->scratch, dst + i * ncols, (size_t)ncols);
    }
    return AL_OK;
}

int64_t al_rec_chunk_rows(const al_rec *r, int64_t l) {
    return r->att_plan && r->att_plan[l].ok ? r->att_plan[l].crows : 0;
}

al_status al_rec_read_att_heads(al_rec *r, int64_t n, int64_t l, int64_t h0, int64_t np, int64_t row0, int64_t nrows,
                                int64_t ncols, float *dst, int64_t stride, al_error *e) {
    if (r->kind == AL_REC_HDF5 && r->att_plan && r->att_plan[l].ok)
        return al_chunk_read_rows(&r->dsets[AL_T_ATT][l], &r->att_plan[l], &r->chunk_ws, n, h0, np, row0, nrows, ncols,
                                  dst, stride, r->path, e);
    for (int64_t p = 0; p < np; p++)
        if (al_rec_read_att(r, n, l, h0 + p, row0, nrows, ncols, dst + p * stride, e) != AL_OK) return e->status;
    return AL_OK;
}

al_status al_rec_att_fetch(al_rec *r, al_chunk_reader *rd, int64_t n, int64_t l, int64_t h, int64_t row0, int64_t nrows,
                           int64_t ncols, float *dst, al_error *e) {
    if (r->kind == AL_REC_HDF5 && r->att_plan && r->att_plan[l].ok)
        return al_chunk_fetch(&r->dsets[AL_T_ATT][l], &r->att_plan[l], &rd->ws, n, h, 1, row0, nrows, ncols, 1, r->path, e);
    rd->ws.n = 0;
    return al_rec_read_att(r, n, l, h, row0, nrows, ncols, dst, e);
}

al_status al_rec_att_finish(const al_rec *r, al_chunk_reader *rd, int64_t l, int64_t row0, int64_t nrows, int64_t ncols,
                            float *dst, al_error *e) {
    if (rd->ws.n == 0) return AL_OK;
    const al_h5_dset *d = &r->dsets[AL_T_ATT][l];
    if (al_chunk_decode_range(d, &r->att_plan[l], &rd->ws, 0, rd->ws.n, row0, nrows, ncols, dst, 0, 0, rd->dec) != 0)
        return al_fail(e, AL_EFORMAT, r->path, d->path, "a chunk does not decompress (corrupt file?)");
    rd->ws.n = 0;
    return AL_OK;
}

al_status al_rec_read_qkv(al_rec *r, al_rec_tensor which, int64_t n, int64_t l, int64_t h, int64_t t0, int64_t nt,
                          float *dst, al_error *e) {
    if (!r->has[which] || which == AL_T_ATT || which == AL_T_HIDDEN)
        return al_fail(e, AL_EINTERNAL, r->path, NULL, "tensor not recorded");
    const al_h5_dset *d = &r->dsets[which][l];
    int64_t D = d->dims[3];
    int64_t st[4] = {n, h, t0, 0}, ct[4] = {1, 1, nt, D};
    return al_rec_read_conv(r, d, st, ct, nt * D, dst, e);
}

al_status al_rec_read_hidden(al_rec *r, int64_t n, int64_t l, int64_t t0, int64_t nt, float *dst, al_error *e) {
    if (!r->has[AL_T_HIDDEN]) return al_fail(e, AL_EINTERNAL, r->path, NULL, "no hidden states");
    const al_h5_dset *d = &r->dsets[AL_T_HIDDEN][l];
    int64_t st[3] = {n, t0, 0}, ct[3] = {1, nt, r->d_model};
    return al_rec_read_conv(r, d, st, ct, nt * r->d_model, dst, e);
}

static al_status al_rec_read_ints(al_rec *r, const char *name, const int64_t *st, const int64_t *ct, int32_t *dst,
                                  al_error *e) {
    al_h5_dset d;
    if (al_h5_dset_open(r->file, name, 0, &d, r->path, e) != AL_OK) {
        al_h5_dset_close(&d);
        return e->status;
    }
    if (d.dtype != AL_DT_I32) {
        al_h5_dset_close(&d);
        return al_fail(e, AL_EDTYPE, r->path, name, "expected int32");
    }
    al_status s = al_h5_read(&d, st, ct, dst, r->path, e);
    al_h5_dset_close(&d);
    return s;
}

al_status al_rec_read_tokens(al_rec *r, int64_t n, int64_t nt, int32_t *dst, al_error *e) {
    if (!r->has_tokens) return al_fail(e, AL_EFORMAT, r->path, "tokens", "no /tokens in this recording");
    int64_t st[2] = {n, 0}, ct[2] = {1, nt};
    return al_rec_read_ints(r, "tokens", st, ct, dst, e);
}

al_status al_rec_read_spans(al_rec *r, int64_t n, int32_t *dst, al_error *e) {
    if (!r->has_spans) return al_fail(e, AL_EFORMAT, r->path, "spans", "no /spans in this recording");
    int64_t st[3] = {n, 0, 0}, ct[3] = {1, r->n_spans, 2};
    return al_rec_read_ints(r, "spans", st, ct, dst, e);
}
