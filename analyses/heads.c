/* Head profiles over a whole recording. Each head's block rows feed one fused kernel into its workspace;
 * at the end of the head the sums become per-sample means, added in the engine's fixed order. */
#include "heads.h"

#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/headstats.h"

struct al_heads_acc {
    al_heads_out o; /* o.cls borrowed, o.gates NULL */
};

void al_heads_defaults(al_heads_params *p) {
    memset(p, 0, sizeof *p);
    p->tokens = 0;
    p->sink_tokens = 4;
    p->recent = 64;
    p->threshold = 0.5;
    p->sparsity = -1;
}

void al_heads_acc_free(al_heads_acc *a) {
    if (!a) return;
    al_free(a->o.sum);
    al_free(a);
}

const al_heads_out *al_heads_acc_out(const al_heads_acc *a) {
    return &a->o;
}

void al_heads_acc_take(al_heads_acc *a, al_heads_out *out) {
    *out = a->o;
    out->cls = NULL;
    a->o.sum = NULL;
    al_heads_acc_free(a);
}

void al_heads_out_free(al_heads_out *o) {
    if (o->cls) al_token_classes_free(o->cls);
    if (o->gates) al_gates_free(o->gates);
    al_free(o->cls);
    al_free(o->gates);
    al_free(o->sum);
    memset(o, 0, sizeof *o);
}

al_heads_acc *al_heads_acc_new(const al_rec *r, int64_t T, const al_heads_params *p, const al_token_classes *cls,
                               al_error *e) {
    al_heads_acc *a = al_calloc(1, sizeof *a);
    if (!a) goto oom;
    al_heads_out *o = &a->o;
    o->params = *p;
    o->params.tokens = T;
    o->N = r->N;
    o->L = r->L;
    o->H = r->H;
    o->Hkv = r->H_kv;
    o->T = T;
    o->cls = cls && cls->K > 0 ? (al_token_classes *)cls : NULL;
    o->K = o->cls ? cls->K : 0;
    o->S = AL_HS_COUNT + o->K;
    o->causal = r->causal;
    o->sum = al_calloc((size_t)(r->L * r->H * o->S), sizeof(double));
    if (!o->sum) goto oom;
    return a;
oom:
    al_heads_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for head statistics");
    return NULL;
}

/* ws: [S] doubles, the row sums of al_headstats_rows */
static void al_heads_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                           int64_t nrows) {
    const al_heads_out *o = &((const al_heads_acc *)ctx)->o;
    /* the sample's own tokens: Clark's smoothing spreads over its hd->T keys; class masks keep the window's stride */
    al_rowstat_cfg c = {hd->T,
                        hd->causal,
                        o->params.sink_tokens,
                        o->params.recent,
                        o->params.clark,
                        o->K,
                        o->cls ? o->cls->member + hd->n * o->K * o->T : NULL,
                        o->T,
                        hd->row_entropy};
    al_headstats_rows(A, nrows, lda, row0, &c, (double *)ws);
}

static void al_heads_done(void *ctx, const al_head_id *hd, void *ws) {
    const al_heads_out *a = &((al_heads_acc *)ctx)->o;
    const double *s = ws;
    double *o = a->sum + (hd->l * a->H + hd->h) * a->S;
    double T = (double)hd->T; /* per-sample means over the sample's own rows, then the mean over samples */
    o[AL_HS_ENTROPY] += s[AL_HS_ENTROPY] / T;
    o[AL_HS_ENTROPY_NORM] += s[AL_HS_NORM_ROWS] > 0 ? s[AL_HS_ENTROPY_NORM] / s[AL_HS_NORM_ROWS] : NAN;
    o[AL_HS_CLARK] += s[AL_HS_CLARK] / T;
    o[AL_HS_FIRST] += s[AL_HS_FIRST] / T;
    o[AL_HS_SELF] += s[AL_HS_SELF] / T;
    o[AL_HS_PREV] += hd->T > 1 ? s[AL_HS_PREV] / (T - 1) : NAN;
    o[AL_HS_NEXT] += hd->T > 1 && !hd->causal ? s[AL_HS_NEXT] / (T - 1) : NAN;
    o[AL_HS_DISTANCE] += s[AL_HS_DISTANCE] / T;
    o[AL_HS_DISTANT] += s[AL_HS_DISTANT] / T;
    for (int64_t k = 0; k < a->K; k++)
        o[AL_HS_COUNT + k] += s[AL_HS_COUNT + k] / T;
}

/* GPU path (--device cuda): the engine hands over the head's row sums in the same slot layout */
static void al_heads_summary(void *ctx, const al_head_id *hd, void *ws, const double *colsum, const double *hs) {
    (void)ctx, (void)hd, (void)colsum;
    memcpy(ws, hs, sizeof(double) * AL_HS_COUNT);
}

al_map_visitor al_heads_visitor(al_heads_acc *a) {
    const al_heads_out *o = &a->o;
    al_map_visitor v = {a, sizeof(double) * (size_t)o->S, NULL, al_heads_block, al_heads_done};
    v.head_summary = al_heads_summary;
    v.needs_clark = o->params.clark;
    v.needs_classes = o->K > 0;
    v.needs_window = 1;
    v.sink_tokens = o->params.sink_tokens;
    v.recent = o->params.recent;
    return v;
}

void al_heads_means(const al_heads_out *a, int stat, double *out) {
    static const int slot[AL_HEAD_NSTATS] = {AL_HS_ENTROPY, AL_HS_ENTROPY_NORM, AL_HS_FIRST,    AL_HS_SELF,
                                             AL_HS_PREV,    AL_HS_NEXT,         AL_HS_DISTANCE, AL_HS_DISTANT};
    int k = stat < AL_HEAD_NSTATS ? slot[stat] : AL_HS_COUNT + (stat - AL_HEAD_NSTATS);
    if (stat == AL_HEAD_ENTROPY && a->params.clark) k = AL_HS_CLARK;
    for (int64_t i = 0; i < a->L * a->H; i++)
        out[i] = a->sum[i * a->S + k] / (double)a->N;
}

/* out->gates and out->cls: read from the gate file and the recording, owned by out */
static al_status al_heads_inputs(al_rec *r, const al_heads_params *p, int64_t T, al_heads_out *out, al_error *e) {
    out->gates = p->duo_gates ? al_calloc(1, sizeof(al_gates)) : NULL;
    out->cls = al_calloc(1, sizeof(al_token_classes));
    if (!out->cls || (p->duo_gates && !out->gates))
        return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for head statistics");
    al_status st = AL_OK;
    if (p->duo_gates && (st = al_gates_read(p->duo_gates, out->gates, e)) == AL_OK)
        st = al_gates_check_shape(out->gates, p->duo_gates, r->L, r->H_kv, r->path, e);
    if (st == AL_OK) st = al_token_classes_load(r, T, &p->class_ids, &p->class_masks, out->cls, e);
    return st;
}

al_status al_heads_compute(al_rec *r, const al_heads_params *p, const al_exec *x, al_heads_out *out, al_error *e) {
    memset(out, 0, sizeof *out);
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) return e->status;
    al_status st = al_heads_inputs(r, p, T, out, e);
    al_heads_acc *a = st == AL_OK ? al_heads_acc_new(r, T, p, out->cls, e) : NULL;
    if (st == AL_OK && !a) st = e->status;
    if (st == AL_OK) {
        al_map_visitor v = al_heads_visitor(a);
        st = al_stream_maps(r, T, x, &v, 1, e);
    }
    al_token_classes *cls = out->cls;
    al_gates *g = out->gates;
    if (a) al_heads_acc_take(a, out); /* the statistics move to out, which keeps the classes and gates it owns */
    out->gates = g;
    out->cls = out->K > 0 ? cls : NULL;
    if (cls && !out->cls) {
        al_token_classes_free(cls);
        al_free(cls);
    }
    return st;
}
