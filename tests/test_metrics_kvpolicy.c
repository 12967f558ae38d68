/* KV-cache policy kernels: the worked map W of METRICS.md section 7 (every policy, float32 and float64 coverage,
 * ties), policy parsing, and the tuned evaluation (metrics/kvrow.c) against the literal reference on random rows:
 * ties, uniform rows, exact-sum crossings, sparse, softmax and misleading long rows, first rows, g = 1, k > i + 1. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "metrics/kvpolicy.h"
#include "metrics/kvselect.h"
#include "testutil.h"

static const float W[16] = {1.0f, 0, 0, 0, 0.8f, 0.2f, 0, 0, 0.6f, 0.1f, 0.3f, 0, 0.5f, 0.1f, 0.1f, 0.3f}; /* [4, 4] */

/* Checks the tuned evaluation of policies pol[0..np) on row i of a map against the reference: the same kept set
 * and count, retained mass within 1e-13 (bit for bit where every key is kept), with and without a mask, and with
 * a wrong hint (which may only cost time). All policies share one row context, as in kvsim. hint: [np] carried
 * along the rows; mass, kept: [np] the reference's retained masses and counts (may be NULL). */
static void check_row(const al_kvpolicy *pol, const char *const *specs, int np, int full, const float *a, int64_t i,
                      const double *recv, double *hint, double *mass, int64_t *kept) {
    enum { TM = 512 };
    static double ws[3][8 * TM + 32]; /* the row scratch: al_kv_ws_bytes(TM) each */
    static uint8_t keep[TM], keep2[TM], keep3[TM];
    double o[2];
    cr_assert(i < TM && al_kv_ws_bytes(TM) <= sizeof ws[0]);
    al_kv_rowctx c, c2, c3;
    al_kv_row_begin(&c, a, i, recv, ws[0], TM);
    al_kv_row_begin(&c2, a, i, recv, ws[1], TM);
    al_kv_row_begin(&c3, a, i, recv, ws[2], TM);
    for (int q = 0; q < np; q++) {
        const al_kvpolicy *p = &pol[q];
        const char *sp = specs[q];
        long long li = (long long)i;
        int64_t n2 = al_kv_keep_ref(p, full, a, i, recv, keep2);
        double m2 = al_kv_row(a, i, keep2, NULL, 0, 0, o, NULL), m, m1, m3;
        double h = hint[q], h1 = hint[q], h3 = (i % 3 == 0 ? 0.5 : i % 3 == 1 ? 3 : 1e-3) * (hint[q] + 0.01);
        int64_t n = al_kv_eval(p, full, &c, &h, &m, keep);
        int64_t n1 = al_kv_eval(p, full, &c2, &h1, &m1, NULL);
        int64_t n3 = al_kv_eval(p, full, &c3, &h3, &m3, keep3);
        cr_assert_eq(n, n2, "%s row %lld: %lld vs %lld keys", sp, li, (long long)n, (long long)n2);
        cr_assert(!memcmp(keep, keep2, (size_t)(i + 1)), "%s row %lld: kept sets differ", sp, li);
        cr_assert(n1 == n && m1 == m && h1 == h, "%s row %lld: the maskless evaluation differs", sp, li);
        cr_assert(n3 == n && !memcmp(keep3, keep2, (size_t)(i + 1)), "%s row %lld: a wrong hint changes the set", sp,
                  li);
        cr_assert(al_close_rel(m, m2, 1e-13, 0) && al_close_rel(m3, m2, 1e-13, 0),
                  "%s row %lld: retained %.17g %.17g vs %.17g", sp, li, m, m3, m2);
        if (n == i + 1) cr_assert(m == m2, "%s row %lld: retained %.17g vs %.17g (every key)", sp, li, m, m2);
        hint[q] = h;
        if (mass) mass[q] = m2;
        if (kept) kept[q] = n2;
    }
}

/* Simulates one head's map A [T, T] under spec, tuned against reference row by row. kf: [T] per-row kept
 * fractions (may be NULL). Returns the mean retained mass. */
static double sim(const char *spec, const float *A, int64_t T, double *kf) {
    al_kvpolicy p;
    char why[256];
    cr_assert_eq(al_kvpolicy_parse(spec, &p, why, sizeof why), 0, "%s: %s", spec, why);
    double recv[64] = {0}, ret = 0, m, hint = 0;
    int64_t n;
    cr_assert(T <= 64);
    for (int64_t i = 0; i < T; i++) {
        const float *a = A + i * T;
        check_row(&p, &spec, 1, 0, a, i, recv, &hint, &m, &n);
        ret += m;
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
    al_kvpolicy p[2];
    char why[64];
    cr_assert_eq(al_kvpolicy_parse("coverage:0.9", &p[0], why, sizeof why), 0);
    cr_assert_eq(al_kvpolicy_parse("topk:2", &p[1], why, sizeof why), 0);
    uint8_t keep[4];
    double ws[8 * 4 + 32], m;
    al_kv_rowctx c;
    cr_assert(al_kv_ws_bytes(4) <= sizeof ws);
    al_kv_row_begin(&c, W + 12, 3, NULL, ws, 4);
    double h = 0;
    cr_assert_eq(al_kv_eval(&p[0], 0, &c, &h, &m, keep), 3);
    cr_assert(keep[0] && keep[1] && !keep[2] && keep[3] && al_close_rel(m, 0.9, 1e-7, 0));
    /* topk:2 on the same row: 0.5 (key 0) then 0.3 (key 3) */
    cr_assert_eq(al_kv_eval(&p[1], 0, &c, &h, &m, keep), 2);
    cr_assert(keep[0] && !keep[1] && !keep[2] && keep[3]);
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

/* Row i of kind k (i + 1 keys; the rest 0): distinct values, heavy ties, uniform rows and rows of powers of two
 * (cumulative masses landing exactly on g, where the selection's own sums cannot decide), sparse rows with many
 * zeros, softmax rows as a model writes them, rows with small negative entries (validation allows -1e-3). */
static void random_row(al_rng *g, int k, int64_t i, int64_t T, float *a) {
    double s = 0;
    for (int64_t j = 0; j <= i; j++) {
        double u = al_rng_uniform(g);
        double x = k == 0   ? (double)(1 + al_rng_below(g, 1000))
                   : k == 1 ? (double)(1 + al_rng_below(g, 3))
                   : k == 2 ? 1.0
                   : k == 3 ? ldexp(1.0, -(int)al_rng_below(g, 4))
                   : k == 4 ? (u < 0.8 ? 0.0 : u)
                   : k == 5 ? exp(6 * u * u * u)
                            : (u < 0.3 ? -2e-4 * (double)(i + 1) * u : u);
        s += a[j] = (float)x;
    }
    if (s == 0) s = a[0] = 1; /* a sparse row needs one key */
    for (int64_t j = 0; j < T; j++) a[j] = j <= i ? (float)(a[j] / s) : 0;
    if (k == 3 && i == 1) a[0] = a[1] = 0.5f; /* exact halves: coverage:0.5 stops at key 0 exactly */
}

static void parse_all(const char *const *specs, int n, al_kvpolicy *pol) {
    char why[256];
    for (int q = 0; q < n; q++) cr_assert_eq(al_kvpolicy_parse(specs[q], &pol[q], why, sizeof why), 0, "%s", specs[q]);
}

Test(kvpolicy, tuned_matches_reference_on_random_rows) {
    static const char *const specs[] = {"window:1", "window:3", "window:50", "sink:2,window:4", "sink:0,window:5",
                                        "sink:100,window:2", "h2o:3,window:2", "h2o:0,window:5", "h2o:40,window:1",
                                        "h2o:1,window:300", "topk:1", "topk:5", "topk:64", "topk:1000", "coverage:0.5",
                                        "coverage:0.75", "coverage:0.9", "coverage:0.95", "coverage:1", "coverage:1e-9",
                                        "duo:1,3", "duo:0,7"};
    enum { NP = sizeof specs / sizeof *specs, T = 300 };
    al_kvpolicy pol[NP];
    parse_all(specs, NP, pol);
    static float A[T];
    static double recv[T];
    al_rng g;
    for (int trial = 0; trial < 28; trial++) {
        al_rng_seed(&g, 91, (uint64_t)trial);
        memset(recv, 0, sizeof recv);
        double hint[NP] = {0}, h0 = 0;
        int64_t len = trial < 14 ? 70 : T;
        for (int64_t i = 0; i < len; i++) {
            random_row(&g, trial % 7, i, len, A);
            check_row(pol, specs, NP, 0, A, i, recv, hint, NULL, NULL);
            if (i % 7 == 0) check_row(pol, specs, 1, 1, A, i, recv, &h0, NULL, NULL); /* keep everything */
            for (int64_t j = 0; j <= i; j++) recv[j] += (double)A[j];
        }
    }
}

/* Long rows (searched within the band their sample points to): softmax rows, and rows where the sample misleads,
 * so that bands miss above and below: large values only at the sampled keys (2 q + 1) n / 128, or everywhere else;
 * ties throughout; exact power-of-two sums; a crossing in the band too close to g to decide in any order but the
 * reference's. The kept sets must not depend on it. */
Test(kvpolicy, long_rows_where_the_sample_misleads) {
    static const char *const specs[] = {"topk:1", "topk:5", "topk:64", "topk:200", "coverage:0.5", "coverage:0.9",
                                        "coverage:0.99", "coverage:1", "coverage:1e-9"};
    enum { NP = sizeof specs / sizeof *specs, T = 511 };
    al_kvpolicy pol[NP];
    parse_all(specs, NP, pol);
    static float A[T];
    static double recv[T];
    al_rng g;
    al_rng_seed(&g, 93, 0);
    double hint[NP] = {0};
    for (int64_t i = 255; i < T; i++) {
        int64_t n = i + 1, kind = i % 7;
        double s = 0;
        for (int64_t j = 0; j < n; j++) {
            int sampled = 0;
            for (int q = 0; q < 64 && !sampled; q++) sampled = j == (2 * q + 1) * n / 128;
            double u = al_rng_uniform(&g);
            double x = kind == 0   ? exp(al_rng_normal(&g) + (j == 0 ? 4 : 0))
                       : kind == 1 ? (sampled ? 1 + u : 1e-3 * u)
                       : kind == 2 ? (sampled ? 1e-3 * u : 1 + u)
                       : kind == 3 ? (double)(1 + al_rng_below(&g, 2))
                       : kind == 4 ? ldexp(1.0, -(int)al_rng_below(&g, 3))
                       : kind == 5 ? (j % 7 == 0 ? 1.0 : 1e-2)
                                   : (j < 2 ? 0 : 1 + u); /* keys 0, 1 at 1/4 each, set below */
            s += A[j] = (float)x;
        }
        for (int64_t j = 0; j < n; j++) A[j] = (float)(A[j] / s);
        if (kind == 6) /* the rest sums to about 1/2: coverage:0.5 reaches it exactly at key 1, or nearly */
            for (int64_t j = 0; j < n; j++) A[j] = j < 2 ? 0.25f : A[j] / 2;
        check_row(pol, specs, NP, 0, A, i, recv, hint, NULL, NULL);
    }
}

Test(kvpolicy, tuned_output_error_matches_reference) {
    enum { T = 90, D = 5 };
    static const char *const specs[] = {"window:4", "sink:2,window:6", "h2o:3,window:4", "topk:7", "coverage:0.8"};
    static float A[T], v[T * D]; /* v: [T, D] */
    static double recv[T], ws[8 * T + 32];
    double o[2 * D], oref[2 * D];
    uint8_t keep[T], keep2[T];
    al_rng g;
    al_rng_seed(&g, 17, 0);
    for (int64_t j = 0; j < T * D; j++) v[j] = (float)(al_rng_uniform(&g) * 2 - 1);
    for (int64_t i = 0; i < T; i++) {
        random_row(&g, (int)(i % 7), i, T, A);
        al_kv_rowctx c;
        cr_assert(al_kv_ws_bytes(T) <= sizeof ws);
        al_kv_row_begin(&c, A, i, recv, ws, T);
        al_kv_out(A, i, v, D, D, o);
        for (size_t q = 0; q < sizeof specs / sizeof *specs; q++) {
            al_kvpolicy p;
            char why[64];
            cr_assert_eq(al_kvpolicy_parse(specs[q], &p, why, sizeof why), 0);
            for (int full = 0; full < 2; full++) {
                double m, err, err2 = -1, h = 0;
                int64_t n = al_kv_eval(&p, full, &c, &h, &m, keep);
                al_kv_keep_ref(&p, full, A, i, recv, keep2);
                double m2 = al_kv_row(A, i, keep2, v, D, D, oref, &err2);
                cr_assert(al_close_rel(m, m2, 1e-13, 0));
                err = al_kv_err(A, i, keep, n, &m, v, D, D, o, o + D);
                cr_assert(m == m2 && (err == err2 || (isnan(err) && isnan(err2))), "%s row %lld: err %.17g vs %.17g",
                          specs[q], (long long)i, err, err2);
            }
        }
        for (int64_t j = 0; j <= i; j++) recv[j] += (double)A[j];
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

/* The AVX2 passes give what the plain ones give, bit for bit: sizes around the vector width, ties, negative
 * entries (a validated map allows them down to -1e-3), pivots taken from the data. */
Test(kvpolicy, simd_passes_match_plain) {
    enum { N = 1000 };
    static float s[N], G[2][N + 8], L[2][N + 8];
    static double x[N], r1[N], r2[N];
    static int64_t i1[N], i2[N];
    al_rng g;
    al_rng_seed(&g, 5, 0);
    for (int trial = 0; trial < 200; trial++) {
        int64_t n = trial < 100 ? trial : (int64_t)al_rng_below(&g, N + 1);
        for (int64_t k = 0; k < n; k++) {
            double u = al_rng_uniform(&g);
            s[k] = trial % 3 == 0 ? (float)al_rng_below(&g, 4) / 4 : (float)(u * u * u - 1e-3 * (u < 0.1));
            x[k] = trial % 3 == 0 ? (double)al_rng_below(&g, 5) : u;
            r1[k] = r2[k] = (double)k;
        }
        float p = n ? s[al_rng_below(&g, (uint64_t)n)] : 0.5f;
        int64_t g1, l1, g2, l2;
        double m1 = al_kv_part(s, n, p, G[0], L[0], &g1, &l1), m2 = al_kv_part_plain(s, n, p, G[1], L[1], &g2, &l2);
        cr_assert(g1 == g2 && l1 == l2 && m1 == m2, "partition of %lld around %g", (long long)n, p);
        cr_assert(!memcmp(G[0], G[1], sizeof(float) * (size_t)g1) && !memcmp(L[0], L[1], sizeof(float) * (size_t)l1));
        double lo = n ? x[al_rng_below(&g, (uint64_t)n)] : 0;
        int64_t k1 = al_kv_filter(x, n, lo, i1), k2 = al_kv_filter_plain(x, n, lo, i2);
        cr_assert(k1 == k2 && !memcmp(i1, i2, sizeof(int64_t) * (size_t)k1), "filter of %lld at %g", (long long)n, lo);
        al_kv_accum(r1, s, n);
        al_kv_accum_plain(r2, s, n);
        cr_assert(!memcmp(r1, r2, sizeof(double) * (size_t)n));
    }
}
