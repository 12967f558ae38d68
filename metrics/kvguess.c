/* Where a ranking's cut likely lies, read from a sorted sample of the row (metrics/kvsort.c): a band of values that
 * one pass (al_kv_band) extracts, so that the selection searches the band instead of the row. */
#include <math.h>

#include "kvselect.h"

enum { S = AL_KV_FEW };

/* Standard deviations of margin: bands miss 2-4% of rows of synthetic and recorded maps (which are then searched
 * whole); 1 or 2 took as long on the bench. */
static const double al_kv_z = 1.5;

/* -1 when the band [d[a], d[b]] (ascending indices, widened by ties) holds more than half of the sample */
static int al_kv_wide(const float *d, int a, int b) {
    while (a > 0 && d[a - 1] == d[a]) a--;
    while (b < S - 1 && d[b + 1] == d[b]) b++;
    return b - a + 1 > S / 2 ? -1 : 0;
}

/* The count of sample values at or above the cut is binomial (S, (r + 1) / n): z of its deviations either side,
 * and one sample for rounding. */
int al_kv_guess_rank(const float *d, int64_t n, int64_t r, float *lo, float *hi) {
    double rho = ((double)r + 0.5) * S / (double)n, sd = sqrt(rho * (1 - rho / S));
    int top = (int)floor(rho - al_kv_z * sd - 1), bot = (int)ceil(rho + al_kv_z * sd + 1); /* ranks from the top */
    *hi = top < 0 ? INFINITY : d[S - 1 - top];
    *lo = bot >= S ? -INFINITY : d[S - 1 - bot];
    return al_kv_wide(d, bot >= S ? 0 : S - 1 - bot, top < 0 ? S - 1 : S - 1 - top);
}

/* The row's mass below a sample value, estimated from the sample values below it (scaled by n / S, with the
 * variance of that estimate), must fall short of 1 - g for lo and exceed it for hi, by z deviations and the 1e-2 by
 * which a row's sum may miss 1. Estimated from the bottom: the few large values that carry much of a row's mass
 * are what a sample catches worst. */
int al_kv_guess_mass(const float *d, int64_t n, double g, float *lo, float *hi) {
    float w = (float)n / S, c = (float)(1 - g), z2 = (float)(al_kv_z * al_kv_z) * w * w, t = 0, t2 = 0;
    int a = -1, b = -1, q = 0;
    for (; q < S; q++) { /* t, t2: the sum of the sample values below d[q], and of their squares */
        float u = c - 0.01f - t * w;
        if (!(u > 0 && z2 * t2 < u * u)) break;
        a = q;
        t += d[q], t2 += d[q] * d[q];
    }
    for (; q < S; q++) { /* now with d[q] */
        t += d[q], t2 += d[q] * d[q];
        float u = t * w - 0.01f - c;
        if (u > 0 && z2 * t2 < u * u) {
            b = q;
            break;
        }
    }
    *lo = a <= 0 ? -INFINITY : d[a];
    *hi = b < 0 ? INFINITY : d[b];
    return *lo <= *hi ? al_kv_wide(d, a <= 0 ? 0 : a, b < 0 ? S - 1 : b) : -1;
}
