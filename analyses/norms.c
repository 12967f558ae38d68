/* Norms over a recording, streamed in token blocks sized from --mem. The median of |h| is exact: high 16 bits
 * histogrammed first, then the low bits inside the bins holding the middle ranks. */
#include "norms.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/norms.h"
#include "../plots/plots.h"

void al_norms_defaults(al_norms_params *p) { p->tokens = 0; }

typedef struct {
    int64_t T, B, W; /* tokens, block rows, row width (d_model or head_dim) */
    float *buf;      /* [B, W] */
    uint64_t *hhi;   /* [AL_ABSHIST_HI] */
    uint64_t *hlo;   /* [2, AL_ABSHIST_LO] */
} al_norms_ws;

static int64_t al_valid(const al_rec *r, int64_t n, int64_t T) { return r->lengths[n] < T ? r->lengths[n] : T; }

static al_status al_check_rows(const float *x, int64_t nt, int64_t W, const al_rec *r, const char *dset, int64_t n,
                               int64_t t0, al_error *e) {
    for (int64_t i = 0; i < nt * W; i++)
        if (!isfinite(x[i]))
            return al_fail(e, AL_EVALUE, r->path, dset, "non-finite value at sample %lld, token %lld, channel %lld", (long long)n,
                           (long long)(t0 + i / W), (long long)(i % W));
    return AL_OK;
}

/* One hidden entry: token norms (sum over samples) [T], counts [T], top-3, histogram pass; then median. */
static al_status al_hidden_entry(al_rec *r, int64_t l, al_norms_ws *w, double *tn, double *cnt, al_top3 *top, double *median,
                                 al_error *e) {
    int64_t T = w->T, W = w->W;
    char dn[64];
    al_rec_dset_name(r, AL_T_HIDDEN, l, dn, sizeof dn);
    memset(w->hhi, 0, sizeof(uint64_t) * AL_ABSHIST_HI);
    memset(w->hlo, 0, sizeof(uint64_t) * 2 * AL_ABSHIST_LO);
    al_top3_init(top);
    uint64_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t rk[2] = {(total - 1) / 2, total / 2}, below[2] = {0, 0};
        int64_t bin[2] = {-1, -1};
        if (pass == 1) {
            if (total == 0) break;
            for (int k = 0; k < 2; k++) bin[k] = al_hist_locate(w->hhi, AL_ABSHIST_HI, rk[k], &below[k]);
        }
        for (int64_t n = 0; n < r->N; n++) {
            int64_t Tn = al_valid(r, n, T);
            for (int64_t t0 = 0; t0 < Tn; t0 += w->B) {
                int64_t nt = Tn - t0 < w->B ? Tn - t0 : w->B;
                if (al_rec_read_hidden(r, n, l, t0, nt, w->buf, e) != AL_OK) return e->status;
                if (pass == 0) {
                    if (al_check_rows(w->buf, nt, W, r, dn, n, t0, e) != AL_OK) return e->status;
                    for (int64_t t = 0; t < nt; t++) {
                        tn[t0 + t] += sqrt(al_sumsq(w->buf + t * W, W));
                        cnt[t0 + t] += 1;
                    }
                    al_top3_add(top, w->buf, nt * W, (n * T + t0) * W);
                    al_abshist_hi(w->buf, nt * W, w->hhi);
                    total += (uint64_t)(nt * W);
                } else {
                    al_abshist_lo(w->buf, nt * W, (uint32_t)bin[0], w->hlo);
                    if (bin[1] != bin[0]) al_abshist_lo(w->buf, nt * W, (uint32_t)bin[1], w->hlo + AL_ABSHIST_LO);
                }
            }
        }
        if (pass == 1) {
            double v[2];
            for (int k = 0; k < 2; k++) {
                const uint64_t *h = w->hlo + (bin[k] != bin[0] ? AL_ABSHIST_LO : 0);
                uint64_t b2;
                int64_t lo = al_hist_locate(h, AL_ABSHIST_LO, rk[k] - below[k], &b2);
                v[k] = (double)al_abs_from_bins((uint32_t)bin[k], (uint32_t)lo);
            }
            *median = (v[0] + v[1]) / 2;
        }
    }
    if (total == 0) *median = NAN;
    return AL_OK;
}

/* Mean over samples and KV heads of ||k[t]|| (which = AL_T_K) or ||v[t]||: out [T]. */
static al_status al_kv_norms(al_rec *r, al_rec_tensor which, int64_t l, al_norms_ws *w, double *out, double *cnt, al_error *e) {
    char dn[64];
    al_rec_dset_name(r, which, l, dn, sizeof dn);
    int64_t W = r->dsets[which][l].dims[3];
    for (int64_t t = 0; t < w->T; t++) out[t] = cnt[t] = 0;
    for (int64_t n = 0; n < r->N; n++)
        for (int64_t g = 0; g < r->H_kv; g++) {
            int64_t Tn = al_valid(r, n, w->T);
            for (int64_t t0 = 0; t0 < Tn; t0 += w->B) {
                int64_t nt = Tn - t0 < w->B ? Tn - t0 : w->B;
                if (al_rec_read_qkv(r, which, n, l, g, t0, nt, w->buf, e) != AL_OK) return e->status;
                if (al_check_rows(w->buf, nt, W, r, dn, n, t0, e) != AL_OK) return e->status;
                for (int64_t t = 0; t < nt; t++) {
                    out[t0 + t] += sqrt(al_sumsq(w->buf + t * W, W));
                    cnt[t0 + t] += 1;
                }
            }
        }
    for (int64_t t = 0; t < w->T; t++) out[t] = cnt[t] > 0 ? out[t] / cnt[t] : NAN;
    return AL_OK;
}

static cJSON *al_json_nums(const double *x, int64_t n) {
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < n; i++) al_json_push(a, isfinite(x[i]) ? cJSON_CreateNumber(x[i]) : cJSON_CreateNull());
    return a;
}

al_status al_norms_run(al_rec *r, const al_norms_params *p, const al_exec *ex, al_result *res, al_error *e) {
    if (ex->device == AL_DEVICE_CUDA)
        return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: norms run on the CPU only (use --device cpu)");
    int hid = r->has[AL_T_HIDDEN], hk = r->has[AL_T_K], hv = r->has[AL_T_V];
    if (!hid && !hk && !hv)
        return al_fail(e, AL_EUSAGE, r->path, NULL, "no hidden states, keys or values recorded (/hidden, /k, /v): nothing to measure");
    int64_t T = p->tokens > 0 ? p->tokens : r->T;
    if (T > r->T)
        return al_fail(e, AL_EUSAGE, r->path, NULL, "--tokens %lld is beyond the recorded length %lld", (long long)T, (long long)r->T);
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    int64_t L = r->L, E = hid ? L + 1 : 0, W = hid ? r->d_model : 1;
    if (hk && r->dsets[AL_T_K][0].dims[3] > W) W = r->dsets[AL_T_K][0].dims[3];
    if (hv && r->dsets[AL_T_V][0].dims[3] > W) W = r->dsets[AL_T_V][0].dims[3];
    al_norms_ws w = {T, 0, hid ? r->d_model : W, NULL, NULL, NULL};
    w.B = (ex->mem / 2) / (W * 4 > 0 ? W * 4 : 1);
    if (w.B < 1) w.B = 1;
    if (w.B > T) w.B = T;
    w.buf = al_malloc((size_t)(w.B * W), sizeof(float));
    w.hhi = al_malloc(AL_ABSHIST_HI, sizeof(uint64_t));
    w.hlo = al_malloc(2 * AL_ABSHIST_LO, sizeof(uint64_t));
    double *tn = al_calloc((size_t)((E > 0 ? E : 1) * T), sizeof(double)); /* [E, T] */
    double *kvn = al_calloc((size_t)(2 * L * T), sizeof(double));          /* [2, L, T] key, value */
    double *cnt = al_calloc((size_t)T, sizeof(double));
    double *x = al_malloc((size_t)T, sizeof(double));
    double *mt = al_malloc((size_t)(2 * (E > 0 ? E : 1)), sizeof(double)); /* [2, E] top1, median */
    al_top3 *top = al_calloc((size_t)(E > 0 ? E : 1), sizeof(al_top3));
    double *med = al_calloc((size_t)(E > 0 ? E : 1), sizeof(double));
    char(*lab)[48] = al_malloc((size_t)(E > L ? E : L) + 1, sizeof *lab);
    const char **labs = al_malloc((size_t)(E > L ? E : L) + 1, sizeof(char *));
    al_status st = AL_OK;
    if (!w.buf || !w.hhi || !w.hlo || !tn || !kvn || !cnt || !x || !mt || !top || !med || !lab || !labs) {
        st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for norms");
        goto done;
    }
    for (int64_t l = 0; l < E && st == AL_OK; l++) {
        for (int64_t t = 0; t < T; t++) cnt[t] = 0;
        st = al_hidden_entry(r, l, &w, tn + l * T, cnt, &top[l], &med[l], e);
        for (int64_t t = 0; t < T; t++) tn[l * T + t] = cnt[t] > 0 ? tn[l * T + t] / cnt[t] : NAN;
    }
    w.W = W;
    for (int64_t l = 0; l < L && st == AL_OK && (hk || hv); l++) {
        if (hk) st = al_kv_norms(r, AL_T_K, l, &w, kvn + l * T, cnt, e);
        if (st == AL_OK && hv) st = al_kv_norms(r, AL_T_V, l, &w, kvn + (L + l) * T, cnt, e);
    }
    if (st != AL_OK) goto done;

    cJSON *doc = res->doc, *jl = cJSON_AddArrayToObject(doc, "layers"), *jk = NULL;
    cJSON_AddNumberToObject(doc, "tokens", (double)T);
    al_table *tl = al_table_new("norms_layers", "Hidden-state norms and massive activations per layer entry (0 = embeddings)",
                                "layer,input,mean_token_norm,top1,top2,top3,top1_sample,top1_token,top1_channel,median,top1_over_median");
    if (al_result_table(res, tl, 1) || !jl) goto oom; /* the table first: it is freed on failure */
    for (int64_t l = 0; l < E; l++) {
        if (l == 0) snprintf(lab[l], sizeof lab[l], "embeddings");
        else snprintf(lab[l], sizeof lab[l], "output of block %lld", (long long)l - 1);
        labs[l] = lab[l];
        double mean = 0, m = 0;
        for (int64_t t = 0; t < T; t++)
            if (isfinite(tn[l * T + t])) mean += tn[l * T + t], m += 1;
        mean = m > 0 ? mean / m : NAN;
        cJSON *o = cJSON_CreateObject();
        al_json_push(jl, o);
        cJSON_AddNumberToObject(o, "layer", (double)l);
        cJSON_AddStringToObject(o, "input", lab[l]);
        al_json_add(o, "token_norm", al_json_nums(tn + l * T, T));
        al_json_add(o, "top3", al_json_nums(top[l].v, top[l].n));
        cJSON *wh = cJSON_AddArrayToObject(o, "top3_where");
        for (int k = 0; wh && k < top[l].n; k++) {
            int64_t at = top[l].at[k], d = r->d_model;
            double v3[3] = {(double)(at / (T * d)), (double)(at / d % T), (double)(at % d)};
            al_json_push(wh, cJSON_CreateDoubleArray(v3, 3));
        }
        if (isfinite(med[l])) cJSON_AddNumberToObject(o, "median", med[l]);
        else cJSON_AddNullToObject(o, "median");
        al_cell *cl = al_table_row(tl);
        if (!cl || al_cell_str(&cl[1], lab[l])) goto oom;
        al_cell_int(&cl[0], l);
        al_cell_num(&cl[2], mean);
        for (int k = 0; k < 3; k++) al_cell_num(&cl[3 + k], k < top[l].n ? top[l].v[k] : NAN);
        if (top[l].n > 0) {
            int64_t at = top[l].at[0], d = r->d_model;
            al_cell_int(&cl[6], at / (T * d));
            al_cell_int(&cl[7], at / d % T);
            al_cell_int(&cl[8], at % d);
        }
        al_cell_num(&cl[9], med[l]);
        al_cell_num(&cl[10], top[l].n > 0 && med[l] > 0 ? top[l].v[0] / med[l] : NAN);
        mt[l] = top[l].n > 0 ? top[l].v[0] : NAN;
        mt[E + l] = med[l];
    }
    if (hk || hv) {
        jk = cJSON_AddArrayToObject(doc, "kv_layers");
        for (int64_t l = 0; jk && l < L; l++) {
            cJSON *o = cJSON_CreateObject();
            al_json_push(jk, o);
            cJSON_AddNumberToObject(o, "layer", (double)l);
            if (hk) al_json_add(o, "key_norm", al_json_nums(kvn + l * T, T));
            if (hv) al_json_add(o, "value_norm", al_json_nums(kvn + (L + l) * T, T));
        }
    }
    for (int64_t t = 0; t < T; t++) x[t] = (double)t;
    int bad = 0;
    if (E > 0) {
        al_plot_opts o = {.title = "Hidden-state norm by token position (mean over samples), one line per layer",
                          .xlabel = "token position", .ylabel = "||h||", .log_scale = 1};
        bad |= al_result_figure(res, al_plot_lines("norms_tokens", x, tn, E, T, labs, 0, &o));
        for (int64_t l = 0; l < E; l++) x[l] = (double)l;
        static const char *const ml[2] = {"top-1 |h|", "median |h|"};
        al_plot_opts o2 = {.title = "Massive activations: largest and median |h| per layer entry (0 = embeddings)",
                           .xlabel = "layer entry", .ylabel = "|h|", .log_scale = 1};
        bad |= al_result_figure(res, al_plot_lines("norms_massive", x, mt, 2, E, ml, 1, &o2));
        for (int64_t t = 0; t < T; t++) x[t] = (double)t;
    }
    for (int which = 0; which < 2 && !bad; which++) {
        if (which == 0 ? !hk : !hv) continue;
        for (int64_t l = 0; l < L; l++) {
            snprintf(lab[l], sizeof lab[l], "layer %lld", (long long)l);
            labs[l] = lab[l];
        }
        al_plot_opts o = {.title = which ? "Value norm by token position (mean over samples and KV heads)"
                                         : "Key norm by token position (mean over samples and KV heads)",
                          .xlabel = "token position", .ylabel = which ? "||v||" : "||k||"};
        bad |= al_result_figure(res, al_plot_lines(which ? "norms_values" : "norms_keys", x, kvn + which * L * T, L, T, labs, 0, &o));
    }
    if (bad) goto oom;
    goto done;
oom:
    st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the norms report");
done:
    al_free(w.buf), al_free(w.hhi), al_free(w.hlo), al_free(tn), al_free(kvn), al_free(cnt), al_free(x), al_free(mt);
    al_free(top), al_free(med), al_free(lab), al_free((void *)labs);
    return st;
}
