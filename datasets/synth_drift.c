/* `synth drift`: a baseline/conflict pair with spans system, user, response (longer user span under conflict);
 * every head keeps its `synth maps` role except planted drift heads that move from system to user keys. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/rng.h"
#include "synth.h"
#include "writer.h"

int64_t al_synth_drift_heads(const al_synth_params *p, int64_t *lh) {
    int64_t nh = p->layers * p->heads, k = (int64_t)floor((double)nh * 10.0 / 100.0 + 0.5);
    if (k < 1) k = 1;
    for (int64_t i = 0; lh && i < k; i++) {
        int64_t flat = (p->layers / 2) * p->heads + i;
        lh[2 * i] = (flat / p->heads) % p->layers;
        lh[2 * i + 1] = flat % p->heads;
    }
    return k;
}

void al_synth_drift_spans(int64_t T, int conflict, int32_t *span) {
    int64_t s = T / 4 > 2 ? T / 4 : 2, r = T / 4 > 2 ? T / 4 : 2, extra = conflict ? T / 4 : 0;
    int64_t Tc = T + extra;
    span[0] = 0, span[1] = (int32_t)s;                     /* system */
    span[2] = (int32_t)s, span[3] = (int32_t)(Tc - r);     /* user (longer under conflict) */
    span[4] = (int32_t)(Tc - r), span[5] = (int32_t)Tc;    /* response */
}

/* Row i of a planted drift head: N(0, 1) noise plus 3 on the system keys (baseline) or the user keys
 * (conflict), softmax over the visible keys. out: [T]. */
static void al_drift_row(const al_synth_params *p, const int32_t *span, int conflict, int64_t n, int64_t l, int64_t h,
                         int64_t i, double *s, double *out) {
    int64_t T = p->tokens;
    al_rng g;
    al_rng_seed(&g, p->seed ^ 0xD21F7ull, (uint64_t)(((n * p->layers + l) * p->heads + h) * T + i));
    int64_t vis = p->bidirectional ? T : i + 1;
    int64_t a = conflict ? span[2] : span[0], b = conflict ? span[3] : span[1];
    double m = -INFINITY, z = 0;
    for (int64_t j = 0; j < vis; j++) {
        s[j] = al_rng_normal(&g) + (j >= a && j < b ? 3.0 : 0.0);
        m = s[j] > m ? s[j] : m;
    }
    for (int64_t j = 0; j < vis; j++) z += (out[j] = exp(s[j] - m));
    for (int64_t j = 0; j < vis; j++) out[j] /= z;
    for (int64_t j = vis; j < T; j++) out[j] = 0;
}

static al_status al_synth_drift_one(const al_synth_params *base, int conflict, const char *path, al_error *e) {
    al_synth_params p = *base;
    int32_t span1[6];
    al_synth_drift_spans(base->tokens, conflict, span1);
    p.tokens = span1[5];
    int64_t N = p.samples, L = p.layers, H = p.heads, T = p.tokens, KV = p.kv_heads > 0 ? p.kv_heads : H;
    if (H % KV != 0) return al_fail(e, AL_EUSAGE, "--kv-heads", NULL, "%lld does not divide --heads %lld", (long long)KV, (long long)H);
    int64_t k = al_synth_drift_heads(&p, NULL);
    int64_t *lh = al_malloc((size_t)(2 * k), sizeof(int64_t));
    float *blk = al_malloc((size_t)T, (size_t)T * sizeof(float)); /* [T, T] one head */
    double *s = al_malloc((size_t)T, sizeof(double)), *row = al_malloc((size_t)T, sizeof(double));
    int32_t *tok = al_malloc((size_t)(N * T), sizeof(int32_t)), *spans = al_malloc((size_t)(N * 6), sizeof(int32_t));
    char(*names)[16] = al_malloc((size_t)k, sizeof *names);
    const char **np = al_malloc((size_t)k, sizeof(char *));
    al_v1_writer w;
    int open = 0;
    al_status st = AL_OK;
    if (!lh || !blk || !s || !row || !tok || !spans || !names || !np) {
        st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto done;
    }
    al_synth_drift_heads(&p, lh);
    char model[128];
    snprintf(model, sizeof model, "synthetic drift %s (attnlab synth, seed %llu)", conflict ? "conflict" : "baseline",
             (unsigned long long)p.seed);
    al_v1_attrs a = {model, "attnlab synth drift", L, H, KV, p.head_dim, !p.bidirectional, 1};
    if ((st = al_v1_create(&w, path, p.dtype, &a, e)) != AL_OK) goto done;
    open = 1;
    al_rng g;
    al_rng_seed(&g, p.seed, 0xA11CE);
    for (int64_t n = 0; n < N; n++) {
        memcpy(spans + n * 6, span1, sizeof span1);
        for (int64_t t = 0; t < T; t++) tok[n * T + t] = t == 0 ? 1 : (int32_t)(3 + al_rng_below(&g, 256));
    }
    int64_t td[2] = {N, T}, sd[3] = {N, 3, 2};
    static const char *const span_names[3] = {"system", "user", "response"};
    if ((st = al_v1_write_i32(&w, "tokens", 2, td, tok, e)) != AL_OK) goto done;
    if ((st = al_v1_write_i32(&w, "spans", 3, sd, spans, e)) != AL_OK) goto done;
    if ((st = al_v1_attr_strings(&w, "spans", "names", span_names, 3, e)) != AL_OK) goto done;
    for (int64_t i = 0; i < k; i++) {
        snprintf(names[i], sizeof names[i], "%lld,%lld", (long long)(lh[2 * i] % 10000), (long long)(lh[2 * i + 1] % 10000));
        np[i] = names[i];
    }
    if ((st = al_v1_attr_strings(&w, "/", "planted_drift_heads", np, (int)k, e)) != AL_OK) goto done;
    char dn[64];
    for (int64_t l = 0; l < L && st == AL_OK; l++) {
        snprintf(dn, sizeof dn, "attention/L%03lld", (long long)l);
        int64_t dims[4] = {N, H, T, T};
        if ((st = al_v1_dataset(&w, dn, 4, dims, 64, e)) != AL_OK) break;
        for (int64_t n = 0; n < N && st == AL_OK; n++)
            for (int64_t h = 0; h < H && st == AL_OK; h++) {
                int drift = 0;
                for (int64_t i = 0; i < k; i++) drift |= lh[2 * i] == l && lh[2 * i + 1] == h;
                for (int64_t i = 0; i < T; i++) {
                    if (drift) al_drift_row(&p, span1, conflict, n, l, h, i, s, row);
                    else al_synth_row(&p, n, l, h, i, s, row);
                    for (int64_t j = 0; j < T; j++) blk[i * T + j] = (float)row[j];
                }
                int64_t st4[4] = {n, h, 0, 0}, ct4[4] = {1, 1, T, T};
                st = al_v1_write(&w, dn, st4, ct4, blk, e);
            }
    }
    if (st == AL_OK) {
        st = al_v1_finish(&w, e);
        open = 0;
    }
done:
    if (open) al_v1_abort(&w);
    al_free(lh), al_free(blk), al_free(s), al_free(row), al_free(tok), al_free(spans), al_free(names), al_free((void *)np);
    return st;
}

al_status al_synth_drift_write(const al_synth_params *p, const char *dir, al_error *e) {
    if (p->tokens < 8) return al_fail(e, AL_EUSAGE, "--tokens", NULL, "synth drift needs at least 8 tokens (three spans)");
    struct stat sb;
    int made = 0;
    if (stat(dir, &sb) != 0) {
        if (mkdir(dir, 0777) != 0) return al_fail(e, AL_EWRITE, dir, NULL, "cannot create the output folder");
        made = 1;
    } else if (!S_ISDIR(sb.st_mode)) {
        return al_fail(e, AL_EUSAGE, dir, NULL, "synth drift writes a folder (baseline.h5, conflict.h5); this is a file");
    }
    char pb[4200], pc[4200];
    snprintf(pb, sizeof pb, "%s/baseline.h5", dir);
    snprintf(pc, sizeof pc, "%s/conflict.h5", dir);
    al_status st = al_synth_drift_one(p, 0, pb, e);
    if (st == AL_OK && (st = al_synth_drift_one(p, 1, pc, e)) != AL_OK) unlink(pb);
    if (st != AL_OK && made) rmdir(dir);
    return st;
}
