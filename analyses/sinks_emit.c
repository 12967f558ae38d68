/* Attention sinks: the presenting half. The sinks fields, tables and figures of a result, from the statistics
 * al_sinks_compute gathered (analyses/sinks.c). Every number is derived from al_sinks_out here. */
#include <stdio.h>

#include "../core/alloc.h"
#include "../metrics/sinks.h"
#include "../plots/plots.h"
#include "sinks.h"

static cJSON *al_json_doubles(const double *x, int64_t n) {
    cJSON *arr = cJSON_CreateArray();
    for (int64_t i = 0; arr && i < n; i++)
        al_json_push(arr, cJSON_CreateNumber(x[i]));
    return arr;
}

/* the three tables, columns "prefix_0 .. prefix_{K-1}" after the fixed ones (a name: at most 24 characters) */
static al_table *al_sinks_table(const char *name, const char *title, const char *first, const char *prefix,
                                const char *last, int64_t K) {
    size_t n = (size_t)K * 24 + 64;
    char *colbuf = al_malloc(n, 1);
    if (!colbuf) return NULL;
    int off = snprintf(colbuf, n, "%s", first);
    for (int64_t k = 0; prefix && k < K; k++)
        off += snprintf(colbuf + off, n - (size_t)off, ",%s_%lld", prefix, (long long)k);
    if (last) snprintf(colbuf + off, n - (size_t)off, ",%s", last);
    al_table *t = al_table_new(name, title, colbuf);
    al_free(colbuf);
    return t;
}

/* rate: [K], lrate: [L, K] */
static int al_sinks_emit_rates(const al_sinks_out *o, const double *rate, const double *lrate, al_result *res,
                               al_table *trate, al_table *tlay) {
    int64_t K = o->K;
    cJSON *jl = cJSON_AddArrayToObject(res->doc, "layers");
    if (!jl) return -1;
    for (int64_t k = 0; k < K; k++) {
        al_cell *c = al_table_row(trate);
        if (!c) return -1;
        al_cell_int(&c[0], k);
        al_cell_num(&c[1], rate[k]);
    }
    for (int64_t l = 0; l < o->L; l++) {
        cJSON *ob = cJSON_CreateObject();
        al_json_push(jl, ob);
        cJSON_AddNumberToObject(ob, "layer", (double)l);
        al_json_add(ob, "sink_rate", al_json_doubles(lrate + l * K, K));
        al_cell *c = al_table_row(tlay);
        if (!c) return -1;
        al_cell_int(&c[0], l);
        for (int64_t k = 0; k < K; k++)
            al_cell_num(&c[1 + k], lrate[l * K + k]);
    }
    return 0;
}

/* One head's row and JSON object; mean: [T] its alpha, pos: [T] scratch, buf [T * 24 + 64] for the list of its
 * hidden sinks. */
static int al_sinks_emit_head(const al_sinks_out *o, int64_t l, int64_t h, const double *mean, int64_t *pos, char *buf,
                              cJSON *jh, al_table *thead) {
    int64_t K = o->K;
    const al_sinks_params *p = &o->params;
    int64_t m = al_hidden_sinks(mean, o->T, p->hidden_threshold, p->hidden_min_queries, o->causal, pos);
    cJSON *ob = cJSON_CreateObject();
    al_json_push(jh, ob);
    cJSON_AddNumberToObject(ob, "layer", (double)l);
    cJSON_AddNumberToObject(ob, "head", (double)h);
    al_json_add(ob, "alpha", al_json_doubles(mean, K));
    cJSON *hs = cJSON_AddArrayToObject(ob, "hidden_sinks");
    for (int64_t i = 0; hs && i < m; i++)
        al_json_push(hs, cJSON_CreateNumber((double)pos[i]));
    al_cell *c = al_table_row(thead);
    if (!c) return -1;
    al_cell_int(&c[0], l);
    al_cell_int(&c[1], h);
    for (int64_t k = 0; k < K; k++)
        al_cell_num(&c[2 + k], mean[k]);
    size_t n = (size_t)o->T * 24 + 64, off = 0;
    buf[0] = 0;
    for (int64_t i = 0; i < m; i++)
        off += (size_t)snprintf(buf + off, n - off, "%s%lld", i ? "," : "", (long long)pos[i]);
    return al_cell_str(&c[2 + K], buf);
}

/* a0: [L, H] filled with each head's mean alpha[0] */
static int al_sinks_emit_heads(const al_sinks_out *o, al_result *res, al_table *thead, double *a0) {
    cJSON *jh = cJSON_AddArrayToObject(res->doc, "heads");
    double *mean = al_calloc((size_t)o->T, sizeof(double));  /* [T] */
    int64_t *pos = al_calloc((size_t)o->T, sizeof(int64_t)); /* [T] */
    char *buf = al_malloc((size_t)o->T * 24 + 64, 1);        /* a head's hidden sinks, "j,j,..." */
    int bad = !jh || !mean || !pos || !buf;
    for (int64_t l = 0; !bad && l < o->L; l++)
        for (int64_t h = 0; !bad && h < o->H; h++) {
            al_sinks_head_alpha(o, l, h, mean);
            a0[l * o->H + h] = mean[0];
            bad = al_sinks_emit_head(o, l, h, mean, pos, buf, jh, thead) != 0;
        }
    al_free(mean);
    al_free(pos);
    al_free(buf);
    return bad ? -1 : 0;
}

/* rate: [K], lrate: [L, K], a0: [L, H] */
static int al_sinks_emit_figures(const al_sinks_out *o, const double *rate, const double *lrate, const double *a0,
                                 al_result *res) {
    int64_t L = o->L, K = o->K;
    char title[256];
    snprintf(title, sizeof title, "alpha[0]: mean attention to the first token (T = %lld)", (long long)o->T);
    al_plot_opts ho = {
        .title = title, .xlabel = "head", .ylabel = "layer", .cblabel = "alpha[0]", .zmin = 0, .zmax = 1};
    if (al_result_figure(res, al_plot_heatmap("sinks_alpha0", a0, L, o->H, &ho))) return -1;
    double *xk = al_calloc((size_t)(K > L ? K : L), sizeof(double)); /* [max(K, L)] x values */
    double *l0 = al_calloc((size_t)L, sizeof(double));               /* [L] Sink_0 per layer */
    int bad = !xk || !l0;
    for (int64_t k = 0; !bad && k < K; k++)
        xk[k] = (double)k;
    snprintf(title, sizeof title, "Sink rate by position (eps = %g)", o->params.epsilon);
    al_plot_opts lo = {.title = title, .xlabel = "position k", .ylabel = "Sink_k (% of heads)", .zmin = 0, .zmax = 100};
    const char *lab1[] = {"all layers"}, *lab2[] = {"Sink_0"};
    if (!bad) bad = al_result_figure(res, al_plot_lines("sinks_rate", xk, rate, 1, K, lab1, 1, &lo));
    for (int64_t l = 0; !bad && l < L; l++) {
        xk[l] = (double)l;
        l0[l] = lrate[l * K];
    }
    snprintf(title, sizeof title, "Sink rate at position 0 by layer (eps = %g)", o->params.epsilon);
    al_plot_opts lo2 = {.title = title, .xlabel = "layer", .ylabel = "Sink_0 (% of heads)", .zmin = 0, .zmax = 100};
    if (!bad) bad = al_result_figure(res, al_plot_lines("sinks_by_layer", xk, l0, 1, L, lab2, 1, &lo2));
    al_free(xk);
    al_free(l0);
    return bad ? -1 : 0;
}

al_status al_sinks_emit(const al_sinks_out *o, al_result *res, al_error *e) {
    int64_t L = o->L, K = o->K;
    double *rate = al_calloc((size_t)K, sizeof(double));        /* [K] */
    double *lrate = al_calloc((size_t)(L * K), sizeof(double)); /* [L, K] */
    double *a0 = al_calloc((size_t)(L * o->H), sizeof(double)); /* [L, H] */
    int bad = !rate || !lrate || !a0;
    if (!bad) {
        al_sinks_rates(o, rate, lrate);
        al_json_add(res->doc, "tokens", cJSON_CreateNumber((double)o->T));
        /* attnlab counts positions from 0: its Sink_0 is the first token, the paper's Sink_1 */
        al_json_add(res->doc, "first_position",
                    cJSON_CreateString("Sink_0 is the first token (Sink_1 in \"When Attention Sink Emerges\")"));
        al_json_add(res->doc, "samples", cJSON_CreateNumber((double)o->N));
        al_json_add(res->doc, "skipped_samples", cJSON_CreateNumber((double)o->skipped));
        al_json_add(res->doc, "sink_rate", al_json_doubles(rate, K));
        al_table *trate = al_sinks_table(
            "sinks_rate",
            "Sink rate by position (% of heads with alpha > eps; position 0 = the first token, the paper's Sink_1)",
            "position,sink_rate", NULL, NULL, K);
        al_table *tlay = al_sinks_table("sinks_layers", "Sink rate by layer (%)", "layer", "sink", NULL, K);
        al_table *thead =
            al_sinks_table("sinks_heads", "Key importance alpha per head (mean over samples) and hidden sinks",
                           "layer,head", "alpha", "hidden_sinks", K);
        /* | : each takes its table */
        bad = al_result_table(res, trate, 1) | al_result_table(res, tlay, 1) | al_result_table(res, thead, 1);
        bad = bad || al_sinks_emit_rates(o, rate, lrate, res, trate, tlay) || al_sinks_emit_heads(o, res, thead, a0) ||
              al_sinks_emit_figures(o, rate, lrate, a0, res);
    }
    al_free(rate);
    al_free(lrate);
    al_free(a0);
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the sinks report") : AL_OK;
}
