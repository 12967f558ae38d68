/* Import of map dumps. The input is read through one small interface (an array of rank 4 or 5 in .npy or
 * HDF5) and written layer by layer, so files larger than memory convert in bounded memory. */
#include "import.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/h5.h"
#include "../core/npy.h"
#include "validate.h"
#include "writer.h"

typedef struct {
    int is_npy;
    al_npy npy;
    hid_t file;
    al_h5_dset d;
    char dname[256];
    int rank;
    int64_t dims[5];
    al_dtype dtype;
} al_array_src;

static herr_t al_find_dset(hid_t obj, const char *name, const H5O_info_t *info, void *op) {
    (void)obj;
    al_array_src *s = op;
    if (info->type == H5O_TYPE_DATASET) {
        if (s->dname[0]) {
            s->dname[0] = 1; /* marks "more than one" */
            return 1;
        }
        snprintf(s->dname, sizeof s->dname, "%s", name);
    }
    return 0;
}

static al_status al_src_open(al_array_src *s, const char *in, al_error *e) {
    memset(s, 0, sizeof *s);
    s->file = -1;
    s->d.id = s->d.memtype = -1;
    s->npy.fd = -1;
    FILE *f = fopen(in, "rb");
    unsigned char m[6] = {0};
    size_t got = f ? fread(m, 1, 6, f) : 0;
    if (f) fclose(f);
    if (got == 6 && m[0] == 0x93 && !memcmp(m + 1, "NUMPY", 5)) {
        s->is_npy = 1;
        if (al_npy_open(in, &s->npy, e) != AL_OK) return e->status;
        s->rank = s->npy.rank;
        memcpy(s->dims, s->npy.shape, sizeof(int64_t) * (size_t)(s->rank < 5 ? s->rank : 5));
        s->dtype = s->npy.dtype;
    } else {
        if ((s->file = al_h5_open(in, e)) < 0) return e->status;
        if (H5Ovisit(s->file, H5_INDEX_NAME, H5_ITER_NATIVE, al_find_dset, s) < 0 && s->dname[0] != 1)
            return al_fail(e, AL_EFORMAT, in, NULL, "cannot list the file's datasets");
        if (s->dname[0] == 1) return al_fail(e, AL_EFORMAT, in, NULL, "holds more than one dataset; import takes a file with exactly one array");
        if (!s->dname[0]) return al_fail(e, AL_EFORMAT, in, NULL, "holds no dataset");
        if (al_h5_dset_open(s->file, s->dname, 1, &s->d, in, e) != AL_OK) return e->status;
        s->rank = s->d.rank;
        memcpy(s->dims, s->d.dims, sizeof(int64_t) * (size_t)(s->rank < 5 ? s->rank : 5));
        s->dtype = s->d.dtype;
    }
    if (s->rank != 4 && s->rank != 5)
        return al_fail(e, AL_ESHAPE, in, s->is_npy ? NULL : s->dname, "rank %d; expected [N, L, H, T, T] or [L, H, T, T]", s->rank);
    if (s->dtype != AL_DT_F32 && s->dtype != AL_DT_F16 && s->dtype != AL_DT_BF16 && s->dtype != AL_DT_F64)
        return al_fail(e, AL_EDTYPE, in, s->is_npy ? NULL : s->dname, "%s values are not attention probabilities", al_dtype_name(s->dtype));
    if (s->rank == 4) {
        memmove(s->dims + 1, s->dims, 4 * sizeof(int64_t));
        s->dims[0] = 1;
    }
    if (s->dims[3] != s->dims[4])
        return al_fail(e, AL_ESHAPE, in, s->is_npy ? NULL : s->dname, "maps are %lld x %lld, expected square", (long long)s->dims[3],
                       (long long)s->dims[4]);
    for (int i = 0; i < 5; i++)
        if (s->dims[i] < 1) return al_fail(e, AL_ESHAPE, in, NULL, "empty array");
    return AL_OK;
}

static void al_src_close(al_array_src *s) {
    if (s->is_npy) al_npy_close(&s->npy);
    al_h5_dset_close(&s->d);
    if (s->file >= 0) H5Fclose(s->file);
}

/* rows [r0, r0+nr) of map (n, l, h) into dst [nr, T] float32; raw: scratch of nr*T*8 bytes */
static al_status al_src_rows(al_array_src *s, const char *in, int64_t n, int64_t l, int64_t h, int64_t r0, int64_t nr,
                             float *dst, void *raw, al_error *e) {
    int64_t T = s->dims[3];
    if (s->is_npy) {
        int64_t off = (((n * s->dims[1] + l) * s->dims[2] + h) * T + r0) * T;
        if (al_npy_read(&s->npy, off, nr * T, raw, in, e) != AL_OK) return e->status;
    } else {
        int64_t st5[5] = {n, l, h, r0, 0}, ct5[5] = {1, 1, 1, nr, T};
        const int64_t *st = s->rank == 5 ? st5 : st5 + 1, *ct = s->rank == 5 ? ct5 : ct5 + 1;
        if (al_h5_read(&s->d, st, ct, raw, in, e) != AL_OK) return e->status;
    }
    al_convert_to_f32(s->dtype, raw, dst, (size_t)(nr * T));
    return AL_OK;
}

al_status al_import(const char *in, const char *out, const al_import_params *p, al_error *e) {
    al_array_src s;
    al_status st = al_src_open(&s, in, e);
    float *blk = NULL;
    void *raw = NULL;
    al_v1_writer w;
    int open = 0;
    if (st != AL_OK) goto done;
    int64_t N = s.dims[0], L = s.dims[1], H = s.dims[2], T = s.dims[3];
    int64_t B = (p->mem / 2) / (T * 12);
    if (B < 1) B = 1;
    if (B > T) B = T;
    blk = al_malloc((size_t)(B * T), sizeof(float));
    raw = al_malloc((size_t)(B * T), 8);
    if (!blk || !raw) {
        st = al_fail(e, AL_ENOMEM, in, NULL, "out of memory");
        goto done;
    }
    al_dtype dt = p->dtype_set ? p->dtype : (s.dtype == AL_DT_F16 ? AL_DT_F16 : s.dtype == AL_DT_BF16 ? AL_DT_BF16 : AL_DT_F32);
    al_v1_attrs a = {p->model ? p->model : "unknown (imported)", "attnlab import", L, H, H, 0, !p->bidirectional, !p->no_bos};
    if ((st = al_v1_create(&w, out, dt, &a, e)) != AL_OK) goto done;
    open = 1;
    char name[64];
    for (int64_t l = 0; l < L && st == AL_OK; l++) {
        snprintf(name, sizeof name, "attention/L%03lld", (long long)l);
        int64_t dims[4] = {N, H, T, T};
        if ((st = al_v1_dataset(&w, name, 4, dims, 64, e)) != AL_OK) break;
        for (int64_t n = 0; n < N && st == AL_OK; n++)
            for (int64_t h = 0; h < H && st == AL_OK; h++)
                for (int64_t r0 = 0; r0 < T && st == AL_OK; r0 += B) {
                    int64_t nr = T - r0 < B ? T - r0 : B;
                    if ((st = al_src_rows(&s, in, n, l, h, r0, nr, blk, raw, e)) != AL_OK) break;
                    if ((st = al_check_map_rows(blk, nr, T, T, r0, !p->bidirectional, in, s.is_npy ? NULL : s.dname, n, h, e)) != AL_OK)
                        break;
                    int64_t st4[4] = {n, h, r0, 0}, ct4[4] = {1, 1, nr, T};
                    st = al_v1_write(&w, name, st4, ct4, blk, e);
                }
    }
    if (st == AL_OK) {
        st = al_v1_finish(&w, e);
        open = 0;
    }
done:
    if (open) al_v1_abort(&w);
    al_free(blk);
    al_free(raw);
    al_src_close(&s);
    return st;
}
