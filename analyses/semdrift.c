/* MCD and SDR from similarities. Means per generation are taken over the rows in input order; the SDR fit is
 * MINPACK's lmdif with curve_fit's settings (metrics/expfit.h), so the numbers match the reference script. */
#include "semdrift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../datasets/textio.h"
#include "../metrics/expfit.h"
#include "../plots/logs.h"

static int al_dg_cmp(const void *a, const void *b, void *ctx) {
    const al_similarities *s = ctx;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    if (s->dir_of[i] != s->dir_of[j]) return (s->dir_of[i] > s->dir_of[j]) - (s->dir_of[i] < s->dir_of[j]);
    if (s->gen[i] != s->gen[j]) return (s->gen[i] > s->gen[j]) - (s->gen[i] < s->gen[j]);
    return (i > j) - (i < j);
}

static cJSON *al_nn(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

al_status al_semdrift_report(const al_similarities *s, cJSON *source, al_result *res, al_error *e) {
    cJSON *doc = res->doc;
    al_json_add(doc, "input", source);
    int64_t n = s->n, D = s->ndir;
    int64_t *ord = al_malloc((size_t)n + 1, sizeof *ord);            /* [n] rows by (direction, generation) */
    double *g = al_malloc((size_t)n + 1, sizeof *g);                 /* [G] generation numbers, all directions */
    double *m = al_malloc((size_t)n + 1, sizeof *m);                 /* [G] mean similarity */
    int64_t *cnt = al_malloc((size_t)n + 1, sizeof *cnt);            /* [G] samples */
    int64_t *start = al_malloc((size_t)D + 1, sizeof *start);        /* [D + 1] */
    double *abc = al_malloc((size_t)D * 3 + 1, sizeof *abc);         /* [D, 3] */
    double *ws = al_malloc(al_expfit_ws_doubles(n) + 1, sizeof *ws); /* lmdif scratch */
    int iws[3];
    al_status st = AL_OK;
    al_table *td = al_table_new("semdrift_directions", "Per direction: MCD (mean similarity over generations) and the fit a exp(-b g) + c",
                                "direction,mcd,a,b,c,converged,info");
    al_table *tm = al_table_new("semdrift_means", "Mean similarity to generation 0 per direction and generation",
                                "direction,generation,mean_similarity,n");
    al_table *ts = al_table_new("semdrift_summary", "MCD over directions; SDR = mean fit over converged directions",
                                "mcd,sdr_a,sdr_b,sdr_c,converged_directions,directions");
    cJSON *jd = cJSON_AddArrayToObject(doc, "directions");
    if ((al_result_table(res, ts, 1) | al_result_table(res, td, 1) | al_result_table(res, tm, 1)) || !ord || !g || !m ||
        !cnt || !start || !abc || !ws || !jd) { /* | : each takes its table */
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) ord[i] = i;
    qsort_r(ord, (size_t)n, sizeof *ord, al_dg_cmp, (void *)s);
    int64_t G = 0;
    for (int64_t k = 0, d = -1; k < n; k++) {
        int64_t r = ord[k];
        while (d < s->dir_of[r]) start[++d] = G;
        if (!k || s->dir_of[r] != s->dir_of[ord[k - 1]] || s->gen[r] != s->gen[ord[k - 1]]) {
            g[G] = (double)s->gen[r];
            m[G] = 0;
            cnt[G++] = 0;
        }
        m[G - 1] += s->sim[r];
        cnt[G - 1]++;
    }
    start[D] = G;
    for (int64_t k = 0; k < G; k++) m[k] /= (double)cnt[k];
    double mcd = 0, sdr[3] = {0, 0, 0};
    int64_t nconv = 0;
    for (int64_t d = 0; d < D; d++) {
        int64_t g0 = start[d], ng = start[d + 1] - g0;
        double mcd_d = 0;
        for (int64_t k = g0; k < g0 + ng; k++) mcd_d += m[k];
        mcd_d /= (double)ng;
        mcd += mcd_d;
        al_expfit f;
        al_expfit_lm(g + g0, m + g0, ng, ws, iws, &f);
        double *p = abc + 3 * d;
        p[0] = f.converged ? f.a : NAN;
        p[1] = f.converged ? f.b : NAN;
        p[2] = f.converged ? f.c : NAN;
        if (f.converged) {
            for (int k = 0; k < 3; k++) sdr[k] += p[k];
            nconv++;
        }
        cJSON *o = cJSON_CreateObject(), *jg = cJSON_CreateArray(), *jm = cJSON_CreateArray(), *jn = cJSON_CreateArray();
        al_json_push(jd, o);
        cJSON_AddStringToObject(o, "name", s->dir[d]);
        for (int64_t k = g0; k < g0 + ng; k++) {
            al_json_push(jg, cJSON_CreateNumber(g[k]));
            al_json_push(jm, cJSON_CreateNumber(m[k]));
            al_json_push(jn, cJSON_CreateNumber((double)cnt[k]));
            al_cell *c = al_table_row(tm);
            if (!c) {
                cJSON_Delete(jg), cJSON_Delete(jm), cJSON_Delete(jn); /* not attached yet */
                st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
                goto done;
            }
            al_cell_str(&c[0], s->dir[d]);
            al_cell_int(&c[1], (int64_t)g[k]);
            al_cell_num(&c[2], m[k]);
            al_cell_int(&c[3], cnt[k]);
        }
        /* attached once filled: al_json_add frees an array it cannot attach, which must not be used after */
        int lost = !jg || !jm || !jn;
        al_json_add(o, "generations", jg);
        al_json_add(o, "mean_similarity", jm);
        al_json_add(o, "n", jn);
        cJSON_AddNumberToObject(o, "mcd", mcd_d);
        cJSON *jf = cJSON_AddObjectToObject(o, "fit");
        if (jf) {
            al_json_add(jf, "a", al_nn(p[0]));
            al_json_add(jf, "b", al_nn(p[1]));
            al_json_add(jf, "c", al_nn(p[2]));
            cJSON_AddBoolToObject(jf, "converged", f.converged);
            cJSON_AddNumberToObject(jf, "info", f.info);
            cJSON_AddNumberToObject(jf, "nfev", f.nfev);
        }
        al_cell *c = al_table_row(td);
        if (!c || !o || lost) {
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
            goto done;
        }
        al_cell_str(&c[0], s->dir[d]);
        al_cell_num(&c[1], mcd_d);
        for (int k = 0; k < 3; k++) al_cell_num(&c[2 + k], p[k]);
        al_cell_str(&c[5], f.converged ? "yes" : ng < 3 ? "no (fewer than 3 generations)" : "no");
        al_cell_int(&c[6], f.info);
    }
    mcd /= (double)D;
    for (int k = 0; k < 3; k++) sdr[k] = nconv ? sdr[k] / (double)nconv : NAN;
    cJSON_AddNumberToObject(doc, "mcd", mcd);
    cJSON *js = cJSON_AddObjectToObject(doc, "sdr");
    if (js) {
        al_json_add(js, "a", al_nn(sdr[0]));
        al_json_add(js, "b", al_nn(sdr[1]));
        al_json_add(js, "c", al_nn(sdr[2]));
        cJSON_AddNumberToObject(js, "converged_directions", (double)nconv);
        cJSON_AddNumberToObject(js, "directions", (double)D);
    }
    al_cell *c = al_table_row(ts);
    if (!c) {
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        goto done;
    }
    al_cell_num(&c[0], mcd);
    for (int k = 0; k < 3; k++) al_cell_num(&c[1 + k], sdr[k]);
    al_cell_int(&c[4], nconv);
    al_cell_int(&c[5], D);
    {
        double *gm = al_malloc((size_t)G + 1, sizeof *gm);
        if (gm) memcpy(gm, g, (size_t)G * sizeof *gm);
        al_plot_opts o = {.title = "Semantic drift: mean similarity to generation 0, fit a exp(-b g) + c", .xlabel = "generation g",
                          .ylabel = "mean cosine to generation 0"};
        if (!gm || al_result_figure(res, al_plot_expfit_panels("semdrift_fit", (const char *const *)s->dir, D, start, gm, m, abc, &o)))
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory building the figure");
        al_free(gm);
    }
done:
    al_free(ord);
    al_free(g);
    al_free(m);
    al_free(cnt);
    al_free(start);
    al_free(abc);
    al_free(ws);
    return st;
}

al_status al_semdrift_run(const char *path, const al_exec *x, al_result *res, al_error *e) {
    al_similarities s;
    memset(&s, 0, sizeof s);
    cJSON *src = cJSON_CreateObject();
    if (!src) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    al_status st;
    if (al_is_hdf5(path)) {
        al_emb *m = NULL;
        cJSON_AddStringToObject(src, "kind", "embeddings");
        st = al_emb_open(path, &m, e);
        if (st == AL_OK) st = al_semdrift_from_embeddings(m, x, &s, e);
        al_emb_close(m);
    } else {
        cJSON_AddStringToObject(src, "kind", "similarities");
        st = al_similarities_read_csv(path, &s, e);
    }
    if (st == AL_OK) {
        cJSON_AddNumberToObject(src, "rows", (double)s.n);
        st = al_semdrift_report(&s, src, res, e);
    } else {
        cJSON_Delete(src);
    }
    al_similarities_free(&s);
    return st;
}
