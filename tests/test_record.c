/* `attnlab record`: forward-pass kernels against their double references and worked values, checkpoint
 * header validation, prefill/decode agreement on a random GQA model, and run.c's greedy ids on stories260K. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyses/llama_run.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "datasets/llama2c.h"
#include "datasets/token_ids.h"
#include "metrics/llama_forward.h"
#include "testutil.h"

static void fill(al_rng *g, float *x, int64_t n, double s) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)(s * al_rng_normal(g));
}

Test(record, linear_tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 12; trial++) {
        al_rng_seed(&g, 7, (uint64_t)trial);
        int64_t T = trial % 3 == 0 ? 1 : 1 + (int64_t)al_rng_below(&g, 40), k = 1 + (int64_t)al_rng_below(&g, 70);
        int64_t n = 1 + (int64_t)al_rng_below(&g, 50), ldx = k + (T > 1 ? (int64_t)al_rng_below(&g, 3) : 0);
        float *x = malloc(sizeof(float) * (size_t)(T * ldx)), *W = malloc(sizeof(float) * (size_t)(n * k));
        float *a = calloc((size_t)(T * n), sizeof(float)), *b = calloc((size_t)(T * n), sizeof(float));
        fill(&g, x, T * ldx, 1);
        fill(&g, W, n * k, 1);
        al_linear(x, T, k, ldx, W, n, a, n);
        al_linear_ref(x, T, k, ldx, W, n, b, n);
        for (int64_t i = 0; i < T * n; i++) cr_assert(al_close_rel(a[i], b[i], 1e-5, 1e-5), "trial %d entry %lld: %g vs %g", trial, (long long)i, a[i], b[i]);
        free(x), free(W), free(a), free(b);
    }
}

Test(record, attention_rows_tuned_matches_reference) {
    al_rng g;
    for (int trial = 0; trial < 10; trial++) {
        al_rng_seed(&g, 11, (uint64_t)trial);
        int64_t T = 1 + (int64_t)al_rng_below(&g, 60), hs = 2 + 2 * (int64_t)al_rng_below(&g, 8), ld = hs * 3;
        int64_t B = 1 + (int64_t)al_rng_below(&g, (uint64_t)T);
        float *q = malloc(sizeof(float) * (size_t)(T * ld)), *k = malloc(sizeof(float) * (size_t)(T * ld)), *v = malloc(sizeof(float) * (size_t)(T * ld));
        fill(&g, q, T * ld, 1.5), fill(&g, k, T * ld, 1.5), fill(&g, v, T * ld, 1);
        float *a1 = calloc((size_t)(T * T), sizeof(float)), *a2 = calloc((size_t)(T * T), sizeof(float));
        float *o1 = calloc((size_t)(T * hs), sizeof(float)), *o2 = calloc((size_t)(T * hs), sizeof(float));
        double sc = 1.0 / sqrt((double)hs);
        for (int64_t r0 = 0; r0 < T; r0 += B) {
            int64_t nr = T - r0 < B ? T - r0 : B;
            al_attention_rows(q + r0 * ld, ld, k, ld, v, ld, r0, nr, hs, sc, a1 + r0 * T, T, o1 + r0 * hs, hs);
        }
        al_attention_rows_ref(q, ld, k, ld, v, ld, 0, T, hs, sc, a2, T, o2, hs);
        for (int64_t i = 0; i < T; i++) {
            double rs = 0;
            for (int64_t j = 0; j < T; j++) {
                cr_assert(al_close_rel(a1[i * T + j], a2[i * T + j], 1e-5, 1e-6), "trial %d att[%lld,%lld]", trial, (long long)i, (long long)j);
                if (j > i) cr_assert(a1[i * T + j] == 0.0f && a2[i * T + j] == 0.0f, "causal mask");
                rs += a2[i * T + j];
            }
            cr_assert(fabs(rs - 1) < 1e-5);
            for (int64_t d = 0; d < hs; d++) cr_assert(al_close_rel(o1[i * hs + d], o2[i * hs + d], 1e-5, 1e-5), "trial %d out", trial);
        }
        free(q), free(k), free(v), free(a1), free(a2), free(o1), free(o2);
    }
}

Test(record, rmsnorm_rope_swiglu_worked_values) {
    float x[4] = {3, 4, 0, 0}, g[2] = {1, 2}, o[4];
    al_rmsnorm(x, 2, 2, 2, g, 1e-5, o, 2);
    double s = 1.0 / sqrt(12.5 + 1e-5);
    cr_assert(al_close_rel(o[0], 3 * s, 1e-6, 0) && al_close_rel(o[1], 8 * s, 1e-6, 0));
    cr_assert(o[2] == 0 && o[3] == 0); /* a zero row stays zero (eps keeps it finite) */
    /* head size 4: pair 0 turns by pos, pair 1 by pos * 10000^(-2/4) = pos / 100 */
    float r[8] = {1, 0, 1, 0, 1, 0, 0, 1};
    al_rope(r, 2, 1, 4, 4, 0, 10000.0); /* row 0 at position 0: unchanged */
    cr_assert(r[0] == 1 && r[1] == 0 && r[2] == 1 && r[3] == 0);
    cr_assert(al_close_rel(r[4], cos(1.0), 1e-6, 1e-7) && al_close_rel(r[5], sin(1.0), 1e-6, 1e-7));
    cr_assert(al_close_rel(r[6], -sin(0.01), 1e-6, 1e-7) && al_close_rel(r[7], cos(0.01), 1e-6, 1e-7));
    /* pairs are consecutive across heads: two heads of size 2 both turn by pos */
    float r2[4] = {1, 0, 1, 0};
    al_rope(r2, 1, 2, 2, 4, 3, 10000.0);
    cr_assert(al_close_rel(r2[2], cos(3.0), 1e-6, 1e-7) && al_close_rel(r2[3], sin(3.0), 1e-6, 1e-7));
    float h1[2] = {0, 2}, h3[2] = {5, 3};
    al_swiglu(h1, h3, 2);
    cr_assert(h1[0] == 0 && al_close_rel(h1[1], 2 / (1 + exp(-2.0)) * 3, 1e-6, 0));
}

Test(record, argmax_and_sampling) {
    float x[4] = {1, 3, 3, 2};
    cr_assert_eq(al_argmax(x, 4), 1); /* first of tied maxima, as run.c */
    float y[2] = {0, (float)log(3.0)};
    double ws[2];
    cr_assert_eq(al_sample_softmax(y, 2, 1.0, 0.2, ws), 0); /* probabilities 0.25, 0.75 */
    cr_assert_eq(al_sample_softmax(y, 2, 1.0, 0.3, ws), 1);
    cr_assert_eq(al_sample_softmax(y, 2, 1.0, 0.9999999, ws), 1);
}

static al_status check(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e5, int32_t f, int32_t g, uint64_t bytes,
                       al_llama_config *cfg, al_error *e) {
    int32_t h[7] = {a, b, c, d, e5, f, g};
    al_error_clear(e);
    return al_llama_check_header(h, bytes, cfg, "m.bin", e);
}

Test(record, header_validation) {
    al_llama_config c;
    al_error e;
    cr_assert_eq(check(64, 172, 5, 8, 4, 512, 512, 1056540, &c, &e), AL_OK, "%s", e.msg);
    cr_assert(c.shared_classifier && c.head_size == 8 && c.kv_dim == 32);
    cr_assert_eq(check(64, 172, 5, 8, 4, -512, 512, 1056540 + 512 * 64 * 4, &c, &e), AL_OK, "%s", e.msg);
    cr_assert(!c.shared_classifier && c.vocab_size == 512);
    cr_assert_eq(check(64, 172, 5, 8, 4, 512, 512, 1056539, &c, &e), AL_EFORMAT);
    cr_assert(strstr(e.msg, "truncated"), "%s", e.msg);
    cr_assert_eq(check(64, 172, 5, 8, 4, 512, 512, 1056544, &c, &e), AL_EFORMAT);
    cr_assert(strstr(e.msg, "disagree"), "%s", e.msg);
    cr_assert_eq(check(64, 172, -5, 8, 4, 512, 512, 1056540, &c, &e), AL_EFORMAT);
    cr_assert(strstr(e.msg, "n_layers = -5"), "%s", e.msg);
    cr_assert_eq(check(0x7fffffff, 0x7fffffff, 0x7fffffff, 8, 4, 512, 512, 1056540, &c, &e), AL_EFORMAT);
    cr_assert_eq(check(64, 172, 5, 0, 4, 512, 512, 1056540, &c, &e), AL_EFORMAT);
    cr_assert_eq(check(64, 172, 5, 8, 3, 512, 512, 1056540, &c, &e), AL_EFORMAT); /* 3 does not divide 8 */
    cr_assert_eq(check(64, 172, 5, 8, 16, 512, 512, 1056540, &c, &e), AL_EFORMAT);
    cr_assert_eq(check(60, 172, 5, 8, 4, 512, 512, 1056540, &c, &e), AL_EFORMAT); /* dim not a multiple of heads */
    cr_assert_eq(check(24, 172, 5, 8, 4, 512, 512, 1056540, &c, &e), AL_EFORMAT); /* odd head size 3 */
    cr_assert_eq(check(64, 172, 5, 8, 4, (int32_t)0x80000000, 512, 1056540, &c, &e), AL_EFORMAT);
    cr_assert_eq(check(0x616b3432, 1, 0, 0, 0, 0, 0, 1000, &c, &e), AL_EFORMAT);
    cr_assert(strstr(e.msg, "version-1 export"), "%s", e.msg);
}

/* A random checkpoint (separate classifier, GQA) written the way llama2.c's export does. */
static const char *tiny_model(int nan_at) {
    static char path[512];
    snprintf(path, sizeof path, "%s/tiny.bin", al_test_tmpdir());
    int32_t h[7] = {16, 24, 2, 4, 2, -40, 32};
    al_llama_config c;
    al_error e;
    cr_assert_eq(al_llama_check_header(h, 1u << 30, &c, path, &e), AL_EFORMAT); /* only to fill c */
    uint64_t nf = (al_llama_file_bytes(&c) - 28) / 4;
    float *w = malloc(sizeof(float) * nf);
    al_rng g;
    al_rng_seed(&g, 99, 0);
    fill(&g, w, (int64_t)nf, 0.4);
    if (nan_at >= 0) w[nan_at] = NAN;
    FILE *f = fopen(path, "wb");
    fwrite(h, 4, 7, f);
    fwrite(w, 4, nf, f);
    fclose(f);
    free(w);
    return path;
}

Test(record, prefill_equals_decode_on_random_gqa_model) {
    al_llama *m;
    al_error e;
    al_error_clear(&e);
    cr_assert_eq(al_llama_open(tiny_model(-1), &m, &e), AL_OK, "%s", e.msg);
    int64_t T = 20, V = m->c.vocab_size;
    al_llm a, b;
    cr_assert_eq(al_llm_init(&a, m, T, &e), AL_OK);
    cr_assert_eq(al_llm_init(&b, m, T, &e), AL_OK);
    int32_t tok[20];
    al_rng g;
    al_rng_seed(&g, 5, 0);
    for (int64_t t = 0; t < T; t++) tok[t] = (int32_t)al_rng_below(&g, (uint64_t)V);
    float last[40], step[40];
    /* decode one token at a time through the KV cache; compare with the last row of a full prefill of t + 1 */
    for (int64_t t = 0; t < T; t++) {
        cr_assert_eq(al_llm_prefill(&a, tok, t, t + 1, NULL, step, &e), AL_OK);
        cr_assert_eq(al_llm_prefill(&b, tok, 0, t + 1, NULL, last, &e), AL_OK);
        for (int64_t v = 0; v < V; v++) cr_assert(al_close_rel(step[v], last[v], 1e-4, 1e-5), "t %lld v %lld", (long long)t, (long long)v);
    }
    al_llm_free(&a);
    al_llm_free(&b);
    al_llama_close(m);
}

Test(record, non_finite_weight_is_refused) {
    al_llama *m = NULL;
    al_error e;
    al_error_clear(&e);
    cr_assert_eq(al_llama_open(tiny_model(40 * 16 + 16 + 5), &m, &e), AL_EVALUE);
    cr_assert(strstr(e.msg, "weight 5 of attention RMSNorm of layer 1"), "%s", e.msg);
}

Test(record, id_lists) {
    int32_t *ids;
    char why[160];
    cr_assert_eq(al_ids_parse(" 1, 2 ,3 ", 9, 10, &ids, why, sizeof why), 3);
    cr_assert(ids[0] == 1 && ids[1] == 2 && ids[2] == 3);
    free(ids);
    cr_assert_eq(al_ids_parse("1,10", 4, 10, &ids, why, sizeof why), -1);
    cr_assert(strstr(why, "outside the vocabulary 0..9"), "%s", why);
    cr_assert_eq(al_ids_parse("1,,2", 4, 10, &ids, why, sizeof why), -1);
    cr_assert_eq(al_ids_parse("1 2", 3, 10, &ids, why, sizeof why), -1);
    cr_assert_eq(al_ids_parse("0x1", 3, 10, &ids, why, sizeof why), -1);
    cr_assert_eq(al_ids_parse("", 0, 10, &ids, why, sizeof why), -1);
}

Test(record, stories260K_greedy_reproduces_run_c) {
    const char *p = al_test_shared("models/stories260K.bin");
    if (!p) cr_skip_test("SKIP: no ../shared/models/stories260K.bin (the shared folder is absent)");
    static const int32_t want[20] = {1, 461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264, 283, 452, 288};
    al_llama *m;
    al_error e;
    al_error_clear(&e);
    cr_assert_eq(al_llama_open(p, &m, &e), AL_OK, "%s", e.msg);
    cr_assert(m->c.dim == 64 && m->c.n_kv_heads == 4 && m->c.shared_classifier);
    al_llm s;
    cr_assert_eq(al_llm_init(&s, m, 20, &e), AL_OK);
    int32_t tok[20] = {1};
    cr_assert_eq(al_llm_generate(&s, tok, 1, 20, 0.0, NULL, &e), AL_OK);
    for (int i = 0; i < 20; i++) cr_assert_eq(tok[i], want[i], "token %d: %d, run.c gives %d", i, tok[i], want[i]);
    al_llm_free(&s);
    al_llama_close(m);
}

/* Every allocation failing in turn: exit 1 ("out of memory"), never a crash, and no output file left. */
Test(record, allocation_failures_leave_no_file) {
    const char *model = tiny_model(-1);
    char out[600], conv[620];
    snprintf(out, sizeof out, "%s/o.h5", al_test_tmpdir());
    snprintf(conv, sizeof conv, "%s.conv", out);
    FILE *f = fopen(conv, "w");
    fputs("3,4,5\n6\n\n7,8\n", f);
    fclose(f);
    for (int mode = 0; mode < 2; mode++) {
        int k = 1;
        for (;; k++) {
            al_alloc_fail_at((uint64_t)k);
            int rc = mode == 0 ? al_test_cmd(NULL, "record", model, "--tokens", "1,2", "--tokens", "1", "--generate", "3",
                                             "--span", "a:0:1", "--dtype", "f16", "-q", "-o", out, NULL)
                               : al_test_cmd(NULL, "record", model, "--drift", conv, "--prefix", "9,9", "-q", "-o", out, NULL);
            uint64_t made = al_alloc_count();
            al_alloc_fail_at(0);
            if (rc == 0) {
                cr_assert(made < (uint64_t)k, "mode %d: allocation %d failed but the run succeeded", mode, k);
                break;
            }
            cr_assert_eq(rc, 1, "mode %d: allocation %d: exit %d (the message goes to stderr)", mode, k, rc);
            cr_assert(access(out, F_OK) != 0, "mode %d: allocation %d left %s", mode, k, out);
        }
        cr_assert(k > 5, "mode %d: only %d allocations", mode, k);
        remove(out);
    }
}
