/* The q/k probability kernel (score kernel + softmax) against its double reference on random inputs, causal and
 * not, in random block splits; and the softmax kernel on its own. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
                cr_assert(al_close_rel(P[i * T + j], R[i * T + j], 2e-5, 1e-9),
                          "trial %d (T=%lld D=%lld) P[%lld,%lld] %g vs %g", trial, (long long)T, (long long)D,
                          (long long)i, (long long)j, P[i * T + j], R[i * T + j]);
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

Test(qk, expf_poly_within_2ulp_of_exp) {
    double worst = 0;
    for (int64_t i = 0; i <= 2000000; i++) {
        float x = (float)(-87.0 + 175.0 * (double)i / 2000000.0);
        double t = exp((double)x), rel = fabs((double)al_expf_poly(x) - t) / t;
        if (rel > worst) worst = rel;
    }
    cr_assert(worst < 2.5e-7, "worst relative error %g", worst); /* 2 ulp of float: 2.4e-7 */
    cr_assert_eq(al_expf_poly(-87.5f), 0.0f);
    cr_assert_eq(al_expf_poly(-INFINITY), 0.0f);
    cr_assert_eq(al_expf_poly(0.0f), 1.0f);
}

/* The AVX-512, AVX2 and plain-C paths of the score and softmax kernels give the same bits, for any split of the
 * rows into blocks. */
Test(qk, every_code_path_gives_the_same_bits) {
    al_rng g;
    for (int trial = 0; trial < 12; trial++) {
        al_rng_seed(&g, 91, (uint64_t)trial);
        int64_t T = 1 + (int64_t)al_rng_below(&g, 300), D = 1 + (int64_t)al_rng_below(&g, 130), ldk = al_qk_ldk(T);
        int causal = trial % 3 != 0;
        float *Q = malloc(sizeof(float) * (size_t)(T * D)), *K = malloc(sizeof(float) * (size_t)(T * D));
        float *Kt = malloc(sizeof(float) * (size_t)(D * ldk));
        float *P[3];
        for (int i = 0; i < 3; i++)
            P[i] = malloc(sizeof(float) * (size_t)(T * T));
        for (int64_t i = 0; i < T * D; i++) {
            Q[i] = (float)(3 * al_rng_normal(&g));
            K[i] = (float)(3 * al_rng_normal(&g));
        }
        al_qk_pack_keys(K, T, D, Kt, ldk);
        for (int isa = 2; isa >= 0; isa--) {
            al_qk_isa_cap(isa);
            int64_t B = 1 + (int64_t)al_rng_below(&g, (uint64_t)T);
            for (int64_t r0 = 0; r0 < T; r0 += B)
                al_qk_probs_packed(Q + r0 * D, Kt, ldk, T - r0 < B ? T - r0 : B, T, D, r0, 1.0 / sqrt((double)D),
                                   causal, P[isa] + r0 * T, T, NULL);
        }
        al_qk_isa_cap(2);
        cr_assert(!memcmp(P[0], P[1], sizeof(float) * (size_t)(T * T)), "trial %d: AVX2 and plain C differ", trial);
        cr_assert(!memcmp(P[0], P[2], sizeof(float) * (size_t)(T * T)), "trial %d: AVX-512 and plain C differ", trial);
        free(Q);
        free(K);
        free(Kt);
        for (int i = 0; i < 3; i++)
            free(P[i]);
    }
}

/* Row entropies from the logits (ln z - sum e x / z) against -sum p ln p of the double reference's
 * probabilities, and the same bits on every code path. */
Test(qk, softmax_entropies_match_reference) {
    al_rng g;
    al_rng_seed(&g, 5, 0);
    int64_t T = 300, D = 40, ldk = al_qk_ldk(T);
    float *Q = malloc(sizeof(float) * (size_t)(T * D)), *K = malloc(sizeof(float) * (size_t)(T * D));
    float *Kt = malloc(sizeof(float) * (size_t)(D * ldk)), *P = malloc(sizeof(float) * (size_t)(T * T));
    float *R = malloc(sizeof(float) * (size_t)(T * T));
    double *ent[3] = {malloc(sizeof(double) * (size_t)T), malloc(sizeof(double) * (size_t)T),
                      malloc(sizeof(double) * (size_t)T)};
    for (int64_t i = 0; i < T * D; i++) {
        Q[i] = (float)(3 * al_rng_normal(&g)); /* peaked and flat rows both */
        K[i] = (float)(al_rng_normal(&g));
    }
    al_qk_pack_keys(K, T, D, Kt, ldk);
    al_qk_probs_ref(Q, K, T, T, D, 0, 0.2, 1, R, T);
    for (int isa = 2; isa >= 0; isa--) {
        al_qk_isa_cap(isa);
        al_qk_probs_packed(Q, Kt, ldk, T, T, D, 0, 0.2, 1, P, T, ent[isa]);
    }
    al_qk_isa_cap(2);
    for (int64_t i = 0; i < T; i++) {
        double h = 0;
        for (int64_t j = 0; j <= i; j++)
            h -= R[i * T + j] > 0 ? (double)R[i * T + j] * log((double)R[i * T + j]) : 0;
        cr_assert(fabs(ent[0][i] - h) <= 1e-6 * h + 1e-6, "row %lld: entropy %.9g vs %.9g", (long long)i, ent[0][i], h);
        cr_assert(ent[0][i] == ent[1][i] && ent[0][i] == ent[2][i], "row %lld: entropies differ between paths",
                  (long long)i);
    }
    free(Q);
    free(K);
    free(Kt);
    free(P);
    free(R);
    for (int i = 0; i < 3; i++)
        free(ent[i]);
}
