/* The sinks statistics saved and loaded as text: a header, the resolved parameters and shape (with the count of
 * samples left out as too short), then the hit counts [L, K] and the alpha sums [L, H, T], every double in
 * al_num_str's exact form. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/numtext.h"
#include "sinks.h"

#define AL_SINKS_MAGIC "attnlab-sinks-statistics 2"

static int al_sinks_write(FILE *f, const al_sinks_out *o) {
    char a[40], b[40];
    const al_sinks_params *p = &o->params;
    al_num_str(p->epsilon, a, sizeof a);
    al_num_str(p->hidden_threshold, b, sizeof b);
    fprintf(f, "%s\nparams %s %lld %lld %s %lld\nshape %lld %lld %lld %lld %lld %d %lld\nhits", AL_SINKS_MAGIC, a,
            (long long)p->tokens, (long long)p->positions, b, (long long)p->hidden_min_queries, (long long)o->N,
            (long long)o->L, (long long)o->H, (long long)o->T, (long long)o->K, o->causal, (long long)o->skipped);
    for (int64_t i = 0; i < o->L * o->K; i++)
        fprintf(f, " %lld", (long long)o->hits[i]);
    fprintf(f, "\nalpha_sum");
    for (int64_t i = 0; i < o->L * o->H * o->T; i++) {
        al_num_str(o->alpha_sum[i], a, sizeof a);
        fprintf(f, " %s", a);
    }
    fprintf(f, "\n");
    return ferror(f);
}

al_status al_sinks_save(const al_sinks_out *o, const char *path, al_error *e) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-sinks", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return al_fail(e, AL_EWRITE, path, NULL, "cannot create the statistics file");
    int bad = al_sinks_write(f, o);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return al_fail(e, AL_EWRITE, path, NULL, "write failed");
    }
    return AL_OK;
}

/* the header lines into o (arrays not yet allocated); 0 when they parse */
static int al_sinks_read_head(FILE *f, al_sinks_out *o) {
    char magic[64] = "";
    long long t, k, m, n, l, h, tt, kk, sk;
    al_sinks_params *p = &o->params;
    if (!fgets(magic, sizeof magic, f) || strncmp(magic, AL_SINKS_MAGIC "\n", sizeof AL_SINKS_MAGIC) != 0) return -1;
    if (fscanf(f, " params %lf %lld %lld %lf %lld", &p->epsilon, &t, &k, &p->hidden_threshold, &m) != 5) return -1;
    if (fscanf(f, " shape %lld %lld %lld %lld %lld %d %lld", &n, &l, &h, &tt, &kk, &o->causal, &sk) != 7) return -1;
    p->tokens = t, p->positions = k, p->hidden_min_queries = m;
    o->N = n, o->L = l, o->H = h, o->T = tt, o->K = kk, o->skipped = sk;
    return n < 1 || sk < 0 || l < 1 || h < 1 || tt < 1 || kk < 1 || kk > tt || l * h * tt > ((int64_t)1 << 40) ? -1 : 0;
}

/* the two arrays, allocated here; -1: malformed, -2: out of memory */
static int al_sinks_read_arrays(FILE *f, al_sinks_out *o) {
    o->hits = al_calloc((size_t)(o->L * o->K), sizeof(int64_t));
    o->alpha_sum = al_calloc((size_t)(o->L * o->H * o->T), sizeof(double));
    int at = -1;
    if (!o->hits || !o->alpha_sum) return -2;
    if (fscanf(f, " hits%n", &at) < 0 || at < 0) return -1;
    for (int64_t i = 0; i < o->L * o->K; i++) {
        long long v;
        if (fscanf(f, " %lld", &v) != 1) return -1;
        o->hits[i] = v;
    }
    at = -1;
    if (fscanf(f, " alpha_sum%n", &at) < 0 || at < 0) return -1;
    for (int64_t i = 0; i < o->L * o->H * o->T; i++)
        if (fscanf(f, " %lf", &o->alpha_sum[i]) != 1) return -1;
    return 0;
}

al_status al_sinks_load(const char *path, al_sinks_out *o, al_error *e) {
    memset(o, 0, sizeof *o);
    FILE *f = fopen(path, "r");
    if (!f) return al_fail(e, AL_ENOENT, path, NULL, "cannot open the statistics file");
    int bad = al_sinks_read_head(f, o);
    if (!bad) bad = al_sinks_read_arrays(f, o);
    fclose(f);
    if (!bad) return AL_OK;
    al_sinks_out_free(o);
    if (bad == -2) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory for the statistics");
    return al_fail(e, AL_EFORMAT, path, NULL, "not sinks statistics saved by al_sinks_save");
}
