/* Mean attention maps for figures: each head's map is copied into its workspace and folded into the sums in the
 * engine's fixed order (layers not drawn are skipped by the visitor, though the engine still reads them). */
#include "maps.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../datasets/tokentext.h"
#include "../plots/kinds.h"
#include "stream.h"

#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    int64_t T, H, nsel, per; /* per: panels per layer (H or 1) */
    int64_t *slot;           /* [L]: index among the drawn layers, or -1 */
    double *sum;             /* [nsel, per, T, T] */
    int64_t *cnt;            /* [T]: samples with more than t valid tokens; cell (i, j) is their mean, t = max(i, j) */
} al_maps_acc;

void al_maps_defaults(al_maps_params *p) {
    p->tokens = 0;
    p->layers = NULL;
    p->heads = "mean";
    p->log = 0;
}

/* ws: [T, T] float copy of the head's map (a shorter sample fills its top-left hd->T x hd->T, the rest stays 0) */
static void al_maps_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                          int64_t nrows) {
    const al_maps_acc *a = ctx;
    if (a->slot[hd->l] < 0) return;
    for (int64_t r = 0; r < nrows; r++)
        memcpy((float *)ws + (row0 + r) * a->T, A + r * lda, sizeof(float) * (size_t)hd->T);
}

static void al_maps_done(void *ctx, const al_head_id *hd, void *ws) {
    al_maps_acc *a = ctx;
    if (a->slot[hd->l] < 0) return;
    int64_t TT = a->T * a->T;
    double *s = a->sum + (a->slot[hd->l] * a->per + (a->per > 1 ? hd->h : 0)) * TT;
    const float *m = ws;
    for (int64_t i = 0; i < TT; i++)
        s[i] += (double)m[i];
}

/* The sample whose tokens label the axes: the first of the longest, so every row and key has a label. */
static int64_t al_maps_label_sample(const al_rec *r) {
    int64_t best = 0;
    for (int64_t n = 1; n < r->N; n++)
        if (r->lengths[n] > r->lengths[best]) best = n;
    return best;
}

static al_status al_maps_parse_layers(const al_rec *r, const char *spec, int64_t *sel, int64_t *nsel, al_error *e) {
    if (!spec)
        return al_fail(e, AL_EUSAGE, "--layers", NULL,
                       "which layers to draw, e.g. --layers 0,1,2 (the recording has %lld)", (long long)r->L);
    int m = al_parse_index_list(spec, sel, (int)r->L + 1);
    if (m <= 0)
        return al_fail(e, AL_EUSAGE, "--layers", NULL, "'%s' is not a list of layers such as 0,1,2 or 0-3", spec);
    if (sel[m - 1] >= r->L)
        return al_fail(e, AL_EUSAGE, "--layers", NULL,
                       "layer %lld does not exist (the recording has %lld layers, 0..%lld)", (long long)sel[m - 1],
                       (long long)r->L, (long long)r->L - 1);
    *nsel = m;
    return AL_OK;
}

al_status al_maps_run(al_rec *r, const al_maps_params *p, const al_exec *x, al_result *res, al_error *e) {
    int64_t L = r->L, H = r->H, nsel = 0;
    int64_t *sel = al_malloc((size_t)L + 1, sizeof(int64_t));
    al_maps_acc a = {0, H, 0, !strcmp(p->heads, "all") ? H : 1, al_malloc((size_t)L, sizeof(int64_t)), NULL};
    char(*lab)[AL_TOKEN_LABEL] = NULL;
    const char **labs = NULL, **titles = NULL;
    char(*tbuf)[32] = NULL;
    double *panel = NULL;
    al_status st = AL_OK;
    if (!sel || !a.slot) {
        st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
        goto done;
    }
    if ((st = al_maps_parse_layers(r, p->layers, sel, &nsel, e)) != AL_OK) goto done;
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) {
        st = e->status;
        goto done;
    }
    int64_t TT = T * T, threads = x->threads > 0 ? x->threads : 1;
#ifdef _OPENMP
    if (x->threads <= 0) threads = omp_get_max_threads();
#endif
    double need = (double)TT * (8.0 * (double)(nsel * a.per) + 4.0 * (double)(threads < H ? threads : H) + 8.0);
    if (need > (double)x->mem) {
        st = al_fail(
            e, AL_EUSAGE, r->path, NULL,
            "drawing %lld maps of %lld x %lld tokens needs about %.0f MiB, more than --mem; lower --tokens, draw "
            "fewer layers or raise --mem",
            (long long)(nsel * a.per), (long long)T, (long long)T, need / 1048576.0);
        goto done;
    }
    a.T = T;
    a.nsel = nsel;
    for (int64_t l = 0; l < L; l++)
        a.slot[l] = -1;
    for (int64_t k = 0; k < nsel; k++)
        a.slot[sel[k]] = k;
    a.sum = al_calloc((size_t)(nsel * a.per), (size_t)TT * sizeof(double));
    a.cnt = al_calloc((size_t)T, sizeof(int64_t));
    for (int64_t n = 0; a.cnt && n < r->N; n++)
        for (int64_t t = 0; t < al_sample_tokens(r, n, T); t++)
            a.cnt[t]++;
    panel = al_malloc((size_t)(a.per), (size_t)TT * sizeof(double));
    titles = al_malloc((size_t)a.per, sizeof(char *));
    tbuf = al_malloc((size_t)a.per, sizeof *tbuf);
    if (!a.sum || !a.cnt || !panel || !titles || !tbuf) {
        st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for %lld maps of %lld x %lld",
                     (long long)(nsel * a.per), (long long)T, (long long)T);
        goto done;
    }
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    al_map_visitor v = {&a, sizeof(float) * (size_t)TT, NULL, al_maps_block, al_maps_done};
    if ((st = al_stream_maps(r, T, x, &v, 1, e)) != AL_OK) goto done;
    if (r->has_token_text) {
        lab = al_malloc((size_t)T, sizeof *lab);
        labs = al_malloc((size_t)T, sizeof(char *));
        if (!lab || !labs) {
            st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
            goto done;
        }
        if ((st = al_token_text_read(r, al_maps_label_sample(r), T, lab, e)) != AL_OK) goto done;
        for (int64_t t = 0; t < T; t++)
            labs[t] = lab[t];
    }
    cJSON *jf = cJSON_AddArrayToObject(res->doc, "figures");
    al_table *ti = al_table_new("maps_figures", "Attention map figures", "figure,layer,panels,samples");
    if (!jf || al_result_table(res, ti, 1)) {
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        goto done;
    }
    for (int64_t k = 0; k < nsel; k++) {
        for (int64_t i = 0; i < a.per * TT; i++) {
            int64_t row = i % TT / T, col = i % T, t = row > col ? row : col;
            panel[i] = a.sum[k * a.per * TT + i] / ((double)a.cnt[t] * (a.per > 1 ? 1.0 : (double)H));
        }
        for (int64_t h = 0; h < a.per; h++) {
            snprintf(tbuf[h], sizeof tbuf[h], "head %lld", (long long)h);
            titles[h] = tbuf[h];
        }
        char name[64], title[256], lsample[48];
        snprintf(lsample, sizeof lsample, " (labels: sample %lld)", (long long)al_maps_label_sample(r));
        snprintf(name, sizeof name, "maps_L%03lld", (long long)sel[k]);
        snprintf(title, sizeof title, "Layer %lld: attention, mean over %s%lld samples%s%s", (long long)sel[k],
                 a.per > 1 ? "" : "heads and ", (long long)r->N, labs && r->N > 1 ? lsample : "",
                 p->log ? ", log colour" : "");
        al_plot_opts o = {
            .title = title, .xlabel = "key", .ylabel = "query", .log_scale = p->log, .zmin = 0, .zmax = p->log ? 0 : 1};
        if (al_result_figure(res,
                             al_plot_panels(name, panel, a.per, T, T, a.per > 1 ? titles : NULL, labs, labs, &o))) {
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory building figures");
            goto done;
        }
        al_json_push(jf, cJSON_CreateString(name));
        al_cell *cl = al_table_row(ti);
        if (!cl || al_cell_str(&cl[0], name)) {
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
            goto done;
        }
        al_cell_int(&cl[1], sel[k]);
        al_cell_int(&cl[2], a.per);
        al_cell_int(&cl[3], r->N);
    }
done:
    al_free(sel), al_free(a.slot), al_free(a.sum), al_free(a.cnt), al_free(panel), al_free((void *)titles),
        al_free(tbuf);
    al_free(lab), al_free((void *)labs);
    return st;
}
