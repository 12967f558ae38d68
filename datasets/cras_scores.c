/* Readers of judge scores. Both formats become one layout: records grouped by (query, role). Scores may be
 * numbers, numeric strings (the reference applies float()) or {"score": ...} objects. */
#include "cras_scores.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/cli.h"
#include "csv.h"
#include "textio.h"

const char *const al_cras_dims[AL_CRAS_NDIM] = {"GA", "RC", "KBA", "CC"};

void al_cras_free(al_cras_data *d) {
    al_strtab_free(&d->queries);
    al_strtab_free(&d->roles);
    al_free(d->pair_q);
    al_free(d->pair_r);
    al_free(d->pair_first);
    al_free(d->pair_count);
    al_free(d->score);
    al_free(d->correct);
    memset(d, 0, sizeof *d);
}

/* A record under construction: its pair and its four scores. */
typedef struct {
    int64_t q, r, pair, line;
    double s[AL_CRAS_NDIM];
} al_crec;

typedef struct {
    al_crec *v;
    int64_t n, cap;
    al_strtab pairs; /* "q:r" keys, in order of first appearance */
} al_crecs;

/* The score of dimension dim of record o into *v; where names the record for messages. */
static al_status al_score(const char *path, const cJSON *o, int dim, const char *where, double *v, al_error *e) {
    const char *dn = al_cras_dims[dim];
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, dn);
    if (!x) return al_fail(e, AL_EFORMAT, path, NULL, "%s: dimension %s is missing (each record needs GA, RC, KBA, CC)", where, dn);
    if (cJSON_IsObject(x)) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "score");
        if (!s) return al_fail(e, AL_EFORMAT, path, NULL, "%s: %s has no \"score\"", where, dn);
        x = s;
    }
    if (cJSON_IsNumber(x)) {
        *v = x->valuedouble;
    } else if (!(cJSON_IsString(x) && al_parse_double_str(x->valuestring, v) == 0)) {
        return al_fail(e, AL_EVALUE, path, NULL, "%s: %s score is %s, not a number", where, dn, al_json_kind(x));
    }
    if (!isfinite(*v) || *v < 1 || *v > 5)
        return al_fail(e, AL_ERANGE, path, NULL, "%s: %s score %g is outside 1..5", where, dn, *v);
    return AL_OK;
}

static al_status al_add(al_cras_data *d, al_crecs *c, const char *path, const char *q, const char *r, int64_t line,
                        al_crec **out, al_error *e) {
    if (c->n == c->cap) {
        int64_t nc = c->cap ? 2 * c->cap : 1024;
        al_crec *nv = al_realloc(c->v, (size_t)nc, sizeof *nv);
        if (!nv) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        c->v = nv;
        c->cap = nc;
    }
    al_crec *x = &c->v[c->n];
    x->q = al_strtab_intern(&d->queries, q, NULL);
    x->r = al_strtab_intern(&d->roles, r, NULL);
    char key[64];
    snprintf(key, sizeof key, "%lld:%lld", (long long)x->q, (long long)x->r);
    x->pair = x->q < 0 || x->r < 0 ? -1 : al_strtab_intern(&c->pairs, key, NULL);
    if (x->pair < 0) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    x->line = line;
    c->n++;
    *out = x;
    return AL_OK;
}

static al_status al_read_scores_json(const char *path, al_cras_data *d, al_crecs *c, al_error *e) {
    cJSON *root;
    if (al_json_read(path, &root, e) != AL_OK) return e->status;
    al_status st = AL_OK;
    if (!cJSON_IsObject(root) || !root->child)
        st = al_fail(e, AL_EFORMAT, path, NULL, "expected an object {query: {role: [records]}}, found %s", cJSON_IsObject(root) ? "an empty object" : al_json_kind(root));
    char where[512];
    for (const cJSON *q = root ? root->child : NULL; st == AL_OK && q; q = q->next) {
        int added;
        if (al_strtab_intern(&d->queries, q->string, &added) < 0) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        else if (!added) st = al_fail(e, AL_EFORMAT, path, NULL, "query \"%.100s\" appears twice", q->string);
        else if (!cJSON_IsObject(q) || !q->child)
            st = al_fail(e, AL_EFORMAT, path, NULL, "query \"%.100s\": expected an object {role: [records]}, found %s", q->string,
                         cJSON_IsObject(q) ? "an empty object" : al_json_kind(q));
        else if (al_json_dup_key(q))
            st = al_fail(e, AL_EFORMAT, path, NULL, "query \"%.100s\": role \"%.100s\" appears twice", q->string, al_json_dup_key(q));
        for (const cJSON *r = st == AL_OK ? q->child : NULL; st == AL_OK && r; r = r->next) {
            if (!cJSON_IsArray(r) || !r->child) {
                st = al_fail(e, AL_EFORMAT, path, NULL, "query \"%.100s\", role \"%.100s\": expected a non-empty list of records, found %s",
                             q->string, r->string, cJSON_IsArray(r) ? "an empty list" : al_json_kind(r));
                break;
            }
            int64_t k = 0;
            for (const cJSON *rec = r->child; st == AL_OK && rec; rec = rec->next, k++) {
                snprintf(where, sizeof where, "query \"%.100s\", role \"%.100s\", record %lld", q->string, r->string, (long long)k);
                al_crec *x;
                if (!cJSON_IsObject(rec)) {
                    st = al_fail(e, AL_EFORMAT, path, NULL, "%s: expected an object of scores, found %s", where, al_json_kind(rec));
                    break;
                }
                if (al_json_dup_key(rec)) {
                    st = al_fail(e, AL_EFORMAT, path, NULL, "%s: \"%s\" appears twice", where, al_json_dup_key(rec));
                    break;
                }
                st = al_add(d, c, path, q->string, r->string, 0, &x, e);
                for (int dim = 0; st == AL_OK && dim < AL_CRAS_NDIM; dim++) st = al_score(path, rec, dim, where, &x->s[dim], e);
            }
        }
    }
    cJSON_Delete(root);
    return st;
}

/* query or role of a JSON Lines record: a non-empty string, or an integer written as text. */
static int al_name(const cJSON *j, char *buf, size_t n) {
    if (cJSON_IsString(j) && j->valuestring[0]) {
        snprintf(buf, n, "%s", j->valuestring);
        return strlen(j->valuestring) < n;
    }
    if (cJSON_IsNumber(j) && j->valuedouble == floor(j->valuedouble) && fabs(j->valuedouble) < 9e15) {
        snprintf(buf, n, "%lld", (long long)j->valuedouble);
        return 1;
    }
    return 0;
}

static al_status al_read_scores_jsonl(const char *path, char *buf, al_cras_data *d, al_crecs *c, al_error *e) {
    al_lines it;
    al_lines_init(&it, buf);
    al_status st = AL_OK;
    size_t len;
    char *s, where[256], qn[1024], rn[1024];
    double *corr = NULL;
    int64_t ncorr = 0;
    while (st == AL_OK && (s = al_lines_next(&it, &len))) {
        size_t stop = 0;
        long long ln = (long long)it.line;
        cJSON *o = al_json_parse(s, len, &stop);
        if (!o || !cJSON_IsObject(o)) {
            if (o) st = al_fail(e, AL_EFORMAT, path, NULL, "line %lld: expected a JSON object, found %s", ln, al_json_kind(o));
            else if (stop == AL_JSON_NOMEM) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory parsing line %lld", ln);
            else st = al_fail(e, AL_EFORMAT, path, NULL, "line %lld: malformed JSON at column %lld%s", ln, (long long)stop + 1,
                              al_lines_unterminated(&it) ? " (the last line has no end: truncated file?)" : "");
            cJSON_Delete(o);
            break;
        }
        snprintf(where, sizeof where, "line %lld", ln);
        const cJSON *jq = cJSON_GetObjectItemCaseSensitive(o, "query"), *jr = cJSON_GetObjectItemCaseSensitive(o, "role");
        const cJSON *jc = cJSON_GetObjectItemCaseSensitive(o, "correct");
        al_crec *x = NULL;
        int okq = al_name(jq, qn, sizeof qn), okr = al_name(jr, rn, sizeof rn);
        const cJSON *badj = okq ? jr : jq;
        if (!okq || !okr) {
            if (badj) st = al_fail(e, AL_EFORMAT, path, NULL, "%s: field '%s' is %s, not a name", where, okq ? "role" : "query", al_json_kind(badj));
            else st = al_fail(e, AL_EFORMAT, path, NULL, "%s: no field '%s' (fields: query, role, GA, RC, KBA, CC[, correct])", where, okq ? "role" : "query");
        }
        if (st == AL_OK) {
            snprintf(where, sizeof where, "line %lld (query \"%.80s\", role \"%.80s\")", ln, qn, rn);
            st = al_add(d, c, path, qn, rn, it.line, &x, e);
        }
        for (int dim = 0; st == AL_OK && dim < AL_CRAS_NDIM; dim++) st = al_score(path, o, dim, where, &x->s[dim], e);
        if (st == AL_OK && jc && !cJSON_IsNull(jc)) {
            double v = cJSON_IsBool(jc) ? (double)cJSON_IsTrue(jc) : cJSON_IsNumber(jc) ? jc->valuedouble : NAN;
            if (!(v >= 0 && v <= 1)) st = al_fail(e, AL_EVALUE, path, NULL, "%s: 'correct' must be 0 or 1 (or a fraction in [0, 1])", where);
            if (st == AL_OK && x->q >= ncorr) {
                int64_t nn = d->queries.n + 1024;
                double *nc = al_realloc(corr, (size_t)nn, sizeof *nc);
                if (!nc) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
                for (int64_t i = ncorr; nc && i < nn; i++) nc[i] = NAN;
                if (nc) {
                    corr = nc;
                    ncorr = nn;
                }
            }
            if (st == AL_OK && !isnan(corr[x->q]) && corr[x->q] != v)
                st = al_fail(e, AL_EVALUE, path, NULL, "%s: 'correct' is %g here but %g on an earlier line of the same query", where, v, corr[x->q]);
            if (st == AL_OK) corr[x->q] = v;
        }
        cJSON_Delete(o);
    }
    if (st == AL_OK && corr) {
        d->correct = al_malloc((size_t)d->queries.n, sizeof *d->correct);
        if (!d->correct) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        for (int64_t q = 0; d->correct && q < d->queries.n; q++) d->correct[q] = q < ncorr ? corr[q] : NAN;
        d->has_correct = 1;
    }
    al_free(corr);
    return st;
}

/* Groups records by (query, role): pairs sorted by query, then first appearance; records in input order. */
static al_status al_group(const char *path, al_cras_data *d, al_crecs *c, al_error *e) {
    int64_t P = c->pairs.n, n = c->n;
    int64_t *q_of = al_malloc((size_t)P + 1, sizeof *q_of), *rank = al_malloc((size_t)P + 1, sizeof *rank);
    int64_t *cnt = al_calloc((size_t)P + 1, sizeof *cnt);
    d->pair_q = al_malloc((size_t)P + 1, sizeof *d->pair_q);
    d->pair_r = al_malloc((size_t)P + 1, sizeof *d->pair_r);
    d->pair_first = al_malloc((size_t)P + 1, sizeof *d->pair_first);
    d->pair_count = al_calloc((size_t)P + 1, sizeof *d->pair_count);
    d->score = al_malloc((size_t)n * AL_CRAS_NDIM + 1, sizeof *d->score);
    int64_t *qstart = al_calloc((size_t)d->queries.n + 1, sizeof *qstart);
    al_status st = AL_OK;
    if (!q_of || !rank || !cnt || !d->pair_q || !d->pair_r || !d->pair_first || !d->pair_count || !d->score || !qstart) {
        st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        q_of[c->v[i].pair] = c->v[i].q;
        cnt[c->v[i].pair]++;
        d->pair_r[c->v[i].pair] = c->v[i].r; /* provisional: indexed by pair id, permuted below */
    }
    /* counting sort of pairs by query, stable in pair id (= first appearance) */
    for (int64_t p = 0; p < P; p++) qstart[q_of[p] + 1]++;
    for (int64_t q = 0; q < d->queries.n; q++) qstart[q + 1] += qstart[q];
    for (int64_t p = 0; p < P; p++) rank[p] = qstart[q_of[p]]++;
    int64_t *role_of = d->pair_first; /* reuse as scratch for the provisional roles */
    memcpy(role_of, d->pair_r, (size_t)P * sizeof *role_of);
    for (int64_t p = 0; p < P; p++) {
        d->pair_q[rank[p]] = q_of[p];
        d->pair_r[rank[p]] = role_of[p];
        d->pair_count[rank[p]] = cnt[p];
    }
    for (int64_t p = 0, o = 0; p < P; p++) {
        d->pair_first[p] = o;
        o += d->pair_count[p];
    }
    memset(cnt, 0, (size_t)P * sizeof *cnt);
    for (int64_t i = 0; i < n; i++) {
        int64_t p = rank[c->v[i].pair], at = d->pair_first[p] + cnt[p]++;
        memcpy(d->score + at * AL_CRAS_NDIM, c->v[i].s, sizeof c->v[i].s);
    }
    d->npair = P;
    d->nrec = n;
done:
    al_free(q_of);
    al_free(rank);
    al_free(cnt);
    al_free(qstart);
    return st;
}

static int al_ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* JSON Lines when the name says so, or when the first line alone is an object whose "query" is a name;
 * -1 when out of memory. */
static int al_looks_jsonl(const char *path, char *buf) {
    if (al_ends_with(path, ".jsonl") || al_ends_with(path, ".ndjson")) return 1;
    char *nl = strchr(buf, '\n');
    size_t len = nl ? (size_t)(nl - buf) : strlen(buf), stop;
    cJSON *o = al_json_parse(buf, len, &stop);
    if (!o && stop == AL_JSON_NOMEM) return -1;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "query");
    int yes = cJSON_IsObject(o) && (cJSON_IsString(q) || cJSON_IsNumber(q));
    cJSON_Delete(o);
    return yes;
}

al_status al_cras_read(const char *path, al_cras_data *d, al_error *e) {
    memset(d, 0, sizeof *d);
    char *buf;
    size_t len;
    if (al_read_text(path, &buf, &len, e) != AL_OK) return e->status;
    if (al_text_names_ok(path, buf, len, e) != AL_OK) {
        al_free(buf);
        return e->status;
    }
    al_crecs c = {0};
    al_status st;
    int jl;
    if (al_first_char(buf) != '{')
        st = al_fail(e, AL_EFORMAT, path, NULL, "expected judge scores as JSON (scores.json) or JSON Lines");
    else if ((jl = al_looks_jsonl(path, buf)) < 0)
        st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    else if (jl)
        st = al_read_scores_jsonl(path, buf, d, &c, e);
    else
        st = al_read_scores_json(path, d, &c, e);
    al_free(buf);
    if (st == AL_OK && c.n == 0) st = al_fail(e, AL_EFORMAT, path, NULL, "no records");
    if (st == AL_OK) st = al_group(path, d, &c, e);
    al_free(c.v);
    al_strtab_free(&c.pairs);
    if (st != AL_OK) al_cras_free(d);
    return st;
}

al_status al_cras_read_correct(const char *path, al_cras_data *d, al_error *e) {
    al_csv c;
    if (al_csv_read(path, &c, e) != AL_OK) return e->status;
    static const char *const need[] = {"query", "correct"};
    int col[2];
    al_status st = al_csv_need(&c, need, 2, col, e);
    double *v = al_malloc((size_t)d->queries.n, sizeof *v);
    if (st == AL_OK && !v) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    for (int64_t q = 0; v && q < d->queries.n; q++) v[q] = NAN;
    for (int64_t r = 0; st == AL_OK && r < c.nrows; r++) {
        const char *qn = al_csv_cell(&c, r, col[0]);
        int64_t q = al_strtab_find(&d->queries, qn);
        double x;
        if (q < 0) {
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld: query '%.100s' is not in the scores", (long long)c.line[r], qn);
            break;
        }
        if ((st = al_csv_double(&c, r, col[1], &x, e)) != AL_OK) break;
        if (x < 0 || x > 1)
            st = al_fail(e, AL_ERANGE, path, NULL, "line %lld, column 'correct': %g (expected 0 or 1, or a fraction in [0, 1])", (long long)c.line[r], x);
        else if (!isnan(v[q]))
            st = al_fail(e, AL_EVALUE, path, NULL, "line %lld: query '%.100s' appears twice", (long long)c.line[r], qn);
        else
            v[q] = x;
    }
    if (st == AL_OK) {
        al_free(d->correct);
        d->correct = v;
        d->has_correct = 1;
    } else {
        al_free(v);
    }
    al_csv_free(&c);
    return st;
}
