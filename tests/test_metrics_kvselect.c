/* KV-cache selection kernels: AVX2 band passes and sorts against their plain twins bit for bit, selections resumed
 * within a band against the same over all values, and sample bands holding the cut of softmax rows. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "metrics/kvselect.h"

enum { N = 1200 };

/* n values of kind k: distinct, few distinct (ties), with zeros and small negatives (validated maps allow down to
 * -1e-3), softmax-like. */
static void fill(al_rng *g, int k, int64_t n, float *s) {
    for (int64_t j = 0; j < n; j++) {
        double u = al_rng_uniform(g);
        s[j] = k == 0   ? (float)u
               : k == 1 ? (float)al_rng_below(g, 5) / 4
               : k == 2 ? (float)(u < 0.5 ? 0 : u < 0.6 ? -1e-4 * u : u * u * u)
                        : (float)exp(4 * al_rng_normal(g) - 8);
    }
}

Test(kvselect, band_and_above_match_plain) {
    static float s[N], B[2][N + 8];
    al_rng g;
    al_rng_seed(&g, 23, 0);
    for (int trial = 0; trial < 400; trial++) {
        int64_t n = trial < 40 ? trial : (int64_t)al_rng_below(&g, N + 1);
        fill(&g, trial % 4, n, s);
        float lo = n ? s[al_rng_below(&g, (uint64_t)n)] : 0, hi = n ? s[al_rng_below(&g, (uint64_t)n)] : 1;
        if (trial % 5 == 0) lo = -INFINITY;
        if (trial % 7 == 0) hi = INFINITY;
        int64_t b1, a1, b2, a2;
        double m1 = al_kv_band(s, n, lo, hi, B[0], &b1, &a1), m2 = al_kv_band_plain(s, n, lo, hi, B[1], &b2, &a2);
        cr_assert(b1 == b2 && a1 == a2 && m1 == m2, "band of %lld in [%g, %g]", (long long)n, lo, hi);
        cr_assert(!memcmp(B[0], B[1], sizeof(float) * (size_t)b1));
        int64_t want = 0, above = 0;
        for (int64_t j = 0; j < n; j++) want += s[j] >= lo && s[j] <= hi, above += s[j] > hi;
        cr_assert(b1 == want && a1 == above);
        b1 = al_kv_above(s, n, lo, B[0]), b2 = al_kv_above_plain(s, n, lo, B[1]);
        cr_assert(b1 == b2 && !memcmp(B[0], B[1], sizeof(float) * (size_t)b1), "above %g of %lld", lo, (long long)n);
    }
}

Test(kvselect, sorts_match_plain) {
    static float s[N];
    float w[2][AL_KV_FEW];
    al_rng g;
    al_rng_seed(&g, 29, 0);
    for (int trial = 0; trial < 300; trial++) {
        int64_t n = trial % (AL_KV_FEW + 1);
        fill(&g, trial % 4, N, s);
        al_kv_sort(s, n, w[0]);
        al_kv_sort_plain(s, n, w[1]);
        cr_assert(!memcmp(w[0], w[1], sizeof w[0]), "sort of %lld", (long long)n);
        for (int q = 1; q < AL_KV_FEW; q++) cr_assert(w[0][q - 1] <= w[0][q]);
        cr_assert(n == AL_KV_FEW || w[0][AL_KV_FEW - 1 - n] == -INFINITY);
        int64_t m = AL_KV_FEW + (int64_t)al_rng_below(&g, N - AL_KV_FEW + 1);
        al_kv_sample(s, m, w[0]);
        al_kv_sample_plain(s, m, w[1]);
        cr_assert(!memcmp(w[0], w[1], sizeof w[0]), "sample of %lld", (long long)m);
    }
}

/* The cut of rank r (or coverage g) over a [n] found whole and found within the band [lo, hi] (values above it
 * only counted and summed): the same cut, or for coverage an undecided one (-1) or none in the band (1). */
static void check_band(const float *a, int64_t n, int64_t r, double g, float lo, float hi, float *const buf[3],
                       float *B) {
    al_kv_cut whole, part;
    int sw = al_kv_cut_find_f(a, n, r, g, -1, NULL, buf, 0, 0, &whole);
    int64_t nb, na;
    double ma = al_kv_band(a, n, lo, hi, B, &nb, &na);
    if (r >= 0 ? na > r || r >= na + nb : !(ma < g)) return; /* the cut lies outside the band */
    int sp = al_kv_cut_find_f(B, nb, r, g, -1, NULL, buf, na, ma, &part);
    if (r < 0 && (sp != 0 || sw != 0)) return;
    cr_assert(sp == 0 && sw == 0, "rank %lld of %lld: %d %d", (long long)r, (long long)n, sp, sw);
    cr_assert(part.t == whole.t && part.gt == whole.gt && part.eq == whole.eq && part.take == whole.take,
              "%s of %lld in [%g, %g]: t %g/%g gt %lld/%lld take %lld/%lld", r >= 0 ? "rank" : "mass", (long long)n, lo,
              hi, part.t, whole.t, (long long)part.gt, (long long)whole.gt, (long long)part.take, (long long)whole.take);
    cr_assert(fabs(part.mass - whole.mass) <= 1e-12, "mass %.17g vs %.17g", part.mass, whole.mass); /* rows sum to 1 */
}

Test(kvselect, selection_resumed_in_a_band) {
    static float a[N], f[4][N + 8];
    float *buf[3] = {f[0], f[1], f[2]};
    al_rng g;
    al_rng_seed(&g, 31, 0);
    for (int trial = 0; trial < 600; trial++) {
        int64_t n = 1 + (int64_t)al_rng_below(&g, N);
        fill(&g, trial % 4, n, a);
        double s = 0;
        for (int64_t j = 0; j < n; j++) s += a[j] > 0 ? a[j] : 0;
        for (int64_t j = 0; j < n; j++) a[j] = (float)(a[j] / (s > 0 ? s : 1)); /* a row, summing to about 1 */
        float u = a[al_rng_below(&g, (uint64_t)n)], v = a[al_rng_below(&g, (uint64_t)n)];
        float lo = u < v ? u : v, hi = u < v ? v : u;
        if (trial % 3 == 0) hi = INFINITY;
        check_band(a, n, (int64_t)al_rng_below(&g, (uint64_t)n), 0, lo, hi, buf, f[3]);
        check_band(a, n, -1, trial % 5 == 0 ? 1.0 : 0.05 + 0.9 * al_rng_uniform(&g), lo, hi, buf, f[3]);
    }
}

/* Softmax rows of noise plus a sink or a local bias, as models write them: the band read from the sample holds the
 * cut of top-k and of coverage in most rows (a miss only costs a pass). */
Test(kvselect, sample_bands_hold_most_cuts) {
    static float a[2048], d[AL_KV_FEW];
    al_rng g;
    al_rng_seed(&g, 37, 0);
    int rows = 0, hit[2] = {0, 0};
    for (int trial = 0; trial < 300; trial++) {
        int64_t n = 256 + (int64_t)al_rng_below(&g, 1793);
        double z = 0;
        for (int64_t j = 0; j < n; j++) {
            double b = trial % 3 == 0 ? (j == 0 ? 5 : 0) : trial % 3 == 1 ? -0.05 * (double)(n - 1 - j) : 0;
            z += a[j] = (float)exp(al_rng_normal(&g) + b);
        }
        for (int64_t j = 0; j < n; j++) a[j] = (float)(a[j] / z);
        static double x[2048];
        for (int64_t j = 0; j < n; j++) x[j] = a[j];
        al_kv_cut c;
        al_kv_cover_exact(x, n, 0.9, &c); /* sorts x descending */
        double tk = x[63], tc = c.t;
        al_kv_sample(a, n, d);
        float lo, hi;
        rows++;
        hit[0] += al_kv_guess_rank(d, n, 63, &lo, &hi) == 0 && lo <= tk && tk <= hi;
        hit[1] += al_kv_guess_mass(d, n, 0.9, &lo, &hi) == 0 && lo <= tc && tc <= hi;
    }
    cr_assert(hit[0] >= 0.8 * rows && hit[1] >= 0.8 * rows, "bands hold %d and %d of %d cuts", hit[0], hit[1], rows);
}
