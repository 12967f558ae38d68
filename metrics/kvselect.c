/* Rank selection for the tuned KV-cache policies: 3-way quickselect by rank or by running mass over floats (the
 * rows, partitioned by metrics/kvscan.c) or doubles (h2o's received attention), and coverage's literal fallback. */
#include "kvselect.h"

#include <math.h>
#include <stdlib.h>

double al_kv_sum4(const double *x, int64_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) s0 += x[k], s1 += x[k + 1], s2 += x[k + 2], s3 += x[k + 3];
    for (; k < n; k++) s0 += x[k];
    return (s0 + s1) + (s2 + s3);
}

double al_kv_possum(const float *a, int64_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) {
        s0 += a[k] > 0 ? (double)a[k] : 0;
        s1 += a[k + 1] > 0 ? (double)a[k + 1] : 0;
        s2 += a[k + 2] > 0 ? (double)a[k + 2] : 0;
        s3 += a[k + 3] > 0 ? (double)a[k + 3] : 0;
    }
    for (; k < n; k++) s0 += a[k] > 0 ? (double)a[k] : 0;
    return (s0 + s1) + (s2 + s3);
}

static double al_kv_med3(double u, double v, double w) {
    if (u > v) { double t = u; u = v; v = t; }
    return w <= u ? u : w >= v ? v : w;
}

/* One step of either selection, after a partition around p of the n remaining values into G values above (sum
 * mg) and L below, E = n - G - L equal to p (by rank: the answer not among the G). Returns 0 (c set), -1
 * (coverage undecidable, c set), 1 to go on in the values above, 2 to go on in those below. */
typedef struct {
    int64_t r, above;
    double g, M;
} al_kv_sel;

static int al_kv_step(al_kv_sel *s, double p, int64_t n, int64_t G, int64_t L, double mg, al_kv_cut *c) {
    int64_t E = n - G - L;
    if (s->r >= 0) {
        if (s->r < G + E) {
            *c = (al_kv_cut){p, s->above + G, E, s->above + s->r + 1, s->M + mg + (double)(s->r - G + 1) * p};
            return 0;
        }
        s->M += mg + (double)E * p, s->above += G + E, s->r -= G + E;
        return 2;
    }
    if (s->M + mg >= s->g) return 1; /* the crossing is among the larger values (never none of them: M < g) */
    double m = s->M + mg, prev;
    for (int64_t k = 1; k <= E; k++) { /* the ties, added one at a time as the reference does */
        prev = m;
        m += p;
        if (m >= s->g) {
            double tol = (double)(s->above + G + k + 4) * 0x1p-50 * (m + s->g);
            *c = (al_kv_cut){p, s->above + G, E, s->above + G + k, m};
            return prev + tol < s->g && m - tol >= s->g ? 0 : -1;
        }
    }
    s->M = m, s->above += G + E;
    return 2;
}

/* The pivot of a pass over v [n] for an answer of rank about r (r < 0: unknown): when it lies near an end
 * (r < n / 4 or r > 3 n / 4), the second largest (smallest) of five evenly spaced values, whose expected rank
 * n / 3 (2 n / 3) leaves the answer in the smaller part about 97% of the time; otherwise the median of three. */
static float al_kv_pick(const float *v, int64_t n, int64_t r) {
    int top = r >= 0 && r < n / 4, bottom = r > n - n / 4;
    if (n < 64 || !(top || bottom)) return (float)al_kv_med3(v[0], v[n / 2], v[n - 1]);
    float m1 = -INFINITY, m2 = -INFINITY; /* the largest two (of the negated values, at the bottom) */
    for (int q = 0; q < 5; q++) {
        float y = v[(2 * q + 1) * n / 10];
        y = top ? y : -y;
        if (y > m1) m2 = m1, m1 = y;
        else if (y > m2) m2 = y;
    }
    return top ? m2 : -m2;
}

void al_kv_first_pass(const float *a, int64_t n, float *G, float *L, al_kv_first *f) {
    f->p = (float)al_kv_med3(a[0], a[n / 2], a[n - 1]);
    f->mg = al_kv_part(a, n, f->p, G, L, &f->g, &f->l);
    f->G = G, f->L = L;
}

int al_kv_cut_find_f(const float *src, int64_t n, int64_t r, double g, double est, const al_kv_first *first,
                     float *const buf[3], int64_t above, double M, al_kv_cut *c) {
    static const int gi[4] = {0, 1, 0, 0}, li[4] = {1, 2, 2, 1}; /* by the buffer holding the values, +1 */
    al_kv_sel s = {r >= 0 ? r - above : r, above, g, M};
    const float *v = src;
    int in = -1; /* the buffer holding v; -1: none of them */
    while (n > AL_KV_FEW) {
        al_kv_first f;
        if (first) { /* the first pass, made before (its parts are read, never written) */
            f = *first, first = NULL;
        } else {
            double e = est - (double)s.above;
            f.p = al_kv_pick(v, n, r >= 0 ? s.r : est < 0 ? -1 : e > 0 ? (int64_t)e : 0);
            f.mg = al_kv_part(v, n, f.p, buf[gi[in + 1]], buf[li[in + 1]], &f.g, &f.l);
            f.G = buf[gi[in + 1]], f.L = buf[li[in + 1]];
        }
        int st = s.r >= 0 && s.r < f.g ? 1 : al_kv_step(&s, f.p, n, f.g, f.l, f.mg, c);
        if (st <= 0) return st;
        v = st == 1 ? f.G : f.L, n = st == 1 ? f.g : f.l;
        in = v == buf[0] ? 0 : v == buf[1] ? 1 : v == buf[2] ? 2 : -1;
    }
    /* the last values: sorted, then taken from the top as the passes would */
    float w[AL_KV_FEW];
    al_kv_sort(v, n, w);
    const float *d = w + AL_KV_FEW - 1; /* d[-q]: the value of rank q */
    if (s.r >= 0) { /* by rank: straight to the value of rank r, its ties and the sum of the values above them */
        float p = d[-s.r];
        int64_t G = s.r, E = s.r + 1, q = 0;
        while (G > 0 && d[-(G - 1)] == p) G--;
        while (E < n && d[-E] == p) E++;
        double m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        for (; q + 4 <= G; q += 4) m0 += d[-q], m1 += d[-q - 1], m2 += d[-q - 2], m3 += d[-q - 3];
        for (; q < G; q++) m0 += d[-q];
        return al_kv_step(&s, p, n, G, n - E, (m0 + m1) + (m2 + m3), c);
    }
    for (int64_t k = 0, e; k < n; k += e) { /* by mass: one distinct value at a time, its ties one by one */
        float p = d[-k];
        double m = s.M;
        int cross = 0;
        for (e = 0; k + e < n && d[-(k + e)] == p; e++) cross |= (m += p) >= s.g;
        if (cross) return al_kv_step(&s, p, n - k, 0, n - k - e, 0, c);
        s.M = m, s.above += e;
    }
    *c = (al_kv_cut){0, s.above, 0, s.above, s.M}; /* coverage never reached g: all */
    return 1;
}

/* The same over doubles, partitioning from one scratch buffer (x, y: [n]) into the other, without branches on the
 * data: d[0, g) > p, d[n - l, n) < p (every slot stored to is still free: after k values, #> + #< <= k). */
int al_kv_cut_find(const double *src, int64_t n, int64_t r, double *x, double *y, al_kv_cut *c) {
    al_kv_sel s = {r, 0, 0, 0};
    const double *v = src;
    double *d = x, *o = y;
    for (;;) {
        double p = al_kv_med3(v[0], v[n / 2], v[n - 1]), *sw = d;
        int64_t lo = 0, hi = n - 1;
        for (int64_t k = 0; k < n; k++) {
            double w = v[k];
            d[lo] = w;
            d[hi] = w;
            lo += w > p;
            hi -= w < p;
        }
        int64_t ng = lo, nl = n - 1 - hi;
        if (r < ng) {
            v = d, n = ng;
        } else if (al_kv_step(&s, p, n, ng, nl, al_kv_sum4(d, ng), c) == 0) {
            return 0;
        } else {
            r = s.r;
            v = d + n - nl, n = nl;
        }
        d = o, o = sw;
    }
}

static int al_kv_desc(const void *u, const void *v) {
    double x = *(const double *)u, y = *(const double *)v;
    return (x < y) - (x > y);
}

void al_kv_cover_exact(double *x, int64_t n, double g, al_kv_cut *c) {
    qsort(x, (size_t)n, sizeof *x, al_kv_desc);
    double m = 0;
    int64_t k = 0, lo, hi;
    while (k < n && !(m >= g)) m += x[k++];
    for (lo = k - 1; lo > 0 && x[lo - 1] == x[k - 1]; lo--) {}
    for (hi = k; hi < n && x[hi] == x[k - 1]; hi++) {}
    *c = (al_kv_cut){x[k - 1], lo, hi - lo, k, m};
}
