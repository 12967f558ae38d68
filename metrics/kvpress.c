/* KV-compression methods (docs/kvsim.md "Methods"): parsing, kvpress 0.5.5's budgets, the scoring kernels and
 * the selection of kept keys (quickselect, metrics/kvselect.c), with their literal reference twins. */
#include "kvpress.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"
#include "kvselect.h"

const char *const al_kvm_name[AL_KVM_COUNT] = {"streaming", "knorm", "snapkv", "tova",  "observed", "expected",
                                               "pyramid",   "adakv", "duo",    "quest", "random",   "h2o"};

static int al_kvm_kind_of(const char *name, al_kvm_kind *k) {
    for (int i = 0; i < AL_KVM_COUNT; i++)
        if (!strcmp(name, al_kvm_name[i])) return *k = (al_kvm_kind)i, 0;
    return -1;
}

static int al_kvm_int(const char *s, int64_t lo, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || errno || *end || v < lo || v > (1LL << 40)) return -1;
    return *out = v, 0;
}

static int al_kvm_num(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v)) return -1;
    return *out = v, 0;
}

/* One key=value option; which keys a kind takes is in docs/kvsim.md. */
static int al_kvm_opt(al_kvmethod *m, const char *key, const char *val) {
    int64_t x;
    al_kvm_kind k = m->base;
    int sinks = k == AL_KVM_STREAMING || k == AL_KVM_EXPECTED || k == AL_KVM_DUO;
    int snap = k == AL_KVM_SNAPKV || k == AL_KVM_PYRAMID;
    if (!strcmp(key, "sink") && sinks) return al_kvm_int(val, k == AL_KVM_DUO ? 0 : 1, &m->sink);
    if (!strcmp(key, "window") && snap) return al_kvm_int(val, 1, &m->window);
    if (!strcmp(key, "kernel") && snap) return al_kvm_int(val, 1, &m->kernel) || m->kernel % 2 == 0 ? -1 : 0;
    if (!strcmp(key, "beta") && k == AL_KVM_PYRAMID) return al_kvm_int(val, 1, &m->beta);
    if (!strcmp(key, "page") && k == AL_KVM_QUEST) return al_kvm_int(val, 1, &m->page);
    if (!strcmp(key, "recent") && k == AL_KVM_DUO) return al_kvm_int(val, 0, &m->recent);
    if (!strcmp(key, "gates") && k == AL_KVM_DUO && *val && !strchr(val, ','))
        return snprintf(m->gates, sizeof m->gates, "%s", val) >= (int)sizeof m->gates ? -1 : 0;
    if (!strcmp(key, "seed") && k == AL_KVM_RANDOM) return al_kvm_int(val, 0, &x) ? -1 : (m->seed = (uint64_t)x, 0);
    if (!strcmp(key, "cov") && k == AL_KVM_EXPECTED) return al_kvm_int(val, 0, &x) || x > 1 ? -1 : (m->cov = (int)x, 0);
    if (!strcmp(key, "vnorm") && k == AL_KVM_EXPECTED)
        return al_kvm_int(val, 0, &x) || x > 1 ? -1 : (m->vnorm = (int)x, 0);
    if (!strcmp(key, "eps") && k == AL_KVM_EXPECTED) return al_kvm_num(val, &m->eps) || m->eps < 0 ? -1 : 0;
    if (!strcmp(key, "alpha") && m->kind == AL_KVM_ADAKV)
        return al_kvm_num(val, &m->alpha) || m->alpha < 0 || m->alpha > 1 ? -1 : 0;
    return -1;
}

int al_kvmethod_parse(const char *spec, al_kvmethod *m, char *why, size_t n) {
    char buf[1200];
    memset(m, 0, sizeof *m);
    m->sink = 4, m->window = 64, m->kernel = 5, m->beta = 20, m->page = 16, m->recent = 64;
    m->alpha = 0.2, m->cov = 1, m->vnorm = 1;
    if (strlen(spec) >= sizeof buf) return snprintf(why, n, "method too long"), -1;
    strcpy(buf, spec);
    char *args = strchr(buf, ':');
    if (args) *args++ = 0;
    if (al_kvm_kind_of(buf, &m->kind))
        return snprintf(why, n,
                        "unknown method '%s' (streaming, knorm, snapkv, tova, observed, expected, pyramid, "
                        "adakv:BASE, duo, quest, random, h2o)",
                        buf),
               -1;
    m->base = m->kind;
    char *save = NULL;
    char *t = args ? strtok_r(args, ",", &save) : NULL;
    if (m->kind == AL_KVM_ADAKV) {
        if (!t || al_kvm_kind_of(t, &m->base) || m->base == AL_KVM_ADAKV || m->base == AL_KVM_DUO ||
            m->base == AL_KVM_QUEST || m->base == AL_KVM_H2O || m->base == AL_KVM_PYRAMID)
            return snprintf(why, n,
                            "adakv needs a scorer to wrap: adakv:BASE with BASE one of streaming, knorm, "
                            "snapkv, tova, observed, expected, random"),
                   -1;
        t = strtok_r(NULL, ",", &save);
    }
    for (; t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq) return snprintf(why, n, "expected key=value, got '%s'", t), -1;
        *eq = 0;
        if (al_kvm_opt(m, t, eq + 1))
            return snprintf(why, n, "bad or unknown option '%s=%s' for %s", t, eq + 1, al_kvm_name[m->kind]), -1;
    }
    return 0;
}

int64_t al_kvm_budget(int64_t P, double r) {
    int64_t k = (int64_t)((double)P * (1.0 - r)); /* Python's int(): truncation toward zero */
    return k < 1 ? 1 : k;
}

int64_t al_kvm_pyramid_budget(int64_t P, double r, int64_t window, int64_t beta, int64_t L, int64_t l) {
    double w = (double)window, q = (double)P;
    double cap = w + q * (1 - r);
    double mn = (cap - w) / (double)beta, mx = (cap - w) * 2 - mn;
    if (mx >= q - w) {
        mx = q - w;
        mn = (cap - w) * 2 - mx;
    }
    if (!(q >= mx && mx >= mn && mn >= w)) {
        int64_t k = (int64_t)nearbyint(q * (1 - r)); /* round half to even, as Python's round */
        return k < 1 ? 1 : k;
    }
    double steps = L > 1 ? (mx - mn) / (double)(L - 1) : 0.0;
    return (int64_t)nearbyint(mx - (double)l * steps);
}

int al_kvmethod_check(const al_kvmethod *m, double r, int64_t P, int64_t C, char *why, size_t n) {
    const char *nm = al_kvm_name[m->kind];
    if (!(r >= 0 && r < 1)) return snprintf(why, n, "%s: compression ratio %g outside [0, 1)", nm, r), -1;
    if (C > 0) {
        al_kvm_kind k = m->kind;
        if (k != AL_KVM_STREAMING && k != AL_KVM_KNORM && k != AL_KVM_TOVA && k != AL_KVM_H2O && k != AL_KVM_RANDOM)
            return snprintf(why, n, "%s cannot evict while decoding (streaming, knorm, tova, h2o, random can)", nm), -1;
        if (k == AL_KVM_STREAMING && m->sink >= C)
            return snprintf(why, n, "%s: sink=%lld leaves no room in a cache of %lld keys", nm, (long long)m->sink,
                            (long long)C),
                   -1;
        return 0;
    }
    if (m->kind == AL_KVM_H2O) return snprintf(why, n, "h2o evicts while decoding: use it with --decode"), -1;
    al_kvm_kind b = m->base;
    if ((b == AL_KVM_SNAPKV || b == AL_KVM_PYRAMID) && m->window >= P)
        return snprintf(why, n, "%s: window=%lld needs a prompt longer than it (--prefill %lld)", nm,
                        (long long)m->window, (long long)P),
               -1;
    if ((b == AL_KVM_STREAMING || b == AL_KVM_EXPECTED) && m->sink >= P)
        return snprintf(why, n, "%s: sink=%lld needs a prompt longer than it (--prefill %lld)", nm, (long long)m->sink,
                        (long long)P),
               -1;
    if (b == AL_KVM_TOVA && P < 2) return snprintf(why, n, "%s needs a prompt of 2 tokens or more", nm), -1;
    if (b == AL_KVM_DUO && m->sink + m->recent > P)
        return snprintf(why, n, "%s: sink + recent = %lld exceed the prompt (--prefill %lld)", nm,
                        (long long)(m->sink + m->recent), (long long)P),
               -1;
    return 0;
}

void al_kvm_group(const double *x, int64_t G, int64_t ldx, int64_t n, al_gqa agg, double *out) {
    for (int64_t j = 0; j < n; j++) {
        double a = x[j];
        for (int64_t g = 1; g < G; g++)
            a = agg == AL_GQA_MAX ? fmax(a, x[g * ldx + j]) : a + x[g * ldx + j];
        out[j] = agg == AL_GQA_MAX ? a : a / (double)G;
    }
}

void al_kvm_pool(const double *x, int64_t n, int64_t kernel, double *out) {
    int64_t h = kernel / 2;
    for (int64_t j = 0; j < n; j++) {
        double a = 0;
        for (int64_t t = j - h; t <= j + h; t++)
            if (t >= 0 && t < n) a += x[t];
        out[j] = a / (double)kernel;
    }
}

void al_kvm_knorm(const float *k, int64_t n, int64_t D, double *s) {
    for (int64_t j = 0; j < n; j++) {
        double a = 0;
        for (int64_t d = 0; d < D; d++)
            a += (double)k[j * D + d] * (double)k[j * D + d];
        s[j] = -sqrt(a);
    }
}

/* softmax over x [n] in place, in double */
static void al_kvm_softmax(double *x, int64_t n) {
    double mx = -INFINITY, z = 0;
    for (int64_t j = 0; j < n; j++)
        mx = fmax(mx, x[j]);
    for (int64_t j = 0; j < n; j++)
        z += (x[j] = exp(x[j] - mx));
    for (int64_t j = 0; j < n; j++)
        x[j] /= z;
}

void al_kvm_expected(const float *q, const float *k, int64_t P, int64_t D, int64_t sink, int cov, double *work,
                     double *s) {
    double *mu = work, *C = work + D; /* mu [D], C [D, D] */
    int64_t nq = P - sink;
    for (int64_t d = 0; d < D; d++)
        mu[d] = 0;
    for (int64_t i = sink; i < P; i++)
        for (int64_t d = 0; d < D; d++)
            mu[d] += (double)q[i * D + d];
    for (int64_t d = 0; d < D; d++)
        mu[d] /= (double)nq;
    if (cov) {
        for (int64_t t = 0; t < D * D; t++)
            C[t] = 0;
        for (int64_t i = sink; i < P; i++)
            for (int64_t a = 0; a < D; a++) {
                double ca = (double)q[i * D + a] - mu[a];
                for (int64_t b = 0; b < D; b++)
                    C[a * D + b] += ca * ((double)q[i * D + b] - mu[b]);
            }
        for (int64_t t = 0; t < D * D; t++)
            C[t] /= (double)nq;
    }
    for (int64_t j = 0; j < sink; j++)
        s[j] = 0;
    for (int64_t j = sink; j < P; j++) {
        const float *kj = k + j * D;
        double lin = 0, quad = 0;
        for (int64_t a = 0; a < D; a++)
            lin += mu[a] * (double)kj[a];
        if (cov)
            for (int64_t a = 0; a < D; a++) {
                double r = 0;
                for (int64_t b = 0; b < D; b++)
                    r += C[a * D + b] * (double)kj[b];
                quad += (double)kj[a] * r;
            }
        s[j] = lin / sqrt((double)D) + quad / (double)D / 2;
    }
    al_kvm_softmax(s + sink, P - sink);
}

void al_kvm_pages(const float *k, int64_t n, int64_t D, int64_t page, float *kmin, float *kmax) {
    for (int64_t p = 0; p * page < n; p++)
        for (int64_t d = 0; d < D; d++) {
            float lo = k[p * page * D + d], hi = lo;
            for (int64_t j = p * page + 1; j < n && j < (p + 1) * page; j++) {
                lo = fminf(lo, k[j * D + d]);
                hi = fmaxf(hi, k[j * D + d]);
            }
            kmin[p * D + d] = lo, kmax[p * D + d] = hi;
        }
}

void al_kvm_quest(const float *q, const float *kmin, const float *kmax, int64_t npages, int64_t D, double *s) {
    for (int64_t p = 0; p < npages; p++) {
        float a = 0; /* in float, vectorised: only the ranking of pages is used */
        for (int64_t d = 0; d < D; d++) {
            float lo = q[d] * kmin[p * D + d], hi = q[d] * kmax[p * D + d];
            a += lo > hi ? lo : hi;
        }
        s[p] = (double)a;
    }
}

double al_kvm_kept_sum_plain(const float *a, const uint8_t *keep, int64_t n) {
    double m[4] = {0, 0, 0, 0}; /* lanes by key mod 4, as the AVX2 version */
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (int t = 0; t < 4; t++)
            m[t] += (double)a[j + t] * (double)keep[j + t];
    for (; j < n; j++)
        m[0] += (double)a[j] * (double)keep[j];
    return (m[0] + m[1]) + (m[2] + m[3]);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx2"))) static double al_kvm_kept_sum_avx2(const float *a, const uint8_t *keep, int64_t n) {
    __m256d acc = _mm256_setzero_pd();
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        int32_t k4;
        memcpy(&k4, keep + j, 4);
        __m256d m = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(k4)));
        acc = _mm256_add_pd(acc, _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(a + j)), m));
    }
    double m[4];
    _mm256_storeu_pd(m, acc);
    for (; j < n; j++)
        m[0] += (double)a[j] * (double)keep[j];
    return (m[0] + m[1]) + (m[2] + m[3]);
}
#endif

double al_kvm_kept_sum(const float *a, const uint8_t *keep, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (al_kv_simd()) return al_kvm_kept_sum_avx2(a, keep, n);
#endif
    return al_kvm_kept_sum_plain(a, keep, n);
}

int64_t al_kvm_select(const double *s, int64_t n, int64_t k, double *x, double *y, uint8_t *keep) {
    if (k >= n || k <= 0) {
        memset(keep, k > 0, (size_t)n);
        return k > 0 ? n : 0;
    }
    al_kv_cut c;
    al_kv_cut_find(s, n, k - 1, x, y, &c);
    int64_t eq = c.take - c.gt; /* the values equal to the cut that are taken, lowest keys first */
    for (int64_t j = 0; j < n; j++) {
        keep[j] = s[j] > c.t;
        if (s[j] == c.t && eq > 0) keep[j] = 1, eq--;
    }
    return k;
}

/* The largest s[j] not yet kept, lowest j on ties; -1 when none. */
static int64_t al_kvm_argmax(const double *s, int64_t n, const uint8_t *keep) {
    int64_t best = -1;
    for (int64_t j = 0; j < n; j++)
        if (!keep[j] && (best < 0 || s[j] > s[best])) best = j;
    return best;
}

int64_t al_kvm_select_ref(const double *s, int64_t n, int64_t k, uint8_t *keep) {
    memset(keep, 0, (size_t)n);
    int64_t m = 0;
    for (; m < k; m++) {
        int64_t j = al_kvm_argmax(s, n, keep);
        if (j < 0) break;
        keep[j] = 1;
    }
    return m;
}

static int64_t al_kvm_nsafe(int64_t k, double alpha) {
    int64_t s = (int64_t)((double)k * alpha);
    return alpha > 0 && s < 1 && k > 0 ? 1 : s;
}

void al_kvm_adakv(const double *S, int64_t H, int64_t n, int64_t k, double alpha, double *x, double *y, double *work,
                  uint8_t *keep) {
    int64_t safe = al_kvm_nsafe(k, alpha);
    memcpy(work, S, sizeof(double) * (size_t)(H * n));
    for (int64_t h = 0; h < H; h++) {
        al_kvm_select(S + h * n, n, safe, x, y, keep + h * n);
        for (int64_t j = 0; j < n; j++)
            if (keep[h * n + j]) work[h * n + j] = INFINITY; /* the safeguard: kept before any other */
    }
    al_kvm_select(work, H * n, H * k, x, y, keep);
}

void al_kvm_adakv_ref(const double *S, int64_t H, int64_t n, int64_t k, double alpha, uint8_t *keep) {
    int64_t safe = al_kvm_nsafe(k, alpha), total = 0;
    memset(keep, 0, (size_t)(H * n));
    for (int64_t h = 0; h < H; h++)
        for (int64_t q = 0; q < safe; q++) {
            int64_t j = al_kvm_argmax(S + h * n, n, keep + h * n);
            if (j >= 0) keep[h * n + j] = 1, total++;
        }
    for (; total < H * k; total++) {
        int64_t j = al_kvm_argmax(S, H * n, keep);
        if (j < 0) break;
        keep[j] = 1;
    }
}

void al_kvm_duo_split(const double *x, int64_t n, double r, uint8_t *streaming) {
    int64_t m = (int64_t)nearbyint((double)n * r); /* Python's round, half to even */
    memset(streaming, 0, (size_t)n);
    for (int64_t t = 0; t < m; t++) {
        int64_t best = -1;
        for (int64_t j = 0; j < n; j++)
            if (!streaming[j] && (best < 0 || x[j] < x[best])) best = j;
        streaming[best] = 1;
    }
}

double al_kvm_distant(const float *a, int64_t i, int64_t sink, int64_t recent) {
    double m = 0;
    for (int64_t j = sink; j < i + 1 - recent; j++)
        m += (double)a[j];
    return m;
}

void al_kvm_random(uint64_t seed, uint64_t sample, int64_t l, int64_t h, int64_t n, double *s) {
    al_rng r;
    al_rng_seed(&r, seed, (sample << 32) ^ ((uint64_t)l << 16) ^ (uint64_t)h);
    for (int64_t j = 0; j < n; j++)
        s[j] = al_rng_uniform(&r);
}
