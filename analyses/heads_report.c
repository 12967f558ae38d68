/* The report of `heads`: per-head JSON rows and table, role counts, heatmaps and the role map, and the
 * DuoAttention comparison (gate counts per layer, confusion table against the distant_mass proxy). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/duo.h"
#include "../metrics/roles.h"
#include "../plots/kinds.h"
#include "heads.h"

static const char *const al_role_colors[AL_NROLES] = {"#d62728", "#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#c7c7c7"};

/* JSON number, or null for NaN (a statistic with no rows, e.g. prev of a one-token map) */
static void al_add_num(cJSON *o, const char *k, double v) {
    if (isfinite(v)) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

static al_status al_heads_figures(const al_heads_out *sh, const double *st, const int *role, al_result *res, al_error *e) {
    int64_t L = sh->L, H = sh->H;
    al_plot_opts o1 = {.title = sh->params.clark ? "Attention entropy per head (nats, Clark's smoothing)" : "Attention entropy per head (nats)", .xlabel = "head", .ylabel = "layer", .cblabel = "entropy"};
    al_plot_opts o2 = {.title = "Attention to the first token per head", .xlabel = "head", .ylabel = "layer",
                       .cblabel = "first", .zmin = 0, .zmax = 1};
    al_plot_opts o3 = {.title = "Distant mass per head (outside the sink + recent window)", .xlabel = "head",
                       .ylabel = "layer", .cblabel = "distant_mass", .zmin = 0, .zmax = 1};
    al_plot_opts o4 = {.title = "Head roles", .xlabel = "head", .ylabel = "layer"};
    int bad = al_result_figure(res, al_plot_heatmap("heads_entropy", st + AL_HEAD_ENTROPY * L * H, L, H, &o1));
    bad |= al_result_figure(res, al_plot_heatmap("heads_first", st + AL_HEAD_FIRST * L * H, L, H, &o2));
    bad |= al_result_figure(res, al_plot_heatmap("heads_distant_mass", st + AL_HEAD_DISTANT * L * H, L, H, &o3));
    bad |= al_result_figure(res, al_plot_categories("heads_roles", role, L, H, al_role_names, al_role_colors, AL_NROLES, &o4));
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory building figures") : AL_OK;
}

static al_status al_heads_report(const al_heads_out *a, al_result *res, al_error *e) {
    const al_heads_out *sh = a;
    int64_t L = sh->L, H = sh->H, Hkv = sh->Hkv, T = sh->T, K = sh->K;
    int causal = sh->causal;
    const al_token_classes *cls = sh->cls;
    int64_t ns = AL_HEAD_NSTATS + K;
    double *st = al_malloc((size_t)(ns * L * H), sizeof(double)); /* [ns, L, H] */
    int *role = al_malloc((size_t)(L * H), sizeof(int));            /* [L, H] */
    char cols[2048];
    if (!st || !role) goto oom;
    for (int64_t k = 0; k < ns; k++) al_heads_means(a, (int)k, st + k * L * H);
    int64_t counts[AL_NROLES] = {0};
    for (int64_t i = 0; i < L * H; i++) {
        role[i] = al_head_role(st[AL_HEAD_FIRST * L * H + i], st[AL_HEAD_PREV * L * H + i], st[AL_HEAD_SELF * L * H + i],
                               st[AL_HEAD_DISTANT * L * H + i], st[AL_HEAD_ENTROPY_NORM * L * H + i]);
        counts[role[i]]++;
    }
    cJSON *doc = res->doc;
    cJSON_AddNumberToObject(doc, "tokens", (double)T);
    cJSON *jh = cJSON_AddArrayToObject(doc, "heads");
    int o = snprintf(cols, sizeof cols, "layer,head,kv_head,entropy,entropy_norm,first,self,prev,%sdistance,distant_mass",
                     causal ? "" : "next,");
    for (int64_t k = 0; k < K && o < (int)sizeof cols - 80; k++)
        o += snprintf(cols + o, sizeof cols - (size_t)o, ",class_%s", cls->names[k]);
    snprintf(cols + o, sizeof cols - (size_t)o, ",role");
    al_table *t = al_table_new("heads", "Head profile (means over query rows and samples) and role", cols);
    al_table *tr = al_table_new("heads_roles", "Heads per role", "role,heads");
    if ((al_result_table(res, t, 1) | al_result_table(res, tr, 1)) || !jh) goto oom; /* | : each takes its table */
    static const char *const keys[AL_HEAD_NSTATS] = {"entropy", "entropy_norm", "first",    "self",
                                                     "prev",    "next",         "distance", "distant_mass"};
    for (int64_t l = 0; l < L; l++)
        for (int64_t h = 0; h < H; h++) {
            int64_t i = l * H + h;
            cJSON *jo = cJSON_CreateObject();
            al_json_push(jh, jo);
            cJSON_AddNumberToObject(jo, "layer", (double)l);
            cJSON_AddNumberToObject(jo, "head", (double)h);
            cJSON_AddNumberToObject(jo, "kv_head", (double)(h / (H / Hkv)));
            al_cell *c = al_table_row(t);
            if (!c) goto oom;
            al_cell_int(&c[0], l);
            al_cell_int(&c[1], h);
            al_cell_int(&c[2], h / (H / Hkv));
            int col = 3;
            for (int s = 0; s < AL_HEAD_NSTATS; s++) {
                if (s == AL_HEAD_NEXT && causal) continue;
                al_add_num(jo, keys[s], st[s * L * H + i]);
                al_cell_num(&c[col++], st[s * L * H + i]);
            }
            if (K > 0) {
                cJSON *jc = cJSON_AddObjectToObject(jo, "class_attention");
                for (int64_t k = 0; k < K; k++) {
                    al_add_num(jc, cls->names[k], st[(AL_HEAD_NSTATS + k) * L * H + i]);
                    al_cell_num(&c[col++], st[(AL_HEAD_NSTATS + k) * L * H + i]);
                }
            }
            cJSON_AddStringToObject(jo, "role", al_role_names[role[i]]);
            if (al_cell_str(&c[col], al_role_names[role[i]])) goto oom;
        }
    cJSON *jr = cJSON_AddObjectToObject(doc, "roles");
    for (int k = 0; k < AL_NROLES; k++) {
        cJSON_AddNumberToObject(jr, al_role_names[k], (double)counts[k]);
        al_cell *c = al_table_row(tr);
        if (!c || al_cell_str(&c[0], al_role_names[k])) goto oom;
        al_cell_int(&c[1], counts[k]);
    }
    al_status stt = al_heads_figures(sh, st, role, res, e);
    al_free(st);
    al_free(role);
    return stt;
oom:
    al_free(st);
    al_free(role);
    return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the heads report");
}

al_status al_heads_emit(const al_heads_out *o, al_result *res, al_error *e) {
    al_status st = al_heads_report(o, res, e);
    if (st == AL_OK && o->gates) st = al_heads_duo_report(o, res, e);
    return st;
}
