/* Head profiles over a whole recording. Each head's block rows feed one fused kernel into its workspace;
 * at the end of the head the sums become per-sample means, added in the engine's fixed order. */
#include "heads.h"

#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/headstats.h"

struct al_heads_acc {
    al_heads_params p;
    int64_t N, L, H, Hkv, T, K, S; /* S = AL_HS_COUNT + K slots per head */
    int causal;
    const al_token_classes *cls;
    double *sum; /* [L, H, S] sum over samples of the per-sample means */
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
    al_free(a->sum);
    al_free(a);
}

al_heads_acc *al_heads_acc_new(const al_rec *r, int64_t T, const al_heads_params *p, const al_token_classes *cls, al_error *e) {
    al_heads_acc *a = al_calloc(1, sizeof *a);
    if (!a) goto oom;
    a->p = *p;
    a->N = r->N;
    a->L = r->L;
    a->H = r->H;
    a->Hkv = r->H_kv;
    a->T = T;
    a->cls = cls && cls->K > 0 ? cls : NULL;
    a->K = a->cls ? cls->K : 0;
    a->S = AL_HS_COUNT + a->K;
    a->causal = r->causal;
    a->sum = al_calloc((size_t)(r->L * r->H * a->S), sizeof(double));
    if (!a->sum) goto oom;
    return a;
oom:
    al_heads_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for head statistics");
    return NULL;
}

/* ws: [S] doubles, the row sums of al_headstats_rows */
static void al_heads_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                           int64_t nrows) {
    const al_heads_acc *a = ctx;
    al_rowstat_cfg c = {a->T, hd->causal, a->p.sink_tokens, a->p.recent, a->p.clark, a->K,
                        a->cls ? a->cls->member + hd->n * a->K * a->T : NULL};
    al_headstats_rows(A, nrows, lda, row0, &c, (double *)ws);
}

static void al_heads_done(void *ctx, const al_head_id *hd, void *ws) {
    al_heads_acc *a = ctx;
    const double *s = ws;
    double *o = a->sum + (hd->l * a->H + hd->h) * a->S;
    double T = (double)a->T;
    o[AL_HS_ENTROPY] += s[AL_HS_ENTROPY] / T;
    o[AL_HS_ENTROPY_NORM] += s[AL_HS_NORM_ROWS] > 0 ? s[AL_HS_ENTROPY_NORM] / s[AL_HS_NORM_ROWS] : NAN;
    o[AL_HS_CLARK] += s[AL_HS_CLARK] / T;
    o[AL_HS_FIRST] += s[AL_HS_FIRST] / T;
    o[AL_HS_SELF] += s[AL_HS_SELF] / T;
    o[AL_HS_PREV] += a->T > 1 ? s[AL_HS_PREV] / (T - 1) : NAN;
    o[AL_HS_NEXT] += a->T > 1 && !hd->causal ? s[AL_HS_NEXT] / (T - 1) : NAN;
    o[AL_HS_DISTANCE] += s[AL_HS_DISTANCE] / T;
    o[AL_HS_DISTANT] += s[AL_HS_DISTANT] / T;
    for (int64_t k = 0; k < a->K; k++) o[AL_HS_COUNT + k] += s[AL_HS_COUNT + k] / T;
}

/* GPU path (--device cuda): the engine hands over the head's row sums in the same slot layout */
static void al_heads_summary(void *ctx, const al_head_id *hd, void *ws, const double *colsum, const double *hs) {
    (void)ctx, (void)hd, (void)colsum;
    memcpy(ws, hs, sizeof(double) * AL_HS_COUNT);
}

al_map_visitor al_heads_visitor(al_heads_acc *a) {
    al_map_visitor v = {a, sizeof(double) * (size_t)a->S, NULL, al_heads_block, al_heads_done};
    v.head_summary = al_heads_summary;
    v.needs_clark = a->p.clark;
    v.needs_classes = a->K > 0;
    v.needs_window = 1;
    v.sink_tokens = a->p.sink_tokens;
    v.recent = a->p.recent;
    return v;
}

al_heads_shape al_heads_acc_shape(const al_heads_acc *a) {
    al_heads_shape s = {a->N, a->L, a->H, a->Hkv, a->T, a->K, a->causal, a->p.clark, a->cls};
    return s;
}

void al_heads_means(const al_heads_acc *a, int stat, double *out) {
    static const int slot[AL_HEAD_NSTATS] = {AL_HS_ENTROPY, AL_HS_ENTROPY_NORM, AL_HS_FIRST, AL_HS_SELF,
                                             AL_HS_PREV,    AL_HS_NEXT,         AL_HS_DISTANCE, AL_HS_DISTANT};
    int k = stat < AL_HEAD_NSTATS ? slot[stat] : AL_HS_COUNT + (stat - AL_HEAD_NSTATS);
    if (stat == AL_HEAD_ENTROPY && a->p.clark) k = AL_HS_CLARK;
    for (int64_t i = 0; i < a->L * a->H; i++) out[i] = a->sum[i * a->S + k] / (double)a->N;
}

al_status al_heads_run(al_rec *r, const al_heads_params *p, const al_exec *x, al_result *res, al_error *e) {
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) return e->status;
    al_gates g = {0};
    al_token_classes cls = {0};
    al_heads_acc *a = NULL;
    al_status st = AL_OK;
    if (p->duo_gates) {
        if ((st = al_gates_read(p->duo_gates, &g, e)) != AL_OK) return st;
        if ((st = al_gates_check_shape(&g, p->duo_gates, r->L, r->H_kv, r->path, e)) != AL_OK) goto done;
    }
    if ((st = al_token_classes_load(r, T, &p->class_ids, &p->class_masks, &cls, e)) != AL_OK) goto done;
    if (!(a = al_heads_acc_new(r, T, p, &cls, e))) {
        st = e->status;
        goto done;
    }
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    al_map_visitor v = al_heads_visitor(a);
    if ((st = al_stream_maps(r, T, x, &v, 1, e)) != AL_OK) goto done;
    if ((st = al_heads_report(a, res, e)) != AL_OK) goto done;
    if (p->duo_gates) st = al_heads_duo_report(a, &g, p, res, e);
done:
    al_heads_acc_free(a);
    al_token_classes_free(&cls);
    al_gates_free(&g);
    return st;
}
