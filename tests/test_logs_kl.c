/* KL drift kernels (METRICS.md section 4): worked examples, streaming log-sum-exp and top-k against their plain
 * references (up to a 150k vocabulary), the least-squares line, numpy's percentiles and the seeded bootstrap draws. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "metrics/bootstrap.h"
#include "metrics/kl.h"
#include "metrics/linfit.h"
#include "testutil.h"

Test(kl, worked_example_two_tokens) {
    /* q = (1/2, 1/2), p = (1/4, 3/4): KL = 1/2 ln 2 + 1/2 ln (2/3) = 1/2 ln (4/3) */
    double q[2] = {0, 0}, p[2] = {0, log(3.0)};
    double want = 0.5 * log(4.0 / 3.0);
    cr_assert(al_close_rel(al_kl_logits(q, p, 2, 1.0), want, 1e-14, 0));
    cr_assert(al_close_rel(al_kl_logits_ref(q, p, 2, 1.0), want, 1e-14, 0));
    /* shifting either row by a constant changes nothing (softmax), also far beyond exp's range */
    double q2[2] = {900, 900}, p2[2] = {-800, -800 + log(3.0)};
    cr_assert(al_close_rel(al_kl_logits(q2, p2, 2, 1.0), want, 1e-9, 0)); /* -800 + ln 3 keeps 13 digits */
    /* temperature 2 halves the logits: p = softmax(0, ln 3 / 2) */
    double s = sqrt(3.0), pt = 1 / (1 + s);
    double want_t = 0.5 * log(0.5 / pt) + 0.5 * log(0.5 / (1 - pt));
    cr_assert(al_close_rel(al_kl_logits(q, p, 2, 0.5), want_t, 1e-14, 0));
}

Test(kl, identical_rows_give_zero) {
    al_rng r;
    al_rng_seed(&r, 3, 0);
    double x[1000];
    for (int i = 0; i < 1000; i++) x[i] = 10 * al_rng_normal(&r);
    cr_assert(fabs(al_kl_logits(x, x, 1000, 1.0)) < 1e-13);
}

Test(kl, streaming_matches_reference_on_random_rows) {
    static const int64_t Vs[] = {1, 2, 7, 511, 512, 513, 4099, 150000};
    al_rng r;
    al_rng_seed(&r, 11, 0);
    double *q = al_malloc(150000, sizeof *q), *p = al_malloc(150000, sizeof *p);
    for (size_t k = 0; k < sizeof Vs / sizeof *Vs; k++) {
        int64_t V = Vs[k];
        for (int trial = 0; trial < 4; trial++) {
            double scale = trial == 3 ? 30 : 3, off = trial == 2 ? 500 : 0;
            for (int64_t i = 0; i < V; i++) {
                p[i] = scale * al_rng_normal(&r) - off;
                q[i] = p[i] + (trial + 1) * 0.3 * al_rng_normal(&r) + off;
            }
            /* an increasing run makes the running maximum move at every chunk */
            if (trial == 1)
                for (int64_t i = 0; i < V; i++) q[i] += 1e-3 * (double)i;
            double inv_t = trial == 1 ? 1.0 / 0.7 : 1.0;
            double a = al_kl_logits(q, p, V, inv_t), b = al_kl_logits_ref(q, p, V, inv_t);
            cr_assert(al_close_rel(a, b, 1e-10, 1e-14), "V=%lld trial %d: %.17g vs %.17g", (long long)V, trial, a, b);
            cr_assert(a >= -1e-12);
        }
    }
    al_free(q);
    al_free(p);
}

Test(kl, topk_worked_example) {
    /* q reports ids {1, 2}, p reports {2, 3}; union {1, 2, 3}. q lacks 3: it takes q's smallest logprob. */
    int32_t qi[2] = {1, 2}, pi[2] = {2, 3};
    double ql[2] = {log(0.6), log(0.3)}, pl[2] = {log(0.5), log(0.4)};
    double a[3] = {0.6, 0.3, 0.3}, b[3] = {0.4, 0.5, 0.4}; /* id 1 on p's side: p's smallest, 0.4 */
    double sa = 1.2, sb = 1.3, want = 0;
    for (int i = 0; i < 3; i++) want += a[i] / sa * log((a[i] / sa) / (b[i] / sb));
    char ws[256];
    cr_assert(al_kl_topk_ws_bytes(2, 2) <= sizeof ws);
    cr_assert(al_close_rel(al_kl_topk(qi, ql, 2, pi, pl, 2, 1.0, ws), want, 1e-13, 0));
    cr_assert(al_close_rel(al_kl_topk_ref(qi, ql, 2, pi, pl, 2, 1.0), want, 1e-13, 0));
    /* the same ids on both sides in another order: a plain KL of the renormalised sets */
    int32_t q2[3] = {5, 9, 7}, p2[3] = {7, 5, 9};
    double l2[3] = {log(0.5), log(0.2), log(0.1)}, m2[3] = {log(0.1), log(0.5), log(0.2)};
    cr_assert(fabs(al_kl_topk(q2, l2, 3, p2, m2, 3, 1.0, ws)) < 1e-15);
}

Test(kl, topk_matches_reference_on_random_rows) {
    al_rng r;
    al_rng_seed(&r, 5, 1);
    int32_t qi[40], pi[40];
    double ql[40], pl[40];
    char *ws = al_malloc(al_kl_topk_ws_bytes(40, 40), 1);
    for (int trial = 0; trial < 500; trial++) {
        int64_t kq = 1 + (int64_t)al_rng_below(&r, 40), kp = 1 + (int64_t)al_rng_below(&r, 40);
        /* distinct ids per side drawn from a small range so the sets overlap */
        for (int side = 0; side < 2; side++) {
            int32_t *ids = side ? pi : qi;
            int64_t k = side ? kp : kq;
            for (int64_t i = 0; i < k; i++) {
                int dup;
                do {
                    ids[i] = (int32_t)al_rng_below(&r, 60);
                    dup = 0;
                    for (int64_t j = 0; j < i; j++) dup |= ids[j] == ids[i];
                } while (dup);
                (side ? pl : ql)[i] = -fabs(3 * al_rng_normal(&r));
            }
        }
        double t = trial % 3 == 0 ? 1.0 : 1.0 / 1.5;
        double a = al_kl_topk(qi, ql, kq, pi, pl, kp, t, ws), b = al_kl_topk_ref(qi, ql, kq, pi, pl, kp, t);
        cr_assert(al_close_rel(a, b, 1e-12, 1e-14), "trial %d: %.17g vs %.17g", trial, a, b);
    }
    al_free(ws);
}

Test(linfit, exact_line_and_weights) {
    double x[5] = {0, 1, 2, 3, 4}, y[5];
    for (int i = 0; i < 5; i++) y[i] = 2 - 0.5 * x[i];
    al_linfit f;
    al_linfit_xy(x, y, NULL, 5, &f);
    cr_assert(f.ok && al_close_rel(f.a, 2, 1e-14, 1e-14) && al_close_rel(f.b, -0.5, 1e-14, 0) && al_close_rel(f.r2, 1, 1e-14, 0));
    /* integer weights equal repeated points */
    double xr[7] = {0, 1, 1, 2, 5, 5, 5}, yr[7] = {1, 3, 3, 2, 7, 7, 7};
    double xw[4] = {0, 1, 2, 5}, yw[4] = {1, 3, 2, 7}, w[4] = {1, 2, 1, 3};
    al_linfit g, h;
    al_linfit_xy(xr, yr, NULL, 7, &g);
    al_linfit_xy(xw, yw, w, 4, &h);
    cr_assert(al_close_rel(g.a, h.a, 1e-13, 1e-15) && al_close_rel(g.b, h.b, 1e-13, 0) && al_close_rel(g.r2, h.r2, 1e-13, 0));
    /* numpy.linalg.lstsq on x = [0, 1, 1, 2, 5, 5, 5], y = [1, 3, 3, 2, 7, 7, 7]: a = 1.18932039, b = 1.1407767 */
    cr_assert(al_close_rel(g.a, 1.1893203883495145, 1e-12, 0) && al_close_rel(g.b, 1.1407766990291262, 1e-12, 0));
    /* no spread in x: undefined */
    double xc[3] = {1, 1, 1};
    al_linfit_xy(xc, y, NULL, 3, &f);
    cr_assert(!f.ok && isnan(f.b));
    al_linfit_xy(x, y, NULL, 0, &f);
    cr_assert(!f.ok);
}

Test(bootstrap, percentiles_as_numpy) {
    double v[4] = {4, 1, 3, 2}, lo, hi;
    al_percentile_interval(v, 4, 0.95, &lo, &hi);
    /* numpy.percentile([1, 2, 3, 4], [2.5, 97.5]) = [1.075, 3.925] */
    cr_assert(al_close_rel(lo, 1.075, 1e-15, 0) && al_close_rel(hi, 3.925, 1e-15, 0));
    double one[1] = {7};
    cr_assert(al_percentile_sorted(one, 1, 2.5) == 7 && al_percentile_sorted(one, 1, 97.5) == 7);
    double s[5] = {0, 1, 2, 3, 10};
    cr_assert(al_percentile_sorted(s, 5, 50) == 2 && al_percentile_sorted(s, 5, 100) == 10 && al_percentile_sorted(s, 5, 0) == 0);
    cr_assert(al_close_rel(al_percentile_sorted(s, 5, 90), 7.2, 1e-14, 0));
    cr_assert(isnan(al_percentile_sorted(s, 0, 50)));
}

Test(bootstrap, draws_are_seeded_and_documented) {
    int32_t a[50], b[50], c[50];
    al_bootstrap_counts(0, 0, 7, 50, a);
    al_bootstrap_counts(0, 0, 7, 50, b);
    cr_assert(!memcmp(a, b, sizeof a), "same seed, same resample");
    int64_t sum = 0;
    for (int i = 0; i < 50; i++) sum += a[i];
    cr_assert_eq(sum, 50);
    al_bootstrap_counts(0, 0, 8, 50, c);
    cr_assert(memcmp(a, c, sizeof a), "another resample differs");
    al_bootstrap_counts(1, 0, 7, 50, c);
    cr_assert(memcmp(a, c, sizeof a), "another seed differs");
    al_bootstrap_counts(0, 1, 7, 50, c);
    cr_assert(memcmp(a, c, sizeof a), "another purpose differs");
    /* the documented scheme: stream = purpose * 2^32 + b, then C draws of al_rng_below(C) */
    al_rng r;
    al_rng_seed(&r, 0, (1ull << 32) + 7);
    memset(b, 0, sizeof b);
    for (int i = 0; i < 50; i++) b[al_rng_below(&r, 50)]++;
    cr_assert(!memcmp(b, c, sizeof b));
}
