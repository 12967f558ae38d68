/* Head similarity by streaming rows of all heads: smoothed logs once per row, then every pair adds its per-row
 * JS in row order (one pair per thread at a time), so the matrix does not depend on --threads or --mem. */
#include "similarity.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/js.h"
#include "../metrics/mds.h"
#include "stream.h"
#include "../plots/kinds.h"

struct al_similarity_acc {
    int64_t N, L, H, P, T, B;
    int causal;
    double *lp;  /* [P, B, T] ln of the smoothed rows of the current block */
    double *sum; /* [P, P] upper triangle: sum over samples and rows of JS */
};

void al_similarity_defaults(al_similarity_params *p) { p->tokens = 0; }

void al_similarity_acc_free(al_similarity_acc *a) {
    if (!a) return;
    al_free(a->lp);
    al_free(a->sum);
    al_free(a);
}

al_similarity_acc *al_similarity_acc_new(const al_rec *r, int64_t T, int64_t B, al_error *e) {
    al_similarity_acc *a = al_calloc(1, sizeof *a);
    if (!a) goto oom;
    a->N = r->N;
    a->L = r->L;
    a->H = r->H;
    a->P = r->L * r->H;
    a->T = T;
    a->B = B;
    a->causal = r->causal;
    a->lp = al_malloc((size_t)(a->P * B), (size_t)T * sizeof(double));
    a->sum = al_calloc((size_t)(a->P * a->P), sizeof(double));
    if (!a->lp || !a->sum) goto oom;
    return a;
oom:
    al_similarity_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for the head similarity matrix");
    return NULL;
}

static int64_t al_vis(int64_t i, int64_t T, int causal) { return causal ? i + 1 : T; }

static al_status al_similarity_block(void *ctx, int64_t n, const float *A, int64_t P, int64_t lda, int64_t row0,
                                     int64_t nrows, al_error *e) {
    al_similarity_acc *a = ctx;
    int64_t T = a->T;
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < P; p++)
        for (int64_t r = 0; r < nrows; r++)
            al_js_logrow(A + (p * nrows + r) * lda, al_vis(row0 + r, T, a->causal), T, a->lp + (p * nrows + r) * T);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t x = 0; x < P; x++)
        for (int64_t y = x + 1; y < P; y++) {
            double s = a->sum[x * P + y];
            for (int64_t r = 0; r < nrows; r++) {
                int64_t vis = al_vis(row0 + r, T, a->causal);
                s += al_js_row(A + (x * nrows + r) * lda, a->lp + (x * nrows + r) * T, A + (y * nrows + r) * lda,
                               a->lp + (y * nrows + r) * T, vis, T);
            }
            a->sum[x * P + y] = s;
        }
    (void)n;
    (void)e;
    return AL_OK;
}

al_rows_visitor al_similarity_visitor(al_similarity_acc *a) {
    al_rows_visitor v = {a, al_similarity_block};
    return v;
}

void al_similarity_matrix(const al_similarity_acc *a, double *js) {
    int64_t P = a->P;
    double cnt = (double)a->N * (double)a->T;
    for (int64_t x = 0; x < P; x++) {
        js[x * P + x] = 0;
        for (int64_t y = x + 1; y < P; y++) js[x * P + y] = js[y * P + x] = a->sum[x * P + y] / cnt;
    }
}

al_status al_similarity_report(const al_similarity_acc *a, al_result *res, al_error *e) {
    int64_t P = a->P, H = a->H, k = P < 2 ? P : 2;
    double *js = al_malloc((size_t)(P * P), sizeof(double));       /* [P, P] */
    double *X = al_calloc((size_t)(P * 2), sizeof(double));        /* [P, 2] */
    double *work = al_malloc((size_t)al_mds_work(P), sizeof(double));
    double *xs = al_malloc((size_t)(2 * P), sizeof(double));       /* [2, P] x then y */
    int64_t *layer = al_malloc((size_t)P, sizeof(int64_t));        /* [P] */
    char(*lab)[48] = al_malloc((size_t)P, sizeof *lab);            /* [P] "L0H1" */
    const char **labs = al_malloc((size_t)P, sizeof(char *));
    char *cols = al_malloc((size_t)P * 48 + 32, 1);
    double eig[2] = {0, 0};
    if (!js || !X || !work || !xs || !layer || !lab || !labs || !cols) goto oom;
    al_similarity_matrix(a, js);
    int info = al_mds(js, P, k, X, eig, work);
    if (info != 0) {
        al_fail(e, AL_EINTERNAL, NULL, NULL, "LAPACK dsyev failed (info %d) on the %lld x %lld MDS matrix", info, (long long)P,
                (long long)P);
        goto fail;
    }
    if (k < 2) /* one head: X was written as [P, 1] */
        for (int64_t i = P - 1; i >= 0; i--) X[i * 2] = X[i], X[i * 2 + 1] = 0;
    cJSON *doc = res->doc;
    cJSON_AddNumberToObject(doc, "tokens", (double)a->T);
    cJSON *jh = cJSON_AddArrayToObject(doc, "heads");
    cJSON *jj = cJSON_AddArrayToObject(doc, "js");
    cJSON *jm = cJSON_AddArrayToObject(doc, "mds");
    cJSON *je = cJSON_AddArrayToObject(doc, "mds_eigenvalues");
    if (!jh || !jj || !jm || !je) goto oom;
    for (int64_t c = 0; c < k; c++) al_json_push(je, cJSON_CreateNumber(eig[c]));
    int o = snprintf(cols, (size_t)P * 48 + 32, "layer,head");
    for (int64_t x = 0; x < P; x++) {
        snprintf(lab[x], sizeof lab[x], "L%lldH%lld", (long long)(x / H), (long long)(x % H));
        labs[x] = lab[x];
        layer[x] = x / H;
        xs[x] = X[x * 2];
        xs[P + x] = X[x * 2 + 1];
        o += snprintf(cols + o, (size_t)P * 48 + 32 - (size_t)o, ",%s", lab[x]);
        cJSON *pair = cJSON_CreateArray();
        al_json_push(pair, cJSON_CreateNumber((double)(x / H)));
        al_json_push(pair, cJSON_CreateNumber((double)(x % H)));
        al_json_push(jh, pair);
        al_json_push(jj, cJSON_CreateDoubleArray(js + x * P, (int)P));
        al_json_push(jm, cJSON_CreateDoubleArray(X + x * 2, 2));
    }
    al_table *tm = al_table_new("similarity_mds", "Heads placed by classical MDS of their JS divergences", "layer,head,x,y");
    al_table *tj = al_table_new("similarity_js", "Mean JS divergence between heads (Clark's smoothing)", cols);
    if (al_result_table(res, tm, 1) | al_result_table(res, tj, 0)) goto oom; /* | : each takes its table */
    for (int64_t x = 0; x < P; x++) {
        al_cell *c = al_table_row(tm), *d = al_table_row(tj);
        if (!c || !d) goto oom;
        al_cell_int(&c[0], x / H);
        al_cell_int(&c[1], x % H);
        al_cell_num(&c[2], X[x * 2]);
        al_cell_num(&c[3], X[x * 2 + 1]);
        al_cell_int(&d[0], x / H);
        al_cell_int(&d[1], x % H);
        for (int64_t y = 0; y < P; y++) al_cell_num(&d[2 + y], js[x * P + y]);
    }
    al_plot_opts hj = {.title = "Jensen-Shannon divergence between heads", .xlabel = "head", .ylabel = "head",
                       .cblabel = "JS (nats)", .xtics = P <= 64 ? labs : NULL, .ytics = P <= 64 ? labs : NULL};
    al_plot_opts sm = {.title = "Heads by classical MDS of their JS divergences (colour: layer)", .xlabel = "MDS 1",
                       .ylabel = "MDS 2"};
    if (al_result_figure(res, al_plot_heatmap("similarity_js", js, P, P, &hj)) ||
        al_result_figure(res, al_plot_scatter("similarity_mds", xs, xs + P, layer, P, labs, "layer", &sm)))
        goto oom;
    al_free(js), al_free(X), al_free(work), al_free(xs), al_free(layer), al_free(lab), al_free(labs), al_free(cols);
    return AL_OK;
oom:
    al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the similarity report");
fail:
    al_free(js), al_free(X), al_free(work), al_free(xs), al_free(layer), al_free(lab), al_free(labs), al_free(cols);
    return e->status;
}

al_status al_similarity_run(al_rec *r, const al_similarity_params *p, const al_exec *x, al_result *res, al_error *e) {
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) return e->status;
    int64_t B = al_stream_rows_all(r, T, x->mem, sizeof(double));
    al_similarity_acc *a = al_similarity_acc_new(r, T, B, e);
    if (!a) return e->status;
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    al_rows_visitor v = al_similarity_visitor(a);
    al_status st = al_stream_all_heads(r, T, B, x, &v, e);
    if (st == AL_OK) st = al_similarity_report(a, res, e);
    al_similarity_acc_free(a);
    return st;
}
