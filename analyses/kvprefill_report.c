/* The report of kvsim --prefill/--decode: per method and ratio the means over later rows and samples, per query
 * head, per KV head (mean over its group), per layer and in total; the kept fraction counts every kept key. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../plots/kinds.h"
#include "kvprefill_acc.h"

static void al_kvp_set(cJSON *o, const char *key, double x) {
    al_json_add(o, key, isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull());
}

/* The measures m [STATS] (and the prompt's kept fraction, prefill) into a JSON object. */
static void al_kvp_stats(const al_kvp *a, cJSON *o, const double *m, double pre) {
    al_kvp_set(o, "retained", m[0]);
    al_kvp_set(o, "kept_fraction", m[1]);
    if (a->has_v) al_kvp_set(o, "output_error", m[2]);
    if (!a->decoding) al_kvp_set(o, "prompt_kept", pre);
}

/* Budget in keys per KV head of run (q, t) at layer 0 (PyramidKV's differ per layer; decoding: the cache). */
static double al_kvp_budget(const al_kvp *a, int q, int t) {
    if (a->decoding) return (double)a->P;
    const al_kvmethod *m = &a->m[q];
    if (m->kind == AL_KVM_DUO) return NAN;
    return (double)al_kvm_budget(a->P, a->ratios[t]);
}

/* Means of run `run` over heads: layer [L, STATS+1], kv [L, Hkv, STATS+1], whole [STATS+1] (slot STATS: prompt). */
static void al_kvp_means(const al_kvp *a, int64_t run, double *layer, double *kv, double *whole) {
    int64_t L = a->L, H = a->H, Hkv = a->Hkv, S1 = AL_KVP_STATS + 1;
    memset(layer, 0, sizeof(double) * (size_t)(L * S1));
    memset(kv, 0, sizeof(double) * (size_t)(L * Hkv * S1));
    memset(whole, 0, sizeof(double) * (size_t)S1);
    for (int64_t l = 0; l < L; l++)
        for (int64_t h = 0; h < H; h++) {
            const double *s = a->sum + ((run * L + l) * H + h) * AL_KVP_STATS;
            int64_t g = h / a->G;
            for (int k = 0; k < AL_KVP_STATS; k++) {
                double x = s[k] / (double)a->N;
                kv[(l * Hkv + g) * S1 + k] += x / (double)a->G;
                layer[l * S1 + k] += x / (double)H;
                whole[k] += x / (double)(L * H);
            }
        }
    for (int64_t l = 0; l < L && a->pre; l++)
        for (int64_t g = 0; g < Hkv; g++) {
            double x = a->pre[(run * L + l) * Hkv + g] / (double)a->N;
            kv[(l * Hkv + g) * S1 + AL_KVP_STATS] = x;
            layer[l * S1 + AL_KVP_STATS] += x / (double)Hkv;
            whole[AL_KVP_STATS] += x / (double)(L * Hkv);
        }
    if (!a->pre) whole[AL_KVP_STATS] = NAN;
}

/* The JSON of run (q, t) with its per-layer, per-KV-head and per-head lists; rows of the tables. */
static int al_kvp_run_out(const al_kvp *a, int q, int t, cJSON *jm, al_table *tm, al_table *th, double *layer,
                          double *kv, double *whole) {
    int64_t L = a->L, H = a->H, Hkv = a->Hkv, S1 = AL_KVP_STATS + 1, run = q * a->R + t;
    al_kvp_means(a, run, layer, kv, whole);
    cJSON *o = cJSON_CreateObject();
    al_json_push(jm, o);
    al_json_add(o, "method", cJSON_CreateString(a->names[q]));
    if (!a->decoding) al_kvp_set(o, "ratio", a->ratios[t]);
    al_kvp_set(o, "budget", al_kvp_budget(a, q, t));
    al_kvp_stats(a, o, whole, whole[AL_KVP_STATS]);
    al_cell *c = al_table_row(tm);
    if (!c || al_cell_str(&c[0], a->names[q])) return -1;
    al_cell_num(&c[1], a->decoding ? NAN : a->ratios[t]);
    al_cell_num(&c[2], al_kvp_budget(a, q, t));
    for (int k = 0; k < 3; k++)
        al_cell_num(&c[3 + k], k == 2 && !a->has_v ? NAN : whole[k]);
    al_cell_num(&c[6], whole[AL_KVP_STATS]);
    cJSON *jl = cJSON_AddArrayToObject(o, "layers"), *jk = cJSON_AddArrayToObject(o, "kv_heads");
    cJSON *jh = cJSON_AddArrayToObject(o, "heads");
    if (!jl || !jk || !jh) return -1;
    for (int64_t l = 0; l < L; l++) {
        cJSON *ol = cJSON_CreateObject();
        al_json_push(jl, ol);
        cJSON_AddNumberToObject(ol, "layer", (double)l);
        al_kvp_stats(a, ol, layer + l * S1, layer[l * S1 + AL_KVP_STATS]);
        for (int64_t g = 0; g < Hkv; g++) {
            cJSON *og = cJSON_CreateObject();
            al_json_push(jk, og);
            cJSON_AddNumberToObject(og, "layer", (double)l);
            cJSON_AddNumberToObject(og, "kv_head", (double)g);
            al_kvp_stats(a, og, kv + (l * Hkv + g) * S1, kv[(l * Hkv + g) * S1 + AL_KVP_STATS]);
        }
        for (int64_t h = 0; h < H; h++) {
            const double *s = a->sum + ((run * L + l) * H + h) * AL_KVP_STATS;
            double m[AL_KVP_STATS];
            for (int k = 0; k < AL_KVP_STATS; k++)
                m[k] = s[k] / (double)a->N;
            cJSON *oh = cJSON_CreateObject();
            al_json_push(jh, oh);
            cJSON_AddNumberToObject(oh, "layer", (double)l);
            cJSON_AddNumberToObject(oh, "head", (double)h);
            cJSON_AddNumberToObject(oh, "kv_head", (double)(h / a->G));
            al_kvp_stats(a, oh, m, kv[(l * Hkv + h / a->G) * S1 + AL_KVP_STATS]);
            al_cell *ch = al_table_row(th);
            if (!ch || al_cell_str(&ch[0], a->names[q])) return -1;
            al_cell_num(&ch[1], a->decoding ? NAN : a->ratios[t]);
            al_cell_int(&ch[2], l);
            al_cell_int(&ch[3], h);
            al_cell_int(&ch[4], h / a->G);
            for (int k = 0; k < 3; k++)
                al_cell_num(&ch[5 + k], k == 2 && !a->has_v ? NAN : m[k]);
        }
    }
    return 0;
}

/* Retained mass (and output error) against kept fraction, one curve per method over its ratios. */
static int al_kvp_figures(const al_kvp *a, al_result *res, const double *X, const double *Y, const double *E) {
    char title[256];
    const char *mode = a->decoding ? "decoding with a cache of" : "after a prompt of";
    snprintf(title, sizeof title, "Retained attention mass against kept fraction (%s %lld keys, T = %lld)", mode,
             (long long)a->P, (long long)a->T);
    al_plot_opts o = {.title = title, .xlabel = "kept fraction (every kept key)", .ylabel = "retained mass"};
    int bad = al_result_figure(
        res, al_plot_curves("kvsim_methods_retained", X, Y, a->M, a->R, (const char *const *)a->names, &o));
    if (!bad && a->has_v) {
        snprintf(title, sizeof title, "Output error against kept fraction (%s %lld keys, T = %lld)", mode,
                 (long long)a->P, (long long)a->T);
        al_plot_opts oe = {
            .title = title, .xlabel = "kept fraction (every kept key)", .ylabel = "relative output error"};
        bad = al_result_figure(
            res, al_plot_curves("kvsim_methods_error", X, E, a->M, a->R, (const char *const *)a->names, &oe));
    }
    return bad;
}

al_status al_kvp_report(const al_kvp *a, al_result *res, al_error *e) {
    int64_t S1 = AL_KVP_STATS + 1, Q = a->Q;
    double *layer = al_malloc((size_t)(a->L * S1), sizeof(double));
    double *kv = al_malloc((size_t)(a->L * a->Hkv * S1), sizeof(double));
    double *X = al_malloc((size_t)(3 * Q), sizeof(double)), *Y = X ? X + Q : NULL, *E = X ? X + 2 * Q : NULL;
    double whole[AL_KVP_STATS + 1];
    cJSON *jm = cJSON_AddArrayToObject(res->doc, "methods");
    al_json_add(res->doc, "tokens", cJSON_CreateNumber((double)a->T));
    al_json_add(res->doc, a->decoding ? "cache" : "prefill", cJSON_CreateNumber((double)a->P));
    al_table *tm = al_table_new("kvsim_methods", "KV-compression methods: means over later rows, samples and heads",
                                "method,ratio,budget,retained,kept_fraction,output_error,prompt_kept");
    al_table *th =
        al_table_new("kvsim_method_heads", "KV-compression methods per head (means over later rows and samples)",
                     "method,ratio,layer,head,kv_head,retained,kept_fraction,output_error");
    int bad = !layer || !kv || !X || !jm;
    if (a->kept) bad |= al_result_table(res, a->kept, 0), ((al_kvp *)a)->kept = NULL; /* the result owns it now */
    bad |= al_result_table(res, tm, 1) | al_result_table(res, th, 0);                 /* | : each takes its table */
    for (int q = 0; !bad && q < a->M; q++)
        for (int t = 0; !bad && t < a->R; t++) {
            bad = al_kvp_run_out(a, q, t, jm, tm, th, layer, kv, whole);
            X[q * a->R + t] = whole[1], Y[q * a->R + t] = whole[0], E[q * a->R + t] = whole[2];
        }
    if (!bad) bad = al_kvp_figures(a, res, X, Y, E);
    al_free(layer), al_free(kv), al_free(X);
    return bad ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the kvsim report") : AL_OK;
}
