/* CRAS estimates and their bootstrap. The hierarchy record -> (query, role) -> query -> overall is kept as
 * arrays of means, so a resample of queries only reweights the per-query values (no record is re-read). */
#include "cras.h"

#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/bootstrap.h"

#ifdef _OPENMP
#include <omp.h>
#endif

void al_cras_defaults(al_cras_params *p) {
    p->bootstrap = 1000;
    p->seed = 0;
}

void al_cras_est_free(al_cras_est *o) {
    al_free(o->pair);
    al_free(o->pair_dim);
    al_free(o->query);
    al_free(o->query_dim);
    al_free(o->role);
    al_free(o->role_n);
    memset(o, 0, sizeof *o);
}

al_status al_cras_estimate(const al_cras_data *d, const al_cras_weights *w, al_cras_est *o, al_error *e) {
    memset(o, 0, sizeof *o);
    int64_t Q = d->queries.n, P = d->npair, R = d->roles.n;
    o->nq = Q;
    o->npair = P;
    o->nrole = R;
    o->pair = al_calloc((size_t)P + 1, sizeof *o->pair);
    o->pair_dim = al_calloc((size_t)P * AL_CRAS_NDIM + 1, sizeof *o->pair_dim);
    o->query = al_calloc((size_t)Q + 1, sizeof *o->query);
    o->query_dim = al_calloc((size_t)Q * AL_CRAS_NDIM + 1, sizeof *o->query_dim);
    o->role = al_calloc((size_t)R + 1, sizeof *o->role);
    o->role_n = al_calloc((size_t)R + 1, sizeof *o->role_n);
    int64_t *qroles = al_calloc((size_t)Q + 1, sizeof *qroles); /* [Q] roles per query */
    if (!o->pair || !o->pair_dim || !o->query || !o->query_dim || !o->role || !o->role_n || !qroles) {
        al_free(qroles);
        al_cras_est_free(o);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    for (int64_t p = 0; p < P; p++) {
        const double *wt = al_cras_weights_for(w, d->roles.s[d->pair_r[p]]);
        double wsum = 0;
        for (int k = 0; k < AL_CRAS_NDIM; k++) wsum += wt[k];
        for (int64_t r = d->pair_first[p]; r < d->pair_first[p] + d->pair_count[p]; r++) {
            const double *s = d->score + r * AL_CRAS_NDIM;
            double v = 0;
            for (int k = 0; k < AL_CRAS_NDIM; k++) {
                v += wt[k] * s[k];
                o->pair_dim[p * AL_CRAS_NDIM + k] += s[k];
            }
            o->pair[p] += v / wsum;
        }
        o->pair[p] /= (double)d->pair_count[p];
        for (int k = 0; k < AL_CRAS_NDIM; k++) o->pair_dim[p * AL_CRAS_NDIM + k] /= (double)d->pair_count[p];
        int64_t q = d->pair_q[p], rl = d->pair_r[p];
        o->query[q] += o->pair[p];
        for (int k = 0; k < AL_CRAS_NDIM; k++) o->query_dim[q * AL_CRAS_NDIM + k] += o->pair_dim[p * AL_CRAS_NDIM + k];
        qroles[q]++;
        o->role[rl] += o->pair[p];
        o->role_n[rl]++;
    }
    o->cras = 0;
    for (int64_t q = 0; q < Q; q++) {
        o->query[q] /= (double)qroles[q];
        o->cras += o->query[q];
        for (int k = 0; k < AL_CRAS_NDIM; k++) {
            o->query_dim[q * AL_CRAS_NDIM + k] /= (double)qroles[q];
            o->dims[k] += o->query_dim[q * AL_CRAS_NDIM + k];
        }
    }
    o->cras /= (double)Q;
    for (int k = 0; k < AL_CRAS_NDIM; k++) o->dims[k] /= (double)Q;
    for (int64_t r = 0; r < R; r++) o->role[r] /= (double)o->role_n[r];
    al_free(qroles);
    return AL_OK;
}

/* Interval of the finite entries of v [B] (stride st), compacted into tmp [B]. */
static void al_ci_of(const double *v, int64_t B, int64_t st, double *tmp, double *ci) {
    int64_t n = 0;
    for (int64_t b = 0; b < B; b++)
        if (isfinite(v[b * st])) tmp[n++] = v[b * st];
    ci[0] = ci[1] = NAN;
    if (n) al_percentile_interval(tmp, n, 0.95, &ci[0], &ci[1]);
}

al_status al_cras_bootstrap(const al_cras_data *d, const al_cras_est *o, const al_cras_params *p, double *ci,
                            double *dim_ci, double *role_ci, al_error *e) {
    int64_t B = p->bootstrap, Q = o->nq, R = o->nrole, P = o->npair, S = 1 + AL_CRAS_NDIM + R;
    for (int64_t k = 0; k < 2; k++) ci[k] = NAN;
    for (int64_t k = 0; k < 2 * AL_CRAS_NDIM; k++) dim_ci[k] = NAN;
    for (int64_t k = 0; k < 2 * R; k++) role_ci[k] = NAN;
    if (B == 0) return AL_OK;
    int nth = 1;
#ifdef _OPENMP
    nth = omp_get_max_threads();
#endif
    double *stat = al_malloc((size_t)B * (size_t)S, sizeof *stat);         /* [B, S]: cras, dims, roles */
    double *tmp = al_malloc((size_t)B, sizeof *tmp);                        /* [B] */
    int32_t *cnt = al_malloc((size_t)nth * (size_t)(Q + 1), sizeof *cnt);  /* [threads, Q] */
    double *den = al_malloc((size_t)nth * (size_t)(R + 1), sizeof *den);   /* [threads, R] */
    if (!stat || !tmp || !cnt || !den) {
        al_free(stat);
        al_free(tmp);
        al_free(cnt);
        al_free(den);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for the bootstrap");
    }
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t b = 0; b < B; b++) {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        int32_t *c = cnt + (size_t)t * (size_t)(Q + 1);
        double *dn = den + (size_t)t * (size_t)(R + 1), *row = stat + (size_t)b * (size_t)S;
        al_bootstrap_counts((uint64_t)p->seed, 0, b, Q, c);
        for (int64_t k = 0; k < S; k++) row[k] = 0;
        for (int64_t r = 0; r < R; r++) dn[r] = 0;
        for (int64_t q = 0; q < Q; q++) {
            row[0] += c[q] * o->query[q];
            for (int k = 0; k < AL_CRAS_NDIM; k++) row[1 + k] += c[q] * o->query_dim[q * AL_CRAS_NDIM + k];
        }
        for (int64_t k = 0; k < 1 + AL_CRAS_NDIM; k++) row[k] /= (double)Q;
        for (int64_t pp = 0; pp < P; pp++) {
            int64_t q = d->pair_q[pp], r = d->pair_r[pp];
            row[1 + AL_CRAS_NDIM + r] += c[q] * o->pair[pp];
            dn[r] += c[q];
        }
        for (int64_t r = 0; r < R; r++) row[1 + AL_CRAS_NDIM + r] = dn[r] > 0 ? row[1 + AL_CRAS_NDIM + r] / dn[r] : NAN;
    }
    al_ci_of(stat, B, S, tmp, ci);
    for (int k = 0; k < AL_CRAS_NDIM; k++) al_ci_of(stat + 1 + k, B, S, tmp, dim_ci + 2 * k);
    for (int64_t r = 0; r < R; r++) al_ci_of(stat + 1 + AL_CRAS_NDIM + r, B, S, tmp, role_ci + 2 * r);
    al_free(stat);
    al_free(tmp);
    al_free(cnt);
    al_free(den);
    return AL_OK;
}
