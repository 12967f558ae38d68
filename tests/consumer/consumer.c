/* An out-of-tree user of libattnlab: includes only <attnlab/attnlab.h>, links through pkg-config (or the CMake
 * package) and prints what tests/cli/test_install.py compares with `attnlab sinks`: every number exact (%.17g).
 * Usage: consumer FILE TOKENS SAVED. It also merges the statistics with themselves (rates stay, counts double)
 * and saves them to SAVED and loads them back (every bit kept). */
#include <attnlab/attnlab.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const al_error *e) {
    fprintf(stderr, "consumer: %s: %s: %s\n", al_status_name(e->status), e->where, e->msg);
    return 1;
}

/* rate: [K] */
static void print_rates(const char *name, const double *rate, int64_t K) {
    printf("%s", name);
    for (int64_t k = 0; k < K; k++)
        printf(" %.17g", rate[k]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    al_error e;
    al_error_clear(&e);
    al_rec *r = NULL;
    if (al_rec_open(argv[1], &r, &e) != AL_OK) return fail(&e);
    al_rec_info info;
    al_rec_get_info(r, &info);
    printf("version %s\nshape %lld %lld %lld %lld\n", al_version(), (long long)info.samples, (long long)info.layers,
           (long long)info.heads, (long long)info.tokens);
    al_exec x;
    al_exec_defaults(&x);
    x.threads = 2;
    al_sinks_params p;
    al_sinks_defaults(&p);
    p.tokens = atoll(argv[2]);
    al_sinks_out a = {0}, b = {0};
    if (al_sinks_compute(r, &p, &x, &a, &e) != AL_OK || al_sinks_compute(r, &p, &x, &b, &e) != AL_OK) return fail(&e);
    double *rate = calloc((size_t)a.K, sizeof(double));  /* [K] */
    double *alpha = calloc((size_t)a.T, sizeof(double)); /* [T] */
    int64_t *pos = calloc((size_t)a.T, sizeof(int64_t)); /* [T] */
    al_sinks_rates(&a, rate, NULL);
    print_rates("sink_rate", rate, a.K);
    al_sinks_head_alpha(&a, a.L - 1, a.H - 1, alpha);
    print_rates("alpha_last_head", alpha, a.K);
    int64_t m = al_sinks_hidden(&a, a.L - 1, a.H - 1, pos);
    printf("hidden_last_head");
    for (int64_t i = 0; i < m; i++)
        printf(" %lld", (long long)pos[i]);
    printf("\n");
    if (al_sinks_merge(&a, &b, &e) != AL_OK) return fail(&e);
    al_sinks_rates(&a, rate, NULL);
    print_rates("merged_sink_rate", rate, a.K);
    printf("merged_samples %lld\nmerged_hits0 %lld %lld\n", (long long)a.N, (long long)a.hits[0], (long long)b.hits[0]);
    al_sinks_out c = {0};
    if (al_sinks_save(&a, argv[3], &e) != AL_OK || al_sinks_load(argv[3], &c, &e) != AL_OK) return fail(&e);
    int same = c.N == a.N && c.K == a.K && c.T == a.T && c.params.epsilon == a.params.epsilon;
    for (int64_t i = 0; same && i < a.L * a.K; i++)
        same = c.hits[i] == a.hits[i];
    for (int64_t i = 0; same && i < a.L * a.H * a.T; i++)
        same = c.alpha_sum[i] == a.alpha_sum[i];
    printf("save_load %s\n", same ? "same" : "differs");
    al_sinks_out_free(&c);
    free(rate);
    free(alpha);
    free(pos);
    al_sinks_out_free(&a);
    al_sinks_out_free(&b);
    al_rec_close(r);
    return 0;
}
