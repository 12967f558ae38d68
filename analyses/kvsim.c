/* KV-cache policy simulation over a recording: every policy is applied to each row as the row passes through the
 * streaming engine, sharing the row's sums and scratch (metrics/kvrow.c); h2o's received attention is a running
 * column sum in the head's workspace (O(T) memory).
 * DuoAttention without a gate file splits heads by their distant mass averaged over samples, which is only known
 * after the pass; so both outcomes (streaming, keep-all) are accumulated and the split is made in the report. */
#include "kvsim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../datasets/gates.h"
#include "../metrics/headstats.h"
#include "kvsim_acc.h"

void al_kvsim_strings_free(char **s, int n) {
    for (int i = 0; s && i < n; i++) al_free(s[i]);
    al_free(s);
}

static int al_kvsim_push(char ***out, int *n, const char *s) {
    char **t = al_malloc((size_t)(*n + 1), sizeof(char *));
    char *c = al_malloc(strlen(s) + 1, 1);
    if (!t || !c) {
        al_free(t);
        al_free(c);
        return -1;
    }
    if (*n) memcpy(t, *out, sizeof(char *) * (size_t)*n);
    al_free(*out);
    strcpy(c, s);
    t[(*n)++] = c;
    *out = t;
    return 0;
}

al_status al_kvsim_sweep(const char *spec, char ***out, int *n, al_error *e) {
    const char *dots = strstr(spec, "..");
    const char *a0 = dots;
    while (a0 && a0 > spec && strchr("0123456789.", a0[-1])) a0--;
    /* strtod would take "16." of "16..1024": each number is parsed from its own copy */
    char num[64];
    double A = NAN, B = NAN, F = NAN;
    char *end = NULL;
    const char *rest = NULL;
    if (dots && a0 < dots && dots - a0 < (int)sizeof num) {
        memcpy(num, a0, (size_t)(dots - a0));
        num[dots - a0] = 0;
        A = strtod(num, &end);
        if (*end) A = NAN;
        B = strtod(dots + 2, &end);
        if (end != dots + 2 && *end == 'x') {
            const char *f0 = end + 1;
            F = strtod(f0, &end);
            rest = end != f0 ? end : NULL;
        }
    }
    if (!rest || !isfinite(A) || !isfinite(F))
        return al_fail(e, AL_EUSAGE, "--sweep", NULL, "'%s': expected one budget written A..BxF, e.g. window:16..1024x2", spec);
    if (!(A > 0 && B >= A && F > 1 && isfinite(B)))
        return al_fail(e, AL_EUSAGE, "--sweep", NULL, "'%s': need 0 < A <= B and F > 1", spec);
    /* integral budgets: A and F written without a decimal point (the ".." aside) */
    int integral = A == floor(A) && F == floor(F);
    for (const char *c = a0; c < rest; c++)
        if (*c == '.' && c != dots && c != dots + 1) integral = 0;
    char buf[1200];
    int count = 0;
    for (double x = A; x <= B * (1 + 1e-12); x *= F) {
        if (++count > 1000) return al_fail(e, AL_EUSAGE, "--sweep", NULL, "'%s': more than 1000 budgets", spec);
        if (integral)
            snprintf(buf, sizeof buf, "%.*s%lld%s", (int)(a0 - spec), spec, (long long)llround(x), rest);
        else
            snprintf(buf, sizeof buf, "%.*s%.10g%s", (int)(a0 - spec), spec, x, rest);
        if (al_kvsim_push(out, n, buf)) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for the sweep");
    }
    return AL_OK;
}

int al_kvsim_variant(const al_kvsim_acc *a, int q, int64_t l, int64_t h) {
    const al_kvpolicy *p = &a->pol[q];
    if (p->kind != AL_KV_DUO || p->gates[0]) return 0; /* a gate file decides before the pass */
    return a->dist[(q * a->L + l) * a->H + h] / (double)a->N >= p->threshold;
}

void al_kvsim_acc_free(al_kvsim_acc *a) {
    if (!a) return;
    al_free(a->pol);
    al_kvsim_strings_free(a->names, a->P);
    al_free(a->v);
    al_free(a->gate);
    al_free(a->sum);
    al_free(a->dist);
    al_free(a);
}

/* Binarises the gate file of duo policy q into a->gate, KV head g serving query heads h / (H / Hkv) == g. */
static al_status al_kvsim_gates(al_kvsim_acc *a, int q, const char *rec, al_error *e) {
    al_gates g = {0};
    const char *path = a->pol[q].gates;
    al_status st = al_gates_read(path, &g, e);
    if (st == AL_OK) st = al_gates_check_shape(&g, path, a->L, a->Hkv, rec, e);
    if (st == AL_OK)
        for (int64_t l = 0; l < a->L; l++)
            for (int64_t h = 0; h < a->H; h++)
                a->gate[(q * a->L + l) * a->H + h] = g.g[l * g.cols + h / (a->H / a->Hkv)] >= a->pol[q].threshold;
    al_gates_free(&g);
    return st;
}

al_kvsim_acc *al_kvsim_acc_new(al_rec *r, int64_t T, const al_kvsim_params *p, int64_t mem, al_error *e) {
    al_kvsim_acc *a = al_calloc(1, sizeof *a);
    if (!a) goto oom;
    int P = p->npolicies;
    a->N = r->N, a->L = r->L, a->H = r->H, a->Hkv = r->H_kv > 0 ? r->H_kv : r->H, a->T = T;
    a->has_v = r->has[AL_T_V];
    a->D = a->has_v ? r->D : 0;
    a->pol = al_calloc((size_t)P, sizeof *a->pol);
    a->names = al_calloc((size_t)P, sizeof(char *));
    if (!a->pol || !a->names) goto oom;
    for (int q = 0; q < P; q++) {
        char why[256];
        if (al_kvpolicy_parse(p->policies[q], &a->pol[q], why, sizeof why)) {
            al_fail(e, AL_EUSAGE, "--policy", NULL, "'%s': %s", p->policies[q], why);
            al_kvsim_acc_free(a);
            return NULL;
        }
        a->names[q] = al_malloc(strlen(p->policies[q]) + 1, 1);
        if (!a->names[q]) goto oom;
        strcpy(a->names[q], p->policies[q]);
        a->P = q + 1;
        a->need_recv |= a->pol[q].kind == AL_KV_H2O;
    }
    size_t LH = (size_t)(a->L * a->H);
    a->gate = al_calloc((size_t)P * LH, 1);
    a->sum = al_calloc((size_t)P * 2 * LH, AL_KV_STATS * sizeof(double));
    a->dist = al_calloc((size_t)P * LH, sizeof(double));
    if (!a->gate || !a->sum || !a->dist) goto oom;
    for (int q = 0; q < P; q++)
        if (a->pol[q].kind == AL_KV_DUO && a->pol[q].gates[0] && al_kvsim_gates(a, q, r->path, e) != AL_OK) {
            al_kvsim_acc_free(a);
            return NULL;
        }
    if (a->has_v) {
        /* values of every head stay resident for the pass: they are T/ D times smaller than the maps */
        double bytes = (double)a->N * (double)a->L * (double)a->Hkv * (double)T * (double)a->D * 4.0;
        if (bytes > (double)mem) {
            al_fail(e, AL_EUSAGE, r->path, NULL, "the recorded values of %lld tokens need %.0f MB; raise --mem",
                    (long long)T, bytes / 1e6 + 1);
            al_kvsim_acc_free(a);
            return NULL;
        }
        a->v = al_malloc((size_t)(bytes / 4), sizeof(float));
        if (!a->v) goto oom;
        for (int64_t n = 0; n < a->N; n++)
            for (int64_t l = 0; l < a->L; l++)
                for (int64_t g = 0; g < a->Hkv; g++)
                    if (al_rec_read_qkv(r, AL_T_V, n, l, g, 0, T, a->v + (((n * a->L + l) * a->Hkv + g) * T) * a->D, e) != AL_OK) {
                        al_kvsim_acc_free(a);
                        return NULL;
                    }
    }
    /* workspace: recv [T], o [2, D], acc [P, 2, STATS] + dist [P] + hint [P] (doubles), the row scratch, keep [T] */
    a->off_o = sizeof(double) * (size_t)T;
    a->off_acc = a->off_o + sizeof(double) * (size_t)(2 * a->D);
    a->off_row = a->off_acc + sizeof(double) * (size_t)(P * (2 * AL_KV_STATS + 2));
    a->off_keep = a->off_row + al_kv_ws_bytes(T);
    a->ws_bytes = a->off_keep + (size_t)T;
    return a;
oom:
    al_kvsim_acc_free(a);
    al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for the kvsim statistics");
    return NULL;
}

static void al_kvsim_block(void *ctx, const al_head_id *hd, void *ws, const float *A, int64_t lda, int64_t row0,
                           int64_t nrows) {
    const al_kvsim_acc *a = ctx;
    char *w = ws;
    double *recv = (double *)w, *o = (double *)(w + a->off_o), *acc = (double *)(w + a->off_acc);
    double *dist = acc + a->P * 2 * AL_KV_STATS, *hint = dist + a->P; /* hint: each policy's state along the rows */
    uint8_t *keep = a->has_v ? (uint8_t *)(w + a->off_keep) : NULL; /* masks only for the output error */
    const float *v = NULL;
    if (a->has_v) v = a->v + (((hd->n * a->L + hd->l) * a->Hkv + hd->h / (a->H / a->Hkv)) * a->T) * a->D;
    for (int64_t r = 0; r < nrows; r++) {
        int64_t i = row0 + r;
        const float *row = A + r * lda;
        al_kv_rowctx rc;
        al_kv_row_begin(&rc, row, i, recv, w + a->off_row, a->T);
        if (v) al_kv_out(row, i, v, a->D, a->D, o); /* o [D], shared by every policy; o + D: [D] scratch */
        for (int q = 0; q < a->P; q++) {
            const al_kvpolicy *p = &a->pol[q];
            int duo_split = p->kind == AL_KV_DUO && !p->gates[0];
            int fixed_full = p->kind == AL_KV_DUO && p->gates[0] && a->gate[(q * a->L + hd->l) * a->H + hd->h];
            for (int var = 0; var < 1 + duo_split; var++) {
                double m, err = 0;
                int64_t n = al_kv_eval(p, var == 1 || fixed_full, &rc, &hint[q], &m, keep);
                if (v) err = al_kv_err(row, i, keep, n, &m, v, a->D, a->D, o, o + a->D);
                double *s = acc + (q * 2 + var) * AL_KV_STATS;
                s[0] += m;
                s[1] += (double)n / (double)(i + 1);
                s[2] += err;
            }
            if (duo_split) dist[q] += al_row_distant_ref(row, i + 1, i, p->s, p->w);
        }
        if (a->need_recv) al_kv_accum(recv, row, i + 1);
    }
}

static void al_kvsim_head_done(void *ctx, const al_head_id *hd, void *ws) {
    al_kvsim_acc *a = ctx;
    const double *acc = (const double *)((char *)ws + a->off_acc), *dist = acc + a->P * 2 * AL_KV_STATS;
    for (int q = 0; q < a->P; q++) {
        for (int var = 0; var < 2; var++)
            for (int k = 0; k < AL_KV_STATS; k++)
                a->sum[(((q * 2 + var) * a->L + hd->l) * a->H + hd->h) * AL_KV_STATS + k] +=
                    acc[(q * 2 + var) * AL_KV_STATS + k] / (double)hd->T; /* the sample's own rows */
        a->dist[(q * a->L + hd->l) * a->H + hd->h] += dist[q] / (double)hd->T;
    }
}

al_map_visitor al_kvsim_visitor(al_kvsim_acc *a) {
    al_map_visitor v = {a, a->ws_bytes, NULL, al_kvsim_block, al_kvsim_head_done};
    return v;
}

al_status al_kvsim_run(al_rec *r, const al_kvsim_params *p, const al_exec *x, al_result *res, al_error *e) {
    if (!r->causal)
        return al_fail(e, AL_EUSAGE, r->path, NULL, "kvsim needs causal maps (KV-cache policies act on a causal prefix)");
    if (p->npolicies < 1) return al_fail(e, AL_EUSAGE, "--policy", NULL, "give at least one --policy or --sweep");
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) return e->status;
    al_kvsim_acc *a = al_kvsim_acc_new(r, T, p, x->mem, e);
    if (!a) return e->status;
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    al_map_visitor v = al_kvsim_visitor(a);
    al_status st = al_stream_maps(r, T, x, &v, 1, e);
    if (st == AL_OK) st = al_kvsim_report(a, res, e);
    al_kvsim_acc_free(a);
    return st;
}
