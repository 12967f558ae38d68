/* KV-cache policies, tuned: every policy of one row evaluated from sums the row's policies share and from rank
 * selections (metrics/kvselect.c) instead of sorts; tested against al_kv_keep_ref and al_kv_row (kvpolicy.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kvpolicy.h"
#include "kvselect.h"

size_t al_kv_ws_bytes(int64_t T) {
    return sizeof(double) * (size_t)(4 * T + 2) + sizeof(int64_t) * (size_t)T + sizeof(float) * (size_t)(5 * (T + 8));
}

void al_kv_row_begin(al_kv_rowctx *c, const float *a, int64_t i, const double *recv, void *ws, int64_t T) {
    double *pre = ws, *suf = pre + T + 1, *x = suf + T + 1, *y = x + T;
    int64_t *idx = (int64_t *)(y + T);
    float *f = (float *)(idx + T);
    /* field by field: zeroing the whole context, its sample included, would cost more than some policies */
    c->a = a, c->i = i, c->recv = recv, c->pre = pre, c->suf = suf, c->x = x, c->y = y, c->idx = idx;
    c->f[0] = f, c->f[1] = f + T + 8, c->f[2] = f + 2 * (T + 8), c->ff[0] = f + 3 * (T + 8), c->ff[1] = f + 4 * (T + 8);
    c->first.G = NULL, c->sampled = 0;
    c->npre = c->nsuf = 1;
    pre[0] = suf[0] = 0;
}

/* Sum of the keys j < k, in key order: the reference's order, so that pre[i + 1] is its total bit for bit. */
static double al_kv_pre(al_kv_rowctx *c, int64_t k) {
    for (int64_t n = c->npre; n <= k; n++) c->pre[n] = c->pre[n - 1] + (double)c->a[n - 1];
    if (k >= c->npre) c->npre = k + 1;
    return c->pre[k];
}

/* Sum of the last k keys (i - k, i], added from key i down: every window shares one pass, and as the terms are
 * non-negative (but for rounding slack) it is within k ulps of the key-order sum, however small a share of the row
 * the window holds (no cancellation, unlike a difference of prefix sums). */
static double al_kv_suf(al_kv_rowctx *c, int64_t k) {
    for (int64_t n = c->nsuf; n <= k; n++) c->suf[n] = c->suf[n - 1] + (double)c->a[c->i - (n - 1)];
    if (k >= c->nsuf) c->nsuf = k + 1;
    return c->suf[k];
}

/* h2o's heavy hitters among the keys idx[0, m) (in key order, every key with recv_j >= t among them): recv_j > t,
 * and the first `ties` with recv_j == t. Returns the sum of their a_j in key order; marks keep when given. */
static double al_kv_hh(const float *a, const double *recv, const int64_t *idx, int64_t m, double t, int64_t ties,
                       uint8_t *keep) {
    double s = 0;
    for (int64_t q = 0; q < m; q++) {
        int64_t j = idx[q];
        double v = recv[j];
        if (v > t || (v == t && ties-- > 0)) {
            s += (double)a[j];
            if (keep) keep[j] = 1;
        }
    }
    return s;
}

/* The mask of a ranking by a over keys j < c: a_j > t, and the first `ties` with a_j == t. */
static void al_kv_mark(const float *a, int64_t c, double t, int64_t ties, uint8_t *keep) {
    for (int64_t j = 0; j < c; j++) {
        double v = (double)a[j];
        int e = v == t, k = (v > t) | (e & (ties > 0));
        ties -= e & k;
        keep[j] = (uint8_t)k;
    }
}

static int64_t al_kv_all(al_kv_rowctx *c, double *mass, uint8_t *keep) {
    *mass = al_kv_pre(c, c->i + 1);
    if (keep) memset(keep, 1, (size_t)(c->i + 1));
    return c->i + 1;
}

/* Keys j < s and the last w keys (s + w <= i + 1, so the two are disjoint). */
static int64_t al_kv_stream(al_kv_rowctx *c, int64_t s, int64_t w, double *mass, uint8_t *keep) {
    *mass = s ? al_kv_pre(c, s) + al_kv_suf(c, w) : al_kv_suf(c, w);
    if (keep) {
        memset(keep, 0, (size_t)(c->i + 1));
        memset(keep, 1, (size_t)s);
        memset(keep + c->i + 1 - w, 1, (size_t)w);
    }
    return s + w;
}

/* h2o: the b older keys (j < cand) with the most received attention. Received attention only grows (and a new
 * key joins each row), so the last row's threshold *hint usually bounds this row's from below: only keys at or
 * above it are ranked. Checked: fewer than b such keys and every key is ranked. */
static double al_kv_h2o(al_kv_rowctx *c, int64_t cand, int64_t b, double *hint, uint8_t *keep) {
    int64_t m = al_kv_filter(c->recv, cand, *hint, c->idx);
    if (m < b) m = al_kv_filter(c->recv, cand, -INFINITY, c->idx);
    for (int64_t q = 0; q < m; q++) c->y[q] = c->recv[c->idx[q]];
    al_kv_cut cut;
    al_kv_cut_find(c->y, m, b - 1, c->x, c->y, &cut);
    *hint = cut.t;
    if (keep) memset(keep, 0, (size_t)cand);
    return al_kv_hh(c->a, c->recv, c->idx, m, cut.t, cut.take - cut.gt, keep);
}

/* Rows shorter than this are searched whole: a band saves less than the sample costs. */
enum { AL_KV_BAND_MIN = 256 };

/* Top-k (rank r >= 0) or coverage over keys 0..n-1 within the band the row's sample points to (a pass extracts it,
 * counting and summing the values above it): 0 or -1 as al_kv_cut_find_f, 2 when the cut lies outside the band or
 * the band would hold most of the row. */
static int al_kv_banded(al_kv_rowctx *c, const al_kvpolicy *p, int64_t n, int64_t r, al_kv_cut *cut) {
    if (n < AL_KV_BAND_MIN) return 2;
    if (!c->sampled) al_kv_sample(c->a, n, c->smp), c->sampled = 1;
    float lo, hi;
    if ((r >= 0 ? al_kv_guess_rank(c->smp, n, r, &lo, &hi) : al_kv_guess_mass(c->smp, n, p->g, &lo, &hi)) < 0) return 2;
    int64_t nb, na = 0;
    double ma = 0;
    if (hi == INFINITY) nb = al_kv_above(c->a, n, lo, c->f[2]);
    else ma = al_kv_band(c->a, n, lo, hi, c->f[2], &nb, &na);
    /* the checks: by rank, na <= r < na + nb; by mass, the values above fall short of g (the selection then says
     * whether the band's reach it) */
    if (r >= 0 ? na > r || r >= na + nb : !(ma < p->g)) return 2;
    int st = al_kv_cut_find_f(c->f[2], nb, r, p->g, -1, NULL, c->f, na, ma, cut);
    return st == 1 ? 2 : st; /* coverage short of g within the band: its cut lies below, or nowhere */
}

/* Coverage or top-k by a over keys 0..n-1. *hint: coverage's kept fraction on the row before (0: none), which
 * guides its pivots when the whole row is searched. Returns 1 when every key is taken (coverage never reaching g). */
static int al_kv_rank(al_kv_rowctx *c, const al_kvpolicy *p, int64_t n, double *hint, al_kv_cut *cut) {
    const float *a = c->a;
    int64_t r = p->kind == AL_KV_TOPK ? p->k - 1 : -1;
    int st = al_kv_banded(c, p, n, r, cut);
    if (st == 2) {
        al_kv_first *f = &c->first;
        int big = n > AL_KV_FEW; /* else sorted outright */
        if (!f->G && big) al_kv_first_pass(a, n, c->ff[0], c->ff[1], f); /* one for every ranking of the row */
        st = al_kv_cut_find_f(a, n, r, p->g, *hint > 0 ? *hint * (double)n : -1, big ? f : NULL, c->f, 0, 0, cut);
    }
    if (st == 1) { /* never reaching g is certain only if the running sum's peak (all positive values) falls short */
        double pos = al_kv_possum(a, n);
        if (!(pos + (double)(n + 4) * 0x1p-50 * (pos + p->g) < p->g)) st = -1;
    }
    if (st < 0) {
        for (int64_t j = 0; j < n; j++) c->x[j] = (double)a[j];
        al_kv_cover_exact(c->x, n, p->g, cut);
    }
    int all = st == 1 || cut->take == n;
    if (r < 0) *hint = all ? 1 : (double)cut->take / (double)n;
    return all;
}

int64_t al_kv_eval(const al_kvpolicy *p, int full, al_kv_rowctx *c, double *hint, double *mass, uint8_t *keep) {
    int64_t i = c->i, n = i + 1;
    const float *a = c->a;
    if (full) return al_kv_all(c, mass, keep);
    switch (p->kind) {
    case AL_KV_WINDOW:
        return p->w >= n ? al_kv_all(c, mass, keep) : al_kv_stream(c, 0, p->w, mass, keep);
    case AL_KV_SINK:
    case AL_KV_DUO:
        return p->s >= n || p->w >= n - p->s ? al_kv_all(c, mass, keep) : al_kv_stream(c, p->s, p->w, mass, keep);
    case AL_KV_H2O: {
        int64_t cand = n - p->w; /* keys j <= i - w, older than the window */
        if (cand <= p->b) return al_kv_all(c, mass, keep);
        double hh = 0;
        if (p->b > 0) hh = al_kv_h2o(c, cand, p->b, hint, keep);
        else if (keep) memset(keep, 0, (size_t)cand);
        *mass = hh + al_kv_suf(c, p->w);
        if (keep) memset(keep + cand, 1, (size_t)p->w);
        return p->b + p->w;
    }
    default: { /* topk, coverage: rank the keys 0..i by a; key i is kept whatever its rank */
        al_kv_cut cut;
        if (p->kind == AL_KV_TOPK && p->k >= n) return al_kv_all(c, mass, keep);
        if (al_kv_rank(c, p, n, hint, &cut)) return al_kv_all(c, mass, keep);
        /* key i, the last, is among the ties taken only when all of them are */
        double ai = (double)a[i];
        int own = ai > cut.t || (ai == cut.t && cut.take - cut.gt == cut.eq);
        *mass = own ? cut.mass : cut.mass + ai;
        if (keep) {
            al_kv_mark(a, i, cut.t, cut.take - cut.gt, keep);
            keep[i] = 1;
        }
        return cut.take + !own;
    }
    }
}

void al_kv_out(const float *a, int64_t i, const float *v, int64_t ldv, int64_t D, double *o) {
    for (int64_t d = 0; d < D; d++) o[d] = 0;
    for (int64_t j = 0; j <= i; j++) {
        double aj = (double)a[j];
        const float *vj = v + j * ldv;
        for (int64_t d = 0; d < D; d++) o[d] += aj * (double)vj[d];
    }
}

double al_kv_err(const float *a, int64_t i, const uint8_t *keep, int64_t n, double *m, const float *v, int64_t ldv,
                 int64_t D, const double *o, double *ok) {
    const double *kept = o; /* every key kept: the kept sum is o itself, term for term (and *m the key-order total) */
    if (n < i + 1) {
        double mk = 0;
        for (int64_t d = 0; d < D; d++) ok[d] = 0;
        for (int64_t j = 0; j <= i; j++) {
            if (!keep[j]) continue;
            double aj = (double)a[j];
            const float *vj = v + j * ldv;
            mk += aj;
            for (int64_t d = 0; d < D; d++) ok[d] += aj * (double)vj[d];
        }
        *m = mk;
        kept = ok;
    }
    double num = 0, den = 0;
    for (int64_t d = 0; d < D; d++) {
        double x = kept[d] / *m - o[d];
        num += x * x;
        den += o[d] * o[d];
    }
    return sqrt(num) / sqrt(den);
}
