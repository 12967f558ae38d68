/* METRICS.md section 2 on its worked examples (W, the JS pair), the role rules, numpy's quantile and classical
 * MDS; every tuned kernel against its plain reference on fresh random inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "metrics/duo.h"
#include "metrics/headstats.h"
#include "metrics/xlogx.h"
#include "metrics/js.h"
#include "metrics/mds.h"
#include "metrics/roles.h"
#include "testutil.h"

static const float W[16] = {1.0f, 0, 0, 0, 0.8f, 0.2f, 0, 0, 0.6f, 0.1f, 0.3f, 0, 0.5f, 0.1f, 0.1f, 0.3f};

static void stats_of(const float *A, int64_t T, int causal, int64_t s, int64_t r, int tuned, double *acc) {
    memset(acc, 0, sizeof(double) * AL_HS_COUNT);
    al_rowstat_cfg c = {T, causal, s, r, 1, 0, NULL};
    if (tuned) al_headstats_rows(A, T, T, 0, &c, acc);
    else al_headstats_rows_ref(A, T, T, 0, &c, acc);
}

Test(heads, worked_example_rows) {
    const double ent[4] = {0, 0.500402, 0.897946, 1.168282}, clark[4] = {0.00086974, 0.500978, 0.898246, 1.168328};
    const double dist[4] = {0, 0.8, 1.3, 1.8};
    for (int i = 0; i < 4; i++) {
        cr_assert(al_close_rel(al_row_entropy_ref(W + 4 * i, i + 1), ent[i], 1e-5, 1e-9), "entropy row %d", i);
        cr_assert(al_close_rel(al_row_clark_entropy_ref(W + 4 * i, i + 1, 4), clark[i], 1e-5, 0), "clark row %d", i);
        cr_assert(al_close_rel(al_row_distance_ref(W + 4 * i, i + 1, i), dist[i], 1e-6, 1e-9), "distance row %d", i);
    }
}

Test(heads, worked_example_means_both_kernels) {
    for (int tuned = 0; tuned < 2; tuned++) {
        double a[AL_HS_COUNT];
        stats_of(W, 4, 1, 4, 64, tuned, a);
        cr_assert(al_close_rel(a[AL_HS_ENTROPY] / 4, 0.641658, 1e-6, 0), "entropy %.9g", a[AL_HS_ENTROPY] / 4);
        cr_assert(al_close_rel(a[AL_HS_CLARK] / 4, 0.642106, 1e-6, 0), "clark %.9g", a[AL_HS_CLARK] / 4);
        cr_assert(al_close_rel(a[AL_HS_FIRST] / 4, 0.725, 1e-6, 0));
        cr_assert(al_close_rel(a[AL_HS_SELF] / 4, 0.45, 1e-6, 0));
        cr_assert(al_close_rel(a[AL_HS_PREV] / 3, 1.0 / 3.0, 1e-6, 0));
        cr_assert(al_close_rel(a[AL_HS_DISTANCE] / 4, 0.975, 1e-6, 0));
        /* entropy_norm: rows with more than one visible key, entropy / ln(visible) */
        double en = (0.500402 / log(2) + 0.897946 / log(3) + 1.168282 / log(4)) / 3;
        cr_assert_eq(a[AL_HS_NORM_ROWS], 3);
        cr_assert(al_close_rel(a[AL_HS_ENTROPY_NORM] / 3, en, 1e-5, 0));
        cr_assert_eq(a[AL_HS_NEXT], 0); /* causal: no next */
        /* W with s = 4, r = 64: no distant keys at all (rows with none count 0) */
        cr_assert_eq(a[AL_HS_DISTANT], 0);
    }
}

Test(heads, distant_mass_window) {
    /* T = 6, uniform causal rows; s = 1, r = 2: row i has keys 1..i-2 distant */
    float A[36] = {0};
    for (int i = 0; i < 6; i++)
        for (int j = 0; j <= i; j++) A[i * 6 + j] = 1.0f / (float)(i + 1);
    double want = 0;
    for (int i = 0; i < 6; i++) want += (i - 2 >= 1 ? (double)(i - 2) : 0) * (double)(1.0f / (float)(i + 1));
    for (int tuned = 0; tuned < 2; tuned++) {
        double a[AL_HS_COUNT];
        stats_of(A, 6, 1, 1, 2, tuned, a);
        cr_assert(al_close_rel(a[AL_HS_DISTANT], want, 1e-12, 0), "distant %.17g vs %.17g", a[AL_HS_DISTANT], want);
    }
    cr_assert(al_close_rel(al_row_distant_ref(A + 30, 6, 5, 1, 2), 3.0 / 6.0, 1e-6, 0));
}

Test(heads, non_causal_next_and_all_keys) {
    const float A[9] = {0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f, 0.6f, 0.3f, 0.1f};
    for (int tuned = 0; tuned < 2; tuned++) {
        double a[AL_HS_COUNT];
        stats_of(A, 3, 0, 0, 1, tuned, a);
        cr_assert(al_close_rel(a[AL_HS_NEXT] / 2, (0.5 + 0.8) / 2, 1e-6, 0));
        cr_assert(al_close_rel(a[AL_HS_PREV] / 2, (0.1 + 0.3) / 2, 1e-6, 0));
        cr_assert_eq(a[AL_HS_NORM_ROWS], 3); /* every row sees 3 keys */
        /* distance: row 0: .5 + .6, row 1: .1 + .8, row 2: 1.2 + .3 */
        cr_assert(al_close_rel(a[AL_HS_DISTANCE], 1.1 + 0.9 + 1.5, 1e-6, 0));
    }
}

Test(heads, js_worked_pair) {
    double p[2] = {1, 0}, q[2] = {0.5, 0.5};
    cr_assert(al_close_rel(al_js_dist(p, q, 2), 0.215762, 1e-5, 0), "exact JS %.9g", al_js_dist(p, q, 2));
    float pf[2] = {1, 0}, qf[2] = {0.5f, 0.5f};
    cr_assert(al_close_rel(al_js_row_ref(pf, qf, 2), 0.213886, 1e-5, 0), "smoothed JS %.9g", al_js_row_ref(pf, qf, 2));
    double lp[2], lq[2];
    al_js_logrow(pf, 2, 2, lp);
    al_js_logrow(qf, 2, 2, lq);
    cr_assert(al_close_rel(al_js_row(pf, lp, qf, lq, 2, 2), 0.213886, 1e-5, 0));
}

Test(heads, role_rules_in_order) {
    cr_assert_eq(al_head_role(0.31, 0.9, 0.9, 0.9, 0.9), AL_ROLE_SINK);
    cr_assert_eq(al_head_role(0.3, 0.5, 0.9, 0.9, 0.9), AL_ROLE_PREVIOUS); /* 0.3 is not > 0.3 */
    cr_assert_eq(al_head_role(0.1, 0.49, 0.5, 0.9, 0.9), AL_ROLE_SELF);
    cr_assert_eq(al_head_role(0.1, 0.1, 0.1, 0.35, 0.9), AL_ROLE_RETRIEVAL);
    cr_assert_eq(al_head_role(0.1, 0.1, 0.1, 0.34, 0.8), AL_ROLE_BROAD);
    cr_assert_eq(al_head_role(0.1, 0.1, 0.1, 0.1, 0.79), AL_ROLE_MIXED);
    cr_assert_eq(al_head_role(NAN, NAN, NAN, NAN, NAN), AL_ROLE_MIXED);
    cr_assert_str_eq(al_role_names[AL_ROLE_PREVIOUS], "previous");
}

/* Random maps: rows of random length-normalised values with some exact zeros, in random block splits. */
static void random_map(al_rng *g, float *A, int64_t T, int64_t lda, int causal) {
    for (int64_t i = 0; i < T; i++) {
        int64_t vis = causal ? i + 1 : T;
        double s = 0;
        for (int64_t j = 0; j < lda; j++) A[i * lda + j] = 0;
        for (int64_t j = 0; j < vis; j++) {
            double u = al_rng_uniform(g);
            A[i * lda + j] = u < 0.2 ? 0.0f : (float)(u * u * u);
            s += A[i * lda + j];
        }
        for (int64_t j = 0; j < vis && s > 0; j++) A[i * lda + j] = (float)(A[i * lda + j] / s);
    }
}

Test(heads, headstats_tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 40; trial++) {
        al_rng_seed(&g, 77, (uint64_t)trial);
        int64_t T = 1 + (int64_t)al_rng_below(&g, 200), lda = T + (int64_t)al_rng_below(&g, 4), K = trial % 3;
        int causal = trial % 2;
        float *A = malloc(sizeof(float) * (size_t)(T * lda));
        uint8_t *cls = malloc((size_t)(K * T + 1));
        random_map(&g, A, T, lda, causal);
        for (int64_t i = 0; i < K * T; i++) cls[i] = al_rng_below(&g, 3) == 0;
        al_rowstat_cfg c = {T, causal, (int64_t)al_rng_below(&g, 8), (int64_t)al_rng_below(&g, 40), trial % 4 != 0, K, cls};
        double r[AL_HS_COUNT + 2] = {0}, t[AL_HS_COUNT + 2] = {0};
        al_headstats_rows_ref(A, T, lda, 0, &c, r);
        int64_t B = 1 + (int64_t)al_rng_below(&g, (uint64_t)T);
        for (int64_t r0 = 0; r0 < T; r0 += B) al_headstats_rows(A + r0 * lda, T - r0 < B ? T - r0 : B, lda, r0, &c, t);
        /* per-slot tolerance: the entropy terms use a float log (metrics/xlogx.c), the rest are exact sums */
        for (int k = 0; k < AL_HS_COUNT + K; k++) {
            int logged = k == AL_HS_ENTROPY || k == AL_HS_ENTROPY_NORM || k == AL_HS_CLARK;
            cr_assert(al_close_rel(t[k], r[k], logged ? 1e-6 : 1e-12, logged ? 1e-9 : 1e-14), "trial %d slot %d: %.17g vs %.17g",
                      trial, k, t[k], r[k]);
        }
        free(A);
        free(cls);
    }
}

Test(heads, js_tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 40; trial++) {
        al_rng_seed(&g, 99, (uint64_t)trial);
        int64_t T = 1 + (int64_t)al_rng_below(&g, 300), i = (int64_t)al_rng_below(&g, (uint64_t)T);
        int causal = trial % 2;
        int64_t vis = causal ? i + 1 : T;
        float *P = calloc((size_t)T, sizeof(float)), *Q = calloc((size_t)T, sizeof(float));
        double *lp = malloc(sizeof(double) * (size_t)T), *lq = malloc(sizeof(double) * (size_t)T);
        float *tmp = malloc(sizeof(float) * (size_t)(T * T));
        random_map(&g, tmp, T, T, 0);
        memcpy(P, tmp, sizeof(float) * (size_t)vis);
        random_map(&g, tmp, T, T, 0);
        memcpy(Q, tmp + T, sizeof(float) * (size_t)vis);
        al_js_logrow(P, vis, T, lp);
        al_js_logrow(Q, vis, T, lq);
        double r = al_js_row_ref(P, Q, T), t = al_js_row(P, lp, Q, lq, vis, T);
        cr_assert(al_close_rel(t, r, 1e-10, 1e-15), "trial %d: %.17g vs %.17g", trial, t, r);
        /* a row against itself: exactly 0 in the tuned kernel */
        cr_assert_eq(al_js_row(P, lp, P, lp, vis, T), 0.0);
        free(P), free(Q), free(lp), free(lq), free(tmp);
    }
}

/* numpy.quantile (linear) computed by numpy itself, compared bit for bit */
Test(heads, quantile_equals_numpy) {
    const char *dir = al_test_tmpdir();
    char out[512];
    snprintf(out, sizeof out, "%s/q.txt", dir);
    const char *code =
        "import sys, numpy as np\n"
        "rng = np.random.default_rng(5)\n"
        "with open(sys.argv[1], 'w') as f:\n"
        "    for n in (1, 2, 7, 256):\n"
        "        x = np.round(rng.random(n), 3) if n != 7 else np.array([0.1, 0.9, 0.4, 0.4, 1.0, 0.0, 0.25])\n"
        "        for q in (0.0, 0.1, 0.3, 0.5, 0.65, 0.75, 0.9, 1.0):\n"
        "            f.write('%d %r %s %r\\n' % (n, q, ' '.join(repr(v) for v in x), float(np.quantile(x, q))))\n";
    cr_assert_eq(al_test_python(code, out, NULL), 0, "python with numpy is needed for this test");
    FILE *f = fopen(out, "r");
    cr_assert(f);
    int n, lines = 0;
    double q, want, x[256], sorted[256];
    while (fscanf(f, "%d %lf", &n, &q) == 2) {
        for (int i = 0; i < n; i++) cr_assert_eq(fscanf(f, "%lf", &x[i]), 1);
        cr_assert_eq(fscanf(f, "%lf", &want), 1);
        double got = al_quantile_linear(x, n, q, sorted);
        cr_assert(got == want, "n=%d q=%g: %.17g vs numpy %.17g", n, q, got, want);
        lines++;
    }
    fclose(f);
    cr_assert_eq(lines, 32);
}

Test(heads, duo_counts_proxy_confusion) {
    const double gates[6] = {0.9, 0.1, 0.5, 0.49, 1.0, 0.0}; /* [L=3, Hkv=2] */
    int64_t per[3];
    cr_assert_eq(al_duo_count(gates, 3, 2, 0.5, per), 3);
    cr_assert(per[0] == 1 && per[1] == 1 && per[2] == 1);
    /* H = 4 query heads per layer, 2 per KV head: proxy = mean of the pair >= 0.35 */
    const double dm[12] = {0.4, 0.3, 0.0, 0.1, 0.35, 0.35, 0.9, 0.0, 0.2, 0.2, 0.7, 0.1};
    uint8_t proxy[6];
    al_duo_proxy(dm, 3, 4, 2, 0.35, proxy);
    const uint8_t want[6] = {1, 0, 1, 1, 0, 1};
    cr_assert_eq(memcmp(proxy, want, 6), 0);
    al_confusion c = al_duo_confusion(gates, proxy, 6, 0.5);
    cr_assert(c.both == 2 && c.gate_only == 1 && c.proxy_only == 2 && c.neither == 1);
}

/* points of a known planar configuration: classical MDS of their Euclidean distances recovers the distances */
Test(heads, mds_recovers_a_plane_and_matches_jacobi) {
    al_rng g;
    for (int trial = 0; trial < 6; trial++) {
        al_rng_seed(&g, 3, (uint64_t)trial);
        int64_t P = 2 + (int64_t)al_rng_below(&g, 30);
        double *pt = malloc(sizeof(double) * (size_t)(2 * P)), *D = malloc(sizeof(double) * (size_t)(P * P));
        double *X = malloc(sizeof(double) * (size_t)(2 * P)), *Y = malloc(sizeof(double) * (size_t)(2 * P));
        double *w = malloc(sizeof(double) * (size_t)al_mds_work(P)), e1[2], e2[2];
        for (int64_t i = 0; i < 2 * P; i++) pt[i] = al_rng_normal(&g) * (i % 2 ? 0.5 : 2.0);
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = 0; j < P; j++) D[i * P + j] = hypot(pt[2 * i] - pt[2 * j], pt[2 * i + 1] - pt[2 * j + 1]);
        cr_assert_eq(al_mds(D, P, 2, X, e1, w), 0);
        cr_assert_eq(al_mds_ref(D, P, 2, Y, e2, w), 0);
        for (int64_t i = 0; i < P; i++)
            for (int64_t j = 0; j < P; j++) {
                double d = hypot(X[2 * i] - X[2 * j], X[2 * i + 1] - X[2 * j + 1]);
                cr_assert(al_close_rel(d, D[i * P + j], 1e-8, 1e-9), "trial %d: distance %lld-%lld %.12g vs %.12g", trial,
                          (long long)i, (long long)j, d, D[i * P + j]);
            }
        for (int c = 0; c < 2; c++) cr_assert(al_close_rel(e1[c], e2[c], 1e-9, 1e-12), "eigenvalue %d", c);
        for (int64_t i = 0; i < 2 * P && e1[0] > e1[1] * (1 + 1e-6); i++)
            cr_assert(al_close_rel(X[i], Y[i], 1e-6, 1e-9), "trial %d coord %lld: %.12g vs Jacobi %.12g", trial, (long long)i,
                      X[i], Y[i]);
        free(pt), free(D), free(X), free(Y), free(w);
    }
}

/* the vectorised x ln x sums against libm in double, on rows of every scale, zeros and tiny values included */
Test(heads, xlogx_tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 50; trial++) {
        al_rng_seed(&g, 4242, (uint64_t)trial);
        int64_t n = 1 + (int64_t)al_rng_below(&g, 5000);
        float *a = malloc(sizeof(float) * (size_t)n);
        double z = 0;
        for (int64_t j = 0; j < n; j++) {
            double u = al_rng_uniform(&g);
            a[j] = al_rng_below(&g, 7) == 0 ? 0.f : (float)exp(-30 * u * u);
            z += a[j];
        }
        for (int64_t j = 0; j < n && z > 0; j++) a[j] = (float)(a[j] / z);
        double r = al_neg_xlogx_sum_ref(a, n), t = al_neg_xlogx_sum(a, n);
        cr_assert(al_close_rel(t, r, 1e-6, 1e-12), "trial %d (n=%lld): %.17g vs %.17g", trial, (long long)n, t, r);
        double c = 1e-4 / (double)n;
        r = al_neg_ylogy_sum_ref(a, n, c);
        t = al_neg_ylogy_sum(a, n, c);
        cr_assert(al_close_rel(t, r, 1e-6, 1e-12), "clark trial %d: %.17g vs %.17g", trial, t, r);
        free(a);
    }
    for (float x = 1e-30f; x < 1e30f; x *= 1.37f)
        cr_assert(fabs((double)al_logf_poly(x) - log((double)x)) <= 3e-7 * fmax(1.0, fabs(log((double)x))), "ln %g", (double)x);
}
