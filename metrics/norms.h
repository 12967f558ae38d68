/* Norm kernels (METRICS.md section 2): squared norms, the top-3 |h|, and an exact median of |h| from two
 * histogram passes over float bit patterns, so memory stays fixed whatever the file size. */
#ifndef AL_METRICS_NORMS_H
#define AL_METRICS_NORMS_H

#include <stdint.h>

/* sum of x[i]^2 in double. x: [n]. The tuned kernel splits the sum over SIMD lanes (agrees to 1e-12). */
double al_sumsq_ref(const float *x, int64_t n);
double al_sumsq(const float *x, int64_t n);

/* The three largest |x| seen so far, largest first, with their positions (ties keep the earlier position). */
typedef struct {
    double v[3];
    int64_t at[3];
    int n;
} al_top3;
void al_top3_init(al_top3 *t);
/* Offers |x[i]| at position base + i for i < n. */
void al_top3_add(al_top3 *t, const float *x, int64_t n, int64_t base);

#define AL_ABSHIST_HI 65536 /* bins by bits 30..15 of |x| */
#define AL_ABSHIST_LO 32768 /* bins by bits 14..0 within one high bin */
/* hist[(bits(|x|) >> 15)] += 1. hist: [AL_ABSHIST_HI]. */
void al_abshist_hi(const float *x, int64_t n, uint64_t *hist);
/* For the values whose high bin is hi: hist[bits(|x|) & 0x7fff] += 1. hist: [AL_ABSHIST_LO]. */
void al_abshist_lo(const float *x, int64_t n, uint32_t hi, uint64_t *hist);
/* The bin holding the value of 0-based rank r (ascending); *below = count in earlier bins. */
int64_t al_hist_locate(const uint64_t *hist, int64_t nb, uint64_t r, uint64_t *below);
/* The float whose |.| bit pattern is (hi << 15) | lo. */
float al_abs_from_bins(uint32_t hi, uint32_t lo);

#endif
