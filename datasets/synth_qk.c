/* Synthetic queries and keys (`attnlab synth qk`): Gaussian q and k with a planted first-token sink in
 * head 0 of each layer, optionally with the maps they imply (computed in double) for checking the q/k path. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/rng.h"
#include "../metrics/qk.h"
#include "synth.h"
#include "writer.h"

/* q, k: [T, D] of (n, l, h); head 0 of a layer gets a shared direction u boosted in q and in key 0 */
static void al_synth_qk_head(const al_synth_params *p, int64_t n, int64_t l, int64_t h, int kind_k, float *x) {
    int64_t T = p->tokens, D = p->head_dim;
    al_rng g;
    al_rng_seed(&g, p->seed, (uint64_t)((((n * p->layers + l) * p->heads + h) * 2 + kind_k) + 0x5EED));
    for (int64_t i = 0; i < T * D; i++) x[i] = (float)al_rng_normal(&g);
    if (h != 0) return;
    al_rng gu;
    al_rng_seed(&gu, p->seed, (uint64_t)(l + 0xD1CE));
    double u[4096], nu = 0;
    for (int64_t d = 0; d < D && d < 4096; d++) {
        u[d] = al_rng_normal(&gu);
        nu += u[d] * u[d];
    }
    nu = sqrt(nu);
    if (kind_k) { /* q.k0 * scale = ln(T) + 2: key 0 keeps most of every row at any length */
        double boost = (log((double)T) + 2.0) * sqrt((double)D) / 2.5;
        for (int64_t d = 0; d < D; d++) x[d] += (float)(boost * u[d] / nu);
    } else {
        for (int64_t i = 0; i < T; i++)
            for (int64_t d = 0; d < D; d++) x[i * D + d] += (float)(2.5 * u[d] / nu);
    }
}

al_status al_synth_qk_write(const al_synth_params *p, const char *path, int with_maps, al_error *e) {
    int64_t N = p->samples, L = p->layers, H = p->heads, T = p->tokens, D = p->head_dim;
    int64_t KV = p->kv_heads > 0 ? p->kv_heads : H;
    if (H % KV != 0) return al_fail(e, AL_EUSAGE, "--kv-heads", NULL, "%lld does not divide --heads %lld", (long long)KV, (long long)H);
    if (D > 4096) return al_fail(e, AL_EUSAGE, "--head-dim", NULL, "at most 4096");
    int64_t B = T < 64 ? T : 64;
    float *q = al_malloc((size_t)(T * D), sizeof(float)), *k = al_malloc((size_t)(T * D), sizeof(float));
    float *blk = with_maps ? al_malloc((size_t)(B * T), sizeof(float)) : NULL;
    al_v1_writer w;
    int open = 0;
    al_status st = AL_OK;
    if (!q || !k || (with_maps && !blk)) {
        st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto done;
    }
    char model[128];
    snprintf(model, sizeof model, "synthetic q/k (attnlab synth qk, seed %llu)", (unsigned long long)p->seed);
    al_v1_attrs a = {model, "attnlab synth", L, H, KV, D, !p->bidirectional, 1};
    if ((st = al_v1_create(&w, path, p->dtype, &a, e)) != AL_OK) goto done;
    open = 1;
    char qn[64], kn[64], an[64];
    double scale = 1.0 / sqrt((double)D);
    for (int64_t l = 0; l < L && st == AL_OK; l++) {
        snprintf(qn, sizeof qn, "q/L%03lld", (long long)l);
        snprintf(kn, sizeof kn, "k/L%03lld", (long long)l);
        snprintf(an, sizeof an, "attention/L%03lld", (long long)l);
        int64_t qd[4] = {N, H, T, D}, kd[4] = {N, KV, T, D}, ad[4] = {N, H, T, T};
        if ((st = al_v1_dataset(&w, qn, 4, qd, T, e)) || (st = al_v1_dataset(&w, kn, 4, kd, T, e))) break;
        if (with_maps && (st = al_v1_dataset(&w, an, 4, ad, 64, e))) break;
        for (int64_t n = 0; n < N && st == AL_OK; n++) {
            for (int64_t h = 0; h < KV && st == AL_OK; h++) {
                al_synth_qk_head(p, n, l, h * (H / KV), 1, k);
                int64_t s4[4] = {n, h, 0, 0}, c4[4] = {1, 1, T, D};
                st = al_v1_write(&w, kn, s4, c4, k, e);
            }
            for (int64_t h = 0; h < H && st == AL_OK; h++) {
                al_synth_qk_head(p, n, l, h, 0, q);
                int64_t s4[4] = {n, h, 0, 0}, c4[4] = {1, 1, T, D};
                if ((st = al_v1_write(&w, qn, s4, c4, q, e)) != AL_OK || !with_maps) continue;
                /* maps in double from the stored (rounded) q and k, as a recorder would */
                al_synth_qk_head(p, n, l, (h / (H / KV)) * (H / KV), 1, k);
                if (p->dtype != AL_DT_F32)
                    for (int64_t i = 0; i < T * D; i++) {
                        uint16_t bq = p->dtype == AL_DT_F16 ? al_f32_to_f16(q[i]) : al_f32_to_bf16(q[i]);
                        uint16_t bk = p->dtype == AL_DT_F16 ? al_f32_to_f16(k[i]) : al_f32_to_bf16(k[i]);
                        q[i] = p->dtype == AL_DT_F16 ? al_f16_to_f32_ref(bq) : al_bf16_to_f32_ref(bq);
                        k[i] = p->dtype == AL_DT_F16 ? al_f16_to_f32_ref(bk) : al_bf16_to_f32_ref(bk);
                    }
                for (int64_t r0 = 0; r0 < T && st == AL_OK; r0 += B) {
                    int64_t nr = T - r0 < B ? T - r0 : B;
                    al_qk_probs_ref(q + r0 * D, k, nr, T, D, r0, scale, !p->bidirectional, blk, T);
                    int64_t sa[4] = {n, h, r0, 0}, ca[4] = {1, 1, nr, T};
                    st = al_v1_write(&w, an, sa, ca, blk, e);
                }
            }
        }
    }
    if (st == AL_OK) {
        st = al_v1_finish(&w, e);
        open = 0;
    }
done:
    if (open) al_v1_abort(&w);
    al_free(q);
    al_free(k);
    al_free(blk);
    return st;
}
