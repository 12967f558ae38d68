/* Attention drift: two streaming passes reduce every (sample, layer, head) to the mean distribution of its query
 * rows over key groups; recordings of different lengths meet through their span names. */
#include "drift.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../datasets/spans.h"
#include "../metrics/drift.h"

void al_drift_defaults(al_drift_params *p) {
    p->query_span = "response";
    p->target_span = "system";
    p->query_given = p->target_given = 0;
    p->top_percent = 10;
}

/* ws: [G] sums over this head's query rows seen so far */
static void al_drift_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                           int64_t nrows) {
    const al_drift_pass *p = ctx;
    double *acc = ws;
    int64_t q0 = p->qrows[2 * hd->n], q1 = p->qrows[2 * hd->n + 1];
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = row0 + r;
        if (i < q0 || i >= q1) continue;
        const float *a = A + r * lda;
        int64_t vis = hd->causal ? i + 1 : hd->T; /* the sample's own keys */
        if (p->span) {
            al_span_masses_row(a, vis, p->span + hd->n * p->S * 2, p->S, p->inside + hd->n * p->T, acc);
        } else {
            for (int64_t j = 0; j < vis; j++) acc[j] += (double)a[j];
        }
    }
}

static void al_drift_done(void *ctx, const al_head_id *hd, void *ws) {
    al_drift_pass *p = ctx;
    const double *acc = ws;
    double nq = (double)(p->qrows[2 * hd->n + 1] - p->qrows[2 * hd->n]);
    double *d = p->dist + ((hd->n * p->L + hd->l) * p->H + hd->h) * p->G;
    for (int64_t g = 0; g < p->G; g++) d[g] = acc[g] / nq;
}

al_map_visitor al_drift_visitor(al_drift_pass *p) {
    al_map_visitor v = {p, sizeof(double) * (size_t)p->G, NULL, al_drift_block, al_drift_done};
    return v;
}

/* Query rows per sample and the analysed length; spans [N, S, 2] in group order (NULL: per-key mode). */
static al_status al_drift_rows(al_rec *r, const int32_t *span, int64_t S, int qspan, int64_t *qrows, int64_t *T, al_error *e) {
    int64_t need = 0;
    for (int64_t n = 0; n < r->N; n++) {
        int64_t q0 = r->lengths[n] - 1, q1 = r->lengths[n]; /* default: the last token */
        if (span && qspan >= 0 && span[(n * S + qspan) * 2] >= 0) {
            q0 = span[(n * S + qspan) * 2];
            q1 = span[(n * S + qspan) * 2 + 1];
            if (q1 == q0)
                return al_fail(e, AL_EVALUE, r->path, "spans", "sample %lld: the query span '%s' is empty", (long long)n,
                               r->span_names[qspan]);
        }
        qrows[2 * n] = q0;
        qrows[2 * n + 1] = q1;
        need = q1 > need ? q1 : need;
    }
    /* causal: rows beyond the last query row are not needed (their keys are not visible to it); each sample is
     * streamed over its own valid tokens only, and its query rows lie within them */
    *T = r->causal ? need : r->T;
    return AL_OK;
}

typedef struct {
    int64_t *qrows;  /* [N, 2] */
    int32_t *span;   /* [N, S, 2] in group order */
    uint8_t *inside; /* [N, T] */
    int64_t T;
} al_drift_side;

static void al_drift_side_free(al_drift_side *s) {
    al_free(s->qrows);
    al_free(s->span);
    al_free(s->inside);
}

/* Loads and orders one recording's spans by the group names (taken from the baseline), finds its query rows. */
static al_status al_drift_side_load(al_rec *r, const al_rec *base, int spans, int qspan_base, al_drift_side *s, al_error *e) {
    memset(s, 0, sizeof *s);
    int64_t N = r->N, S = spans ? base->n_spans : 0;
    s->qrows = al_malloc((size_t)N * 2, sizeof(int64_t));
    if (!s->qrows) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    if (!spans) return al_drift_rows(r, NULL, 0, -1, s->qrows, &s->T, e);
    int32_t *raw = NULL;
    if (al_spans_load(r, &raw, e) != AL_OK) return e->status;
    s->span = al_malloc((size_t)(N * S * 2), sizeof(int32_t));
    if (!s->span) {
        al_free(raw);
        return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    }
    for (int64_t g = 0; g < S; g++) {
        int k = al_span_index(r, base->span_names[g]);
        for (int64_t n = 0; n < N; n++) {
            s->span[(n * S + g) * 2] = raw[(n * r->n_spans + k) * 2];
            s->span[(n * S + g) * 2 + 1] = raw[(n * r->n_spans + k) * 2 + 1];
        }
    }
    al_free(raw);
    if (al_drift_rows(r, s->span, S, qspan_base, s->qrows, &s->T, e) != AL_OK) return e->status;
    s->inside = al_calloc((size_t)N, (size_t)s->T);
    if (!s->inside) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < S; g++) {
            int64_t a = s->span[(n * S + g) * 2], b = s->span[(n * S + g) * 2 + 1];
            for (int64_t j = a < 0 ? 0 : a; a >= 0 && j < b && j < s->T; j++) s->inside[n * s->T + j] = 1;
        }
    return AL_OK;
}

/* Both recordings must come from one model, hold paired samples, and either both name the same spans or
 * neither has spans and both have one length. */
static al_status al_drift_check(const al_rec *b, const al_rec *c, const al_drift_params *p, int *spans, al_error *e) {
    if (b->L != c->L || b->H != c->H || b->H_kv != c->H_kv)
        return al_fail(e, AL_ESHAPE, c->path, NULL,
                       "the recordings come from models of different shape: baseline %s has %lld layers x %lld heads "
                       "(%lld KV heads), this one %lld x %lld (%lld)",
                       b->path, (long long)b->L, (long long)b->H, (long long)b->H_kv, (long long)c->L, (long long)c->H,
                       (long long)c->H_kv);
    if (b->N != c->N)
        return al_fail(e, AL_ESHAPE, c->path, NULL, "%lld samples, but the baseline has %lld (samples are compared in pairs)",
                       (long long)c->N, (long long)b->N);
    if (b->has_spans != c->has_spans)
        return al_fail(e, AL_EFORMAT, b->has_spans ? c->path : b->path, "spans",
                       "no /spans, but the other recording has them: both need named spans (or neither, with equal lengths)");
    *spans = b->has_spans;
    if (!*spans) {
        if (b->T != c->T)
            return al_fail(e, AL_EFORMAT, c->path, "spans",
                           "the recordings have different lengths (%lld and %lld tokens) and no /spans to align them",
                           (long long)b->T, (long long)c->T);
        if (p->query_given || p->target_given)
            return al_fail(e, AL_EUSAGE, p->query_given ? "--query-span" : "--target-span", NULL,
                           "the recordings have no /spans (keys are compared one by one, target key 0)");
        return AL_OK;
    }
    for (int k = 0; k < b->n_spans; k++)
        if (al_span_index(c, b->span_names[k]) < 0)
            return al_fail(e, AL_EFORMAT, c->path, "spans", "no span named '%s', which the baseline has (span names must match)",
                           b->span_names[k]);
    if (b->n_spans != c->n_spans)
        return al_fail(e, AL_EFORMAT, c->path, "spans", "%d spans, the baseline %d (span names must match)", c->n_spans, b->n_spans);
    if (al_span_index(b, p->target_span) < 0)
        return al_fail(e, AL_EUSAGE, b->path, "spans", "no span named '%s' (--target-span)", p->target_span);
    if (p->query_given && al_span_index(b, p->query_span) < 0)
        return al_fail(e, AL_EUSAGE, b->path, "spans", "no span named '%s' (--query-span)", p->query_span);
    return AL_OK;
}

al_status al_drift_run(al_rec *base, al_rec *conf, const al_drift_params *p, const al_exec *x, al_result *res, al_error *e) {
    int spans = 0;
    if (al_drift_check(base, conf, p, &spans, e) != AL_OK) return e->status;
    int qspan = spans ? al_span_index(base, p->query_span) : -1;
    int64_t N = base->N, L = base->L, H = base->H, S = spans ? base->n_spans : 0, G = spans ? S + 1 : base->T;
    int64_t target = spans ? al_span_index(base, p->target_span) : 0;
    al_drift_side sb, sc;
    memset(&sc, 0, sizeof sc);
    double *dist = NULL;
    const char **names = NULL;
    char(*keyname)[24] = NULL;
    al_status st = al_drift_side_load(base, base, spans, qspan, &sb, e);
    if (st == AL_OK) st = al_drift_side_load(conf, base, spans, qspan, &sc, e);
    if (st == AL_OK && !spans) sb.T = sc.T = base->T; /* per-key groups need every key of both */
    if (st == AL_OK) {
        dist = al_malloc((size_t)(2 * N * L * H), (size_t)G * sizeof(double)); /* [2, N, L, H, G] */
        names = al_malloc((size_t)G, sizeof(char *));
        keyname = spans ? NULL : al_malloc((size_t)G, sizeof *keyname);
        if (!dist || !names || (!spans && !keyname)) st = al_fail(e, AL_ENOMEM, base->path, NULL, "out of memory for span masses");
    }
    for (int side = 0; st == AL_OK && side < 2; side++) {
        al_rec *r = side ? conf : base;
        al_drift_side *s = side ? &sc : &sb;
        al_drift_pass pass = {N, L, H, s->T, G, S, s->span, s->inside, s->qrows, dist + side * N * L * H * G};
        al_map_visitor v = al_drift_visitor(&pass);
        st = al_stream_maps(r, s->T, x, &v, 1, e);
    }
    if (st == AL_OK) {
        for (int64_t g = 0; g < G; g++) {
            if (spans) names[g] = g < S ? base->span_names[g] : "other";
            else {
                snprintf(keyname[g], sizeof keyname[g], "key %lld", (long long)g);
                names[g] = keyname[g];
            }
        }
        al_result_param(res, "query-span", spans && qspan >= 0 ? cJSON_CreateString(p->query_span) : cJSON_CreateString("(last token)"));
        al_result_param(res, "target-span", spans ? cJSON_CreateString(p->target_span) : cJSON_CreateString("(key 0)"));
        st = al_drift_report(dist, dist + N * L * H * G, N, L, H, G, target, names, p, res, e);
    }
    al_drift_side_free(&sb);
    al_drift_side_free(&sc);
    al_free(dist);
    al_free((void *)names);
    al_free(keyname);
    return st;
}
