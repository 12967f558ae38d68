/* Attention sinks over a whole recording. Per head the column sums of one map are accumulated block by
 * block; at the end of each head they become alpha, which feeds the sink counts and the mean over samples. */
#include "sinks.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/alpha.h"
#include "../metrics/sinks.h"
#include "../plots/plots.h"

struct al_sinks_acc {
    al_sinks_params p;
    int64_t N, L, H, T, K;
    int causal;
    double *alpha;     /* [T] scratch for reporting */
    double *alpha_sum; /* [L, H, T] sum over samples */
    int64_t *hits;     /* [L, K] heads over threshold, summed over samples and heads */
};

void al_sinks_defaults(al_sinks_params *p) {
    p->epsilon = 0.3;
    p->tokens = 0;
    p->positions = 0; /* 0: min(10, T) */
    p->hidden_threshold = 0.1;
    p->hidden_min_queries = 16;
}

void al_sinks_acc_free(al_sinks_acc *a) {
    if (!a) return;
    al_free(a->alpha);
    al_free(a->alpha_sum);
    al_free(a->hits);
    al_free(a);
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
    a->p = *p;
    a->N = r->N;
    a->L = r->L;
    a->H = r->H;
    a->T = T;
    a->K = p->positions;
    a->causal = r->causal;
    a->alpha = al_calloc((size_t)T, sizeof(double));
    a->alpha_sum = al_calloc((size_t)(r->L * r->H), (size_t)T * sizeof(double));
    a->hits = al_calloc((size_t)(r->L * a->K), sizeof(int64_t));
    if (!a->alpha || !a->alpha_sum || !a->hits) goto oom;
    return a;
oom:
    al_sinks_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for sink statistics");
    return NULL;
}

/* ws: [2, T] doubles: column sums of the head, then its alpha */
static void al_sinks_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                           int64_t nrows) {
    al_sinks_acc *a = ctx;
    al_colsum(A, nrows, a->T, lda, row0, hd->causal, (double *)ws);
}

static void al_sinks_head_done(void *ctx, const al_head_id *hd, void *ws) {
    al_sinks_acc *a = ctx;
    double *colsum = ws, *alpha = colsum + a->T;
    al_alpha_from_colsum(colsum, a->T, hd->causal, alpha);
    al_sink_hits(alpha, a->K, a->p.epsilon, a->hits + hd->l * a->K);
    double *s = a->alpha_sum + (hd->l * a->H + hd->h) * a->T;
    for (int64_t j = 0; j < a->T; j++)
        s[j] += alpha[j];
}

/* GPU path: the column sums arrive whole */
static void al_sinks_head_summary(void *ctx, const al_head_id *hd, void *ws, const double *colsum, const double *hs) {
    const al_sinks_acc *a = ctx;
    memcpy(ws, colsum, sizeof(double) * (size_t)a->T);
}

al_map_visitor al_sinks_visitor(al_sinks_acc *a) {
    al_map_visitor v = {a, sizeof(double) * 2 * (size_t)a->T, NULL, al_sinks_block, al_sinks_head_done};
    v.head_summary = al_sinks_head_summary;
    return v;
}

static cJSON *al_json_doubles(const double *x, int64_t n) {
    cJSON *arr = cJSON_CreateArray();
    for (int64_t i = 0; arr && i < n; i++)
        al_json_push(arr, cJSON_CreateNumber(x[i]));
    return arr;
}

al_status al_sinks_report(const al_sinks_acc *a, al_result *res, al_error *e) {
    int64_t L = a->L, H = a->H, K = a->K, T = a->T;
    double *rate = al_calloc((size_t)K, sizeof(double));        /* [K] */
    double *lrate = al_calloc((size_t)(L * K), sizeof(double)); /* [L, K] */
    double *mean = al_calloc((size_t)T, sizeof(double));        /* [T] */
    int64_t *pos = al_calloc((size_t)T, sizeof(int64_t));       /* [T] */
    double *a0 = al_calloc((size_t)(L * H), sizeof(double));    /* [L, H] */
    /* column names of K positions, or a head's list of up to T hidden sinks: at most 24 characters each */
    size_t ncolbuf = (size_t)(K > T ? K : T) * 24 + 64;
    char *colbuf = al_malloc(ncolbuf, 1);
    if (!rate || !lrate || !mean || !pos || !a0 || !colbuf) goto oom;
    for (int64_t l = 0; l < L; l++)
        for (int64_t k = 0; k < K; k++) {
            lrate[l * K + k] = 100.0 * (double)a->hits[l * K + k] / (double)(a->N * H);
            rate[k] += (double)a->hits[l * K + k];
        }
    for (int64_t k = 0; k < K; k++)
        rate[k] = 100.0 * rate[k] / (double)(a->N * L * H);

    cJSON *doc = res->doc;
    al_json_add(doc, "tokens", cJSON_CreateNumber((double)T));
    al_json_add(doc, "sink_rate", al_json_doubles(rate, K));
    cJSON *jl = cJSON_AddArrayToObject(doc, "layers");
    cJSON *jh = cJSON_AddArrayToObject(doc, "heads");
    if (!jl || !jh) goto oom;

    al_table *trate =
        al_table_new("sinks_rate", "Sink rate by position (% of heads with alpha > eps)", "position,sink_rate");
    int off = snprintf(colbuf, ncolbuf, "layer");
    for (int64_t k = 0; k < K && off < (int)ncolbuf - 32; k++)
        off += snprintf(colbuf + off, ncolbuf - (size_t)off, ",sink_%lld", (long long)k);
    al_table *tlay = al_table_new("sinks_layers", "Sink rate by layer (%)", colbuf);
    off = snprintf(colbuf, ncolbuf, "layer,head");
    for (int64_t k = 0; k < K && off < (int)ncolbuf - 32; k++)
        off += snprintf(colbuf + off, ncolbuf - (size_t)off, ",alpha_%lld", (long long)k);
    snprintf(colbuf + off, ncolbuf - (size_t)off, ",hidden_sinks");
    al_table *thead =
        al_table_new("sinks_heads", "Key importance alpha per head (mean over samples) and hidden sinks", colbuf);
    if (al_result_table(res, trate, 1) | al_result_table(res, tlay, 1) | al_result_table(res, thead, 1))
        goto oom; /* | : each takes its table */

    for (int64_t k = 0; k < K; k++) {
        al_cell *c = al_table_row(trate);
        if (!c) goto oom;
        al_cell_int(&c[0], k);
        al_cell_num(&c[1], rate[k]);
    }
    for (int64_t l = 0; l < L; l++) {
        cJSON *o = cJSON_CreateObject();
        al_json_push(jl, o);
        cJSON_AddNumberToObject(o, "layer", (double)l);
        al_json_add(o, "sink_rate", al_json_doubles(lrate + l * K, K));
        al_cell *c = al_table_row(tlay);
        if (!c) goto oom;
        al_cell_int(&c[0], l);
        for (int64_t k = 0; k < K; k++)
            al_cell_num(&c[1 + k], lrate[l * K + k]);
    }
    for (int64_t l = 0; l < L; l++)
        for (int64_t h = 0; h < H; h++) {
            const double *s = a->alpha_sum + (l * H + h) * T;
            for (int64_t j = 0; j < T; j++)
                mean[j] = s[j] / (double)a->N;
            a0[l * H + h] = mean[0];
            int64_t m = al_hidden_sinks(mean, T, a->p.hidden_threshold, a->p.hidden_min_queries, a->causal, pos);
            cJSON *o = cJSON_CreateObject();
            al_json_push(jh, o);
            cJSON_AddNumberToObject(o, "layer", (double)l);
            cJSON_AddNumberToObject(o, "head", (double)h);
            al_json_add(o, "alpha", al_json_doubles(mean, K));
            cJSON *hs = cJSON_AddArrayToObject(o, "hidden_sinks");
            for (int64_t i = 0; hs && i < m; i++)
                al_json_push(hs, cJSON_CreateNumber((double)pos[i]));
            al_cell *c = al_table_row(thead);
            if (!c) goto oom;
            al_cell_int(&c[0], l);
            al_cell_int(&c[1], h);
            for (int64_t k = 0; k < K; k++)
                al_cell_num(&c[2 + k], mean[k]);
            int o2 = 0;
            colbuf[0] = 0;
            for (int64_t i = 0; i < m && o2 < (int)ncolbuf - 24; i++)
                o2 += snprintf(colbuf + o2, ncolbuf - (size_t)o2, "%s%lld", i ? "," : "", (long long)pos[i]);
            if (al_cell_str(&c[2 + K], colbuf)) goto oom;
        }

    /* figures */
    char title[256];
    snprintf(title, sizeof title, "alpha[0]: mean attention to the first token (T = %lld)", (long long)T);
    al_plot_opts ho = {
        .title = title, .xlabel = "head", .ylabel = "layer", .cblabel = "alpha[0]", .zmin = 0, .zmax = 1};
    if (al_result_figure(res, al_plot_heatmap("sinks_alpha0", a0, L, H, &ho))) goto oom;
    double *ks = lrate; /* reuse as x values after the tables are built */
    double *xk = al_calloc((size_t)(K > L ? K : L), sizeof(double));
    if (!xk) goto oom;
    for (int64_t k = 0; k < K; k++)
        xk[k] = (double)k;
    snprintf(title, sizeof title, "Sink rate by position (eps = %g)", a->p.epsilon);
    al_plot_opts lo = {.title = title, .xlabel = "position k", .ylabel = "Sink_k (% of heads)", .zmin = 0, .zmax = 100};
    const char *lab1[] = {"all layers"};
    int bad = al_result_figure(res, al_plot_lines("sinks_rate", xk, rate, 1, K, lab1, 1, &lo));
    double *l0 = al_calloc((size_t)L, sizeof(double));
    for (int64_t l = 0; l < L && l0; l++) {
        xk[l] = (double)l;
        l0[l] = ks[l * K];
    }
    snprintf(title, sizeof title, "Sink rate at position 0 by layer (eps = %g)", a->p.epsilon);
    al_plot_opts lo2 = {.title = title, .xlabel = "layer", .ylabel = "Sink_0 (% of heads)", .zmin = 0, .zmax = 100};
    const char *lab2[] = {"Sink_0"};
    if (!bad && l0) bad = al_result_figure(res, al_plot_lines("sinks_by_layer", xk, l0, 1, L, lab2, 1, &lo2));
    al_free(xk);
    al_free(l0);
    if (bad || !l0) goto oom;

    al_free(rate);
    al_free(lrate);
    al_free(mean);
    al_free(pos);
    al_free(a0);
    al_free(colbuf);
    return AL_OK;
oom:
    al_free(rate);
    al_free(lrate);
    al_free(mean);
    al_free(pos);
    al_free(a0);
    al_free(colbuf);
    return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the sinks report");
}

al_status al_sinks_run(al_rec *r, const al_sinks_params *p, const al_common *c, al_result *res, al_error *e) {
    int64_t T = al_resolve_tokens(r, p->tokens, 64, e);
    if (T < 0) return e->status;
    al_sinks_acc *a = al_sinks_acc_new(r, T, p, e);
    if (!a) return e->status;
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    al_result_param(res, "positions", cJSON_CreateNumber((double)a->K));
    al_map_visitor v = al_sinks_visitor(a);
    al_status st = al_stream_maps(r, T, c, &v, 1, e);
    if (st == AL_OK) st = al_sinks_report(a, res, e);
    al_sinks_acc_free(a);
    return st;
}
