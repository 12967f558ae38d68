/* Head similarity: the presenting half. JSON fields, the MDS and JS tables and their figures, from the
 * statistics al_similarity_compute gathered (analyses/similarity.c). */
#include <stdio.h>

#include "../core/alloc.h"
#include "../plots/kinds.h"
#include "similarity.h"

/* the "heads", "js", "mds" and "mds_eigenvalues" fields */
static int al_similarity_json(const al_similarity_out *o, cJSON *doc) {
    int64_t P = o->P, H = o->H;
    cJSON_AddNumberToObject(doc, "tokens", (double)o->T);
    cJSON *jh = cJSON_AddArrayToObject(doc, "heads");
    cJSON *jj = cJSON_AddArrayToObject(doc, "js");
    cJSON *jm = cJSON_AddArrayToObject(doc, "mds");
    cJSON *je = cJSON_AddArrayToObject(doc, "mds_eigenvalues");
    if (!jh || !jj || !jm || !je) return -1;
    for (int64_t c = 0; c < o->k; c++)
        al_json_push(je, cJSON_CreateNumber(o->eig[c]));
    for (int64_t x = 0; x < P; x++) {
        cJSON *pair = cJSON_CreateArray();
        al_json_push(pair, cJSON_CreateNumber((double)(x / H)));
        al_json_push(pair, cJSON_CreateNumber((double)(x % H)));
        al_json_push(jh, pair);
        al_json_push(jj, cJSON_CreateDoubleArray(o->js + x * P, (int)P));
        al_json_push(jm, cJSON_CreateDoubleArray(o->mds + x * 2, 2));
    }
    return 0;
}

/* the two tables; cols: the JS table's header */
static int al_similarity_tables(const al_similarity_out *o, const char *cols, al_result *res) {
    int64_t P = o->P, H = o->H;
    al_table *tm =
        al_table_new("similarity_mds", "Heads placed by classical MDS of their JS divergences", "layer,head,x,y");
    al_table *tj = al_table_new("similarity_js", "Mean JS divergence between heads (Clark's smoothing)", cols);
    if (al_result_table(res, tm, 1) | al_result_table(res, tj, 0)) return -1; /* | : each takes its table */
    for (int64_t x = 0; x < P; x++) {
        al_cell *c = al_table_row(tm), *d = al_table_row(tj);
        if (!c || !d) return -1;
        al_cell_int(&c[0], x / H);
        al_cell_int(&c[1], x % H);
        al_cell_num(&c[2], o->mds[x * 2]);
        al_cell_num(&c[3], o->mds[x * 2 + 1]);
        al_cell_int(&d[0], x / H);
        al_cell_int(&d[1], x % H);
        for (int64_t y = 0; y < P; y++)
            al_cell_num(&d[2 + y], o->js[x * P + y]);
    }
    return 0;
}

al_status al_similarity_emit(const al_similarity_out *o, al_result *res, al_error *e) {
    int64_t P = o->P, H = o->H;
    double *xs = al_malloc((size_t)(2 * P), sizeof(double));  /* [2, P] x then y */
    int64_t *layer = al_malloc((size_t)P, sizeof(int64_t));   /* [P] */
    char(*lab)[48] = al_malloc((size_t)P, sizeof *lab);       /* [P] "L0H1" */
    const char **labs = al_malloc((size_t)P, sizeof(char *)); /* [P] */
    char *cols = al_malloc((size_t)P * 48 + 32, 1);
    int bad = !xs || !layer || !lab || !labs || !cols;
    if (!bad) {
        int off = snprintf(cols, (size_t)P * 48 + 32, "layer,head");
        for (int64_t x = 0; x < P; x++) {
            snprintf(lab[x], sizeof lab[x], "L%lldH%lld", (long long)(x / H), (long long)(x % H));
            labs[x] = lab[x];
            layer[x] = x / H;
            xs[x] = o->mds[x * 2];
            xs[P + x] = o->mds[x * 2 + 1];
            off += snprintf(cols + off, (size_t)P * 48 + 32 - (size_t)off, ",%s", lab[x]);
        }
        bad = al_similarity_json(o, res->doc) || al_similarity_tables(o, cols, res);
    }
    al_plot_opts hj = {.title = "Jensen-Shannon divergence between heads",
                       .xlabel = "head",
                       .ylabel = "head",
                       .cblabel = "JS (nats)",
                       .xtics = P <= 64 ? labs : NULL,
                       .ytics = P <= 64 ? labs : NULL};
    al_plot_opts sm = {.title = "Heads by classical MDS of their JS divergences (colour: layer)",
                       .xlabel = "MDS 1",
                       .ylabel = "MDS 2"};
    bad = bad || al_result_figure(res, al_plot_heatmap("similarity_js", o->js, P, P, &hj)) ||
          al_result_figure(res, al_plot_scatter("similarity_mds", xs, xs + P, layer, P, labs, "layer", &sm));
    al_free(xs), al_free(layer), al_free(lab), al_free(labs), al_free(cols);
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the similarity report") : AL_OK;
}
