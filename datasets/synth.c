/* Planted-structure maps: each row is the softmax of Gaussian noise plus a bias chosen by the head's role.
 * Biases grow with ln(i + 1) where a role must hold at every length, so sinks stay sinks at T = 8192. */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/rng.h"
#include "writer.h"

const char *const al_syn_kind_names[AL_SYN_NKINDS] = {"sink", "previous", "local", "hidden", "broad", "retrieval"};

void al_synth_defaults(al_synth_params *p) {
    p->seed = 0;
    p->samples = 2;
    p->layers = 4;
    p->heads = 6;
    p->kv_heads = 0;
    p->tokens = 128;
    p->head_dim = 16;
    p->dtype = AL_DT_F32;
    p->bidirectional = 0;
}

al_syn_kind al_synth_kind_of(int64_t l, int64_t h, int64_t H) { return (al_syn_kind)((l * H + h) % AL_SYN_NKINDS); }

int64_t al_synth_hidden_pos(int64_t T) { return T >= 64 ? 21 : T / 3 > 0 ? T / 3 : 0; }

void al_synth_row(const al_synth_params *p, int64_t n, int64_t l, int64_t h, int64_t i, double *s, double *out) {
    int64_t T = p->tokens;
    al_syn_kind kind = al_synth_kind_of(l, h, p->heads);
    al_rng g;
    al_rng_seed(&g, p->seed, (uint64_t)(((n * p->layers + l) * p->heads + h) * T + i));
    int64_t vis = p->bidirectional ? T : i + 1;
    double li = log((double)(i + 1));
    double sigma = kind == AL_SYN_BROAD ? 0.3 : 1.0;
    int64_t hp = al_synth_hidden_pos(T);
    for (int64_t j = 0; j < vis; j++) {
        double b = 0;
        switch (kind) {
        case AL_SYN_SINK: b = j == 0 ? li + 2.0 : 0; break;
        case AL_SYN_PREV: b = j == i - 1 ? li + 2.5 : 0; break;
        case AL_SYN_LOCAL: b = -0.5 * (double)(i > j ? i - j : j - i); break;
        case AL_SYN_HIDDEN: b = j == 0 ? li + 0.5 : (j == hp && hp > 0 ? li + 1.5 : 0); break;
        case AL_SYN_BROAD: b = 0; break;
        case AL_SYN_RETRIEVAL: b = (j >= 4 && j <= i - 64) ? 2.5 : 0; break;
        default: break;
        }
        s[j] = sigma * al_rng_normal(&g) + b;
    }
    double m = -INFINITY;
    for (int64_t j = 0; j < vis; j++) m = s[j] > m ? s[j] : m;
    double z = 0;
    for (int64_t j = 0; j < vis; j++) z += (out[j] = exp(s[j] - m));
    for (int64_t j = 0; j < vis; j++) out[j] /= z;
    for (int64_t j = vis; j < T; j++) out[j] = 0;
}

al_status al_synth_write(const al_synth_params *p, const char *path, al_error *e) {
    int64_t N = p->samples, L = p->layers, H = p->heads, T = p->tokens;
    int64_t KV = p->kv_heads > 0 ? p->kv_heads : H;
    if (H % KV != 0) return al_fail(e, AL_EUSAGE, "--kv-heads", NULL, "%lld does not divide --heads %lld", (long long)KV, (long long)H);
    int64_t B = T < 256 ? T : 256;
    float *blk = al_malloc((size_t)(B * T), sizeof(float)); /* [B, T] */
    double *s = al_malloc((size_t)T, sizeof(double));
    double *row = al_malloc((size_t)T, sizeof(double));
    int32_t *tok = al_malloc((size_t)(N * T), sizeof(int32_t));
    const char **roles = al_malloc((size_t)(L * H), sizeof(char *));
    al_v1_writer w;
    al_status st = AL_OK;
    int open = 0;
    if (!blk || !s || !row || !tok || !roles) {
        st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto done;
    }
    char model[128];
    snprintf(model, sizeof model, "synthetic (attnlab synth, seed %llu)", (unsigned long long)p->seed);
    al_v1_attrs a = {model, "attnlab synth", L, H, KV, p->head_dim, !p->bidirectional, 1};
    if ((st = al_v1_create(&w, path, p->dtype, &a, e)) != AL_OK) goto done;
    open = 1;
    al_rng g;
    al_rng_seed(&g, p->seed, 0xA11CE);
    for (int64_t n = 0; n < N; n++)
        for (int64_t t = 0; t < T; t++) tok[n * T + t] = t == 0 ? 1 : (int32_t)(3 + al_rng_below(&g, 256));
    int64_t td[2] = {N, T};
    if ((st = al_v1_write_i32(&w, "tokens", 2, td, tok, e)) != AL_OK) goto done;
    for (int64_t l = 0; l < L; l++)
        for (int64_t h = 0; h < H; h++) roles[l * H + h] = al_syn_kind_names[al_synth_kind_of(l, h, H)];
    if ((st = al_v1_attr_strings(&w, "/", "planted_roles", roles, (int)(L * H), e)) != AL_OK) goto done;
    char name[64];
    for (int64_t l = 0; l < L && st == AL_OK; l++) {
        snprintf(name, sizeof name, "attention/L%03lld", (long long)l);
        int64_t dims[4] = {N, H, T, T};
        if ((st = al_v1_dataset(&w, name, 4, dims, 64, e)) != AL_OK) break;
        for (int64_t n = 0; n < N && st == AL_OK; n++)
            for (int64_t h = 0; h < H && st == AL_OK; h++)
                for (int64_t r0 = 0; r0 < T && st == AL_OK; r0 += B) {
                    int64_t nr = T - r0 < B ? T - r0 : B;
                    for (int64_t r = 0; r < nr; r++) {
                        al_synth_row(p, n, l, h, r0 + r, s, row);
                        for (int64_t j = 0; j < T; j++) blk[r * T + j] = (float)row[j];
                    }
                    int64_t st4[4] = {n, h, r0, 0}, ct4[4] = {1, 1, nr, T};
                    st = al_v1_write(&w, name, st4, ct4, blk, e);
                }
    }
    if (st == AL_OK) {
        st = al_v1_finish(&w, e);
        open = 0;
    }
done:
    if (open) al_v1_abort(&w);
    al_free(blk);
    al_free(s);
    al_free(row);
    al_free(tok);
    al_free((void *)roles);
    return st;
}
