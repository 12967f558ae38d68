/* The cras report: overall CRAS with its interval, per dimension, per role and per query, the weights in force,
 * the correlation with per-query correctness, and figures of the dimension and role means with intervals. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/corr.h"
#include "../plots/logs.h"
#include "cras.h"

static cJSON *al_nn(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }
static double al_norm(double v) { return (v - 1.0) / 4.0; }

static cJSON *al_ci_json(const double *ci) {
    cJSON *a = cJSON_CreateArray();
    if (a) {
        al_json_push(a, al_nn(ci[0]));
        al_json_push(a, al_nn(ci[1]));
    }
    return a;
}

static cJSON *al_wset(const double *w) {
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < AL_CRAS_NDIM; k++) cJSON_AddNumberToObject(o, al_cras_dims[k], w[k]);
    return o;
}

/* Pearson and Spearman over the queries with known correctness. */
static al_status al_correlation(const al_cras_data *d, const al_cras_est *o, al_result *res, al_error *e) {
    int64_t Q = o->nq, n = 0;
    double *x = al_malloc((size_t)Q, sizeof *x), *y = al_malloc((size_t)Q, sizeof *y); /* [n] */
    double *wd = al_malloc((size_t)Q * 2, sizeof *wd);
    int64_t *wi = al_malloc((size_t)Q, sizeof *wi);
    al_status st = AL_OK;
    if (!x || !y || !wd || !wi) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int64_t q = 0; st == AL_OK && q < Q; q++)
        if (!isnan(d->correct[q])) {
            x[n] = o->query[q];
            y[n++] = d->correct[q];
        }
    if (st == AL_OK) {
        double pr = al_pearson(x, y, n), sr = al_spearman(x, y, n, wd, wi);
        cJSON *c = cJSON_AddObjectToObject(res->doc, "correlation");
        if (c) {
            cJSON_AddNumberToObject(c, "n", (double)n);
            al_json_add(c, "pearson", al_nn(pr));
            al_json_add(c, "spearman", al_nn(sr));
        }
        al_table *t = al_table_new("cras_correlation", "Correlation of per-query CRAS with correctness (undefined without spread)",
                                   "n,pearson,spearman");
        al_cell *r = t ? al_table_row(t) : NULL;
        if (r) {
            al_cell_int(&r[0], n);
            al_cell_num(&r[1], pr);
            al_cell_num(&r[2], sr);
        }
        if (!c || !r || al_result_table(res, t, 1)) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    al_free(x);
    al_free(y);
    al_free(wd);
    al_free(wi);
    return st;
}

static al_status al_tables(const al_cras_data *d, const al_cras_est *o, const double *ci, const double *dci,
                           const double *rci, al_result *res, al_error *e) {
    al_table *ts = al_table_new("cras_summary", "CRAS (1..5) and normalised (score - 1) / 4, 95% bootstrap interval over queries",
                                "cras,normalised,ci_lo,ci_hi,queries,records");
    al_table *td = al_table_new("cras_dimensions", "Per dimension (CRAS with all weight on one dimension)", "dimension,mean,normalised,ci_lo,ci_hi");
    al_table *tr = al_table_new("cras_roles", "Per role: mean over the queries where the role appears", "role,cras,normalised,n,ci_lo,ci_hi");
    al_table *tq = al_table_new("cras_queries", "Per query: mean over its roles", "query,cras,normalised,roles,correct");
    if (al_result_table(res, ts, 1) | al_result_table(res, td, 1) | al_result_table(res, tr, 1) | al_result_table(res, tq, 0))
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    al_cell *c = al_table_row(ts);
    if (!c) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    al_cell_num(&c[0], o->cras);
    al_cell_num(&c[1], al_norm(o->cras));
    al_cell_num(&c[2], ci[0]);
    al_cell_num(&c[3], ci[1]);
    al_cell_int(&c[4], o->nq);
    al_cell_int(&c[5], d->nrec);
    for (int k = 0; k < AL_CRAS_NDIM; k++) {
        if (!(c = al_table_row(td))) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        al_cell_str(&c[0], al_cras_dims[k]);
        al_cell_num(&c[1], o->dims[k]);
        al_cell_num(&c[2], al_norm(o->dims[k]));
        al_cell_num(&c[3], dci[2 * k]);
        al_cell_num(&c[4], dci[2 * k + 1]);
    }
    for (int64_t r = 0; r < o->nrole; r++) {
        if (!(c = al_table_row(tr))) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        al_cell_str(&c[0], d->roles.s[r]);
        al_cell_num(&c[1], o->role[r]);
        al_cell_num(&c[2], al_norm(o->role[r]));
        al_cell_int(&c[3], o->role_n[r]);
        al_cell_num(&c[4], rci[2 * r]);
        al_cell_num(&c[5], rci[2 * r + 1]);
    }
    int64_t *nr = al_calloc((size_t)o->nq + 1, sizeof *nr);
    if (!nr) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int64_t p = 0; p < d->npair; p++) nr[d->pair_q[p]]++;
    for (int64_t q = 0; q < o->nq; q++) {
        if (!(c = al_table_row(tq))) {
            al_free(nr);
            return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        }
        al_cell_str(&c[0], d->queries.s[q]);
        al_cell_num(&c[1], o->query[q]);
        al_cell_num(&c[2], al_norm(o->query[q]));
        al_cell_int(&c[3], nr[q]);
        if (d->has_correct) al_cell_num(&c[4], d->correct[q]);
    }
    al_free(nr);
    return AL_OK;
}

static void al_json(const al_cras_data *d, const al_cras_est *o, const al_cras_weights *w, const al_cras_params *p,
                    const double *ci, const double *dci, const double *rci, cJSON *doc) {
    cJSON_AddNumberToObject(doc, "cras", o->cras);
    cJSON_AddNumberToObject(doc, "normalised", al_norm(o->cras));
    al_json_add(doc, "ci", al_ci_json(ci));
    cJSON_AddNumberToObject(doc, "n_queries", (double)o->nq);
    cJSON_AddNumberToObject(doc, "n_records", (double)d->nrec);
    cJSON *jd = cJSON_AddObjectToObject(doc, "dimensions"), *jdn = cJSON_AddObjectToObject(doc, "dimensions_normalised");
    cJSON *jdc = cJSON_AddObjectToObject(doc, "dimensions_ci");
    for (int k = 0; jd && jdn && jdc && k < AL_CRAS_NDIM; k++) {
        cJSON_AddNumberToObject(jd, al_cras_dims[k], o->dims[k]);
        cJSON_AddNumberToObject(jdn, al_cras_dims[k], al_norm(o->dims[k]));
        al_json_add(jdc, al_cras_dims[k], al_ci_json(dci + 2 * k));
    }
    cJSON *jr = cJSON_AddArrayToObject(doc, "roles");
    for (int64_t r = 0; jr && r < o->nrole; r++) {
        cJSON *x = cJSON_CreateObject();
        al_json_push(jr, x);
        cJSON_AddStringToObject(x, "role", d->roles.s[r]);
        cJSON_AddNumberToObject(x, "cras", o->role[r]);
        cJSON_AddNumberToObject(x, "normalised", al_norm(o->role[r]));
        cJSON_AddNumberToObject(x, "n", (double)o->role_n[r]);
        al_json_add(x, "ci", al_ci_json(rci + 2 * r));
    }
    cJSON *jq = cJSON_AddArrayToObject(doc, "queries");
    for (int64_t q = 0; jq && q < o->nq; q++) {
        cJSON *x = cJSON_CreateObject();
        al_json_push(jq, x);
        cJSON_AddStringToObject(x, "query", d->queries.s[q]);
        cJSON_AddNumberToObject(x, "cras", o->query[q]);
        cJSON_AddNumberToObject(x, "normalised", al_norm(o->query[q]));
        if (d->has_correct) al_json_add(x, "correct", al_nn(d->correct[q]));
    }
    cJSON *jw = cJSON_AddObjectToObject(doc, "weights");
    if (jw) {
        al_json_add(jw, "default", al_wset(w->def));
        cJSON *rw = cJSON_AddObjectToObject(jw, "roles");
        for (int64_t r = 0; rw && r < w->nrole; r++) al_json_add(rw, w->role[r], al_wset(w->w[r]));
    }
    cJSON *jb = cJSON_AddObjectToObject(doc, "bootstrap");
    if (jb) {
        cJSON_AddNumberToObject(jb, "resamples", (double)p->bootstrap);
        cJSON_AddNumberToObject(jb, "seed", (double)p->seed);
        cJSON_AddNumberToObject(jb, "level", 0.95);
    }
}

static al_status al_figures(const al_cras_data *d, const al_cras_est *o, const double *dci, const double *rci,
                            al_result *res, al_error *e) {
    int64_t R = o->nrole;
    double *v = al_malloc((size_t)R + AL_CRAS_NDIM, sizeof *v), *lo = al_malloc((size_t)R + AL_CRAS_NDIM, sizeof *lo);
    double *hi = al_malloc((size_t)R + AL_CRAS_NDIM, sizeof *hi);
    int bad = !v || !lo || !hi;
    for (int k = 0; !bad && k < AL_CRAS_NDIM; k++) {
        v[k] = o->dims[k];
        lo[k] = dci[2 * k];
        hi[k] = dci[2 * k + 1];
    }
    al_plot_opts od = {.title = "CRAS per dimension (95% bootstrap intervals over queries)", .ylabel = "mean judge score (1..5)", .zmin = 1, .zmax = 5};
    if (!bad) bad = al_result_figure(res, al_plot_means_ci("cras_dimensions", al_cras_dims, v, lo, hi, AL_CRAS_NDIM, &od));
    for (int64_t r = 0; !bad && r < R; r++) {
        v[r] = o->role[r];
        lo[r] = rci[2 * r];
        hi[r] = rci[2 * r + 1];
    }
    al_plot_opts orl = {.title = "CRAS per role (95% bootstrap intervals over queries)", .ylabel = "CRAS (1..5)", .zmin = 1, .zmax = 5};
    if (!bad) bad = al_result_figure(res, al_plot_means_ci("cras_roles", (const char *const *)d->roles.s, v, lo, hi, R, &orl));
    al_free(v);
    al_free(lo);
    al_free(hi);
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory building figures") : AL_OK;
}

al_status al_cras_run(const char *path, const char *correct_csv, const al_cras_weights *w, const al_cras_params *p,
                      al_result *res, al_error *e) {
    al_cras_data d;
    al_cras_est o;
    memset(&o, 0, sizeof o);
    if (al_cras_read(path, &d, e) != AL_OK) return e->status;
    al_status st = AL_OK;
    if (correct_csv) st = al_cras_read_correct(correct_csv, &d, e);
    if (st == AL_OK) st = al_cras_estimate(&d, w, &o, e);
    int64_t R = d.roles.n;
    double ci[2], dci[2 * AL_CRAS_NDIM];
    double *rci = al_malloc((size_t)R * 2 + 2, sizeof *rci); /* [R, 2] */
    if (st == AL_OK && !rci) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    if (st == AL_OK) st = al_cras_bootstrap(&d, &o, p, ci, dci, rci, e);
    if (st == AL_OK) {
        al_json(&d, &o, w, p, ci, dci, rci, res->doc);
        st = al_tables(&d, &o, ci, dci, rci, res, e);
    }
    if (st == AL_OK && d.has_correct) st = al_correlation(&d, &o, res, e);
    if (st == AL_OK) st = al_figures(&d, &o, dci, rci, res, e);
    al_free(rci);
    al_cras_est_free(&o);
    al_cras_free(&d);
    return st;
}
