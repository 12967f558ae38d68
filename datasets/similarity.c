/* The similarity CSV of semantic drift. Rows are kept in file order: means are taken in that order, as the
 * reference script appends them. */
#include "similarity.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "csv.h"
#include "strtab.h"

#define AL_COS_SLACK 1e-6

al_status al_similarities_alloc(al_similarities *s, int64_t n, int64_t ndir, al_error *e) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->ndir = ndir;
    s->dir = al_calloc((size_t)ndir + 1, sizeof *s->dir);
    s->dir_of = al_malloc((size_t)n + 1, sizeof *s->dir_of);
    s->gen = al_malloc((size_t)n + 1, sizeof *s->gen);
    s->sim = al_malloc((size_t)n + 1, sizeof *s->sim);
    if (!s->dir || !s->dir_of || !s->gen || !s->sim) {
        al_similarities_free(s);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory for similarities");
    }
    return AL_OK;
}

void al_similarities_free(al_similarities *s) {
    for (int64_t d = 0; s->dir && d < s->ndir; d++) al_free(s->dir[d]);
    al_free(s->dir);
    al_free(s->dir_of);
    al_free(s->gen);
    al_free(s->sim);
    memset(s, 0, sizeof *s);
}

al_status al_similarities_read_csv(const char *path, al_similarities *s, al_error *e) {
    memset(s, 0, sizeof *s);
    al_csv c;
    if (al_csv_read(path, &c, e) != AL_OK) return e->status;
    static const char *const need[] = {"direction", "generation", "sample", "similarity"};
    int col[4];
    al_strtab dirs = {0}, keys = {0};
    al_status st = al_csv_need(&c, need, 4, col, e);
    if (st == AL_OK && c.nrows == 0) st = al_fail(e, AL_EFORMAT, path, NULL, "no rows after the header");
    if (st == AL_OK) st = al_similarities_alloc(s, c.nrows, 0, e);
    for (int64_t r = 0; st == AL_OK && r < c.nrows; r++) {
        const char *dname = al_csv_cell(&c, r, col[0]), *sample = al_csv_cell(&c, r, col[2]);
        long long ln = (long long)c.line[r];
        int64_t g;
        double v;
        if (!*dname) st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, column 'direction': empty", ln);
        if (st == AL_OK && !*sample) st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, column 'sample': empty", ln);
        if (st == AL_OK) st = al_csv_int(&c, r, col[1], &g, e);
        if (st == AL_OK && g < 0) st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, column 'generation': %lld is negative", ln, (long long)g);
        if (st == AL_OK) st = al_csv_double(&c, r, col[3], &v, e);
        if (st == AL_OK && (v < -1 - AL_COS_SLACK || v > 1 + AL_COS_SLACK))
            st = al_fail(e, AL_ERANGE, path, NULL, "line %lld, column 'similarity': %g is not a cosine (outside [-1, 1])", ln, v);
        if (st != AL_OK) break;
        int added = 0;
        int64_t d = al_strtab_intern(&dirs, dname, NULL);
        char key[1024];
        int kl = snprintf(key, sizeof key, "%lld\x1f%lld\x1f%s", (long long)d, (long long)g, sample);
        if (kl >= (int)sizeof key) {
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld, column 'sample': name longer than 1000 characters", ln);
            break;
        }
        if (d < 0 || al_strtab_intern(&keys, key, &added) < 0) {
            st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
            break;
        }
        if (!added) {
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld: direction '%s', generation %lld, sample '%s' appears twice", ln,
                         dname, (long long)g, sample);
            break;
        }
        s->dir_of[r] = d;
        s->gen[r] = g;
        s->sim[r] = v;
    }
    if (st == AL_OK) {
        al_free(s->dir);
        s->ndir = dirs.n;
        s->dir = dirs.s; /* the table's strings move into s */
        dirs.s = NULL;
        dirs.n = 0;
    }
    al_strtab_free(&dirs);
    al_strtab_free(&keys);
    al_csv_free(&c);
    if (st != AL_OK) al_similarities_free(s);
    return st;
}
