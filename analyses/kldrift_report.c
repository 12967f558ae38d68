/* The kl-drift report: per-turn table, the equilibrium fit with its intervals, per-conversation values, the
 * intervention comparison, and the two figures (D_t per conversation; the phase plot with its fitted line). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../plots/logs.h"
#include "kldrift.h"

static cJSON *al_num_or_null(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

static cJSON *al_pair(const double *v) {
    cJSON *a = cJSON_CreateArray();
    if (a) {
        al_json_push(a, al_num_or_null(v[0]));
        al_json_push(a, al_num_or_null(v[1]));
    }
    return a;
}

static cJSON *al_fit_json(const al_eqfit *f, const al_kldrift_params *p) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    al_json_add(o, "a", al_num_or_null(f->f.a));
    al_json_add(o, "b", al_num_or_null(f->f.b));
    al_json_add(o, "kappa", al_num_or_null(f->kappa));
    al_json_add(o, "equilibrium", al_num_or_null(f->eq));
    al_json_add(o, "r2", al_num_or_null(f->f.r2));
    cJSON_AddNumberToObject(o, "n_pairs", (double)f->n_pairs);
    cJSON_AddNumberToObject(o, "n_conversations", (double)f->n_conv);
    cJSON_AddBoolToObject(o, "equilibrium_defined", isfinite(f->eq));
    cJSON *ci = cJSON_AddObjectToObject(o, "ci");
    if (ci) {
        al_json_add(ci, "kappa", al_pair(f->kappa_ci));
        al_json_add(ci, "equilibrium", al_pair(f->eq_ci));
        cJSON_AddNumberToObject(ci, "level", 0.95);
        cJSON_AddNumberToObject(ci, "resamples", (double)f->resamples);
        cJSON_AddNumberToObject(ci, "used", (double)f->used);
        cJSON_AddNumberToObject(ci, "left_out_b_nonnegative", (double)f->left_out);
        cJSON_AddNumberToObject(ci, "left_out_degenerate", (double)f->degenerate);
        cJSON_AddNumberToObject(ci, "seed", (double)p->seed);
    }
    return o;
}

static void al_fit_row(al_table *t, const char *group, int64_t nconv, double meand, const al_eqfit *f) {
    al_cell *c = al_table_row(t);
    if (!c) return;
    int k = 0;
    if (group) al_cell_str(&c[k++], group);
    if (group) al_cell_int(&c[k++], nconv);
    if (group) al_cell_num(&c[k++], meand);
    double v[] = {f->f.a, f->f.b, f->kappa, f->kappa_ci[0], f->kappa_ci[1], f->eq, f->eq_ci[0], f->eq_ci[1], f->f.r2};
    for (int i = 0; i < 9; i++) al_cell_num(&c[k++], v[i]);
    al_cell_int(&c[k], f->n_pairs);
}

#define AL_FIT_COLS "a,b,kappa,kappa_lo,kappa_hi,equilibrium,equilibrium_lo,equilibrium_hi,r2,n_pairs"

static double al_mean_d(const al_turn_series *s, const uint8_t *in, int64_t *nconv) {
    double sum = 0;
    int64_t n = 0;
    *nconv = 0;
    for (int64_t c = 0; c < s->nconv; c++) *nconv += in[c] != 0;
    for (int64_t i = 0; i < s->n; i++)
        if (in[s->conv[i]]) {
            sum += s->d[i];
            n++;
        }
    return n ? sum / (double)n : NAN;
}

static al_status al_interventions(const al_turn_series *s, const al_kldrift_params *p, al_result *res, al_error *e) {
    uint8_t *g[2] = {al_malloc((size_t)s->nconv + 1, 1), al_malloc((size_t)s->nconv + 1, 1)}; /* [C] with, without */
    if (!g[0] || !g[1]) {
        al_free(g[0]);
        al_free(g[1]);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    for (int64_t c = 0; c < s->nconv; c++) {
        g[0][c] = s->conv_intervention[c];
        g[1][c] = !s->conv_intervention[c];
    }
    static const char *const names[2] = {"with", "without"};
    al_table *t = al_table_new("kldrift_interventions", "Intervention comparison: fit per group",
                               "group,conversations,mean_d," AL_FIT_COLS);
    cJSON *o = cJSON_AddObjectToObject(res->doc, "interventions");
    al_status st = t && o && !al_result_table(res, t, 1) ? AL_OK : al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    double mean[2];
    for (int k = 0; k < 2 && st == AL_OK; k++) {
        al_eqfit f;
        int64_t nconv;
        mean[k] = al_mean_d(s, g[k], &nconv);
        if ((st = al_kldrift_fit(s, g[k], p, (uint64_t)k + 1, &f, e)) != AL_OK) break;
        cJSON *x = cJSON_AddObjectToObject(o, names[k]);
        if (!x) break;
        cJSON_AddNumberToObject(x, "conversations", (double)nconv);
        al_json_add(x, "mean_d", al_num_or_null(mean[k]));
        al_json_add(x, "fit", al_fit_json(&f, p));
        al_fit_row(t, names[k], nconv, mean[k], &f);
    }
    if (st == AL_OK)
        al_json_add(o, "relative_change", al_num_or_null(mean[1] != 0 ? (mean[0] - mean[1]) / mean[1] : NAN));
    al_free(g[0]);
    al_free(g[1]);
    return st;
}

static al_status al_figures(const al_turn_series *s, const al_eqfit *f, const int64_t *turns, const double *mean,
                            int64_t nt, al_result *res, al_error *e) {
    int64_t n = s->n;
    int64_t *start = al_malloc((size_t)s->nconv + 1, sizeof *start); /* [C + 1] */
    double *x = al_malloc((size_t)n + 1, sizeof *x), *y = al_malloc((size_t)n + 1, sizeof *y); /* [n] */
    double *mt = al_malloc((size_t)nt + 1, sizeof *mt);
    int bad = !start || !x || !y || !mt;
    if (!bad) {
        for (int64_t c = 0, i = 0; c <= s->nconv; c++) {
            while (i < n && s->conv[i] < c) i++;
            start[c] = i;
        }
        for (int64_t i = 0; i < n; i++) {
            x[i] = (double)s->turn[i];
            y[i] = s->d[i];
        }
        for (int64_t k = 0; k < nt; k++) mt[k] = (double)turns[k];
        char lab[128];
        snprintf(lab, sizeof lab, "fitted equilibrium D* = %.4g", f->eq);
        al_plot_opts o1 = {.title = "KL drift D_t per conversation, mean per turn, fitted equilibrium", .xlabel = "turn t",
                           .ylabel = "D_t (nats)"};
        bad = al_result_figure(res, al_plot_series_mean("kldrift_turns", start, x, y, s->nconv, mt, mean, nt, f->eq, lab, &o1));
        int64_t P = 0;
        for (int64_t i = 0; i + 1 < n; i++)
            if (s->conv[i] == s->conv[i + 1] && s->turn[i + 1] == s->turn[i] + 1) {
                x[P] = s->d[i];
                y[P++] = s->d[i + 1] - s->d[i];
            }
        snprintf(lab, sizeof lab, "fit: %.4g %+.4g D_t (kappa = %.4g)", f->f.a, f->f.b, f->kappa);
        al_plot_opts o2 = {.title = "Phase plot: change of drift against drift", .xlabel = "D_t",
                           .ylabel = "D_{t+1} - D_t"};
        if (!bad) bad = al_result_figure(res, al_plot_phase("kldrift_phase", x, y, P, f->f.a, f->f.b, lab, &o2));
    }
    al_free(start);
    al_free(x);
    al_free(y);
    al_free(mt);
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory building figures") : AL_OK;
}

al_status al_kldrift_report(const al_turn_series *s, const al_kldrift_params *p, const char *path, cJSON *source,
                            al_result *res, al_error *e) {
    cJSON *doc = res->doc;
    al_json_add(doc, "input", source);
    int64_t n = s->n;
    int64_t *turns = al_malloc((size_t)n + 1, sizeof *turns), *cnt = al_malloc((size_t)n + 1, sizeof *cnt); /* [n] */
    double *mean = al_malloc((size_t)n + 1, sizeof *mean), *sd = al_malloc((size_t)n + 1, sizeof *sd);     /* [n] */
    al_eqfit f;
    al_status st = AL_OK;
    if (!turns || !cnt || !mean || !sd) {
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        goto done;
    }
    if ((st = al_kldrift_fit(s, NULL, p, 0, &f, e)) != AL_OK) goto done;
    if (f.n_pairs == 0) {
        st = al_fail(e, AL_EVALUE, path, NULL, "no conversation has two consecutive turns (t, t+1): nothing to fit "
                                               "(%lld conversations, %lld turn values)", (long long)s->nconv, (long long)n);
        goto done;
    }
    int64_t nt = al_kldrift_turn_stats(s, NULL, turns, mean, sd, cnt);
    cJSON_AddNumberToObject(doc, "conversations", (double)s->nconv);
    cJSON *jt = cJSON_AddArrayToObject(doc, "turns");
    al_table *tt = al_table_new("kldrift_turns", "D_t per turn over conversations (mean, sd with n - 1, n)", "turn,mean,sd,n");
    al_table *tf = al_table_new("kldrift_fit", "Equilibrium fit D_{t+1} - D_t = a + b D_t (kappa = -b, D* = -a/b; 95% bootstrap intervals)", AL_FIT_COLS);
    al_table *tv = al_table_new("kldrift_values", "D_t per conversation and turn", "conversation,turn,d,intervention");
    if ((al_result_table(res, tt, 1) | al_result_table(res, tf, 1) | al_result_table(res, tv, 0)) || !jt) {
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        goto done;
    }
    for (int64_t k = 0; k < nt; k++) {
        cJSON *o = cJSON_CreateObject();
        al_json_push(jt, o);
        cJSON_AddNumberToObject(o, "turn", (double)turns[k]);
        al_json_add(o, "mean", al_num_or_null(mean[k]));
        al_json_add(o, "sd", al_num_or_null(sd[k]));
        cJSON_AddNumberToObject(o, "n", (double)cnt[k]);
        al_cell *c = al_table_row(tt);
        if (!c) {
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
            goto done;
        }
        al_cell_int(&c[0], turns[k]);
        al_cell_num(&c[1], mean[k]);
        al_cell_num(&c[2], sd[k]);
        al_cell_int(&c[3], cnt[k]);
    }
    al_json_add(doc, "fit", al_fit_json(&f, p));
    al_fit_row(tf, NULL, 0, 0, &f);
    for (int64_t i = 0; i < n; i++) {
        al_cell *c = al_table_row(tv);
        if (!c) {
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
            goto done;
        }
        al_cell_str(&c[0], s->conv_name[s->conv[i]]);
        al_cell_int(&c[1], s->turn[i]);
        al_cell_num(&c[2], s->d[i]);
        if (s->has_intervention) al_cell_int(&c[3], s->conv_intervention[s->conv[i]]);
    }
    if (s->has_intervention && (st = al_interventions(s, p, res, e)) != AL_OK) goto done;
    st = al_figures(s, &f, turns, mean, nt, res, e);
done:
    al_free(turns);
    al_free(cnt);
    al_free(mean);
    al_free(sd);
    return st;
}
