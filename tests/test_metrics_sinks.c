/* The definitions of METRICS.md section 1 on its worked map W, the float32 comparison rule, and each
 * tuned kernel against its plain reference on fresh random inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "metrics/alpha.h"
#include "metrics/sinks.h"
#include "testutil.h"

static const float W[16] = {1.0f, 0, 0, 0, 0.8f, 0.2f, 0, 0, 0.6f, 0.1f, 0.3f, 0, 0.5f, 0.1f, 0.1f, 0.3f};

static void alpha_of(const float *A, int64_t T, int causal, double *alpha) {
    double acc[64] = {0};
    al_colsum_ref(A, T, T, T, 0, causal, acc);
    al_alpha_from_colsum(acc, T, causal, alpha);
}

Test(sinks, worked_example_alpha) {
    double alpha[4];
    alpha_of(W, 4, 1, alpha);
    const double want[4] = {0.725, 0.4 / 3.0, 0.2, 0.3};
    for (int j = 0; j < 4; j++) cr_assert(al_close_rel(alpha[j], want[j], 1e-6, 0), "alpha[%d] = %.9g", j, alpha[j]);
}

Test(sinks, worked_example_sink_rate_float32_rule) {
    double alpha[4];
    alpha_of(W, 4, 1, alpha);
    int64_t hits[4] = {0};
    al_sink_hits(alpha, 4, 0.3, hits);
    /* Sink_0 = 100, Sink_1..3 = 0: alpha[3] = 0.3 does not count at eps 0.3 */
    cr_assert_eq(hits[0], 1);
    cr_assert_eq(hits[1] + hits[2] + hits[3], 0);
    /* alpha computed in double from float32 entries is 0.30000001192..., above 0.3 in double, equal in float32 */
    cr_assert(alpha[3] > 0.3);
    cr_assert(!al_exceeds_f32(alpha[3], 0.3));
    cr_assert(al_exceeds_f32(0.31, 0.3));
}

Test(sinks, worked_example_hidden_sinks) {
    double alpha[4];
    alpha_of(W, 4, 1, alpha);
    int64_t pos[4];
    int64_t m = al_hidden_sinks(alpha, 4, 0.1, 1, 1, pos); /* m = 1: every key */
    cr_assert_eq(m, 3);
    cr_assert(pos[0] == 1 && pos[1] == 2 && pos[2] == 3);
    cr_assert_eq(al_hidden_sinks(alpha, 4, 0.1, 16, 1, pos), 0); /* default m = 16: none at T = 4 */
    cr_assert_eq(al_hidden_sinks(alpha, 4, 0.1, 2, 1, pos), 2);  /* key 3 is seen by one query only */
    cr_assert(pos[0] == 1 && pos[1] == 2);
    cr_assert_eq(al_hidden_sinks(alpha, 4, 0.1, 16, 0, pos), 3); /* non-causal: every key is seen by T queries */
}

Test(sinks, worked_example_act_calibration) {
    uint8_t sink[4] = {0, 1, 1, 1};
    double out[4];
    al_act_calibrate_row(W + 12, 4, sink, 0.4, out);
    const double want[4] = {0.8, 0.04, 0.04, 0.12};
    for (int j = 0; j < 4; j++) cr_assert(al_close_rel(out[j], want[j], 1e-6, 1e-9), "out[%d] = %g", j, out[j]);
    /* a row whose non-sink mass is 0 is left unchanged */
    uint8_t all[4] = {1, 0, 0, 0};
    al_act_calibrate_row(W, 4, all, 0.4, out);
    cr_assert(out[0] == 1.0 && out[1] == 0 && !isnan(out[0]));
}

Test(sinks, non_causal_alpha_divides_by_T) {
    const float A[4] = {0.5f, 0.5f, 0.25f, 0.75f};
    double alpha[2];
    alpha_of(A, 2, 0, alpha);
    cr_assert(al_close_rel(alpha[0], 0.375, 1e-12, 0) && al_close_rel(alpha[1], 0.625, 1e-12, 0));
}

/* The tuned column-sum kernel must equal the reference bit for bit on random maps, in any block split. */
Test(sinks, colsum_tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 20; trial++) {
        al_rng_seed(&g, 1234, (uint64_t)trial);
        int64_t T = 1 + (int64_t)al_rng_below(&g, 300), lda = T + (int64_t)al_rng_below(&g, 5);
        int causal = trial % 2;
        float *A = malloc(sizeof(float) * (size_t)(T * lda));
        for (int64_t i = 0; i < T * lda; i++) A[i] = (float)al_rng_uniform(&g);
        double *r = calloc((size_t)T, sizeof(double)), *t = calloc((size_t)T, sizeof(double));
        al_colsum_ref(A, T, T, lda, 0, causal, r);
        int64_t B = 1 + (int64_t)al_rng_below(&g, (uint64_t)T);
        for (int64_t r0 = 0; r0 < T; r0 += B)
            al_colsum(A + r0 * lda, T - r0 < B ? T - r0 : B, T, lda, r0, causal, t);
        cr_assert_eq(memcmp(r, t, sizeof(double) * (size_t)T), 0, "trial %d (T=%lld, B=%lld) differs", trial, (long long)T,
                     (long long)B);
        free(A);
        free(r);
        free(t);
    }
}
