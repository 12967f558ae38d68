/* KV-cache policy kernels: the worked map W of METRICS.md section 7 (every policy, float32 and float64 coverage,
 * ties), policy parsing, and the sorting selection against the literal reference on random rows with ties. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "metrics/kvpolicy.h"
#include "testutil.h"

static const float W[16] = {1.0f, 0, 0, 0, 0.8f, 0.2f, 0, 0, 0.6f, 0.1f, 0.3f, 0, 0.5f, 0.1f, 0.1f, 0.3f}; /* [4, 4] */

/* Simulates one head's map A [T, T] under spec; both selections must agree row by row. kf: [T] per-row kept
 * fractions (may be NULL). Returns the mean retained mass. */
static double sim(const char *spec, const float *A, int64_t T, double *kf) {
    al_kvpolicy p;
    char why[256];
    cr_assert_eq(al_kvpolicy_parse(spec, &p, why, sizeof why), 0, "%s: %s", spec, why);
    double recv[64] = {0}, o[2], ret = 0;
    uint8_t keep[64], keep2[64];
    al_kv_rank rk[64];
    for (int64_t i = 0; i < T; i++) {
        const float *a = A + i * T;
        int rk_row = 0;
        int64_t n = al_kv_keep(&p, 0, a, i, recv, keep, rk, &rk_row);
        int64_t n2 = al_kv_keep_ref(&p, 0, a, i, recv, keep2);
        cr_assert_eq(n, n2, "%s row %lld: %lld vs %lld keys", spec, (long long)i, (long long)n, (long long)n2);
        cr_assert(!memcmp(keep, keep2, (size_t)(i + 1)), "%s row %lld: kept sets differ", spec, (long long)i);
        cr_assert(keep[i], "%s row %lld: current key dropped", spec, (long long)i);
        ret += al_kv_row(a, i, keep, NULL, 0, 0, o, NULL);
        if (kf) kf[i] = (double)n / (double)(i + 1);
        for (int64_t j = 0; j <= i; j++) recv[j] += a[j];
    }
    return ret / (double)T;
}

Test(kvpolicy, worked_map_W) {
    double kf[4];
    cr_assert(al_close_rel(sim("window:1", W, 4, NULL), 0.45, 1e-7, 0));
    cr_assert(al_close_rel(sim("sink:1,window:1", W, 4, kf), 0.925, 1e-7, 0));
    cr_assert(kf[0] == 1 && kf[1] == 1 && al_close_rel(kf[2], 2.0 / 3, 1e-15, 0) && kf[3] == 0.5);
    cr_assert(al_close_rel(sim("topk:1", W, 4, NULL), 0.925, 1e-7, 0));
    cr_assert(al_close_rel(sim("h2o:1,window:1", W, 4, NULL), 0.925, 1e-7, 0));
    cr_assert(al_close_rel(sim("duo:1,1", W, 4, NULL), 0.925, 1e-7, 0));
    /* float32 W: 0.6f + 0.3f >= 0.9 in double, so row 2 keeps {0, 2}; row 3 takes {0, 3, 1} (tie 1 vs 2 -> 1) */
    cr_assert(al_close_rel(sim("coverage:0.9", W, 4, kf), 0.95, 1e-7, 0), "coverage %g", sim("coverage:0.9", W, 4, NULL));
    cr_assert(al_close_rel(kf[2], 2.0 / 3, 1e-15, 0) && kf[3] == 0.75);
    /* the first rows: only key 0 is visible, always kept */
    cr_assert(al_close_rel(sim("topk:1", W, 1, kf), 1.0, 0, 0) && kf[0] == 1);
}

Test(kvpolicy, coverage_tie_goes_to_lower_key) {
    al_kvpolicy p;
    char why[64];
    cr_assert_eq(al_kvpolicy_parse("coverage:0.9", &p, why, sizeof why), 0);
    uint8_t keep[4];
    al_kv_rank rk[4];
    int rk_row = 0;
    al_kv_keep(&p, 0, W + 12, 3, NULL, keep, rk, &rk_row);
    cr_assert(keep[0] && keep[1] && !keep[2] && keep[3]);
    /* topk:2 on row 3: 0.5 (key 0) then 0.3 (key 3) */
    cr_assert_eq(al_kvpolicy_parse("topk:2", &p, why, sizeof why), 0);
    cr_assert_eq(al_kv_keep(&p, 0, W + 12, 3, NULL, keep, rk, &rk_row), 2); /* reuses the sorted row */
    cr_assert(keep[0] && keep[3]);
}

Test(kvpolicy, parse_rejects_bad_specs) {
    al_kvpolicy p;
    char why[256];
    const char *bad[] = {"teleport:3", "sink:four,window:16", "window", "window:0", "window:3,4", "topk:", "coverage:1.5",
                         "h2o:8", "duo:4", "duo:4,16,bogus=1", "coverage:nan", "sink:-1,window:4"};
    for (size_t q = 0; q < sizeof bad / sizeof *bad; q++)
        cr_assert_neq(al_kvpolicy_parse(bad[q], &p, why, sizeof why), 0, "accepted %s", bad[q]);
    cr_assert_eq(al_kvpolicy_parse("duo:4,16,threshold=0.2", &p, why, sizeof why), 0);
    cr_assert(p.s == 4 && p.w == 16 && p.threshold == 0.2 && !p.gates[0]);
    cr_assert_eq(al_kvpolicy_parse("duo:4,16,gates=/x/g.tsv", &p, why, sizeof why), 0);
    cr_assert(!strcmp(p.gates, "/x/g.tsv") && p.threshold == 0.5);
    cr_assert_eq(al_kvpolicy_parse("sink:4,window:16", &p, why, sizeof why), 0);
    cr_assert(p.kind == AL_KV_SINK && p.s == 4 && p.w == 16);
}

Test(kvpolicy, sorting_matches_reference_with_ties) {
    const char *specs[] = {"window:3", "sink:2,window:4", "h2o:3,window:2", "h2o:0,window:5", "topk:1", "topk:5",
                           "coverage:0.5", "coverage:0.95", "coverage:1", "duo:1,3"};
    al_rng g;
    enum { T = 40 };
    static float A[T * T];
    for (int trial = 0; trial < 20; trial++) {
        al_rng_seed(&g, 91, (uint64_t)trial);
        for (int64_t i = 0; i < T; i++) {
            double s = 0;
            for (int64_t j = 0; j <= i; j++) s += A[i * T + j] = (float)(1 + al_rng_below(&g, trial % 2 ? 3 : 1000));
            for (int64_t j = 0; j < T; j++) A[i * T + j] = j <= i ? (float)(A[i * T + j] / s) : 0;
        }
        for (size_t q = 0; q < sizeof specs / sizeof *specs; q++) sim(specs[q], A, T, NULL);
    }
}

Test(kvpolicy, output_error) {
    /* keys 0 and 2 with values e0 and e1; row 2 of W keeps {0, 2} under sink:1,window:1 */
    float v[3 * 2] = {1, 0, 5, 5, 0, 1}; /* [3, D = 2] */
    uint8_t keep[3] = {1, 0, 1};
    double o[4], err = -1;
    double m = al_kv_row(W + 8, 2, keep, v, 2, 2, o, &err);
    double o0 = 0.6 + 0.1 * 5, o1 = 0.1 * 5 + 0.3, k0 = 0.6 / 0.9, k1 = 0.3 / 0.9;
    double want = sqrt((k0 - o0) * (k0 - o0) + (k1 - o1) * (k1 - o1)) / sqrt(o0 * o0 + o1 * o1);
    cr_assert(al_close_rel(m, 0.9, 1e-7, 0) && al_close_rel(err, want, 1e-6, 0), "err %g want %g", err, want);
}
