/* KV-compression methods (metrics/kvpress.c): the worked examples of docs/kvsim.md "Methods" (budgets, the
 * prompt map W6 under every scorer, AdaKV, Quest, the DuoAttention split), parsing and impossible budgets, the
 * tuned selections against their reference twins, and `kvsim --prefill --kept` (the streaming path) against the
 * literal twin al_kvm_keep_ref on a synthetic q/k recording. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "datasets/recording.h"
#include "metrics/kvpress.h"
#include "metrics/qk.h"
#include "testutil.h"

/* The worked prompt of docs/kvsim.md: one head, P = 6 keys. */
static const double W6[36] = {1,  0,  0,  0,  0, 0, .5, .5, 0,  0,  0,  0, .6, .1, .3, 0,  0,  0,
                              .4, .2, .1, .3, 0, 0, .5, .1, .2, .1, .1, 0, .3, .3, .1, .1, .1, .1};
static const float K6[12] = {3, 0, 0, 1, 2, 2, 1, 0.1f, 0, 0.5f, 4, 4}; /* [6, 2] */

static void kept_is(const char *spec, double ratio, const char *want) {
    al_kvmethod m;
    char why[256], got[64] = "";
    cr_assert_eq(al_kvmethod_parse(spec, &m, why, sizeof why), 0, "%s: %s", spec, why);
    al_kvm_dims d = {.H = 1, .Hkv = 1, .P = 6, .D = 2, .L = 1, .l = 0, .ratio = ratio, .agg = AL_GQA_MEAN};
    uint8_t keep[6];
    al_kvm_keep_ref(&m, &d, W6, NULL, K6, NULL, NULL, keep);
    for (int j = 0; j < 6; j++)
        if (keep[j]) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", got[0] ? " " : "", j);
    cr_assert_str_eq(got, want, "%s at ratio %g keeps {%s}, not {%s}", spec, ratio, got, want);
}

Test(kvpress, budgets) {
    cr_assert_eq(al_kvm_budget(8, 0.5), 4);
    cr_assert_eq(al_kvm_budget(10, 0.75), 2);
    cr_assert_eq(al_kvm_budget(3, 0.9), 1);   /* int(0.3) = 0, clamped to 1 */
    cr_assert_eq(al_kvm_budget(100, 0.9), 9); /* 100 * (1 - 0.9) = 9.999999999999998 in double: int() gives 9 */
    int64_t want[4] = {92, 64, 36, 8};        /* P = 100, r = 0.5, window 8, beta 20, 4 layers: sum 200 = 4 x 50 */
    for (int l = 0; l < 4; l++)
        cr_assert_eq(al_kvm_pyramid_budget(100, 0.5, 8, 20, 4, l), want[l], "layer %d", l);
}

Test(kvpress, worked_prompt) {
    kept_is("streaming:sink=1", 0.5, "0 4 5");
    kept_is("snapkv:window=2,kernel=3", 0.5, "1 4 5");
    kept_is("snapkv:window=2,kernel=1", 0.5, "0 4 5");
    kept_is("tova", 0.5, "0 1 5");
    kept_is("observed", 0.5, "0 1 2");
    kept_is("knorm", 0.5, "1 3 4");
    kept_is("pyramid:window=2,kernel=3", 0.5, "0 1 4 5"); /* one layer: max_num = P - window = 4 keys */
}

Test(kvpress, adakv_quest_duo) {
    const double S[8] = {.9, .8, .7, .6, .5, .1, .2, .3}; /* [2 KV heads, 4 keys] */
    uint8_t k0[8], k1[8];
    double x[8], y[8], w[8];
    al_kvm_adakv_ref(S, 2, 4, 2, 0.0, k0); /* no safeguard: the four largest of the layer, all in head 0 */
    const uint8_t want0[8] = {1, 1, 1, 1, 0, 0, 0, 0}, want1[8] = {1, 1, 1, 0, 1, 0, 0, 0};
    cr_assert_arr_eq(k0, want0, 8);
    al_kvm_adakv_ref(S, 2, 4, 2, 0.5, k1); /* safeguard int(2 x 0.5) = 1 key per head first */
    cr_assert_arr_eq(k1, want1, 8);
    al_kvm_adakv(S, 2, 4, 2, 0.5, x, y, w, k0);
    cr_assert_arr_eq(k0, want1, 8);
    al_kvmethod m;
    char why[128];
    cr_assert_eq(al_kvmethod_parse("quest:page=2", &m, why, sizeof why), 0);
    const float q[2] = {1, -1};
    uint8_t keep[6];
    al_kvm_quest_ref(&m, q, 1, K6, 6, 2, 0.5, AL_GQA_MEAN, keep); /* bounds 3, 1.9, 3.5: one page of 2 keys */
    const uint8_t wantq[6] = {0, 0, 0, 0, 1, 1};
    cr_assert_arr_eq(keep, wantq, 6);
    float kmin[6], kmax[6];
    double s[3];
    al_kvm_pages(K6, 6, 2, 2, kmin, kmax);
    al_kvm_quest(q, kmin, kmax, 3, 2, s);
    cr_assert(fabs(s[0] - 3) < 1e-6 && fabs(s[1] - 1.9) < 1e-6 && fabs(s[2] - 3.5) < 1e-6);
    const double g[4] = {.9, .1, .5, .3};
    uint8_t st[4];
    const uint8_t wants[4] = {0, 1, 0, 1};
    al_kvm_duo_split(g, 4, 0.5, st);
    cr_assert_arr_eq(st, wants, 4);
}

Test(kvpress, parse_and_check) {
    al_kvmethod m;
    char why[256];
    const char *bad[] = {"snap",     "snapkv:window=0", "snapkv:kernel=4", "knorm:window=3",
                         "adakv",    "adakv:duo",       "adakv:adakv",     "streaming:sink=x",
                         "tova:foo", "duo:gates=",      "expected:cov=2",  "quest:page=0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_neq(al_kvmethod_parse(bad[i], &m, why, sizeof why), 0, "%s accepted", bad[i]);
    cr_assert_eq(al_kvmethod_parse("adakv:snapkv,window=8,alpha=0.3", &m, why, sizeof why), 0, "%s", why);
    cr_assert(m.kind == AL_KVM_ADAKV && m.base == AL_KVM_SNAPKV && m.window == 8 && m.alpha == 0.3);
    cr_assert_neq(al_kvmethod_check(&m, 0.5, 8, 0, why, sizeof why), 0, "window 8 in a prompt of 8");
    cr_assert(strstr(why, "window=8"), "%s", why);
    cr_assert_neq(al_kvmethod_check(&m, 1.0, 100, 0, why, sizeof why), 0, "ratio 1");
    cr_assert_eq(al_kvmethod_parse("snapkv", &m, why, sizeof why), 0);
    cr_assert_neq(al_kvmethod_check(&m, 0.5, 100, 64, why, sizeof why), 0, "snapkv while decoding");
    cr_assert_eq(al_kvmethod_parse("h2o", &m, why, sizeof why), 0);
    cr_assert_neq(al_kvmethod_check(&m, 0.5, 100, 0, why, sizeof why), 0, "h2o at prefill");
}

/* Tuned selections against the twins on random scores with many ties. */
Test(kvpress, select_twins) {
    al_rng r;
    al_rng_seed(&r, 5, 0);
    enum { N = 300 };
    double s[N], x[N], y[N], w[N];
    uint8_t a[N], b[N];
    for (int rep = 0; rep < 200; rep++) {
        int64_t n = 1 + (int64_t)al_rng_below(&r, N), k = 1 + (int64_t)al_rng_below(&r, (uint64_t)n);
        for (int64_t j = 0; j < n; j++)
            s[j] = rep % 2 ? (double)al_rng_below(&r, 7) : al_rng_uniform(&r);
        cr_assert_eq(al_kvm_select(s, n, k, x, y, a), al_kvm_select_ref(s, n, k, b));
        cr_assert_arr_eq(a, b, (size_t)n, "rep %d n %lld k %lld", rep, (long long)n, (long long)k);
        int64_t H = 1 + rep % 4, m = n / H;
        if (m < 1) continue;
        int64_t kk = 1 + (int64_t)al_rng_below(&r, (uint64_t)m);
        double alpha = (rep % 5) * 0.25;
        al_kvm_adakv(s, H, m, kk, alpha, x, y, w, a);
        al_kvm_adakv_ref(s, H, m, kk, alpha, b);
        cr_assert_arr_eq(a, b, (size_t)(H * m), "adakv rep %d", rep);
    }
}

/* ExpectedAttention's kernel (mean and covariance) against its twin (squared centred projections). */
Test(kvpress, expected_twin) {
    enum { P = 40, D = 6, H = 2 };
    al_rng r;
    al_rng_seed(&r, 9, 0);
    float q[H * P * D], k[P * D];
    for (int t = 0; t < H * P * D; t++)
        q[t] = (float)al_rng_normal(&r);
    for (int t = 0; t < P * D; t++)
        k[t] = (float)al_rng_normal(&r);
    double work[D + D * D], s[H * P], S[P], ref[P];
    for (int h = 0; h < H; h++)
        al_kvm_expected(q + h * P * D, k, P, D, 4, 1, work, s + h * P);
    al_kvm_group(s, H, P, P, AL_GQA_MEAN, S);
    al_kvmethod m;
    char why[64];
    cr_assert_eq(al_kvmethod_parse("expected:vnorm=0", &m, why, sizeof why), 0);
    al_kvm_dims d = {.H = H, .Hkv = 1, .P = P, .D = D, .L = 1, .ratio = 0.5, .agg = AL_GQA_MEAN};
    uint8_t keep[P], keep2[P];
    al_kvm_keep_ref(&m, &d, NULL, q, k, NULL, NULL, keep);
    double mx = -INFINITY;
    for (int j = 4; j < P; j++)
        mx = fmax(mx, S[j]);
    for (int j = 0; j < P; j++)
        ref[j] = j < 4 ? mx + 1 : S[j];
    al_kvm_select_ref(ref, P, al_kvm_budget(P, 0.5), keep2);
    cr_assert_arr_eq(keep, keep2, P);
}

/* One line of kvsim_kept.tsv: method, ratio, sample, layer, kv_head, n_kept, keys. */
static int read_kept(FILE *f, char *method, double *ratio, int64_t *n, int64_t *l, int64_t *g, uint8_t *keep,
                     int64_t P) {
    static char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || !strncmp(line, "method\t", 7)) continue;
        long long a, b, c, nk;
        int off = 0;
        if (sscanf(line, "%255[^\t]\t%lf\t%lld\t%lld\t%lld\t%lld\t%n", method, ratio, &a, &b, &c, &nk, &off) < 6)
            return -1;
        *n = a, *l = b, *g = c;
        memset(keep, 0, (size_t)P);
        for (char *s = line + off, *end; *s && *s != '\n'; s = end) {
            long j = strtol(s, &end, 10);
            if (end == s) break;
            keep[j] = 1;
        }
        return 0;
    }
    return 1;
}

/* The streaming path of kvsim --prefill against the literal twin, every scorer, on the maps it computes. */
Test(kvpress, prefill_matches_twin, .timeout = 120) {
    const char *dir = al_test_tmpdir();
    char rec[512], out[512], tsv[600];
    snprintf(rec, sizeof rec, "%s/qk.h5", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    cr_assert_eq(al_test_cmd(NULL, "synth", "qk", "-o", rec, "--tokens", "96", "--heads", "4", "--kv-heads", "2",
                             "--layers", "3", "--samples", "2", "--head-dim", "8", "-q", NULL),
                 0);
    enum { P = 64, T = 96, H = 4, HKV = 2, D = 8, L = 3 };
    cr_assert_eq(al_test_cmd(NULL, "kvsim", rec, "--prefill", "64", "--kept", "-o", out, "-q", "--method", "streaming",
                             "--method", "knorm", "--method", "snapkv:window=8", "--method", "tova", "--method",
                             "observed", "--method", "expected:vnorm=0", "--method", "pyramid:window=8", "--method",
                             "adakv:snapkv,window=8", "--method", "adakv:knorm,alpha=0.5", "--method", "random:seed=3",
                             "--method", "duo:sink=2,recent=8", "--ratio", "0.3", "--ratio", "0.75", "--gqa", "max",
                             NULL),
                 0);
    al_rec *r;
    al_error e;
    cr_assert_eq(al_rec_open(rec, &r, &e), AL_OK);
    static float q[L][H * T * D], k[L][HKV * T * D], qp[H * P * D], kp[HKV * P * D], A[P * T];
    static double Ad[L][H * P * P];
    static uint8_t want[HKV * P], got[P];
    snprintf(tsv, sizeof tsv, "%s/kvsim_kept.tsv", out);
    FILE *f = fopen(tsv, "r");
    cr_assert(f);
    char method[256];
    double ratio;
    int64_t n, l, g, rows = 0, cur_n = -1;
    while (read_kept(f, method, &ratio, &n, &l, &g, got, P) == 0) {
        if (n != cur_n) { /* the sample's prompt maps, as the engine computes them (al_qk_probs) */
            for (int64_t ll = 0; ll < L; ll++) {
                for (int64_t h = 0; h < H; h++)
                    cr_assert_eq(al_rec_read_qkv(r, AL_T_Q, n, ll, h, 0, T, q[ll] + h * T * D, &e), AL_OK);
                for (int64_t t = 0; t < HKV; t++)
                    cr_assert_eq(al_rec_read_qkv(r, AL_T_K, n, ll, t, 0, T, k[ll] + t * T * D, &e), AL_OK);
                for (int64_t h = 0; h < H; h++) {
                    al_qk_probs(q[ll] + h * T * D, k[ll] + (h / 2) * T * D, P, T, D, 0, r->q_scale, 1, A, T);
                    for (int64_t i = 0; i < P; i++)
                        for (int64_t j = 0; j < P; j++)
                            Ad[ll][(h * P + i) * P + j] = A[i * T + j];
                }
            }
            cur_n = n;
        }
        for (int64_t h = 0; h < H; h++)
            memcpy(qp + h * P * D, q[l] + h * T * D, sizeof(float) * P * D);
        for (int64_t t = 0; t < HKV; t++)
            memcpy(kp + t * P * D, k[l] + t * T * D, sizeof(float) * P * D);
        al_kvmethod m;
        char why[256];
        cr_assert_eq(al_kvmethod_parse(method, &m, why, sizeof why), 0);
        al_kvm_dims d = {.H = H,
                         .Hkv = HKV,
                         .P = P,
                         .D = D,
                         .L = L,
                         .l = l,
                         .ratio = ratio,
                         .agg = AL_GQA_MAX,
                         .sample = (uint64_t)n};
        uint8_t streaming[HKV] = {0, 0};
        if (m.kind == AL_KVM_DUO) { /* the split over every layer and KV head, by the prompt's distant mass */
            double x[L * HKV];
            uint8_t s[L * HKV];
            for (int64_t ll = 0; ll < L; ll++)
                for (int64_t t = 0; t < HKV; t++) {
                    double best = -INFINITY;
                    for (int64_t h = t * 2; h < t * 2 + 2; h++) {
                        double dm = 0;
                        for (int64_t i = 0; i < P; i++) {
                            float row[P];
                            for (int64_t j = 0; j <= i; j++)
                                row[j] = (float)Ad[ll][(h * P + i) * P + j];
                            dm += al_kvm_distant(row, i, m.sink, m.recent);
                        }
                        best = fmax(best, dm);
                    }
                    x[ll * HKV + t] = best;
                }
            al_kvm_duo_split(x, L * HKV, ratio, s);
            memcpy(streaming, s + l * HKV, HKV);
        }
        al_kvm_keep_ref(&m, &d, Ad[l], qp, kp, NULL, streaming, want);
        cr_assert_arr_eq(got, want + g * P, P, "%s ratio %g sample %lld layer %lld kv head %lld", method, ratio,
                         (long long)n, (long long)l, (long long)g);
        rows++;
    }
    fclose(f);
    al_rec_close(r);
    cr_assert_eq(rows, 11 * 2 * 2 * L * HKV, "%lld rows of kvsim_kept", (long long)rows);
}

/* The kept-mass sum (AVX2 where available) against its plain twin bit for bit, and against a literal sum; Quest's
 * float page bounds select what the double twin selects on tie-free keys. */
Test(kvpress, kept_sum_and_quest_twins) {
    al_rng r;
    al_rng_seed(&r, 13, 0);
    enum { N = 203, D = 8, P = 100 };
    float a[N], k[P * D], q[2 * D], kmin[7 * D], kmax[7 * D];
    uint8_t keep[N], want[P], got[P], kp[7];
    for (int rep = 0; rep < 50; rep++) {
        for (int j = 0; j < N; j++)
            a[j] = (float)al_rng_uniform(&r), keep[j] = al_rng_below(&r, 2) == 1;
        int64_t n = 1 + (int64_t)al_rng_below(&r, N);
        double lit = 0;
        for (int64_t j = 0; j < n; j++)
            lit += keep[j] ? (double)a[j] : 0;
        double x = al_kvm_kept_sum(a, keep, n), y = al_kvm_kept_sum_plain(a, keep, n);
        cr_assert(x == y && fabs(x - lit) <= 1e-12 * (1 + lit), "rep %d: %.17g %.17g %.17g", rep, x, y, lit);
        for (int t = 0; t < P * D; t++)
            k[t] = (float)al_rng_normal(&r);
        for (int t = 0; t < 2 * D; t++)
            q[t] = (float)al_rng_normal(&r);
        al_kvmethod m;
        char why[64];
        cr_assert_eq(al_kvmethod_parse("quest", &m, why, sizeof why), 0);
        al_kvm_quest_ref(&m, q, 2, k, P, D, 0.6, AL_GQA_MAX, want);
        double s0[7], s1[7], s[7], sx[7], sy[7];
        al_kvm_pages(k, P, D, 16, kmin, kmax);
        al_kvm_quest(q, kmin, kmax, 7, D, s0);
        al_kvm_quest(q + D, kmin, kmax, 7, D, s1);
        for (int p = 0; p < 7; p++)
            s[p] = fmax(s0[p], s1[p]);
        al_kvm_select(s, 7, al_kvm_budget(P, 0.6) / 16, sx, sy, kp);
        for (int j = 0; j < P; j++)
            got[j] = kp[j / 16];
        cr_assert_arr_eq(got, want, P, "quest rep %d", rep);
    }
}
