/* Head similarity by streaming rows of all heads: smoothed logs once per row, then every pair adds its per-row
 * JS in row order (one pair per thread at a time), so the matrix does not depend on --threads or --mem. */
#include "similarity.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/js.h"
#include "../metrics/mds.h"
#include "../plots/kinds.h"
#include "stream.h"

struct al_similarity_acc {
    int64_t N, L, H, P, T, B;
    int64_t rows; /* valid (sample, row) pairs: the divisor of the mean */
    int causal;
    double *lp;  /* [P, B, T] ln of the smoothed rows of the current block */
    double *sum; /* [P, P] upper triangle: sum over samples and rows of JS */
};

void al_similarity_defaults(al_similarity_params *p) {
    p->tokens = 0;
}

void al_similarity_acc_free(al_similarity_acc *a) {
    if (!a) return;
    al_free(a->lp);
    al_free(a->sum);
    al_free(a);
}

al_similarity_acc *al_similarity_acc_new(const al_rec *r, int64_t T, int64_t B, al_error *e) {
    al_similarity_acc *a = al_calloc(1, sizeof *a);
    if (!a) goto oom;
    a->N = r->N;
    a->L = r->L;
    a->H = r->H;
    a->P = r->L * r->H;
    a->T = T;
    a->B = B;
    a->rows = al_valid_rows(r, T);
    a->causal = r->causal;
    a->lp = al_malloc((size_t)(a->P * B), (size_t)T * sizeof(double));
    a->sum = al_calloc((size_t)(a->P * a->P), sizeof(double));
    if (!a->lp || !a->sum) goto oom;
    return a;
oom:
    al_similarity_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for the head similarity matrix");
    return NULL;
}

static int64_t al_vis(int64_t i, int64_t T, int causal) {
    return causal ? i + 1 : T;
}

/* Sample n's rows over its own Tn keys: smoothing spreads over those Tn (a->lp keeps the window's stride). */
static al_status al_similarity_block(void *ctx, int64_t n, int64_t Tn, const float *A, int64_t P, int64_t lda,
                                     int64_t row0, int64_t nrows, const double *ent, al_error *e) {
    al_similarity_acc *a = ctx;
    int64_t T = Tn, W = a->T;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < P; p++)
        for (int64_t r = 0; r < nrows; r++)
            al_js_logrow(A + (p * nrows + r) * lda, al_vis(row0 + r, T, a->causal), T, a->lp + (p * nrows + r) * W);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t x = 0; x < P; x++)
        for (int64_t y = x + 1; y < P; y++) {
            double s = a->sum[x * P + y];
            for (int64_t r = 0; r < nrows; r++) {
                int64_t vis = al_vis(row0 + r, T, a->causal);
                s += al_js_row(A + (x * nrows + r) * lda, a->lp + (x * nrows + r) * W, A + (y * nrows + r) * lda,
                               a->lp + (y * nrows + r) * W, vis, T);
            }
            a->sum[x * P + y] = s;
        }
    (void)n;
    (void)e;
    return AL_OK;
}

al_rows_visitor al_similarity_visitor(al_similarity_acc *a) {
    al_rows_visitor v = {a, al_similarity_block};
    return v;
}

void al_similarity_out_free(al_similarity_out *o) {
    al_free(o->sum);
    al_free(o->js);
    al_free(o->mds);
    memset(o, 0, sizeof *o);
}

/* js [P, P] from the sums; mds [P, 2] and eig from js */
static al_status al_similarity_derive(al_similarity_out *o, al_error *e) {
    int64_t P = o->P;
    o->k = P < 2 ? P : 2;
    o->js = al_malloc((size_t)(P * P), sizeof(double));
    o->mds = al_calloc((size_t)(P * 2), sizeof(double));
    double *work = al_malloc((size_t)al_mds_work(P), sizeof(double));
    al_status st = AL_OK;
    if (!o->js || !o->mds || !work) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for the MDS of the heads");
    double cnt = (double)o->rows; /* N * T without padding */
    for (int64_t x = 0; st == AL_OK && x < P; x++) {
        o->js[x * P + x] = 0;
        for (int64_t y = x + 1; y < P; y++)
            o->js[x * P + y] = o->js[y * P + x] = o->sum[x * P + y] / cnt;
    }
    int info = st == AL_OK ? al_mds(o->js, P, o->k, o->mds, o->eig, work) : 0;
    if (info != 0)
        st = al_fail(e, AL_EINTERNAL, NULL, NULL, "LAPACK dsyev failed (info %d) on the %lld x %lld MDS matrix", info,
                     (long long)P, (long long)P);
    if (st == AL_OK && o->k < 2) /* one head: X was written as [P, 1] */
        for (int64_t i = P - 1; i >= 0; i--)
            o->mds[i * 2] = o->mds[i], o->mds[i * 2 + 1] = 0;
    al_free(work);
    return st;
}

al_status al_similarity_acc_finish(al_similarity_acc *a, al_similarity_out *out, al_error *e) {
    memset(out, 0, sizeof *out);
    *out = (al_similarity_out){a->N, a->L, a->H, a->P, a->T, a->rows, a->sum, NULL, NULL, {0, 0}, 0};
    a->sum = NULL;
    al_similarity_acc_free(a);
    return al_similarity_derive(out, e);
}

al_status al_similarity_compute(al_rec *r, const al_similarity_params *p, const al_exec *x, al_similarity_out *out,
                                al_error *e) {
    memset(out, 0, sizeof *out);
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) return e->status;
    int64_t B = al_stream_rows_all(r, T, x->mem, sizeof(double));
    al_similarity_acc *a = al_similarity_acc_new(r, T, B, e);
    if (!a) return e->status;
    al_rows_visitor v = al_similarity_visitor(a);
    al_status st = al_stream_all_heads(r, T, B, x, &v, e);
    if (st != AL_OK) {
        al_similarity_acc_free(a);
        return st;
    }
    return al_similarity_acc_finish(a, out, e);
}
