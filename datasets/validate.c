/* Per-block validation of attention probabilities. It runs on every block the engine reads, so a NaN
 * deep inside a 60 GB file stops the run with its location instead of turning into a wrong number. */
#include "validate.h"

#include "../core/simd.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Sum of a[j0..j1) with a flag for values outside [-1e-3, 1.001] or NaN, in one pass. Sixteen explicit float
 * lanes let the compiler vectorise without reassociating (a single float accumulator is a serial chain of
 * adds, four times slower than reading the memory); lanes are folded into a double every 1024 entries, exact
 * enough for a tolerance of 1e-2, and the order is fixed, so every clone gives the same sum. */
#define AL_LANES 16
static inline double al_range_sum(const float *a, int64_t j0, int64_t j1, int *bad) {
    double s = 0;
    int32_t nok = 0;
    int64_t j = j0;
    while (j1 - j >= AL_LANES) {
        int64_t c1 = j + 1024 < j1 ? j + 1024 : j1;
        float acc[AL_LANES] = {0};
        int32_t okl[AL_LANES];
        for (int k = 0; k < AL_LANES; k++) okl[k] = 1;
        for (; c1 - j >= AL_LANES; j += AL_LANES)
            for (int k = 0; k < AL_LANES; k++) {
                float x = a[j + k];
                okl[k] &= (x >= -1e-3f) & (x <= 1.001f); /* false for NaN */
                acc[k] += x;
            }
        float f = 0;
        for (int k = 0; k < AL_LANES; k++) {
            f += acc[k];
            nok += !okl[k];
        }
        s += (double)f;
    }
    for (; j < j1; j++) {
        float x = a[j];
        nok += !((x >= -1e-3f) & (x <= 1.001f));
        s += (double)x;
    }
    *bad |= nok != 0;
    return s;
}

/* 1 when a[j0..j1) are all +0 or -0. */
static inline int al_all_zero(const float *a, int64_t j0, int64_t j1) {
    uint32_t acc[AL_LANES] = {0};
    int64_t j = j0;
    for (; j1 - j >= AL_LANES; j += AL_LANES)
        for (int k = 0; k < AL_LANES; k++) {
            uint32_t u;
            memcpy(&u, a + j + k, 4);
            acc[k] |= u << 1; /* drops the sign */
        }
    uint32_t any = 0;
    for (int k = 0; k < AL_LANES; k++) any |= acc[k];
    for (; j < j1; j++) {
        uint32_t u;
        memcpy(&u, a + j, 4);
        any |= u << 1;
    }
    return any == 0;
}

AL_TARGET_CLONES al_status al_check_map_rows(const float *A, int64_t nrows, int64_t T, int64_t lda, int64_t row0, int causal,
                            const char *file, const char *dset, int64_t n, int64_t h, al_error *e) {
    for (int64_t r = 0; r < nrows; r++) {
        const float *a = A + r * lda;
        int64_t i = row0 + r;
        int64_t vis = causal ? i + 1 : T;
        int bad = 0;
        double s = al_range_sum(a, 0, vis, &bad);
        /* a causal map puts no attention on later keys: mass there means the map is not causal at all. Masked
         * keys hold exact zeros in every recording we have seen, so their bits are OR-ed first (one instruction
         * per 8 keys); only a row with any other bit pattern there is summed and range-checked. */
        double fut = al_all_zero(a, vis, T) ? 0.0 : al_range_sum(a, vis, T, &bad);
        if (bad) {
            for (int64_t j = 0; j < T; j++) {
                float x = a[j];
                if (!(x >= -1e-3f && x <= 1.001f))
                    return al_fail(e, AL_EVALUE, file, dset, "%s at sample %lld, head %lld, row %lld, key %lld: %s",
                                   isfinite(x) ? "value outside [0, 1]" : "non-finite value", (long long)n, (long long)h,
                                   (long long)i, (long long)j, isnan(x) ? "NaN" : isinf(x) ? (x > 0 ? "Inf" : "-Inf") : "out of range");
            }
        }
        if (fut > AL_ROWSUM_TOL)
            return al_fail(e, AL_EVALUE, file, dset,
                           "row %lld of sample %lld, head %lld puts %.6g of its attention on later keys; a causal map puts "
                           "none there (if the map is bidirectional, the recording's causal attribute should be 0)",
                           (long long)i, (long long)n, (long long)h, fut);
        if (fabs(s - 1.0) > AL_ROWSUM_TOL)
            return al_fail(e, AL_EVALUE, file, dset,
                           "row %lld of sample %lld, head %lld sums to %.6g over its %s keys, not 1 (are these "
                           "post-softmax probabilities%s?)",
                           (long long)i, (long long)n, (long long)h, s, causal ? "visible" : "", causal ? ", and is the map causal" : "");
    }
    return AL_OK;
}

al_status al_check_finite(const float *x, int64_t n, const char *file, const char *dset, const char *what, al_error *e) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad |= !isfinite(x[i]);
    if (!bad) return AL_OK;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return al_fail(e, AL_EVALUE, file, dset, "non-finite value (%s) in %s, element %lld", isnan(x[i]) ? "NaN" : "Inf",
                           what, (long long)i);
    return AL_OK;
}

double al_max_row_norm(const float *x, int64_t nrows, int64_t D) {
    double best = 0;
    for (int64_t i = 0; i < nrows; i++) {
        double s = 0;
        for (int64_t j = 0; j < D; j++)
            s += (double)x[i * D + j] * x[i * D + j];
        if (s > best) best = s;
    }
    return sqrt(best);
}

al_status al_check_score_range(double qmax, double kmax, double scale, const char *file, const char *dset,
                               al_error *e) {
    double bound = scale * qmax * kmax;
    if (bound < 0.5 * FLT_MAX) return AL_OK;
    return al_fail(e, AL_EVALUE, file, dset,
                   "overflowing scores: |q| up to %.3g and |k| up to %.3g give q.k x scale up to %.3g, beyond float32 "
                   "(%.3g)",
                   qmax, kmax, bound, (double)FLT_MAX);
}
