/* The recipe interpreter: every choice takes one byte (0 when the input is exhausted, which gives a small
 * valid recording), so mutations of single bytes move between valid files and each class of bad input. */
#include "h5recipe.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype.h"
#include "datasets/writer.h"

typedef struct {
    const uint8_t *p;
    size_t n, i;
} al_cur;

static unsigned al_u8(al_cur *c) { return c->i < c->n ? c->p[c->i++] : 0; }
static unsigned al_pick(al_cur *c, unsigned k) { return al_u8(c) % k; }
/* 1 once in k, never when the input is exhausted (so that an empty recipe is a valid recording) */
static int al_rare(al_cur *c, unsigned k) { return al_pick(c, k) == k - 1; }

/* Small sizes mostly, with the occasional edge value. */
static int64_t al_size(al_cur *c, int64_t def) {
    unsigned b = al_u8(c);
    if (b == 0) return def;
    if (b < 200) return 1 + b % 9;
    static const int64_t edge[] = {0, 1, 16, 33, 64};
    return edge[b % 5];
}

static void al_attr(hid_t obj, const char *name, al_cur *c, int64_t good) {
    unsigned how = al_pick(c, 16);
    if (how == 13) return; /* absent */
    hid_t sp = H5Screate(H5S_SCALAR);
    if (how == 14) { /* a string where a number belongs */
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 4);
        hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, t, "12\0\0");
        H5Aclose(a);
        H5Tclose(t);
    } else if (how == 15) { /* a float, fractional or whole */
        double v = al_u8(c) & 1 ? (double)good + 0.5 : (double)good;
        hid_t a = H5Acreate2(obj, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
        H5Aclose(a);
    } else {
        static const int64_t odd[] = {0, -1, 2, 4097, 65537, 2147483647LL, -2147483648LL, 1LL << 40};
        long long v = how < 8 ? good : how < 12 ? good + (int64_t)al_pick(c, 3) - 1 : odd[al_pick(c, 8)];
        hid_t a = H5Acreate2(obj, name, how & 1 ? H5T_STD_I32LE : H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_LLONG, &v);
        H5Aclose(a);
    }
    H5Sclose(sp);
}

static void al_attr_str(hid_t obj, const char *name, const char *v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &v);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(sp);
}

enum { AL_K_F32, AL_K_F16, AL_K_BF16, AL_K_F64, AL_K_I32, AL_K_U16, AL_K_I8, AL_K_COUNT };

static hid_t al_ftype(int k) {
    switch (k) {
    case AL_K_F16: return al_h5_f16_type();
    case AL_K_BF16:
    case AL_K_U16: return H5Tcopy(H5T_STD_U16LE);
    case AL_K_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case AL_K_I32: return H5Tcopy(H5T_STD_I32LE);
    case AL_K_I8: return H5Tcopy(H5T_STD_I8LE);
    default: return H5Tcopy(H5T_IEEE_F32LE);
    }
}

/* One dataset of rank r with dims d, values from fill(i) (float), stored as kind k with layout from c. */
static void al_dset(hid_t f, const char *name, int rank, const hsize_t *d, int k, al_cur *c, int is_map, int causal) {
    hsize_t n = 1;
    for (int i = 0; i < rank; i++) n *= d[i];
    if (n > (1u << 16)) return; /* keep each input fast */
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    unsigned lay = al_pick(c, 8);
    if (lay >= 3 && n > 0) { /* chunked, with filters */
        hsize_t ch[8];
        for (int i = 0; i < rank; i++) ch[i] = d[i] ? 1 + al_u8(c) % d[i] : 1;
        H5Pset_chunk(dcpl, rank, ch);
        if (lay == 4 || lay == 6) H5Pset_shuffle(dcpl);
        if (lay >= 5) H5Pset_deflate(dcpl, 1 + al_pick(c, 9));
        if (lay == 7 && al_rare(c, 4)) H5Pset_fletcher32(dcpl);
    } else if (lay == 2 && n * 4 < 32000) {
        H5Pset_layout(dcpl, H5D_COMPACT);
    }
    hid_t sp = H5Screate_simple(rank, d, NULL);
    hid_t ft = al_ftype(k);
    hid_t ds = H5Dcreate2(f, name, ft, sp, lcpl, dcpl, H5P_DEFAULT);
    if (ds >= 0) {
        if (k == AL_K_BF16) al_attr_str(ds, "dtype", !al_rare(c, 8) ? "bfloat16" : "float16");
        float *v = malloc((size_t)(n ? n : 1) * sizeof *v);
        double *v64 = malloc((size_t)(n ? n : 1) * sizeof *v64);
        unsigned mode = al_pick(c, 4);
        int64_t T = rank >= 2 ? (int64_t)d[rank - 1] : 1;
        for (hsize_t i = 0; i < n; i++) {
            if (is_map && mode != 3) { /* a valid distribution per row: uniform over the visible keys */
                int64_t row = (int64_t)(i / (hsize_t)T) % T, col = (int64_t)(i % (hsize_t)T);
                int64_t vis = causal ? row + 1 : T;
                v[i] = col < vis ? 1.0f / (float)vis : 0.0f;
            } else {
                v[i] = ((float)al_u8(c) - 128.0f) / 64.0f;
            }
        }
        for (unsigned p = mode == 2 ? 1 + al_pick(c, 4) : 0; p > 0 && n > 0; p--) { /* planted defects */
            static const float bad[] = {NAN, INFINITY, -INFINITY, -1.0f, 2.0f, 0.5f, 1e-3f, 0.0f};
            v[((hsize_t)al_u8(c) << 8 | al_u8(c)) % n] = bad[al_pick(c, 8)];
        }
        void *buf = v;
        hid_t mt = H5T_NATIVE_FLOAT;
        uint16_t *u16 = (uint16_t *)v64;
        int32_t *i32 = (int32_t *)v64;
        int8_t *i8 = (int8_t *)v64;
        if (k == AL_K_F16 || k == AL_K_BF16 || k == AL_K_U16) {
            for (hsize_t i = 0; i < n; i++) u16[i] = k == AL_K_F16 ? al_f32_to_f16(v[i]) : al_f32_to_bf16(v[i]);
            buf = u16;
            mt = k == AL_K_F16 ? ft : H5T_NATIVE_UINT16;
        } else if (k == AL_K_F64) {
            for (hsize_t i = 0; i < n; i++) v64[i] = v[i];
            buf = v64;
            mt = H5T_NATIVE_DOUBLE;
        } else if (k == AL_K_I32 || k == AL_K_I8) {
            for (hsize_t i = 0; i < n; i++) {
                float x = isfinite(v[i]) ? v[i] * 4 : 0;
                if (k == AL_K_I32) i32[i] = (int32_t)x;
                else i8[i] = (int8_t)x;
            }
            buf = v64;
            mt = k == AL_K_I32 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT8;
        }
        if (!al_rare(c, 16) && n > 0) H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); /* else: never written */
        free(v);
        free(v64);
        H5Dclose(ds);
    }
    H5Tclose(ft);
    H5Sclose(sp);
    H5Pclose(dcpl);
    H5Pclose(lcpl);
}

/* A layer group: L datasets of dims d (rank r), with one layer possibly missing or of another shape. */
static void al_group(hid_t f, const char *g, int64_t L, int rank, hsize_t *d, int k, al_cur *c, int is_map, int causal) {
    int64_t odd = al_rare(c, 8) ? (int64_t)al_pick(c, 4) : -1;
    unsigned what = al_pick(c, 3);
    char name[64];
    for (int64_t l = 0; l < L && l < 8; l++) {
        snprintf(name, sizeof name, "%s/L%03lld", g, (long long)l);
        if (l == odd && what == 0) continue; /* missing layer */
        hsize_t dd[8];
        memcpy(dd, d, sizeof(hsize_t) * (size_t)rank);
        int kk = k;
        if (l == odd && what == 1) dd[al_pick(c, (unsigned)rank)] += 1; /* another shape */
        if (l == odd && what == 2) kk = (k + 1) % AL_K_COUNT;           /* another dtype */
        al_dset(f, name, rank, dd, kk, c, is_map, causal);
    }
}

int al_h5_recipe_write(const uint8_t *data, size_t size, const char *path) {
    al_cur cc = {data, size, 0}, *c = &cc;
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return -1;
    unsigned fmt = al_pick(c, 8);
    if (fmt != 7) al_attr_str(f, "attnlab_format", fmt == 6 ? "drift" : "recording");
    al_attr(f, "format_version", c, 1);
    int64_t L = al_size(c, 2), H = al_size(c, 2), Hkv = al_u8(c) & 1 ? H : (H % 2 ? H : H / 2);
    int64_t N = al_size(c, 1), T = al_size(c, 4), D = al_size(c, 4);
    int causal = al_pick(c, 4) != 0;
    al_attr(f, "n_layers", c, L);
    al_attr(f, "n_heads", c, H);
    al_attr(f, "n_kv_heads", c, Hkv);
    al_attr(f, "head_dim", c, D);
    al_attr(f, "causal", c, causal);
    al_attr(f, "first_token_is_bos", c, 1);
    unsigned groups = al_u8(c) ^ 0x01; /* default: maps only */
    int kind = (int)al_pick(c, 16);
    kind = kind < AL_K_COUNT ? kind : AL_K_F32;
    if (groups & 1) {
        hsize_t d[5] = {(hsize_t)N, (hsize_t)H, (hsize_t)T, (hsize_t)T, 1};
        int rank = 4;
        if (al_rare(c, 16)) rank = 3 + 2 * (int)al_pick(c, 2); /* rank 3 or 5 */
        if (al_rare(c, 8)) d[3] += 1;                          /* not square */
        al_group(f, "attention", L, rank, d, kind, c, 1, causal);
    }
    if (groups & 2) {
        hsize_t dq[4] = {(hsize_t)N, (hsize_t)H, (hsize_t)T, (hsize_t)D};
        hsize_t dk[4] = {(hsize_t)N, (hsize_t)Hkv, (hsize_t)T, (hsize_t)D};
        if (al_rare(c, 8)) dk[al_pick(c, 4)] += 1;
        al_group(f, "q", L, 4, dq, kind, c, 0, causal);
        if (!(groups & 4)) al_group(f, "k", L, 4, dk, kind, c, 0, causal); /* bit 2 set: q without k */
        if (al_pick(c, 2)) {
            hid_t g = H5Gopen2(f, "q", H5P_DEFAULT);
            if (g >= 0) {
                hid_t sp = H5Screate(H5S_SCALAR);
                static const double sc[] = {0.5, 0, -1, NAN, INFINITY, 1e-30};
                double v = sc[al_pick(c, 6)];
                hid_t a = H5Acreate2(g, "scale", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
                H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
                H5Aclose(a);
                H5Sclose(sp);
                H5Gclose(g);
            }
        }
    } else if (groups & 4) {
        hsize_t dk[4] = {(hsize_t)N, (hsize_t)Hkv, (hsize_t)T, (hsize_t)D};
        al_group(f, "k", L, 4, dk, kind, c, 0, causal); /* keys without queries */
    }
    if (groups & 8) {
        hsize_t dv[4] = {(hsize_t)N, (hsize_t)Hkv, (hsize_t)T, (hsize_t)D};
        if (al_rare(c, 4)) dv[al_pick(c, 3)] += 1;
        al_group(f, "v", L, 4, dv, kind, c, 0, causal);
    }
    if (groups & 16) {
        hsize_t dh[3] = {(hsize_t)N, (hsize_t)T, (hsize_t)(1 + al_pick(c, 8))};
        al_group(f, "hidden", L + (al_rare(c, 4) ? 0 : 1), 3, dh, kind, c, 0, causal);
    }
    if (groups & 32) {
        hsize_t d[2] = {(hsize_t)N, (hsize_t)T + al_pick(c, 2)};
        if (al_rare(c, 8)) d[0] += 1;
        al_dset(f, "tokens", 2, d, !al_rare(c, 4) ? AL_K_I32 : AL_K_F32, c, 0, causal);
    }
    if (groups & 64) {
        hsize_t d[1] = {(hsize_t)N + al_rare(c, 8)};
        int32_t *v = malloc(sizeof(int32_t) * (size_t)(d[0] ? d[0] : 1));
        for (hsize_t i = 0; i < d[0]; i++) v[i] = (int32_t)T - (int32_t)al_pick(c, 3) + (al_rare(c, 16) ? 5 : 0);
        hid_t sp = H5Screate_simple(1, d, NULL);
        hid_t ds = H5Dcreate2(f, "lengths", !al_rare(c, 8) ? H5T_STD_I32LE : H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) {
            H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
            H5Dclose(ds);
        }
        H5Sclose(sp);
        free(v);
    }
    if (groups & 128) {
        int64_t S = al_size(c, 2);
        hsize_t d[3] = {(hsize_t)N, (hsize_t)S, !al_rare(c, 8) ? 2 : 3};
        hsize_t n = d[0] * d[1] * d[2];
        int32_t *v = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
        for (hsize_t i = 0; i < n; i++) v[i] = (int32_t)al_pick(c, (unsigned)T + 3) - 1;
        hid_t sp = H5Screate_simple(3, d, NULL);
        hid_t ds = H5Dcreate2(f, "spans", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (ds >= 0) {
            H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
            int64_t nn = (int64_t)S + al_rare(c, 8) - al_rare(c, 8);
            if (nn > 0 && nn < 40) {
                static const char *names[] = {"system", "user", "response", "a", "b", "c", "d", "e"};
                const char *nv[40];
                for (int64_t i = 0; i < nn; i++) nv[i] = names[i % 8];
                hsize_t dn = (hsize_t)nn;
                hid_t nsp = H5Screate_simple(1, &dn, NULL);
                hid_t t = H5Tcopy(H5T_C_S1);
                H5Tset_size(t, H5T_VARIABLE);
                hid_t a = H5Acreate2(ds, "names", t, nsp, H5P_DEFAULT, H5P_DEFAULT);
                H5Awrite(a, t, nv);
                H5Aclose(a);
                H5Tclose(t);
                H5Sclose(nsp);
            }
            H5Dclose(ds);
        }
        H5Sclose(sp);
        free(v);
    }
    return H5Fclose(f) < 0 ? -1 : 0;
}
