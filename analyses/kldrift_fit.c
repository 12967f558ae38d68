/* The equilibrium fit of KL drift over pairs (D_t, D_{t+1} - D_t) and its bootstrap: resamples draw conversations
 * with replacement and weight their pairs by the draws; each has its own generator stream and they fold in order. */
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/bootstrap.h"
#include "kldrift.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int64_t al_kldrift_turn_stats(const al_turn_series *s, const uint8_t *in, int64_t *turns, double *mean, double *sd,
                              int64_t *n) {
    int64_t nt = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (in && !in[s->conv[i]]) continue;
        int64_t k = 0;
        while (k < nt && turns[k] != s->turn[i]) k++;
        if (k == nt) {
            /* insertion keeps turns sorted */
            k = 0;
            while (k < nt && turns[k] < s->turn[i]) k++;
            memmove(turns + k + 1, turns + k, (size_t)(nt - k) * sizeof *turns);
            memmove(mean + k + 1, mean + k, (size_t)(nt - k) * sizeof *mean);
            memmove(n + k + 1, n + k, (size_t)(nt - k) * sizeof *n);
            turns[k] = s->turn[i];
            mean[k] = 0;
            n[k] = 0;
            nt++;
        }
        mean[k] += s->d[i];
        n[k]++;
    }
    for (int64_t k = 0; k < nt; k++) {
        mean[k] /= (double)n[k];
        sd[k] = 0;
    }
    for (int64_t i = 0; i < s->n; i++) {
        if (in && !in[s->conv[i]]) continue;
        int64_t lo = 0, hi = nt - 1;
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (turns[mid] < s->turn[i]) lo = mid + 1;
            else hi = mid;
        }
        double dv = s->d[i] - mean[lo];
        sd[lo] += dv * dv;
    }
    for (int64_t k = 0; k < nt; k++) sd[k] = n[k] > 1 ? sqrt(sd[k] / (double)(n[k] - 1)) : NAN;
    return nt;
}

static void al_fit_values(al_eqfit *o) {
    o->kappa = o->f.ok ? -o->f.b : NAN;
    o->eq = o->f.ok && o->f.b < 0 ? -o->f.a / o->f.b : NAN;
}

al_status al_kldrift_fit(const al_turn_series *s, const uint8_t *in, const al_kldrift_params *p, uint64_t purpose,
                         al_eqfit *out, al_error *e) {
    memset(out, 0, sizeof *out);
    out->kappa_ci[0] = out->kappa_ci[1] = out->eq_ci[0] = out->eq_ci[1] = NAN;
    int64_t n = s->n, B = p->bootstrap;
    int nth = 1;
#ifdef _OPENMP
    nth = omp_get_max_threads();
#endif
    double *x = al_malloc((size_t)n + 1, sizeof *x), *y = al_malloc((size_t)n + 1, sizeof *y);  /* [P] pairs */
    int64_t *pc = al_malloc((size_t)n + 1, sizeof *pc);        /* [P] position of the pair's conversation */
    int64_t *units = al_malloc((size_t)s->nconv + 1, sizeof *units); /* [Cs] contributing conversations */
    double *kap = al_malloc((size_t)B + 1, sizeof *kap), *eqs = al_malloc((size_t)B + 1, sizeof *eqs); /* [B] */
    int8_t *state = al_malloc((size_t)B + 1, 1);                 /* [B] 0 used, 1 b >= 0, 2 degenerate */
    double *w = al_malloc((size_t)nth * ((size_t)n + 1), sizeof *w);           /* [threads, P] */
    int32_t *cnt = al_malloc((size_t)nth * ((size_t)s->nconv + 1), sizeof *cnt); /* [threads, Cs] */
    int ok = x && y && pc && units && kap && eqs && state && w && cnt;
    if (!ok) {
        al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for the equilibrium fit");
        goto done;
    }
    int64_t P = 0, C = 0, last = -1;
    for (int64_t i = 0; i + 1 < n; i++) {
        if (s->conv[i] != s->conv[i + 1] || s->turn[i + 1] != s->turn[i] + 1 || (in && !in[s->conv[i]])) continue;
        if (s->conv[i] != last) units[C++] = last = s->conv[i];
        x[P] = s->d[i];
        y[P] = s->d[i + 1] - s->d[i];
        pc[P++] = C - 1;
    }
    out->n_pairs = P;
    out->n_conv = C;
    al_linfit_xy(x, y, NULL, P, &out->f);
    al_fit_values(out);
    out->resamples = B;
    if (P == 0 || B == 0) goto done;
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t b = 0; b < B; b++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        int32_t *ct = cnt + (size_t)t * ((size_t)s->nconv + 1);
        double *wt = w + (size_t)t * ((size_t)n + 1);
        al_bootstrap_counts((uint64_t)p->seed, purpose, b, C, ct);
        for (int64_t k = 0; k < P; k++) wt[k] = (double)ct[pc[k]];
        al_eqfit r;
        al_linfit_xy(x, y, wt, P, &r.f);
        al_fit_values(&r);
        state[b] = !r.f.ok ? 2 : r.f.b >= 0 ? 1 : 0;
        kap[b] = r.kappa;
        eqs[b] = r.eq;
    }
    for (int64_t b = 0; b < B; b++) {
        if (state[b] == 0) {
            kap[out->used] = kap[b];
            eqs[out->used++] = eqs[b];
        } else if (state[b] == 1) {
            out->left_out++;
        } else {
            out->degenerate++;
        }
    }
    if (out->used > 0) {
        al_percentile_interval(kap, out->used, 0.95, &out->kappa_ci[0], &out->kappa_ci[1]);
        al_percentile_interval(eqs, out->used, 0.95, &out->eq_ci[0], &out->eq_ci[1]);
    }
done:
    al_free(x);
    al_free(y);
    al_free(pc);
    al_free(units);
    al_free(kap);
    al_free(eqs);
    al_free(state);
    al_free(w);
    al_free(cnt);
    return ok ? AL_OK : AL_ENOMEM;
}
