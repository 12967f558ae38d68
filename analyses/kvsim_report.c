/* The kvsim report: per policy and head the means over samples (DuoAttention's head split made here, once the
 * distant mass over all samples is known), whole-model means over heads, tables and figures. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../plots/kinds.h"
#include "kvsim_acc.h"

static void al_kvsim_set(cJSON *o, const char *key, double x) {
    al_json_add(o, key, isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull());
}

static const char *const al_kv_kind_name[] = {"window", "sink", "h2o", "topk", "coverage", "duo"};

/* Cache budget of a policy in keys (coverage: its target mass), so that policies of equal budget line up. */
static double al_kvsim_budget(const al_kvpolicy *p) {
    switch (p->kind) {
    case AL_KV_WINDOW: return (double)p->w;
    case AL_KV_SINK:
    case AL_KV_DUO: return (double)(p->s + p->w);
    case AL_KV_H2O: return (double)(p->b + p->w);
    case AL_KV_TOPK: return (double)p->k;
    default: return p->g;
    }
}

al_status al_kvsim_report(const al_kvsim_acc *a, al_result *res, al_error *e) {
    int64_t L = a->L, H = a->H, P = a->P, LH = L * H;
    double *head = al_calloc((size_t)(P * LH), AL_KV_STATS * sizeof(double)); /* [P, L, H, STATS] */
    double *whole = al_calloc((size_t)P, AL_KV_STATS * sizeof(double));       /* [P, STATS] */
    double *ret = al_calloc((size_t)(P * LH), sizeof(double));                /* [P, L, H] */
    int64_t *grp = al_calloc((size_t)P, sizeof(int64_t));                     /* [P] */
    const char **titles = al_calloc((size_t)P, sizeof(char *));               /* [P] */
    if (!head || !whole || !ret || !grp || !titles) goto oom;
    for (int q = 0; q < P; q++) {
        for (int64_t l = 0; l < L; l++)
            for (int64_t h = 0; h < H; h++) {
                int var = al_kvsim_variant(a, q, l, h);
                const double *s = a->sum + (((q * 2 + var) * L + l) * H + h) * AL_KV_STATS;
                double *d = head + ((q * L + l) * H + h) * AL_KV_STATS;
                for (int k = 0; k < AL_KV_STATS; k++) {
                    d[k] = s[k] / (double)a->N;
                    whole[q * AL_KV_STATS + k] += d[k] / (double)LH;
                }
                ret[(q * L + l) * H + h] = d[0];
            }
        grp[q] = a->pol[q].kind;
        titles[q] = a->names[q];
    }

    cJSON *doc = res->doc;
    al_json_add(doc, "tokens", cJSON_CreateNumber((double)a->T));
    cJSON *jp = cJSON_AddArrayToObject(doc, "policies");
    if (!jp) goto oom;
    al_table *tp = al_table_new("kvsim_policies", "KV-cache policies: means over rows, samples and heads",
                                "policy,kind,budget,retained,kept_fraction,output_error");
    al_table *th = al_table_new("kvsim_heads", "KV-cache policies per head (means over rows and samples)",
                                "policy,layer,head,retained,kept_fraction,output_error");
    if (al_result_table(res, tp, 1) | al_result_table(res, th, 0)) goto oom; /* | : each takes its table */
    for (int q = 0; q < P; q++) {
        const double *w = whole + q * AL_KV_STATS;
        cJSON *o = cJSON_CreateObject();
        al_json_push(jp, o);
        al_json_add(o, "policy", cJSON_CreateString(a->names[q]));
        al_kvsim_set(o, "retained", w[0]);
        al_kvsim_set(o, "kept_fraction", w[1]);
        if (a->has_v) al_kvsim_set(o, "output_error", w[2]);
        al_cell *c = al_table_row(tp);
        if (!c || al_cell_str(&c[0], a->names[q])) goto oom;
        const al_kvpolicy *pq = &a->pol[q];
        if (al_cell_str(&c[1], al_kv_kind_name[pq->kind])) goto oom;
        al_cell_num(&c[2], al_kvsim_budget(pq));
        al_cell_num(&c[3], w[0]);
        al_cell_num(&c[4], w[1]);
        al_cell_num(&c[5], a->has_v ? w[2] : NAN);
        cJSON *jh = cJSON_AddArrayToObject(o, "heads");
        if (!jh) goto oom;
        for (int64_t l = 0; l < L; l++)
            for (int64_t h = 0; h < H; h++) {
                const double *d = head + ((q * L + l) * H + h) * AL_KV_STATS;
                cJSON *oh = cJSON_CreateObject();
                al_json_push(jh, oh);
                cJSON_AddNumberToObject(oh, "layer", (double)l);
                cJSON_AddNumberToObject(oh, "head", (double)h);
                al_kvsim_set(oh, "retained", d[0]);
                al_kvsim_set(oh, "kept_fraction", d[1]);
                if (a->has_v) al_kvsim_set(oh, "output_error", d[2]);
                al_cell *ch = al_table_row(th);
                if (!ch || al_cell_str(&ch[0], a->names[q])) goto oom;
                al_cell_int(&ch[1], l);
                al_cell_int(&ch[2], h);
                al_cell_num(&ch[3], d[0]);
                al_cell_num(&ch[4], d[1]);
                al_cell_num(&ch[5], a->has_v ? d[2] : NAN);
            }
    }

    /* figures: the trade-off (one point per policy and budget), and where each policy loses mass */
    double *x = al_calloc((size_t)P, sizeof(double)), *y = al_calloc((size_t)P, sizeof(double));
    if (!x || !y) {
        al_free(x);
        al_free(y);
        goto oom;
    }
    for (int q = 0; q < P; q++) x[q] = whole[q * AL_KV_STATS + 1], y[q] = whole[q * AL_KV_STATS];
    char title[256];
    snprintf(title, sizeof title, "Retained attention mass against kept fraction of the KV cache (T = %lld)", (long long)a->T);
    al_plot_opts so = {.title = title, .xlabel = "kept fraction", .ylabel = "retained mass", .zmin = 0, .zmax = 1};
    int bad = al_result_figure(res, al_plot_scatter("kvsim_tradeoff", x, y, grp, P, (const char *const *)titles, "kind: 0 window, 1 sink, 2 h2o, 3 topk, 4 coverage, 5 duo", &so));
    al_free(x);
    al_free(y);
    al_plot_opts po = {.title = "Retained mass per head", .xlabel = "head", .ylabel = "layer", .cblabel = "retained", .zmin = 0, .zmax = 1};
    if (!bad) bad = al_result_figure(res, al_plot_panels("kvsim_retained", ret, P, L, H, titles, NULL, NULL, &po));
    if (bad) goto oom;
    al_free(head), al_free(whole), al_free(ret), al_free(grp), al_free(titles);
    return AL_OK;
oom:
    al_free(head), al_free(whole), al_free(ret), al_free(grp), al_free(titles);
    return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the kvsim report");
}
