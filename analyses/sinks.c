/* Attention sinks over a whole recording: the computing half. Per head the column sums of one map are accumulated
 * block by block; at the end of each head they become alpha, which feeds the hit counts and the sum over samples
 * (al_sinks_out). Presentation is analyses/sinks_emit.c. */
#include "sinks.h"

#include <string.h>

#include "../core/alloc.h"
#include "../metrics/alpha.h"
#include "../metrics/sinks.h"

struct al_sinks_acc {
    al_sinks_out o;
};

void al_sinks_defaults(al_sinks_params *p) {
    p->epsilon = 0.3;
    p->tokens = 0;
    p->positions = 0; /* 0: min(10, T) */
    p->hidden_threshold = 0.1;
    p->hidden_min_queries = 16;
}

void al_sinks_out_free(al_sinks_out *o) {
    al_free(o->alpha_sum);
    al_free(o->hits);
    o->alpha_sum = NULL;
    o->hits = NULL;
}

void al_sinks_acc_free(al_sinks_acc *a) {
    if (!a) return;
    al_sinks_out_free(&a->o);
    al_free(a);
}

const al_sinks_out *al_sinks_acc_out(const al_sinks_acc *a) {
    return &a->o;
}

void al_sinks_acc_take(al_sinks_acc *a, al_sinks_out *out) {
    *out = a->o;
    a->o.alpha_sum = NULL;
    a->o.hits = NULL;
    al_sinks_acc_free(a);
}

al_sinks_acc *al_sinks_acc_new(const al_rec *r, int64_t T, const al_sinks_params *p_in, al_error *e) {
    al_sinks_params pp = *p_in, *p = &pp;
    if (p->positions <= 0) p->positions = T < 10 ? T : 10;
    if (p->positions > T) {
        al_fail(e, AL_EUSAGE, "--positions", NULL, "%lld positions requested but only %lld tokens are analysed",
                (long long)p->positions, (long long)T);
        return NULL;
    }
    al_sinks_acc *a = al_calloc(1, sizeof *a);
    if (!a) goto oom;
    al_sinks_out *o = &a->o;
    o->params = *p;
    o->params.tokens = T;
    o->skipped = al_short_samples(r, T, "sinks", 1); /* samples shorter than T: Sink_k needs one common T */
    o->N = r->N - o->skipped;
    o->L = r->L;
    o->H = r->H;
    o->T = T;
    o->K = p->positions;
    o->causal = r->causal;
    o->alpha_sum = al_calloc((size_t)(r->L * r->H), (size_t)T * sizeof(double));
    o->hits = al_calloc((size_t)(r->L * o->K), sizeof(int64_t));
    if (!o->alpha_sum || !o->hits) goto oom;
    return a;
oom:
    al_sinks_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for sink statistics");
    return NULL;
}

/* ws: [2, T] doubles: column sums of the head, then its alpha. A sample shorter than T is skipped. */
static void al_sinks_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                           int64_t nrows) {
    al_sinks_acc *a = ctx;
    if (hd->T < a->o.T) return; /* a short sample: left out */
    al_colsum(A, nrows, a->o.T, lda, row0, hd->causal, (double *)ws);
}

static void al_sinks_head_done(void *ctx, const al_head_id *hd, void *ws) {
    al_sinks_out *o = &((al_sinks_acc *)ctx)->o;
    if (hd->T < o->T) return;
    double *colsum = ws, *alpha = colsum + o->T;
    al_alpha_from_colsum(colsum, o->T, hd->causal, alpha);
    al_sink_hits(alpha, o->K, o->params.epsilon, o->hits + hd->l * o->K);
    double *s = o->alpha_sum + (hd->l * o->H + hd->h) * o->T;
    for (int64_t j = 0; j < o->T; j++)
        s[j] += alpha[j];
}

/* GPU path: the column sums arrive whole */
static void al_sinks_head_summary(void *ctx, const al_head_id *hd, void *ws, const double *colsum, const double *hs) {
    const al_sinks_acc *a = ctx;
    if (hd->T < a->o.T) return;
    memcpy(ws, colsum, sizeof(double) * (size_t)a->o.T);
}

al_map_visitor al_sinks_visitor(al_sinks_acc *a) {
    al_map_visitor v = {a, sizeof(double) * 2 * (size_t)a->o.T, NULL, al_sinks_block, al_sinks_head_done};
    v.head_summary = al_sinks_head_summary;
    return v;
}

void al_sinks_rates(const al_sinks_out *o, double *rate, double *lrate) {
    int64_t L = o->L, K = o->K;
    for (int64_t k = 0; rate && k < K; k++)
        rate[k] = 0;
    for (int64_t l = 0; l < L; l++)
        for (int64_t k = 0; k < K; k++) {
            if (lrate) lrate[l * K + k] = 100.0 * (double)o->hits[l * K + k] / (double)(o->N * o->H);
            if (rate) rate[k] += (double)o->hits[l * K + k];
        }
    for (int64_t k = 0; rate && k < K; k++)
        rate[k] = 100.0 * rate[k] / (double)(o->N * L * o->H);
}

void al_sinks_head_alpha(const al_sinks_out *o, int64_t l, int64_t h, double *mean) {
    const double *s = o->alpha_sum + (l * o->H + h) * o->T;
    for (int64_t j = 0; j < o->T; j++)
        mean[j] = s[j] / (double)o->N;
}

int64_t al_sinks_hidden(const al_sinks_out *o, int64_t l, int64_t h, int64_t *pos) {
    double *mean = al_malloc((size_t)o->T, sizeof(double)); /* [T] */
    if (!mean) return -1;
    al_sinks_head_alpha(o, l, h, mean);
    const al_sinks_params *p = &o->params;
    int64_t m = al_hidden_sinks(mean, o->T, p->hidden_threshold, p->hidden_min_queries, o->causal, pos);
    al_free(mean);
    return m;
}

al_status al_sinks_merge(al_sinks_out *dst, const al_sinks_out *src, al_error *e) {
    if (dst->L != src->L || dst->H != src->H || dst->T != src->T || dst->K != src->K || dst->causal != src->causal)
        return al_fail(e, AL_ESHAPE, NULL, NULL, "sinks statistics of different shapes cannot be merged");
    const al_sinks_params *a = &dst->params, *b = &src->params;
    if (a->epsilon != b->epsilon || a->hidden_threshold != b->hidden_threshold ||
        a->hidden_min_queries != b->hidden_min_queries)
        return al_fail(e, AL_EUSAGE, NULL, NULL, "sinks statistics of different parameters cannot be merged");
    for (int64_t i = 0; i < dst->L * dst->K; i++)
        dst->hits[i] += src->hits[i];
    for (int64_t i = 0; i < dst->L * dst->H * dst->T; i++)
        dst->alpha_sum[i] += src->alpha_sum[i];
    dst->N += src->N;
    dst->skipped += src->skipped;
    return AL_OK;
}

al_status al_sinks_compute(al_rec *r, const al_sinks_params *p, const al_exec *x, al_sinks_out *out, al_error *e) {
    memset(out, 0, sizeof *out);
    int64_t T = al_resolve_tokens(r, p->tokens, 64, e);
    if (T < 0) return e->status;
    al_sinks_acc *a = al_sinks_acc_new(r, T, p, e);
    if (!a) return e->status;
    al_map_visitor v = al_sinks_visitor(a);
    al_status st = al_stream_maps(r, T, x, &v, 1, e);
    al_sinks_acc_take(a, out);
    return st;
}
