/* DuoAttention gate statistics. The quantile follows numpy.quantile(method="linear") operation by
 * operation, so a --sparsity threshold equals the one DuoAttention's Python code computes. */
#include "duo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int al_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double al_quantile_linear(const double *x, int64_t n, double q, double *sorted) {
    memcpy(sorted, x, sizeof(double) * (size_t)n);
    qsort(sorted, (size_t)n, sizeof(double), al_cmp_double);
    /* numpy (method "linear"): virtual index (n - 1) q, neighbours floor and floor + 1, both the last
     * element at or past the end; gamma is the fractional part; then numpy's two-sided lerp */
    double vi = (double)(n - 1) * q;
    double fl = floor(vi);
    int64_t lo = (int64_t)fl, hi = lo + 1;
    double gamma = vi - fl;
    if (vi >= (double)(n - 1)) lo = hi = n - 1;
    if (lo < 0) lo = hi = 0;
    double a = sorted[lo], b = sorted[hi], d = b - a;
    return gamma >= 0.5 ? b - d * (1.0 - gamma) : a + d * gamma;
}

int64_t al_duo_count(const double *gates, int64_t L, int64_t Hkv, double threshold, int64_t *per_layer) {
    int64_t total = 0;
    for (int64_t l = 0; l < L; l++) {
        int64_t c = 0;
        for (int64_t g = 0; g < Hkv; g++) c += gates[l * Hkv + g] >= threshold;
        per_layer[l] = c;
        total += c;
    }
    return total;
}

void al_duo_proxy(const double *distant, int64_t L, int64_t H, int64_t Hkv, double proxy_min, uint8_t *proxy) {
    int64_t group = H / Hkv;
    for (int64_t l = 0; l < L; l++)
        for (int64_t g = 0; g < Hkv; g++) {
            double s = 0;
            for (int64_t k = 0; k < group; k++) s += distant[l * H + g * group + k];
            proxy[l * Hkv + g] = s / (double)group >= proxy_min;
        }
}

al_confusion al_duo_confusion(const double *gates, const uint8_t *proxy, int64_t n, double threshold) {
    al_confusion c = {0, 0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        int g = gates[i] >= threshold, p = proxy[i] != 0;
        if (g && p) c.both++;
        else if (g) c.gate_only++;
        else if (p) c.proxy_only++;
        else c.neither++;
    }
    return c;
}
