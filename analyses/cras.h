/* The `cras` analysis (METRICS.md section 6): weighted record means -> (query, role) -> query -> overall, per
 * dimension and per role, percentile bootstrap intervals over queries, correlation with per-query correctness. */
#ifndef AL_ANALYSIS_CRAS_H
#define AL_ANALYSIS_CRAS_H

#include "../core/result.h"
#include "../datasets/cras_scores.h"
#include "../datasets/cras_weights.h"

typedef struct {
    int64_t bootstrap; /* resamples over queries, default 1000; 0: no intervals */
    int64_t seed;      /* default 0 */
} al_cras_params;

void al_cras_defaults(al_cras_params *p);

/* The point estimates. */
typedef struct {
    int64_t nq, npair, nrole;
    double cras;
    double dims[AL_CRAS_NDIM];
    double *pair;      /* [npair] weighted mean over the pair's records */
    double *pair_dim;  /* [npair, 4] mean of each dimension over the pair's records */
    double *query;     /* [nq] mean over the query's roles */
    double *query_dim; /* [nq, 4] */
    double *role;      /* [nrole] mean over the queries where the role appears */
    int64_t *role_n;   /* [nrole] those queries */
} al_cras_est;

al_status al_cras_estimate(const al_cras_data *d, const al_cras_weights *w, al_cras_est *o, al_error *e);
void al_cras_est_free(al_cras_est *o);

/* 95% percentile intervals from resampling queries: ci [2], dim_ci [4, 2], role_ci [nrole, 2] (NaN when no
 * resample contained the role). Resample b uses generator stream b (purpose 0, metrics/bootstrap.h). */
al_status al_cras_bootstrap(const al_cras_data *d, const al_cras_est *o, const al_cras_params *p, double *ci,
                            double *dim_ci, double *role_ci, al_error *e);

/* Reads FILE (and the optional correctness CSV), estimates, bootstraps and fills res. */
al_status al_cras_run(const char *path, const char *correct_csv, const al_cras_weights *w, const al_cras_params *p,
                      al_result *res, al_error *e);

#endif
