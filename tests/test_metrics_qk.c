/* The q/k probability kernel (sgemm + softmax) against its double reference on random inputs, causal and
 * not, in random block splits; and the softmax kernel on its own. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "metrics/qk.h"
#include "testutil.h"

Test(qk, tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 24; trial++) {
        al_rng_seed(&g, 77, (uint64_t)trial);
        int64_t T = 1 + (int64_t)al_rng_below(&g, 200), D = 1 + (int64_t)al_rng_below(&g, 96);
        int causal = trial % 3 != 0;
        double scale = 1.0 / sqrt((double)D);
        float *Q = malloc(sizeof(float) * (size_t)(T * D)), *K = malloc(sizeof(float) * (size_t)(T * D));
        float *P = malloc(sizeof(float) * (size_t)(T * T)), *R = malloc(sizeof(float) * (size_t)(T * T));
        for (int64_t i = 0; i < T * D; i++) {
            Q[i] = (float)(2 * al_rng_normal(&g));
            K[i] = (float)(2 * al_rng_normal(&g));
        }
        al_qk_probs_ref(Q, K, T, T, D, 0, scale, causal, R, T);
        int64_t B = 1 + (int64_t)al_rng_below(&g, (uint64_t)T);
        for (int64_t r0 = 0; r0 < T; r0 += B)
            al_qk_probs(Q + r0 * D, K, T - r0 < B ? T - r0 : B, T, D, r0, scale, causal, P + r0 * T, T);
        for (int64_t i = 0; i < T; i++) {
            double s = 0;
            for (int64_t j = 0; j < T; j++) {
                if (causal && j > i) {
                    cr_assert_eq(P[i * T + j], 0.0f, "masked entry (%lld, %lld) not zero", (long long)i, (long long)j);
                    continue;
                }
                /* float32 logits: relative error of a probability ~ |logit| * 1e-7 */
                cr_assert(al_close_rel(P[i * T + j], R[i * T + j], 2e-5, 1e-9), "trial %d (T=%lld D=%lld) P[%lld,%lld] %g vs %g",
                          trial, (long long)T, (long long)D, (long long)i, (long long)j, P[i * T + j], R[i * T + j]);
                s += P[i * T + j];
            }
            cr_assert(fabs(s - 1) < 1e-5, "row %lld sums to %g", (long long)i, s);
        }
        free(Q);
        free(K);
        free(P);
        free(R);
    }
}

Test(qk, softmax_rows_masks_and_normalises) {
    float S[6] = {1, 2, 3, 1, 2, 3};
    al_softmax_rows(S, 2, 3, 3, 0, 1);
    cr_assert(S[0] == 1.0f && S[1] == 0 && S[2] == 0);
    cr_assert(al_close_rel(S[3], 1 / (1 + exp(1.0)), 1e-6, 0) && S[5] == 0);
}
