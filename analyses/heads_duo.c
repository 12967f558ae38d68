/* DuoAttention gates against the head profile: which KV heads the published gates call retrieval heads,
 * per layer, and how often the distant_mass proxy (mean over a KV head's query heads) agrees. */
#include <stdio.h>

#include "../core/alloc.h"
#include "../metrics/duo.h"
#include "../metrics/roles.h"
#include "../plots/kinds.h"
#include "heads.h"

al_status al_heads_duo_report(const al_heads_out *a, al_result *res, al_error *e) {
    const al_gates *g = a->gates;
    const al_heads_params *p = &a->params;
    int64_t L = a->L, H = a->H, Hkv = a->Hkv, n = L * Hkv;
    double *dm = al_malloc((size_t)(L * H), sizeof(double));   /* [L, H] distant_mass */
    double *srt = al_malloc((size_t)n, sizeof(double));        /* [L * Hkv] sorted gates */
    uint8_t *proxy = al_malloc((size_t)n, 1);                  /* [L, Hkv] */
    int64_t *per = al_malloc((size_t)(2 * L), sizeof(int64_t)); /* [2, L]: gate, proxy counts */
    int *cat = al_malloc((size_t)n, sizeof(int));              /* [L, Hkv] agreement category */
    if (!dm || !srt || !proxy || !per || !cat) goto oom;
    al_heads_means(a, AL_HEAD_DISTANT, dm);
    double thr = p->sparsity >= 0 ? al_quantile_linear(g->g, n, p->sparsity, srt) : p->threshold;
    int64_t total = al_duo_count(g->g, L, Hkv, thr, per);
    al_duo_proxy(dm, L, H, Hkv, AL_ROLE_RETRIEVAL_MIN, proxy);
    al_confusion cf = al_duo_confusion(g->g, proxy, n, thr);
    int64_t nproxy = 0;
    for (int64_t l = 0; l < L; l++) {
        per[L + l] = 0;
        for (int64_t k = 0; k < Hkv; k++) per[L + l] += proxy[l * Hkv + k];
        nproxy += per[L + l];
    }
    for (int64_t i = 0; i < n; i++) {
        int gt = g->g[i] >= thr, px = proxy[i] != 0;
        cat[i] = gt && px ? 0 : gt ? 1 : px ? 2 : 3;
    }

    cJSON *duo = cJSON_AddObjectToObject(res->doc, "duo");
    if (!duo) goto oom;
    cJSON_AddStringToObject(duo, "gates", p->duo_gates);
    cJSON_AddNumberToObject(duo, "threshold", thr);
    if (p->sparsity >= 0) cJSON_AddNumberToObject(duo, "sparsity", p->sparsity);
    cJSON_AddNumberToObject(duo, "retrieval_kv_heads", (double)total);
    cJSON *pl = cJSON_AddArrayToObject(duo, "per_layer");
    for (int64_t l = 0; pl && l < L; l++) al_json_push(pl, cJSON_CreateNumber((double)per[l]));
    cJSON_AddNumberToObject(duo, "proxy_retrieval_kv_heads", (double)nproxy);
    cJSON_AddNumberToObject(duo, "proxy_threshold", AL_ROLE_RETRIEVAL_MIN);
    cJSON *cj = cJSON_AddObjectToObject(duo, "confusion");
    if (!pl || !cj) goto oom;
    cJSON_AddNumberToObject(cj, "both", (double)cf.both);
    cJSON_AddNumberToObject(cj, "gate_only", (double)cf.gate_only);
    cJSON_AddNumberToObject(cj, "proxy_only", (double)cf.proxy_only);
    cJSON_AddNumberToObject(cj, "neither", (double)cf.neither);

    al_table *tl = al_table_new("duo_layers", "DuoAttention retrieval KV heads per layer: gates vs distant_mass proxy",
                                "layer,retrieval_kv_heads,proxy_kv_heads");
    al_table *tc = al_table_new("duo_confusion", "Gates vs distant_mass proxy over KV heads", "gate,proxy_retrieval,proxy_streaming");
    if (al_result_table(res, tl, 1) | al_result_table(res, tc, 1)) goto oom; /* | : each takes its table */
    for (int64_t l = 0; l < L; l++) {
        al_cell *c = al_table_row(tl);
        if (!c) goto oom;
        al_cell_int(&c[0], l);
        al_cell_int(&c[1], per[l]);
        al_cell_int(&c[2], per[L + l]);
    }
    al_cell *c = al_table_row(tc);
    if (!c || al_cell_str(&c[0], "retrieval")) goto oom;
    al_cell_int(&c[1], cf.both);
    al_cell_int(&c[2], cf.gate_only);
    if (!(c = al_table_row(tc)) || al_cell_str(&c[0], "streaming")) goto oom;
    al_cell_int(&c[1], cf.proxy_only);
    al_cell_int(&c[2], cf.neither);

    static const char *const names[4] = {"both retrieval", "gate only", "proxy only", "both streaming"};
    static const char *const colors[4] = {"#2ca02c", "#1f77b4", "#ff7f0e", "#e0e0e0"};
    char title[256];
    snprintf(title, sizeof title, "DuoAttention gates (>= %.4g) vs distant_mass proxy (>= %.2f)", thr, AL_ROLE_RETRIEVAL_MIN);
    al_plot_opts o = {.title = title, .xlabel = "KV head", .ylabel = "layer"};
    if (al_result_figure(res, al_plot_categories("duo_agreement", cat, L, Hkv, names, colors, 4, &o))) goto oom;
    al_free(dm);
    al_free(srt);
    al_free(proxy);
    al_free(per);
    al_free(cat);
    return AL_OK;
oom:
    al_free(dm);
    al_free(srt);
    al_free(proxy);
    al_free(per);
    al_free(cat);
    return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while comparing DuoAttention gates");
}
