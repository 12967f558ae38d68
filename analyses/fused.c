/* Adapter from the all-heads row-block stream to per-head visitors. Each head keeps its workspace for the
 * whole sample; heads are processed in parallel on every block, and folded in (sample, layer, head) order when
 * their last rows have passed, which gives the same sums as the per-head engine (row order is unchanged). */
#include "fused.h"

#include <string.h>

#include "../core/alloc.h"

#define AL_FUSED_MAX 8

struct al_fused {
    int64_t L, H, T;
    int causal, nv;
    al_map_visitor v[AL_FUSED_MAX];
    size_t off[AL_FUSED_MAX], ws_head;
    unsigned char *ws; /* [L * H, ws_head] */
    al_rows_visitor rows;
    int has_rows;
};

static size_t al_fused_ws(const al_map_visitor *v, int nv, size_t *off) {
    size_t tot = 0;
    for (int k = 0; k < nv; k++) {
        if (off) off[k] = tot;
        tot += (v[k].ws_bytes + 63) & ~(size_t)63;
    }
    return tot;
}

size_t al_fused_extra_bytes(const al_rec *r, int64_t T, const al_map_visitor *v, int nv) {
    /* per-head workspaces are fixed, not per row; spread them over the rows of a block conservatively */
    (void)r;
    return al_fused_ws(v, nv, NULL) / (size_t)(T > 0 ? T : 1) / sizeof(float) + 1;
}

al_fused *al_fused_new(const al_rec *r, int64_t T, const al_map_visitor *v, int nv, const al_rows_visitor *rows,
                       al_error *e) {
    if (nv > AL_FUSED_MAX) {
        al_fail(e, AL_EINTERNAL, NULL, NULL, "too many analyses in one pass");
        return NULL;
    }
    al_fused *f = al_calloc(1, sizeof *f);
    if (!f) goto oom;
    f->L = r->L;
    f->H = r->H;
    f->T = T;
    f->causal = r->causal;
    f->nv = nv;
    memcpy(f->v, v, sizeof *v * (size_t)nv);
    f->ws_head = al_fused_ws(v, nv, f->off);
    f->ws = al_malloc((size_t)(r->L * r->H), f->ws_head ? f->ws_head : 1);
    if (!f->ws) goto oom;
    if (rows) {
        f->rows = *rows;
        f->has_rows = 1;
    }
    return f;
oom:
    al_fused_free(f);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for per-head workspaces");
    return NULL;
}

void al_fused_free(al_fused *f) {
    if (!f) return;
    al_free(f->ws);
    al_free(f);
}

static al_status al_fused_block(void *ctx, int64_t n, int64_t Tn, const float *A, int64_t P, int64_t lda, int64_t row0,
                                int64_t nrows, const double *ent, al_error *e) {
    al_fused *f = ctx;
    int64_t T = Tn; /* the per-head engine's hd->T: this sample's own tokens */
    if (row0 == 0) {
        memset(f->ws, 0, (size_t)P * f->ws_head);
        for (int64_t p = 0; p < P; p++) {
            al_head_id hd = {n, p / f->H, p % f->H, T, f->causal};
            for (int k = 0; k < f->nv; k++)
                if (f->v[k].head_begin)
                    f->v[k].head_begin(f->v[k].ctx, &hd, f->ws + (size_t)p * f->ws_head + f->off[k]);
        }
    }
    /* A is [P, nrows, lda]: head p's rows start at p * nrows * lda */
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t p = 0; p < P; p++) {
        al_head_id hd = {n, p / f->H, p % f->H, T, f->causal, ent ? ent + p * nrows : NULL};
        for (int k = 0; k < f->nv; k++)
            f->v[k].block(f->v[k].ctx, &hd, f->ws + (size_t)p * f->ws_head + f->off[k], A + p * nrows * lda, lda, row0,
                          nrows);
    }
    if (row0 + nrows == T)
        for (int64_t p = 0; p < P; p++) {
            al_head_id hd = {n, p / f->H, p % f->H, T, f->causal};
            for (int k = 0; k < f->nv; k++)
                if (f->v[k].head_done) f->v[k].head_done(f->v[k].ctx, &hd, f->ws + (size_t)p * f->ws_head + f->off[k]);
        }
    if (f->has_rows) return f->rows.block(f->rows.ctx, n, Tn, A, P, lda, row0, nrows, ent, e);
    return AL_OK;
}

al_rows_visitor al_fused_visitor(al_fused *f) {
    al_rows_visitor v = {f, al_fused_block};
    return v;
}
