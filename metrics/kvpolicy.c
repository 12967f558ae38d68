/* KV-cache policies on one query row: parsing, and the plain references (the literal key selection, the row's
 * retained mass and output error) that metrics/kvrow.c's tuned evaluation is tested against. */
#include "kvpolicy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict integer/number fields: the whole text must parse. */
static int al_kv_int(const char *s, int64_t lo, int64_t *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > (1LL << 40)) return -1;
    *out = v;
    return 0;
}

static int al_kv_num(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* "window:W" or a bare "W" (as the reference accepts) */
static int al_kv_window(const char *s, int64_t *w) {
    if (strncmp(s, "window:", 7) == 0) s += 7;
    return al_kv_int(s, 1, w);
}

int al_kvpolicy_parse(const char *spec, al_kvpolicy *p, char *why, size_t n) {
    char buf[1024], *f[8];
    memset(p, 0, sizeof *p);
    if (strlen(spec) >= sizeof buf) return snprintf(why, n, "policy too long"), -1;
    strcpy(buf, spec);
    char *args = strchr(buf, ':');
    if (!args) return snprintf(why, n, "expected NAME:ARGS"), -1;
    *args++ = 0;
    int nf = 0;
    for (char *t = args; nf < 8; nf++) {
        f[nf] = t;
        char *c = strchr(t, ',');
        if (!c) {
            nf++;
            break;
        }
        *c = 0;
        t = c + 1;
    }
    const char *name = buf;
    int ok = 0;
    if (!strcmp(name, "window")) {
        p->kind = AL_KV_WINDOW;
        ok = nf == 1 && !al_kv_int(f[0], 1, &p->w);
    } else if (!strcmp(name, "sink") || !strcmp(name, "h2o")) {
        p->kind = name[0] == 's' ? AL_KV_SINK : AL_KV_H2O;
        ok = nf == 2 && !al_kv_int(f[0], 0, name[0] == 's' ? &p->s : &p->b) && !al_kv_window(f[1], &p->w);
    } else if (!strcmp(name, "topk")) {
        p->kind = AL_KV_TOPK;
        ok = nf == 1 && !al_kv_int(f[0], 1, &p->k);
    } else if (!strcmp(name, "coverage")) {
        p->kind = AL_KV_COVERAGE;
        ok = nf == 1 && !al_kv_num(f[0], &p->g) && p->g > 0 && p->g <= 1;
    } else if (!strcmp(name, "duo")) {
        p->kind = AL_KV_DUO;
        ok = nf >= 2 && nf <= 4 && !al_kv_int(f[0], 0, &p->s) && !al_kv_window(f[1], &p->w);
        int has_t = 0;
        for (int q = 2; ok && q < nf; q++) {
            if (!strncmp(f[q], "gates=", 6) && f[q][6] && !p->gates[0])
                snprintf(p->gates, sizeof p->gates, "%s", f[q] + 6);
            else if (!strncmp(f[q], "threshold=", 10) && !has_t)
                ok = !al_kv_num(f[q] + 10, &p->threshold) && (has_t = 1);
            else
                ok = 0;
        }
        if (!has_t) p->threshold = p->gates[0] ? 0.5 : 0.35;
    } else {
        return snprintf(why, n, "unknown policy '%s' (window, sink, h2o, topk, coverage, duo)", name), -1;
    }
    if (!ok) return snprintf(why, n, "malformed policy (see METRICS.md section 7 for the forms)"), -1;
    return 0;
}

/* The largest x[j] among candidates not yet kept, lowest j on ties; -1 when none. */
static int64_t al_kv_argmax(const double *x, const float *xf, int64_t lo, int64_t hi, const uint8_t *taken) {
    int64_t best = -1;
    for (int64_t j = lo; j <= hi; j++) {
        if (taken[j]) continue;
        double v = x ? x[j] : (double)xf[j];
        if (best < 0 || v > (x ? x[best] : (double)xf[best])) best = j;
    }
    return best;
}

int64_t al_kv_keep_ref(const al_kvpolicy *p, int full, const float *a, int64_t i, const double *recv, uint8_t *keep) {
    memset(keep, 0, (size_t)(i + 1));
    for (int64_t j = 0; j <= i; j++) {
        if (full) keep[j] = 1;
        else if (p->kind == AL_KV_WINDOW) keep[j] = j > i - p->w;
        else if (p->kind == AL_KV_SINK || p->kind == AL_KV_DUO) keep[j] = j < p->s || j > i - p->w;
        else if (p->kind == AL_KV_H2O) keep[j] = j > i - p->w;
    }
    if (!full && p->kind == AL_KV_H2O) {
        /* candidates j <= i - w are all outside the window, so keep marks exactly the taken ones */
        for (int64_t q = 0; q < p->b; q++) {
            int64_t j = al_kv_argmax(recv, NULL, 0, i - p->w, keep);
            if (j < 0) break;
            keep[j] = 1;
        }
    } else if (!full && p->kind == AL_KV_TOPK) {
        for (int64_t q = 0; q < p->k; q++) {
            int64_t j = al_kv_argmax(NULL, a, 0, i, keep);
            if (j < 0) break;
            keep[j] = 1;
        }
    } else if (!full && p->kind == AL_KV_COVERAGE) {
        double mass = 0;
        while (!(mass >= p->g)) {
            int64_t j = al_kv_argmax(NULL, a, 0, i, keep);
            if (j < 0) break;
            keep[j] = 1;
            mass += (double)a[j];
        }
    }
    keep[i] = 1;
    int64_t n = 0;
    for (int64_t j = 0; j <= i; j++) n += keep[j];
    return n;
}

double al_kv_row(const float *a, int64_t i, const uint8_t *keep, const float *v, int64_t ldv, int64_t D, double *o,
                 double *err) {
    double m = 0;
    for (int64_t j = 0; j <= i; j++)
        if (keep[j]) m += (double)a[j];
    if (!v) return m;
    double *ok = o + D; /* o: [D] full output, ok: [D] kept output */
    for (int64_t d = 0; d < D; d++) o[d] = ok[d] = 0;
    for (int64_t j = 0; j <= i; j++) {
        double aj = (double)a[j];
        const float *vj = v + j * ldv;
        for (int64_t d = 0; d < D; d++) o[d] += aj * (double)vj[d];
        if (keep[j])
            for (int64_t d = 0; d < D; d++) ok[d] += aj * (double)vj[d];
    }
    double num = 0, den = 0;
    for (int64_t d = 0; d < D; d++) {
        double x = ok[d] / m - o[d];
        num += x * x;
        den += o[d] * o[d];
    }
    *err = sqrt(num) / sqrt(den);
    return m;
}
