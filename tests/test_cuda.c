/* The CUDA kernels against their CPU references on fresh random inputs at several sizes (METRICS.md
 * section 8: 1e-5 relative for float32 inputs, 1e-3 for bf16 through tensor cores), and the GPU engine
 * against the CPU engine on a synthetic recording with planted structure. Skipped without a GPU. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#ifdef AL_HAVE_CUDA
#include "analyses/stream_cuda.h"
#include "core/dtype.h"
#include "core/rng.h"
#include "metrics/alpha.h"
#include "metrics/cuda/al_cuda.h"
#include "metrics/headstats.h"
#include "metrics/kl.h"
#include "metrics/qk.h"

static void need_gpu(void) {
    char why[256];
    if (al_cuda_init(why, sizeof why) != 0) cr_skip_test("no GPU here: %s", why);
}

/* ||a - b|| / ||b|| */
static double rel_err(const double *a, const double *b, int64_t n) {
    double d = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i])) return INFINITY;
        d += (a[i] - b[i]) * (a[i] - b[i]);
        r += b[i] * b[i];
    }
    return r > 0 ? sqrt(d / r) : sqrt(d);
}

/* rows of a random attention map with some structure: softmax of 2 z + bias on key 0 */
static void random_map(al_rng *g, int64_t T, int causal, float *A) {
    for (int64_t i = 0; i < T; i++) {
        int64_t vis = causal ? i + 1 : T;
        double m = -INFINITY, z = 0, s[4096];
        for (int64_t j = 0; j < vis; j++) {
            s[j] = 2 * al_rng_normal(g) + (j == 0 ? 3 : 0);
            m = s[j] > m ? s[j] : m;
        }
        for (int64_t j = 0; j < vis; j++) z += (s[j] = exp(s[j] - m));
        for (int64_t j = 0; j < T; j++) A[i * T + j] = j < vis ? (float)(s[j] / z) : 0.f;
    }
}

Test(cuda, mapstats_matches_cpu_reference) {
    need_gpu();
    static const int64_t Ts[] = {1, 33, 300, 1100, 2100};
    al_rng g;
    for (int ti = 0; ti < 5; ti++)
        for (int causal = 0; causal < 2; causal++)
            for (int elem = 0; elem < 3; elem++) {
                int64_t T = Ts[ti];
                al_rng_seed(&g, 2024, (uint64_t)(ti * 10 + causal * 3 + elem));
                float *A = malloc(sizeof(float) * (size_t)(T * T));
                uint16_t *H = malloc(2 * (size_t)(T * T));
                random_map(&g, T, causal, A);
                if (elem != AL_CU_F32) /* the reference sees exactly the stored values */
                    for (int64_t x = 0; x < T * T; x++) {
                        H[x] = elem == AL_CU_F16 ? al_f32_to_f16(A[x]) : al_f32_to_bf16(A[x]);
                        A[x] = elem == AL_CU_F16 ? al_f16_to_f32_ref(H[x]) : al_bf16_to_f32_ref(H[x]);
                    }
                double *col_ref = calloc((size_t)T, sizeof(double)), *col = calloc((size_t)T, sizeof(double));
                double hs_ref[AL_HS_COUNT] = {0}, hs[AL_HS_COUNT] = {0};
                al_rowstat_cfg rc = {T, causal, 4, 16, 1, 0, NULL};
                al_colsum_ref(A, T, T, T, 0, causal, col_ref);
                al_headstats_rows_ref(A, T, T, 0, &rc, hs_ref);
                al_cu_mapcfg cfg = {T, causal, 4, 16, 1};
                /* in two blocks, as the engine submits them */
                int64_t B = T / 2 > 0 ? T / 2 : T;
                double *rt = malloc(sizeof(double) * (size_t)(T * AL_CQ));
                al_error e;
                al_error_clear(&e);
                for (int64_t r0 = 0; r0 < T; r0 += B) {
                    int64_t nr = T - r0 < B ? T - r0 : B;
                    const void *src = elem == AL_CU_F32 ? (const void *)(A + r0 * T) : (const void *)(H + r0 * T);
                    cr_assert_eq(al_cu_mapstats(src, elem, nr, T, r0, &cfg, col, rt), 0, "%s", al_cuda_last_error());
                    cr_assert_eq(al_cuda_fold_rows(rt, r0, nr, T, causal, 1, hs, "t", "d", 0, 0, &e), AL_OK, "%s", e.msg);
                }
                double ec = rel_err(col, col_ref, T);
                cr_assert(ec <= 1e-5, "T=%lld causal=%d elem=%d: column sums off by %.2e", (long long)T, causal, elem, ec);
                for (int k = 0; k < AL_HS_COUNT; k++)
                    cr_assert(al_close_rel(hs[k], hs_ref[k], 1e-5, 1e-9), "T=%lld causal=%d elem=%d: slot %d %.9g vs %.9g",
                              (long long)T, causal, elem, k, hs[k], hs_ref[k]);
                free(A);
                free(H);
                free(col_ref);
                free(col);
                free(rt);
            }
}

/* The GPU reads a causal map's masked keys as the CPU engine does: mass or a NaN there is refused. */
Test(cuda, mapstats_refuses_mass_on_later_keys) {
    need_gpu();
    const int64_t T = 300;
    al_rng g;
    al_rng_seed(&g, 99, 1);
    float *A = malloc(sizeof(float) * (size_t)(T * T));
    double *col = calloc((size_t)T, sizeof(double)), *rt = malloc(sizeof(double) * (size_t)(T * AL_CQ));
    al_cu_mapcfg cfg = {T, 1, 4, 16, 0};
    for (int kind = 0; kind < 2; kind++) {
        random_map(&g, T, 1, A);
        A[4 * T + 250] = kind == 0 ? 0.5f : NAN; /* row 4, key 250: masked */
        double hs[AL_HS_COUNT] = {0};
        al_error e;
        al_error_clear(&e);
        cr_assert_eq(al_cu_mapstats(A, AL_CU_F32, T, T, 0, &cfg, col, rt), 0, "%s", al_cuda_last_error());
        cr_assert_eq(al_cuda_fold_rows(rt, 0, T, T, 1, 0, hs, "t", "d", 0, 0, &e), AL_EVALUE);
        cr_assert(strstr(e.msg, kind == 0 ? "later keys" : "non-finite") && strstr(e.msg, "row 4"), "%s", e.msg);
    }
    free(A);
    free(col);
    free(rt);
}

Test(cuda, qkstats_matches_cpu_reference) {
    need_gpu();
    static const int64_t Ts[] = {64, 100, 333, 1000}, Ds[] = {16, 64, 128};
    al_rng g;
    for (int ti = 0; ti < 4; ti++)
        for (int di = 0; di < 3; di++)
            for (int elem = 0; elem < 3; elem += 2) {
                int64_t T = Ts[ti], D = Ds[di];
                al_rng_seed(&g, 7, (uint64_t)(ti * 10 + di * 3 + elem));
                float *q = malloc(sizeof(float) * (size_t)(T * D)), *k = malloc(sizeof(float) * (size_t)(T * D));
                uint16_t *qb = malloc(2 * (size_t)(T * D)), *kb = malloc(2 * (size_t)(T * D));
                for (int64_t x = 0; x < T * D; x++) {
                    q[x] = (float)(1.5 * al_rng_normal(&g));
                    k[x] = (float)(1.5 * al_rng_normal(&g));
                    if (elem == AL_CU_BF16) {
                        qb[x] = al_f32_to_bf16(q[x]);
                        kb[x] = al_f32_to_bf16(k[x]);
                        q[x] = al_bf16_to_f32_ref(qb[x]);
                        k[x] = al_bf16_to_f32_ref(kb[x]);
                    }
                }
                double scale = 1.0 / sqrt((double)D);
                float *P = malloc(sizeof(float) * (size_t)(T * T));
                al_qk_probs_ref(q, k, T, T, D, 0, scale, 1, P, T);
                double *col_ref = calloc((size_t)T, sizeof(double)), *col = calloc((size_t)T, sizeof(double));
                double hs_ref[AL_HS_COUNT] = {0}, hs[AL_HS_COUNT];
                al_rowstat_cfg rc = {T, 1, 4, 16, 0, 0, NULL};
                al_colsum_ref(P, T, T, T, 0, 1, col_ref);
                al_headstats_rows_ref(P, T, T, 0, &rc, hs_ref);
                double *rows = malloc(sizeof(double) * (size_t)(T * AL_QQ));
                al_cu_qkcfg cfg = {T, D, scale, 1, 4, 16, 0};
                const void *qs = elem == AL_CU_F32 ? (const void *)q : (const void *)qb;
                const void *ks = elem == AL_CU_F32 ? (const void *)k : (const void *)kb;
                cr_assert_eq(al_cu_qkstats(qs, ks, elem, &cfg, rows, col), 0, "%s", al_cuda_last_error());
                al_cuda_fold_qk(rows, T, 1, hs);
                double tol = elem == AL_CU_F32 ? 1e-5 : 1e-3;
                double ec = rel_err(col, col_ref, T);
                cr_assert(ec <= tol, "T=%lld D=%lld elem=%d: column sums off by %.2e", (long long)T, (long long)D, elem, ec);
                static const int slots[] = {AL_HS_ENTROPY, AL_HS_ENTROPY_NORM, AL_HS_FIRST, AL_HS_SELF, AL_HS_PREV,
                                            AL_HS_DISTANCE, AL_HS_DISTANT};
                for (int s = 0; s < 7; s++)
                    cr_assert(al_close_rel(hs[slots[s]], hs_ref[slots[s]], tol, 1e-7), "T=%lld D=%lld elem=%d: slot %d %.9g vs %.9g",
                              (long long)T, (long long)D, elem, slots[s], hs[slots[s]], hs_ref[slots[s]]);
                free(q);
                free(k);
                free(qb);
                free(kb);
                free(P);
                free(col_ref);
                free(col);
                free(rows);
            }
}

Test(cuda, kl_rows_match_cpu_reference) {
    need_gpu();
    al_rng g;
    al_rng_seed(&g, 3, 0);
    int64_t R = 7, V = 150001;
    float *a = malloc(sizeof(float) * (size_t)(R * V)), *b = malloc(sizeof(float) * (size_t)(R * V));
    double *da = malloc(sizeof(double) * (size_t)V), *db = malloc(sizeof(double) * (size_t)V), out[7];
    for (int64_t x = 0; x < R * V; x++) {
        a[x] = (float)(3 * al_rng_normal(&g));
        b[x] = a[x] + (float)(0.5 * al_rng_normal(&g));
    }
    cr_assert_eq(al_cu_kl_rows(a, b, R, V, 1.0, out), 0, "%s", al_cuda_last_error());
    for (int64_t r = 0; r < R; r++) {
        for (int64_t j = 0; j < V; j++) {
            da[j] = a[r * V + j];
            db[j] = b[r * V + j];
        }
        double want = al_kl_logits_ref(da, db, V, 1.0);
        cr_assert(al_close_rel(out[r], want, 1e-6, 1e-12), "row %lld: %.12g vs %.12g", (long long)r, out[r], want);
    }
    free(a);
    free(b);
    free(da);
    free(db);
}

/* the engine: sinks on a synthetic recording with planted sinks and hidden sinks, GPU against CPU */
Test(cuda, engine_matches_cpu_on_synthetic_recording) {
    need_gpu();
    const char *d = al_test_tmpdir();
    char rec[300], a[300], b[300];
    snprintf(rec, sizeof rec, "%s/s.h5", d);
    snprintf(a, sizeof a, "%s/cpu.json", d);
    snprintf(b, sizeof b, "%s/gpu.json", d);
    cr_assert_eq(al_test_cmd(NULL, "synth", "maps", "-o", rec, "--tokens", "300", "--layers", "2", "--heads", "6", "-q", NULL), 0);
    cr_assert_eq(al_test_cmd(a, "sinks", rec, "--tokens", "300", "--format", "json", NULL), 0);
    cr_assert_eq(al_test_cmd(b, "sinks", rec, "--tokens", "300", "--format", "json", "--device", "cuda", "--mem", "1M", NULL), 0);
    static const char *py =
        "import json, sys\n"
        "a, b = (json.load(open(p)) for p in sys.argv[1:3])\n"
        "ok = a['sink_rate'] == b['sink_rate'] and all(\n"
        "  abs(x - y) <= 1e-5 * abs(x) + 1e-9 for ha, hb in zip(a['heads'], b['heads']) for x, y in zip(ha['alpha'], hb['alpha']))\n"
        "ok = ok and all(ha['hidden_sinks'] == hb['hidden_sinks'] for ha, hb in zip(a['heads'], b['heads']))\n"
        "sys.exit(0 if ok else 1)\n";
    cr_assert_eq(al_test_python(py, a, b), 0, "GPU and CPU sinks differ");
}

#else

Test(cuda, not_built) { cr_skip_test("this build has no CUDA path (configure with -DATTNLAB_CUDA=ON)"); }

#endif
