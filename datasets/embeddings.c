/* Reader of embeddings per generation. Directions and generations are discovered by iterating the groups in
 * name order; blocks are read in the file's type and widened to double in place. */
#include "embeddings.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/dtype.h"

#define AL_EMB_MAXDIR 256
#define AL_EMB_MAXGEN 1024

typedef struct {
    char names[AL_EMB_MAXGEN][128];
    int n, overflow;
} al_namelist;

static herr_t al_collect(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    al_namelist *l = op;
    (void)g;
    (void)info;
    if (l->n >= AL_EMB_MAXGEN || strlen(name) >= 128) {
        l->overflow = 1;
        return 1;
    }
    snprintf(l->names[l->n++], 128, "%s", name);
    return 0;
}

static al_status al_list(hid_t file, const char *path, al_namelist *l, const char *fname, al_error *e) {
    l->n = l->overflow = 0;
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    if (g < 0) return al_fail(e, AL_EFORMAT, fname, path, "not a group");
    hsize_t idx = 0;
    herr_t r = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, al_collect, l);
    H5Gclose(g);
    if (r < 0) return al_fail(e, AL_EFORMAT, fname, path, "cannot list the group");
    if (l->overflow) return al_fail(e, AL_EFORMAT, fname, path, "more than %d entries or a name of 128 characters or more", AL_EMB_MAXGEN);
    return AL_OK;
}

void al_emb_close(al_emb *m) {
    if (!m) return;
    for (int64_t d = 0; d < m->ndir; d++) {
        al_emb_dir *x = &m->dirs[d];
        if (x->ref.id > 0) al_h5_dset_close(&x->ref);
        for (int64_t g = 0; x->dsets && g < x->ngen; g++)
            if (x->dsets[g].id > 0) al_h5_dset_close(&x->dsets[g]);
        al_free(x->dsets);
        al_free(x->gen);
    }
    al_free(m->dirs);
    if (m->file >= 0) H5Fclose(m->file);
    al_free(m);
}

/* "G07" -> 7; -1 when the name is not G followed by digits. */
static int64_t al_gen_number(const char *s) {
    if (s[0] != 'G' || !s[1] || strlen(s) > 10) return -1;
    for (const char *p = s + 1; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    return strtoll(s + 1, NULL, 10);
}

static int al_cmp_gen(const void *a, const void *b, void *ctx) {
    const int64_t *num = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    return (num[x] > num[y]) - (num[x] < num[y]);
}

static al_status al_open_dir(al_emb *m, al_emb_dir *x, al_namelist *l, al_error *e) {
    int64_t num[AL_EMB_MAXGEN];
    int idx[AL_EMB_MAXGEN], ng = 0;
    char p[512];
    for (int i = 0; i < l->n; i++) {
        num[i] = al_gen_number(l->names[i]);
        snprintf(p, sizeof p, "embeddings/%s/%s", x->name, l->names[i]);
        if (num[i] < 0) return al_fail(e, AL_EFORMAT, m->path, p, "unexpected name: generations are datasets G00, G01, ...");
        idx[ng++] = i;
    }
    qsort_r(idx, (size_t)ng, sizeof *idx, al_cmp_gen, num);
    for (int i = 1; i < ng; i++)
        if (num[idx[i]] == num[idx[i - 1]])
            return al_fail(e, AL_EFORMAT, m->path, NULL, "embeddings/%s: %s and %s are the same generation", x->name,
                           l->names[idx[i - 1]], l->names[idx[i]]);
    if (ng == 0 || num[idx[0]] != 0)
        return al_fail(e, AL_EFORMAT, m->path, NULL, "embeddings/%s: no G00 (the generation-0 reference)", x->name);
    if (ng < 2) return al_fail(e, AL_EFORMAT, m->path, NULL, "embeddings/%s: only G00, no later generation", x->name);
    x->ngen = ng - 1;
    x->gen = al_malloc((size_t)x->ngen, sizeof *x->gen);
    x->dsets = al_calloc((size_t)x->ngen, sizeof *x->dsets);
    if (!x->gen || !x->dsets) return al_fail(e, AL_ENOMEM, m->path, NULL, "out of memory");
    for (int64_t g = 0; g < x->ngen; g++) x->dsets[g].id = -1;
    for (int i = 0; i < ng; i++) {
        al_h5_dset *ds = i == 0 ? &x->ref : &x->dsets[i - 1];
        snprintf(p, sizeof p, "embeddings/%s/%s", x->name, l->names[idx[i]]);
        if (al_h5_dset_open(m->file, p, 1, ds, m->path, e) != AL_OK) return e->status;
        if (i > 0) x->gen[i - 1] = num[idx[i]];
        if (ds->rank != 2) return al_fail(e, AL_ESHAPE, m->path, p, "expected [N, D] (one embedding per sample), found rank %d", ds->rank);
        if (i == 0) {
            x->N = ds->dims[0];
            x->D = ds->dims[1];
            if (x->N < 1 || x->D < 1) return al_fail(e, AL_ESHAPE, m->path, p, "empty: [%lld, %lld]", (long long)x->N, (long long)x->D);
        } else if (ds->dims[0] != x->N || ds->dims[1] != x->D) {
            return al_fail(e, AL_ESHAPE, m->path, p, "shape [%lld, %lld], but G00 is [%lld, %lld]", (long long)ds->dims[0],
                           (long long)ds->dims[1], (long long)x->N, (long long)x->D);
        }
    }
    return AL_OK;
}

al_status al_emb_open(const char *path, al_emb **out, al_error *e) {
    *out = NULL;
    al_emb *m = al_calloc(1, sizeof *m);
    al_namelist *l = al_malloc(1, sizeof *l);
    if (!m || !l) {
        al_free(m);
        al_free(l);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    snprintf(m->path, sizeof m->path, "%s", path);
    m->file = al_h5_open(path, e);
    if (m->file < 0) goto fail;
    if (!al_h5_exists(m->file, "embeddings")) {
        al_fail(e, AL_EFORMAT, path, NULL, "no group /embeddings (expected /embeddings/<direction>/G00, G01, ...)");
        goto fail;
    }
    if (al_list(m->file, "embeddings", l, path, e) != AL_OK) goto fail;
    if (l->n == 0 || l->n > AL_EMB_MAXDIR) {
        al_fail(e, AL_EFORMAT, path, "embeddings", l->n ? "more than %d directions" : "no directions", AL_EMB_MAXDIR);
        goto fail;
    }
    m->ndir = l->n;
    m->dirs = al_calloc((size_t)m->ndir, sizeof *m->dirs);
    if (!m->dirs) {
        al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto fail;
    }
    char names[AL_EMB_MAXDIR][128];
    for (int64_t d = 0; d < m->ndir; d++) {
        snprintf(names[d], 128, "%s", l->names[d]);
        m->dirs[d].ref.id = -1;
    }
    for (int64_t d = 0; d < m->ndir; d++) {
        al_emb_dir *x = &m->dirs[d];
        snprintf(x->name, sizeof x->name, "%s", names[d]);
        char p[256];
        snprintf(p, sizeof p, "embeddings/%s", x->name);
        if (al_list(m->file, p, l, path, e) != AL_OK || al_open_dir(m, x, l, e) != AL_OK) goto fail;
    }
    al_free(l);
    *out = m;
    return AL_OK;
fail:
    al_free(l);
    al_emb_close(m);
    return e->status;
}

al_status al_emb_read(al_emb *m, int64_t d, int64_t gi, int64_t row0, int64_t n, double *dst, al_error *e) {
    al_emb_dir *x = &m->dirs[d];
    const al_h5_dset *ds = gi < 0 ? &x->ref : &x->dsets[gi];
    int64_t D = x->D, start[2] = {row0, 0}, count[2] = {n, D}, total = n * D;
    if (al_h5_read(ds, start, count, dst, m->path, e) != AL_OK) return e->status;
    if (ds->dtype != AL_DT_F64) {
        /* widen in place from the end: element i's double never overlaps an element not yet converted */
        size_t sz = al_dtype_size(ds->dtype);
        float tmp[1024];
        for (int64_t c1 = total; c1 > 0;) {
            int64_t c0 = c1 > 1024 ? c1 - 1024 : 0;
            al_convert_to_f32(ds->dtype, (const char *)dst + (size_t)c0 * sz, tmp, (size_t)(c1 - c0));
            for (int64_t i = c1 - 1; i >= c0; i--) dst[i] = tmp[i - c0];
            c1 = c0;
        }
    }
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(dst[i]))
            return al_fail(e, AL_EVALUE, m->path, ds->path, "sample %lld, entry %lld: %s value (embeddings must be finite)",
                           (long long)(row0 + i / D), (long long)(i % D), isnan(dst[i]) ? "NaN" : "infinite");
    return AL_OK;
}
