/* KL drift from token rows, grouped by (conversation, turn) once and streamed in row blocks sized from --mem (an
 * [R, V] array is never loaded whole); KLs are added to their turn in row order, whatever the thread count. */
#include "kldrift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/exec.h"
#include "../datasets/textio.h"
#include "../metrics/kl.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void al_kldrift_defaults(al_kldrift_params *p) {
    p->temperature = 1.0;
    p->token_agg = "mean";
    p->bootstrap = 1000;
    p->seed = 0;
}

static int al_row_cmp(const void *a, const void *b, void *ctx) {
    const al_drift *d = ctx;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    if (d->conv[i] != d->conv[j]) return (d->conv[i] > d->conv[j]) - (d->conv[i] < d->conv[j]);
    if (d->turn[i] != d->turn[j]) return (d->turn[i] > d->turn[j]) - (d->turn[i] < d->turn[j]);
    return (i > j) - (i < j);
}

/* key[r] = index of row r's (conversation, turn) in s, which is allocated and labelled here. */
static al_status al_group_rows(const al_drift *d, int64_t *key, al_turn_series *s, al_error *e) {
    int64_t R = d->R, n = 0, nconv = 0;
    int64_t *ord = al_malloc((size_t)R, sizeof *ord); /* [R] rows sorted by (conversation, turn) */
    if (!ord) return al_fail(e, AL_ENOMEM, d->path, NULL, "out of memory grouping %lld rows", (long long)R);
    for (int64_t r = 0; r < R; r++) ord[r] = r;
    qsort_r(ord, (size_t)R, sizeof *ord, al_row_cmp, (void *)d);
    for (int64_t k = 0; k < R; k++) {
        int64_t r = ord[k], q = k ? ord[k - 1] : -1;
        int newc = !k || d->conv[r] != d->conv[q];
        if (newc || d->turn[r] != d->turn[q]) n++;
        nconv += newc;
    }
    if (al_turns_alloc(s, n, nconv, e) != AL_OK) {
        al_free(ord);
        return e->status;
    }
    s->has_intervention = d->intervention != NULL;
    int64_t i = -1, c = -1;
    for (int64_t k = 0; k < R; k++) {
        int64_t r = ord[k], q = k ? ord[k - 1] : -1;
        int newc = !k || d->conv[r] != d->conv[q];
        if (newc) {
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)d->conv[r]);
            if (!(s->conv_name[++c] = al_strdup(buf))) break;
        }
        if (newc || d->turn[r] != d->turn[q]) {
            s->conv[++i] = c;
            s->turn[i] = d->turn[r];
            s->d[i] = 0;
        }
        key[r] = i;
        if (d->intervention && d->intervention[r]) s->conv_intervention[c] = 1;
    }
    al_free(ord);
    if (c < nconv - 1) return al_fail(e, AL_ENOMEM, d->path, NULL, "out of memory");
    return AL_OK;
}

al_status al_kldrift_series(al_drift *d, const al_kldrift_params *p, const al_exec *x, al_turn_series *s, al_error *e) {
    int64_t R = d->R, V = d->V, kq = d->k[0], kp = d->k[1];
    int dense = d->kind == AL_DRIFT_DENSE;
    double inv_t = 1.0 / p->temperature;
    int nth = 1;
#ifdef _OPENMP
    nth = omp_get_max_threads();
#endif
    /* bytes per row of a block: both sides as double (+ ids for top-k) and the row's KL */
    double row_bytes = dense ? 16.0 * (double)V + 8 : 12.0 * (double)(kq + kp) + 8;
    int64_t B = (int64_t)((double)x->mem / row_bytes);
    if (B < 1) B = 1;
    if (B > R) B = R;
    int64_t *key = al_malloc((size_t)R, sizeof *key);     /* [R] */
    int64_t *cnt = NULL;                                   /* [n] tokens per turn */
    double *q = NULL, *pp = NULL, *kl = NULL;              /* [B, V] or [B, k] each; [B] */
    int32_t *qi = NULL, *pi = NULL;                        /* [B, kq], [B, kp] */
    char *ws = NULL;                                       /* [threads, topk scratch] */
    size_t wsb = al_kl_topk_ws_bytes(kq, kp);
    al_status st = AL_OK;
    if (!key) return al_fail(e, AL_ENOMEM, d->path, NULL, "out of memory");
    if ((st = al_group_rows(d, key, s, e)) != AL_OK) goto done;
    cnt = al_calloc((size_t)s->n, sizeof *cnt);
    kl = al_malloc((size_t)B, sizeof *kl);
    if (dense) {
        q = al_malloc((size_t)B, (size_t)V * sizeof(double));
        pp = al_malloc((size_t)B, (size_t)V * sizeof(double));
    } else {
        q = al_malloc((size_t)B, (size_t)kq * sizeof(double));
        pp = al_malloc((size_t)B, (size_t)kp * sizeof(double));
        qi = al_malloc((size_t)B, (size_t)kq * sizeof(int32_t));
        pi = al_malloc((size_t)B, (size_t)kp * sizeof(int32_t));
        ws = al_malloc((size_t)nth, wsb);
    }
    if (!cnt || !kl || !q || !pp || (!dense && (!qi || !pi || !ws))) {
        st = al_fail(e, AL_ENOMEM, d->path, NULL, "out of memory for a block of %lld rows (lower --mem)", (long long)B);
        goto done;
    }
    al_ticker pr;
    al_ticker_begin(&pr, x, "kl-drift", R, 0);
    for (int64_t r0 = 0; r0 < R && st == AL_OK; r0 += B) {
        int64_t nb = R - r0 < B ? R - r0 : B;
        if (dense) {
            if ((st = al_drift_read_logits(d, AL_DRIFT_TEST, r0, nb, q, e)) != AL_OK) break;
            if ((st = al_drift_read_logits(d, AL_DRIFT_REF, r0, nb, pp, e)) != AL_OK) break;
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < nb; i++) kl[i] = al_kl_logits(q + i * V, pp + i * V, V, inv_t);
        } else {
            if ((st = al_drift_read_topk(d, AL_DRIFT_TEST, r0, nb, qi, q, e)) != AL_OK) break;
            if ((st = al_drift_read_topk(d, AL_DRIFT_REF, r0, nb, pi, pp, e)) != AL_OK) break;
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < nb; i++) {
                int t = 0;
#ifdef _OPENMP
                t = omp_get_thread_num();
#endif
                kl[i] = al_kl_topk(qi + i * kq, q + i * kq, kq, pi + i * kp, pp + i * kp, kp, inv_t, ws + (size_t)t * wsb);
            }
        }
        for (int64_t i = 0; i < nb; i++) {
            if (!isfinite(kl[i])) {
                st = al_fail(e, AL_EVALUE, d->path, NULL, "row %lld: KL is not finite (logits too far apart for double precision)",
                             (long long)(r0 + i));
                break;
            }
            s->d[key[r0 + i]] += kl[i];
            cnt[key[r0 + i]]++;
        }
        al_ticker_add(&pr, nb);
    }
    al_ticker_end(&pr);
    if (st == AL_OK && !strcmp(p->token_agg, "mean"))
        for (int64_t i = 0; i < s->n; i++) s->d[i] /= (double)cnt[i];
done:
    al_free(key);
    al_free(cnt);
    al_free(kl);
    al_free(q);
    al_free(pp);
    al_free(qi);
    al_free(pi);
    al_free(ws);
    if (st != AL_OK) al_turns_free(s);
    return st;
}

al_status al_kldrift_run(const char *path, const al_kldrift_params *p, const al_exec *x, al_result *res, al_error *e) {
    al_turn_series s;
    memset(&s, 0, sizeof s);
    cJSON *src = cJSON_CreateObject();
    if (!src) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    al_status st;
    if (al_is_hdf5(path)) {
        al_drift *d = NULL;
        st = al_drift_open(path, &d, e);
        if (st == AL_OK) {
            cJSON_AddStringToObject(src, "kind", d->kind == AL_DRIFT_DENSE ? "dense logits" : "top-k logprobs");
            cJSON_AddNumberToObject(src, "rows", (double)d->R);
            if (d->kind == AL_DRIFT_DENSE) cJSON_AddNumberToObject(src, "vocabulary", (double)d->V);
            else al_json_add(src, "k", cJSON_CreateIntArray((const int[]){(int)d->k[0], (int)d->k[1]}, 2));
            st = al_kldrift_series(d, p, x, &s, e);
        }
        al_drift_close(d);
    } else {
        cJSON_AddStringToObject(src, "kind", "per-turn values");
        st = al_turns_read(path, &s, e);
        if (st == AL_OK) cJSON_AddNumberToObject(src, "rows", (double)s.n);
    }
    if (st == AL_OK) st = al_kldrift_report(&s, p, path, src, res, e);
    else cJSON_Delete(src);
    al_turns_free(&s);
    return st;
}
