/* KL kernels. The dense one uses the identity KL = E_q[a - b] - lse(a) + lse(b) (a, b the scaled logits), so
 * each row is read once; maxima are taken per chunk so the rescaling of the running sums is rare. */
#include "kl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AL_KL_CHUNK 512

double al_kl_logits(const double *q, const double *p, int64_t V, double inv_t) {
    double mq = -INFINITY, mp = -INFINITY; /* running maxima of the scaled logits */
    double sq = 0, sp = 0;                 /* sum exp(a - mq), sum exp(b - mp) */
    double w = 0;                          /* sum exp(a - mq) (a - b) */
    for (int64_t y0 = 0; y0 < V; y0 += AL_KL_CHUNK) {
        int64_t n = V - y0 < AL_KL_CHUNK ? V - y0 : AL_KL_CHUNK;
        const double *qc = q + y0, *pc = p + y0;
        double cq = -INFINITY, cp = -INFINITY;
        for (int64_t i = 0; i < n; i++) {
            cq = fmax(cq, qc[i] * inv_t);
            cp = fmax(cp, pc[i] * inv_t);
        }
        if (cq > mq) {
            double s = exp(mq - cq);
            sq *= s;
            w *= s;
            mq = cq;
        }
        if (cp > mp) {
            sp *= exp(mp - cp);
            mp = cp;
        }
        for (int64_t i = 0; i < n; i++) {
            double a = qc[i] * inv_t, b = pc[i] * inv_t;
            double e = exp(a - mq);
            sq += e;
            w += e * (a - b);
            sp += exp(b - mp);
        }
    }
    return w / sq - (mq + log(sq)) + (mp + log(sp));
}

static double al_lse_ref(const double *x, int64_t V, double inv_t) {
    double m = -INFINITY, s = 0;
    for (int64_t i = 0; i < V; i++) m = fmax(m, x[i] * inv_t);
    for (int64_t i = 0; i < V; i++) s += exp(x[i] * inv_t - m);
    return m + log(s);
}

double al_kl_logits_ref(const double *q, const double *p, int64_t V, double inv_t) {
    double lq0 = al_lse_ref(q, V, inv_t), lp0 = al_lse_ref(p, V, inv_t), kl = 0;
    for (int64_t i = 0; i < V; i++) {
        double lq = q[i] * inv_t - lq0, lp = p[i] * inv_t - lp0;
        kl += exp(lq) * (lq - lp);
    }
    return kl;
}

/* ---- top-k ---- */

typedef struct {
    int32_t id;
    double lp;
} al_idlp;

static int al_idlp_cmp(const void *a, const void *b) {
    int32_t x = ((const al_idlp *)a)->id, y = ((const al_idlp *)b)->id;
    return (x > y) - (x < y);
}

size_t al_kl_topk_ws_bytes(int64_t kq, int64_t kp) { return (size_t)(3 * (kq + kp)) * sizeof(al_idlp); }

static double al_min_lp(const double *lp, int64_t k) {
    double m = INFINITY;
    for (int64_t i = 0; i < k; i++) m = fmin(m, lp[i]);
    return m;
}

/* KL over the union given the aligned (unnormalised) values a[u], b[u], u < n. */
static double al_kl_aligned(const al_idlp *a, const al_idlp *b, int64_t n) {
    double ma = -INFINITY, mb = -INFINITY, sa = 0, sb = 0, kl = 0;
    for (int64_t u = 0; u < n; u++) {
        ma = fmax(ma, a[u].lp);
        mb = fmax(mb, b[u].lp);
    }
    for (int64_t u = 0; u < n; u++) {
        sa += exp(a[u].lp - ma);
        sb += exp(b[u].lp - mb);
    }
    double la = ma + log(sa), lb = mb + log(sb);
    for (int64_t u = 0; u < n; u++) {
        double x = a[u].lp - la, y = b[u].lp - lb;
        kl += exp(x) * (x - y);
    }
    return kl;
}

double al_kl_topk(const int32_t *qid, const double *qlp, int64_t kq, const int32_t *pid, const double *plp,
                  int64_t kp, double inv_t, void *ws) {
    al_idlp *sq = ws, *sp = sq + kq;     /* [kq], [kp]: sorted by id */
    al_idlp *uq = sp + kp, *up = uq + kq + kp; /* [kq + kp] each: both sides' values on the union */
    for (int64_t i = 0; i < kq; i++) sq[i] = (al_idlp){qid[i], qlp[i] * inv_t};
    for (int64_t i = 0; i < kp; i++) sp[i] = (al_idlp){pid[i], plp[i] * inv_t};
    qsort(sq, (size_t)kq, sizeof *sq, al_idlp_cmp);
    qsort(sp, (size_t)kp, sizeof *sp, al_idlp_cmp);
    double fq = al_min_lp(qlp, kq) * inv_t, fp = al_min_lp(plp, kp) * inv_t;
    int64_t i = 0, j = 0, n = 0;
    while (i < kq || j < kp) {
        if (j >= kp || (i < kq && sq[i].id < sp[j].id)) {
            uq[n] = sq[i];
            up[n++] = (al_idlp){sq[i++].id, fp};
        } else if (i >= kq || sp[j].id < sq[i].id) {
            uq[n] = (al_idlp){sp[j].id, fq};
            up[n++] = sp[j++];
        } else {
            uq[n] = sq[i++];
            up[n++] = sp[j++];
        }
    }
    return al_kl_aligned(uq, up, n);
}

double al_kl_topk_ref(const int32_t *qid, const double *qlp, int64_t kq, const int32_t *pid, const double *plp,
                      int64_t kp, double inv_t) {
    double fq = al_min_lp(qlp, kq), fp = al_min_lp(plp, kp);
    double ma = -INFINITY, mb = -INFINITY, sa = 0, sb = 0, kl = 0;
    /* the union: every q id, then the p ids that q lacks; values looked up on each side */
    for (int pass = 0; pass < 3; pass++) {
        double la = ma + log(sa), lb = mb + log(sb);
        for (int64_t u = 0; u < kq + kp; u++) {
            int32_t id = u < kq ? qid[u] : pid[u - kq];
            int dup = 0;
            for (int64_t v = 0; u >= kq && v < kq; v++) dup |= qid[v] == id;
            if (dup) continue;
            double a = fq, b = fp;
            for (int64_t v = 0; v < kq; v++)
                if (qid[v] == id) a = qlp[v];
            for (int64_t v = 0; v < kp; v++)
                if (pid[v] == id) b = plp[v];
            a *= inv_t;
            b *= inv_t;
            if (pass == 0) {
                ma = fmax(ma, a);
                mb = fmax(mb, b);
            } else if (pass == 1) {
                sa += exp(a - ma);
                sb += exp(b - mb);
            } else {
                kl += exp(a - la) * ((a - la) - (b - lb));
            }
        }
    }
    return kl;
}
