/* DuoAttention gates (METRICS.md section 2): binarising gate values by threshold or quantile, per-layer
 * retrieval counts, and agreement with the distant_mass proxy over KV heads. Pure functions. */
#ifndef AL_METRICS_DUO_H
#define AL_METRICS_DUO_H

#include <stdint.h>

/* The q-quantile of x: [n] (n >= 1, q in [0, 1]) with numpy's default linear interpolation, computed the
 * way numpy does (virtual index (n - 1) q, lerp from the nearer side). sorted: [n] scratch. */
double al_quantile_linear(const double *x, int64_t n, double q, double *sorted);

typedef struct {
    int64_t both, gate_only, proxy_only, neither;
} al_confusion;

/* gates: [L, Hkv]; retrieval KV head <=> gate >= threshold; per_layer: [L] counts. Returns the total. */
int64_t al_duo_count(const double *gates, int64_t L, int64_t Hkv, double threshold, int64_t *per_layer);
/* proxy of KV head g of layer l: mean distant_mass of its query heads h (h / (H / Hkv) == g) >= proxy_min.
 * distant: [L, H]; proxy: [L, Hkv] (0/1, output). */
void al_duo_proxy(const double *distant, int64_t L, int64_t H, int64_t Hkv, double proxy_min, uint8_t *proxy);
/* Confusion table of gate >= threshold against proxy over all L x Hkv KV heads. */
al_confusion al_duo_confusion(const double *gates, const uint8_t *proxy, int64_t n, double threshold);

#endif
