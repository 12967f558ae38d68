/* The report of `drift`: components averaged over samples, z-scored scores, focal heads and layers, and the
 * figures (score heatmap; span masses of the focal heads in both recordings). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/drift.h"
#include "../plots/kinds.h"
#include "drift.h"

#define AL_DRIFT_PLOT_HEADS 6 /* focal heads drawn in the span-mass figure */

static al_status al_drift_figures(const double *p, const double *q, int64_t N, int64_t L, int64_t H, int64_t G,
                                  const char *const *names, const double *score, const int64_t *focal, int64_t k,
                                  al_result *res, al_error *e) {
    al_plot_opts hs = {.title = "Attention drift score per head (mean z of magnitude, direction, reshaping)",
                       .xlabel = "head", .ylabel = "layer", .cblabel = "score"};
    int bad = al_result_figure(res, al_plot_heatmap("drift_score", score, L, H, &hs));
    int64_t m = k < AL_DRIFT_PLOT_HEADS ? k : AL_DRIFT_PLOT_HEADS;
    double *Y = al_calloc((size_t)(2 * m * G), sizeof(double)); /* [2m, G] mean over samples */
    char(*lab)[48] = al_malloc((size_t)(2 * m), sizeof *lab);
    const char **labs = al_malloc((size_t)(2 * m), sizeof(char *));
    double *x = al_malloc((size_t)G, sizeof(double));
    if (!Y || !lab || !labs || !x) bad = 1;
    for (int64_t f = 0; !bad && f < m; f++) {
        int64_t l = focal[f] / H, h = focal[f] % H;
        for (int side = 0; side < 2; side++) {
            const double *d = side ? q : p;
            double *y = Y + (2 * f + side) * G;
            for (int64_t n = 0; n < N; n++)
                for (int64_t g = 0; g < G; g++) y[g] += d[((n * L + l) * H + h) * G + g] / (double)N;
            snprintf(lab[2 * f + side], sizeof lab[0], "L%lldH%lld %s", (long long)l, (long long)h, side ? "conflict" : "baseline");
            labs[2 * f + side] = lab[2 * f + side];
        }
    }
    al_plot_opts bo = {.title = "Span masses of the focal heads (query rows, mean over samples)", .xlabel = "key group",
                       .ylabel = "attention mass", .zmin = 0, .zmax = 1};
    if (!bad && G <= 64) {
        bad = al_result_figure(res, al_plot_bars("drift_focal_spans", Y, 2 * m, G, labs, names, &bo));
    } else if (!bad) {
        for (int64_t g = 0; g < G; g++) x[g] = (double)g;
        bo.title = "Attention of the last token per key, focal heads (mean over samples)";
        bo.xlabel = "key";
        bad = al_result_figure(res, al_plot_lines("drift_focal_spans", x, Y, 2 * m, G, labs, 0, &bo));
    }
    al_free(Y);
    al_free(lab);
    al_free((void *)labs);
    al_free(x);
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory building drift figures") : AL_OK;
}

al_status al_drift_report(const double *p, const double *q, int64_t N, int64_t L, int64_t H, int64_t G, int64_t target,
                          const char *const *names, const al_drift_params *prm, al_result *res, al_error *e) {
    int64_t nh = L * H;
    double *comp = al_calloc((size_t)(3 * nh), sizeof(double)); /* [3, L, H] */
    double *score = al_malloc((size_t)nh, sizeof(double));      /* [L, H] */
    int64_t *rank = al_malloc((size_t)nh, sizeof(int64_t));     /* [L * H] */
    al_rank_key *work = al_malloc((size_t)(nh > L ? nh : L), sizeof(al_rank_key));
    int64_t *layers = al_malloc((size_t)L, sizeof(int64_t));
    char range[4096];
    if (!comp || !score || !rank || !work || !layers) goto oom;
    for (int64_t i = 0; i < nh; i++)
        for (int64_t n = 0; n < N; n++) {
            al_drift_comp c = al_drift_components(p + (n * nh + i) * G, q + (n * nh + i) * G, G, target);
            comp[i] += c.magnitude / (double)N;
            comp[nh + i] += c.direction / (double)N;
            comp[2 * nh + i] += c.reshaping / (double)N;
        }
    al_drift_scores(comp, nh, score);
    int64_t k = al_drift_focal_count(nh, prm->top_percent);
    al_drift_rank(score, nh, rank, work);
    int64_t nl = al_drift_focal_layers(rank, k, score, L, H, layers, work);
    al_layer_range(layers, nl, range, sizeof range);

    cJSON *doc = res->doc;
    cJSON *jg = cJSON_AddArrayToObject(doc, "groups");
    for (int64_t g = 0; jg && g < G; g++) al_json_push(jg, cJSON_CreateString(names[g]));
    cJSON_AddStringToObject(doc, "target", names[target]);
    cJSON *jh = cJSON_AddArrayToObject(doc, "heads");
    cJSON *jf = cJSON_AddArrayToObject(doc, "focal_heads");
    cJSON *jl = cJSON_AddArrayToObject(doc, "focal_layers");
    cJSON_AddStringToObject(doc, "layer_range", range);
    al_table *th = al_table_new("drift_heads", "Attention drift per head (components are means over samples)",
                                "layer,head,magnitude,direction,reshaping,score");
    al_table *tf = al_table_new("drift_focal", "Focal heads (highest drift scores)",
                                "rank,layer,head,score,baseline_target_mass,conflict_target_mass");
    if ((al_result_table(res, th, 1) | al_result_table(res, tf, 1)) || !jg || !jh || !jf || !jl) goto oom; /* | : each takes its table */
    for (int64_t i = 0; i < nh; i++) {
        cJSON *o = cJSON_CreateObject();
        al_json_push(jh, o);
        cJSON_AddNumberToObject(o, "layer", (double)(i / H));
        cJSON_AddNumberToObject(o, "head", (double)(i % H));
        cJSON_AddNumberToObject(o, "magnitude", comp[i]);
        cJSON_AddNumberToObject(o, "direction", comp[nh + i]);
        cJSON_AddNumberToObject(o, "reshaping", comp[2 * nh + i]);
        cJSON_AddNumberToObject(o, "score", score[i]);
        al_cell *c = al_table_row(th);
        if (!c) goto oom;
        al_cell_int(&c[0], i / H);
        al_cell_int(&c[1], i % H);
        for (int s = 0; s < 3; s++) al_cell_num(&c[2 + s], comp[s * nh + i]);
        al_cell_num(&c[5], score[i]);
    }
    for (int64_t f = 0; f < k; f++) {
        int64_t i = rank[f];
        cJSON *pr = cJSON_CreateArray();
        al_json_push(pr, cJSON_CreateNumber((double)(i / H)));
        al_json_push(pr, cJSON_CreateNumber((double)(i % H)));
        al_json_push(jf, pr);
        double tb = 0, tc = 0;
        for (int64_t n = 0; n < N; n++) {
            tb += p[(n * nh + i) * G + target] / (double)N;
            tc += q[(n * nh + i) * G + target] / (double)N;
        }
        al_cell *c = al_table_row(tf);
        if (!c) goto oom;
        al_cell_int(&c[0], f + 1);
        al_cell_int(&c[1], i / H);
        al_cell_int(&c[2], i % H);
        al_cell_num(&c[3], score[i]);
        al_cell_num(&c[4], tb);
        al_cell_num(&c[5], tc);
    }
    for (int64_t j = 0; j < nl; j++) al_json_push(jl, cJSON_CreateNumber((double)layers[j]));
    al_status st = al_drift_figures(p, q, N, L, H, G, names, score, rank, k, res, e);
    al_free(comp), al_free(score), al_free(rank), al_free(work), al_free(layers);
    return st;
oom:
    al_free(comp), al_free(score), al_free(rank), al_free(work), al_free(layers);
    return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the drift report");
}
