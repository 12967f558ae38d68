/* kvsim --prefill P: each method sees the prompt (its queries' attention, keys, values) as the row-block engine
 * streams rows 0..P-1 of every head of a sample; at row P the kept prompt keys of every method and ratio are
 * decided per layer and KV head (GQA aggregation explicit); the rows from P on are measured against them, every
 * key from P on kept. Heads run in parallel within a block (each head owns its sums: any --threads, same result). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../datasets/gates.h"
#include "../metrics/kvpolicy.h"
#include "kvprefill_acc.h"
#include "stream.h"
#include "stream_rows.h"

void al_kvp_free(al_kvp *a) {
    if (!a) return;
    al_kvd_free(a);
    al_table_free(a->kept);
    for (int q = 0; a->names && q < a->M; q++)
        al_free(a->names[q]);
    void *bufs[] = {a->m, a->names, a->ratios, a->wslot, a->dslot, a->col,  a->wsum,  a->last,  a->dist, a->gsc,
                    a->k, a->v,     a->qb,     a->kmin,  a->kmax,  a->mask, a->nkept, a->pmask, a->sum,  a->pre};
    for (size_t t = 0; t < sizeof bufs / sizeof *bufs; t++)
        al_free(bufs[t]);
    al_free(a);
}

/* Registers what method q needs the pass to gather. Returns 0, or -1 when SnapKV windows are too many. */
static int al_kvp_needs(al_kvp *a, int q) {
    const al_kvmethod *m = &a->m[q];
    al_kvm_kind b = m->base;
    a->wslot[q] = a->dslot[q] = -1;
    a->need_col |= b == AL_KVM_OBSERVED;
    a->need_last |= b == AL_KVM_TOVA && !a->decoding;
    a->need_k |= b == AL_KVM_KNORM || b == AL_KVM_EXPECTED || b == AL_KVM_QUEST;
    a->need_q |= b == AL_KVM_EXPECTED;
    if (b == AL_KVM_DUO && !m->gates[0]) a->dslot[q] = a->ndist++;
    if (b != AL_KVM_SNAPKV && b != AL_KVM_PYRAMID) return 0;
    for (int w = 0; w < a->nwin; w++)
        if (a->win[w] == m->window) return a->wslot[q] = w, 0;
    if (a->nwin == AL_KVP_WIN) return -1;
    a->win[a->nwin] = m->window;
    return a->wslot[q] = a->nwin++, 0;
}

/* Reads the gate file of duo method q into gsc (one score per layer and KV head). */
static al_status al_kvp_gates(al_kvp *a, int q, al_error *e) {
    al_gates g = {0};
    al_status st = al_gates_read(a->m[q].gates, &g, e);
    if (st == AL_OK) st = al_gates_check_shape(&g, a->m[q].gates, a->L, a->Hkv, a->r->path, e);
    if (st == AL_OK) memcpy(a->gsc + q * a->L * a->Hkv, g.g, sizeof(double) * (size_t)(a->L * a->Hkv));
    al_gates_free(&g);
    return st;
}

/* Parses and checks the methods; fails naming the first bad one. */
static al_status al_kvp_methods(al_kvp *a, const al_kvpress_params *p, al_error *e) {
    for (int q = 0; q < a->M; q++) {
        char why[512];
        if (al_kvmethod_parse(p->methods[q], &a->m[q], why, sizeof why))
            return al_fail(e, AL_EUSAGE, "--method", NULL, "'%s': %s", p->methods[q], why);
        for (int t = 0; t < a->R; t++)
            if (al_kvmethod_check(&a->m[q], a->ratios[t], a->P, a->decoding ? a->P : 0, why, sizeof why))
                return al_fail(e, AL_EUSAGE, "--method", NULL, "'%s': %s", p->methods[q], why);
        if (a->m[q].base == AL_KVM_EXPECTED && a->m[q].vnorm && !a->has_v)
            return al_fail(e, AL_EUSAGE, "--method", NULL, "'%s': vnorm needs recorded values (/v); give vnorm=0",
                           p->methods[q]);
        if (al_kvp_needs(a, q))
            return al_fail(e, AL_EUSAGE, "--method", NULL, "more than %d SnapKV windows", AL_KVP_WIN);
        a->names[q] = al_malloc(strlen(p->methods[q]) + 1, 1);
        if (!a->names[q]) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        strcpy(a->names[q], p->methods[q]);
    }
    return AL_OK;
}

/* Allocates the per-sample buffers, counting them against mem (half of it goes to the engine's blocks). */
static al_status al_kvp_alloc(al_kvp *a, int64_t mem, al_error *e) {
    int64_t L = a->L, H = a->H, Hkv = a->Hkv, P = a->P, D = a->D, T = a->T, Q = a->Q;
    int nquest = 0;
    for (int q = 0; q < a->M; q++)
        nquest += a->m[q].kind == AL_KVM_QUEST;
    double dbl = (double)L * H * P * 8.0 * (a->need_col + a->need_last + a->nwin);
    double kv = (double)L * Hkv * T * D * 4.0 * (a->need_k + a->has_v);
    double rest = a->decoding ? 0 : (double)Q * L * Hkv * P + (nquest ? (double)L * Hkv * a->np * D * 8.0 : 0);
    double need = dbl + kv + rest;
    if (need > (double)mem / 2)
        return al_fail(e, AL_EUSAGE, a->r->path, NULL,
                       "kvsim needs %.0f MB for %lld tokens of this recording "
                       "(prompt statistics, keys, values, kept sets); raise --mem",
                       need * 2 / 1e6 + 1, (long long)T);
    a->col = a->need_col ? al_malloc((size_t)(L * H * P), sizeof(double)) : NULL;
    a->last = a->need_last ? al_malloc((size_t)(L * H * P), sizeof(double)) : NULL;
    a->wsum = a->nwin ? al_malloc((size_t)(a->nwin * L * H * P), sizeof(double)) : NULL;
    a->dist = al_calloc((size_t)(a->ndist * L * H + 1), sizeof(double));
    a->k = a->need_k ? al_malloc((size_t)(L * Hkv * T * D), sizeof(float)) : NULL;
    a->v = a->has_v ? al_malloc((size_t)(L * Hkv * T * D), sizeof(float)) : NULL;
    int fail = (a->need_col && !a->col) || (a->need_last && !a->last) || (a->nwin && !a->wsum) || !a->dist ||
               (a->need_k && !a->k) || (a->has_v && !a->v);
    if (!a->decoding) {
        a->mask = al_malloc((size_t)(Q * L * Hkv), (size_t)P);
        a->nkept = al_calloc((size_t)(Q * L * Hkv), sizeof(int64_t));
        a->pre = al_calloc((size_t)(Q * L * Hkv), sizeof(double));
        fail |= !a->mask || !a->nkept || !a->pre;
        if (nquest) {
            a->kmin = al_malloc((size_t)(L * Hkv * a->np * D), sizeof(float));
            a->kmax = al_malloc((size_t)(L * Hkv * a->np * D), sizeof(float));
            fail |= !a->kmin || !a->kmax;
        }
    }
    a->sum = al_calloc((size_t)(Q * L * H), AL_KVP_STATS * sizeof(double));
    fail |= !a->sum;
    return fail ? al_fail(e, AL_ENOMEM, a->r->path, NULL, "out of memory for the kvsim methods") : AL_OK;
}

al_kvp *al_kvp_new(al_rec *r, const al_kvpress_params *p, int64_t T, int64_t mem, al_error *e) {
    al_kvp *a = al_calloc(1, sizeof *a);
    if (!a) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory"), NULL;
    a->r = r, a->N = r->N, a->L = r->L, a->H = r->H, a->Hkv = r->H_kv > 0 ? r->H_kv : r->H, a->D = r->D, a->T = T;
    a->G = a->H / a->Hkv, a->agg = p->agg, a->has_v = r->has[AL_T_V];
    a->decoding = p->decode > 0;
    a->P = a->decoding ? p->decode : p->prefill;
    a->M = p->nmethods, a->R = a->decoding ? 1 : p->nratios, a->Q = a->M * a->R;
    a->m = al_calloc((size_t)a->M, sizeof *a->m);
    a->names = al_calloc((size_t)a->M, sizeof(char *));
    a->ratios = al_calloc((size_t)a->R, sizeof(double));
    a->wslot = al_calloc((size_t)a->M, sizeof(int));
    a->dslot = al_calloc((size_t)a->M, sizeof(int));
    if (!a->m || !a->names || !a->ratios || !a->wslot || !a->dslot) {
        al_kvp_free(a);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory"), NULL;
    }
    for (int t = 0; t < a->R; t++)
        a->ratios[t] = a->decoding ? 0 : p->ratios[t];
    al_status st = AL_OK;
    if (a->P >= T)
        st = al_fail(e, AL_EUSAGE, a->decoding ? "--decode" : "--prefill", NULL,
                     "%lld leaves no later query in %lld tokens", (long long)a->P, (long long)T);
    if (st == AL_OK) st = al_kvp_methods(a, p, e);
    if (st == AL_OK && (a->need_k || a->np) && (!r->has[AL_T_K] || !r->has[AL_T_Q]))
        st = al_fail(e, AL_EUSAGE, r->path, NULL, "knorm, expected and quest need recorded queries and keys (/q, /k)");
    for (int q = 0; q < a->M; q++)
        a->np = a->m[q].kind == AL_KVM_QUEST ? (a->P + a->m[q].page - 1) / a->m[q].page : a->np;
    if (st == AL_OK && a->np)
        for (int q = 0; q < a->M; q++)
            if (a->m[q].kind == AL_KVM_QUEST && (a->P + a->m[q].page - 1) / a->m[q].page != a->np)
                st = al_fail(e, AL_EUSAGE, "--method", NULL, "'%s': every quest method takes the same page size",
                             a->names[q]);
    if (st == AL_OK) a->gsc = al_calloc((size_t)(a->M * a->L * a->Hkv), sizeof(double));
    if (st == AL_OK && !a->gsc) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int q = 0; st == AL_OK && q < a->M; q++)
        if (a->m[q].kind == AL_KVM_DUO && a->m[q].gates[0]) st = al_kvp_gates(a, q, e);
    if (st == AL_OK) st = al_kvp_alloc(a, mem, e);
    if (st == AL_OK && p->kept && !a->decoding) {
        a->kept = al_table_new("kvsim_kept", "Kept prompt keys per method, ratio, sample, layer and KV head",
                               "method,ratio,sample,layer,kv_head,n_kept,keys");
        if (!a->kept) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    if (st == AL_OK && a->decoding) st = al_kvd_begin(a, e);
    if (st != AL_OK) {
        al_kvp_free(a);
        return NULL;
    }
    return a;
}

/* A new sample: the prompt's sums restart; its keys and values are read. */
static al_status al_kvp_sample(al_kvp *a, int64_t n, al_error *e) {
    int64_t L = a->L, H = a->H, P = a->P, T = a->T, D = a->D;
    if (a->col) memset(a->col, 0, sizeof(double) * (size_t)(L * H * P));
    if (a->wsum) memset(a->wsum, 0, sizeof(double) * (size_t)(a->nwin * L * H * P));
    memset(a->dist, 0, sizeof(double) * (size_t)(a->ndist * L * H));
    a->decided = 0;
    for (int64_t l = 0; l < L; l++)
        for (int64_t g = 0; g < a->Hkv; g++) {
            size_t off = (size_t)(((l * a->Hkv + g) * T) * D);
            if (a->k && al_rec_read_qkv(a->r, AL_T_K, n, l, g, 0, T, a->k + off, e) != AL_OK) return e->status;
            if (a->v && al_rec_read_qkv(a->r, AL_T_V, n, l, g, 0, T, a->v + off, e) != AL_OK) return e->status;
        }
    return AL_OK;
}

/* Row i < P of head p = l H + h (row [i + 1]) added to what the prompt shows the methods. */
static void al_kvp_prompt_row(al_kvp *a, int64_t p, const float *row, int64_t i) {
    int64_t P = a->P;
    if (a->col) al_kv_accum(a->col + p * P, row, i + 1);
    for (int w = 0; w < a->nwin; w++)
        if (i >= P - a->win[w]) al_kv_accum(a->wsum + (w * a->L * a->H + p) * P, row, P - a->win[w]);
    if (a->last && i == P - 1)
        for (int64_t j = 0; j < P; j++)
            a->last[p * P + j] = j < P - 1 ? (double)row[j] : 0;
    for (int q = 0; q < a->M; q++)
        if (a->dslot[q] >= 0)
            a->dist[a->dslot[q] * a->L * a->H + p] += al_kvm_distant(row, i, a->m[q].sink, a->m[q].recent);
}

void al_kvp_measure(const al_kvp *a, const float *row, int64_t i, const uint8_t *keep, int64_t nk, const float *v,
                    const double *o, const double *suf_o, double suf_m, double *ok, double *s) {
    int64_t P = a->P, D = a->D;
    double m = al_kvm_kept_sum(row, keep, P) + suf_m;
    int64_t j;
    s[0] += m;
    s[1] += (double)(nk + i - P + 1) / (double)(i + 1);
    if (!v) return;
    for (int64_t d = 0; d < D; d++)
        ok[d] = suf_o[d];
    for (j = 0; j < P; j++)
        if (keep[j])
            for (int64_t d = 0; d < D; d++)
                ok[d] += (double)row[j] * (double)v[j * D + d];
    double num = 0, den = 0;
    for (int64_t d = 0; d < D; d++) {
        double x = ok[d] / m - o[d];
        num += x * x, den += o[d] * o[d];
    }
    s[2] += den > 0 ? sqrt(num / den) : 0;
}

al_status al_kvp_decide(al_kvp *a, int64_t n, al_error *e); /* kvprefill_decide.c */

/* Quest's kept prompt keys for row i of head (l, h): the best pages by its group's bounds. keep [P]; sc [3 np]. */
static int64_t al_kvp_quest_row(const al_kvp *a, const al_kvmethod *m, double r, int64_t l, int64_t h, int64_t r0,
                                double *sc, uint8_t *keep) {
    int64_t np = a->np, D = a->D, g = h / a->G, P = a->P;
    const float *kmin = a->kmin + (l * a->Hkv + g) * np * D, *kmax = a->kmax + (l * a->Hkv + g) * np * D;
    double *s = sc, *x = sc + np, *y = sc + 2 * np;
    for (int64_t t = 0; t < a->G; t++) {
        al_kvm_quest(a->qb + ((l * a->H + g * a->G + t) * a->B + r0) * D, kmin, kmax, np, D, x);
        for (int64_t p = 0; p < np; p++)
            s[p] = t == 0 ? x[p] : a->agg == AL_GQA_MAX ? fmax(s[p], x[p]) : s[p] + x[p];
    }
    int64_t want = al_kvm_budget(P, r) / m->page;
    uint8_t *kp = keep + P - np; /* the page marks, written before the keys they expand to overtake them */
    al_kvm_select(s, np, want < 1 ? 1 : want, x, y, kp);
    int64_t nk = 0;
    for (int64_t j = 0; j < P; j++)
        nk += keep[j] = kp[j / m->page];
    return nk;
}

/* Rows r0.. of head p from P on: every run's measures added to cur [L H, Q, STATS]. */
static void al_kvp_head_rows(al_kvp *a, int64_t p, const float *A, int64_t lda, int64_t row0, int64_t r0, int64_t nr,
                             double *sc, uint8_t *qkeep, double *cur) {
    int64_t P = a->P, D = a->D, l = p / a->H, h = p % a->H, g = h / a->G;
    const float *vg = a->v ? a->v + (l * a->Hkv + g) * a->T * D : NULL;
    double *o = sc + 3 * a->np, *suf_o = o + D, *ok = suf_o + D;
    for (int64_t r = r0; r < nr; r++) {
        int64_t i = row0 + r;
        const float *row = A + (p * nr + r) * lda;
        double suf_m = 0;
        for (int64_t j = P; j <= i; j++)
            suf_m += (double)row[j];
        if (vg) {
            for (int64_t d = 0; d < D; d++)
                suf_o[d] = 0;
            for (int64_t j = P; j <= i; j++)
                for (int64_t d = 0; d < D; d++)
                    suf_o[d] += (double)row[j] * (double)vg[j * D + d];
            for (int64_t d = 0; d < D; d++)
                o[d] = suf_o[d];
            for (int64_t j = 0; j < P; j++)
                for (int64_t d = 0; d < D; d++)
                    o[d] += (double)row[j] * (double)vg[j * D + d];
        }
        for (int q = 0; q < a->M; q++)
            for (int t = 0; t < a->R; t++) {
                int64_t run = q * a->R + t, nk;
                const uint8_t *keep;
                if (a->m[q].kind == AL_KVM_QUEST) {
                    nk = al_kvp_quest_row(a, &a->m[q], a->ratios[t], l, h, r, sc, qkeep);
                    keep = qkeep;
                } else {
                    keep = a->mask + ((run * a->L + l) * a->Hkv + g) * P;
                    nk = a->nkept[(run * a->L + l) * a->Hkv + g];
                }
                al_kvp_measure(a, row, i, keep, nk, vg, o, suf_o, suf_m, ok, cur + (p * a->Q + run) * AL_KVP_STATS);
            }
    }
}

typedef struct {
    al_kvp *a;
    double *cur;    /* [L H, Q, STATS] this sample's sums over rows */
    double *sc;     /* [L H, 3 np + 3 D] per-head scratch */
    uint8_t *qkeep; /* [L H, P] */
} al_kvp_pass;

/* Quest's page bounds of the sample's prompt keys, once per sample. */
static void al_kvp_bounds(al_kvp *a) {
    if (!a->kmin) return;
    int64_t page = 0;
    for (int q = 0; q < a->M; q++)
        page = a->m[q].kind == AL_KVM_QUEST ? a->m[q].page : page;
    for (int64_t t = 0; t < a->L * a->Hkv; t++)
        al_kvm_pages(a->k + t * a->T * a->D, a->P, a->D, page, a->kmin + t * a->np * a->D, a->kmax + t * a->np * a->D);
}

/* --kept: the sample's kept prompt keys of every run but Quest's (per query) as rows of kvsim_kept. */
static al_status al_kvp_list(al_kvp *a, int64_t n, al_error *e) {
    int64_t P = a->P;
    char *buf = a->kept ? al_malloc((size_t)(12 * P + 1), 1) : NULL;
    if (a->kept && !buf) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int q = 0; a->kept && q < a->M; q++)
        for (int t = 0; t < a->R && a->m[q].kind != AL_KVM_QUEST; t++)
            for (int64_t u = 0; u < a->L * a->Hkv; u++) {
                int64_t run = q * a->R + t, len = 0;
                const uint8_t *keep = a->mask + (run * a->L * a->Hkv + u) * P;
                buf[0] = 0;
                for (int64_t j = 0; j < P; j++)
                    if (keep[j]) len += snprintf(buf + len, 12, len ? " %lld" : "%lld", (long long)j);
                al_cell *c = al_table_row(a->kept);
                if (!c || al_cell_str(&c[0], a->names[q]) || al_cell_str(&c[6], buf)) {
                    al_free(buf);
                    return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
                }
                al_cell_num(&c[1], a->ratios[t]);
                al_cell_int(&c[2], n), al_cell_int(&c[3], u / a->Hkv), al_cell_int(&c[4], u % a->Hkv);
                al_cell_int(&c[5], a->nkept[run * a->L * a->Hkv + u]);
            }
    al_free(buf);
    return AL_OK;
}

/* At a sample's last row: its row means join the sums over samples. */
static al_status al_kvp_fold(al_kvp *a, const al_kvp_pass *ps, int64_t end, int64_t PH) {
    if (end != a->T) return AL_OK;
    for (int64_t t = 0; t < PH * a->Q; t++)
        for (int k = 0; k < AL_KVP_STATS; k++) {
            int64_t p = t / a->Q, run = t % a->Q; /* cur is [p, run], sum is [run, p] */
            a->sum[(run * PH + p) * AL_KVP_STATS + k] += ps->cur[t * AL_KVP_STATS + k] / (double)(a->T - a->P);
        }
    return AL_OK;
}

static al_status al_kvp_block(void *ctx, int64_t n, int64_t Tn, const float *A, int64_t PH, int64_t lda, int64_t row0,
                              int64_t nr, const double *ent, al_error *e) {
    al_kvp_pass *ps = ctx;
    al_kvp *a = ps->a;
    if (Tn != a->T) /* the prompt and its later queries are defined on one common length */
        return al_fail(
            e, AL_EUSAGE, a->r->path, "lengths",
            "kvsim --prefill/--decode needs every sample to hold the %lld tokens simulated; sample %lld has %lld "
            "(lower --tokens)",
            (long long)a->T, (long long)n, (long long)Tn);
    int64_t P = a->P, Q = a->Q;
    if (row0 == 0) {
        if (al_kvp_sample(a, n, e) != AL_OK) return e->status;
        al_kvp_bounds(a);
        memset(ps->cur, 0, sizeof(double) * (size_t)(PH * Q * AL_KVP_STATS));
    }
    if (a->decoding) {
        if (al_kvd_block(a, n, A, lda, row0, nr, ps->cur, e) != AL_OK) return e->status;
        return al_kvp_fold(a, ps, row0 + nr, PH);
    }
    int64_t na = P - row0 < nr ? P - row0 : nr; /* rows of the prompt in this block */
    if (na > 0) { /* no parallel region without work: on a busy machine each barrier may wait a time slice */
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t p = 0; p < PH; p++)
            for (int64_t r = 0; r < na; r++)
                al_kvp_prompt_row(a, p, A + (p * nr + r) * lda, row0 + r);
    }
    if (!a->decided && row0 + nr >= P) {
        if (al_kvp_decide(a, n, e) != AL_OK || al_kvp_list(a, n, e) != AL_OK) return e->status;
        for (int64_t t = 0; t < Q * a->L * a->Hkv; t++)
            a->pre[t] += (double)a->nkept[t] / (double)P;
    }
    if (row0 + nr <= P) return AL_OK;
    if (a->kmin)
        for (int64_t l = 0; l < a->L; l++)
            for (int64_t h = 0; h < a->H; h++)
                if (al_rec_read_qkv(a->r, AL_T_Q, n, l, h, row0, nr, a->qb + (l * a->H + h) * a->B * a->D, e) != AL_OK)
                    return e->status;
    int64_t r0 = na > 0 ? na : 0, sw = 3 * a->np + 3 * a->D;
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t p = 0; p < PH; p++)
        al_kvp_head_rows(a, p, A, lda, row0, r0, nr, ps->sc + p * sw, ps->qkeep + p * P, ps->cur);
    return al_kvp_fold(a, ps, row0 + nr, PH);
}

al_status al_kvpress_run(al_rec *r, const al_kvpress_params *p, const al_exec *x, al_result *res, al_error *e) {
    if (!r->causal)
        return al_fail(e, AL_EUSAGE, r->path, NULL,
                       "kvsim needs causal maps (KV-cache methods act on a causal prefix)");
    if (p->nmethods < 1) return al_fail(e, AL_EUSAGE, "--method", NULL, "give at least one --method");
    int64_t T = al_resolve_tokens(r, p->tokens, 0, e);
    if (T < 0) return e->status;
    al_kvp *a = al_kvp_new(r, p, T, x->mem, e);
    if (!a) return e->status;
    int64_t PH = a->L * a->H, sw = 3 * a->np + 3 * a->D;
    a->B = al_stream_rows_all(r, T, x->mem / 2, 0);
    al_kvp_pass ps = {a, al_calloc((size_t)(PH * a->Q), AL_KVP_STATS * sizeof(double)),
                      al_malloc((size_t)(PH * sw), sizeof(double)), al_malloc((size_t)(PH * a->P), 1)};
    if (a->kmin) a->qb = al_malloc((size_t)(PH * a->B * a->D), sizeof(float));
    al_status st = AL_OK;
    if (!ps.cur || !ps.sc || !ps.qkeep || (a->kmin && !a->qb))
        st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for the kvsim pass");
    al_result_param(res, "tokens", cJSON_CreateNumber((double)T));
    al_rows_visitor v = {&ps, al_kvp_block};
    if (st == AL_OK) st = al_stream_all_heads(r, T, a->B, x, &v, e);
    if (st == AL_OK) st = al_kvp_report(a, res, e);
    al_free(ps.cur), al_free(ps.sc), al_free(ps.qkeep);
    al_kvp_free(a);
    return st;
}
