/* CSV parsing in place over the file's text. Quoted fields may hold commas, doubled quotes and newlines;
 * anything else after a closing quote, an unterminated quote or a short row is an error, never a guess. */
#include "csv.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/cli.h"
#include "textio.h"

void al_csv_free(al_csv *c) {
    al_free(c->buf);
    al_free(c->head);
    al_free(c->cells);
    al_free(c->line);
    memset(c, 0, sizeof *c);
}

static char *al_trim(char *s, char *end) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
    *end = 0;
    return s;
}

typedef struct {
    char **v;
    int64_t n, cap;
} al_ptrvec;

static int al_push(al_ptrvec *p, char *s) {
    if (p->n == p->cap) {
        int64_t nc = p->cap ? 2 * p->cap : 256;
        char **nv = al_realloc(p->v, (size_t)nc, sizeof *nv);
        if (!nv) return -1;
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n++] = s;
    return 0;
}

/* Splits one record starting at *pp; fields appended to out. Returns 1 at a record, 0 at end of text,
 * -1 on a syntax error (msg set). *pp advances past the record's newline; *line counts newlines. */
static int al_csv_record(char **pp, int64_t *line, al_ptrvec *out, char *msg, size_t nmsg) {
    char *p = *pp;
    if (!*p) return 0;
    for (;;) {
        char *field;
        if (*p == '"') {
            char *w = ++p;
            field = w;
            for (;;) {
                if (!*p) {
                    snprintf(msg, nmsg, "unterminated quoted field");
                    return -1;
                }
                if (*p == '"') {
                    if (p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\n') (*line)++;
                *w++ = *p++;
            }
            while (*p == ' ' || *p == '\t') p++;
            if (*p == '\r' && p[1] == '\n') p++;
            if (*p && *p != ',' && *p != '\n') {
                snprintf(msg, nmsg, "text after a closing quote");
                return -1;
            }
            char sep = *p;
            *w = 0;
            if (al_push(out, field)) return -2;
            if (sep == ',') {
                p++;
                continue;
            }
            if (sep == '\n') p++;
            break;
        }
        char *s = p;
        while (*p && *p != ',' && *p != '\n') p++;
        char sep = *p;
        char *end = p;
        if (end > s && end[-1] == '\r') end--;
        field = al_trim(s, end);
        if (strchr(field, '"')) {
            snprintf(msg, nmsg, "a quote inside an unquoted field");
            return -1;
        }
        if (al_push(out, field)) return -2;
        if (sep == ',') {
            p++;
            continue;
        }
        if (sep == '\n') p++;
        break;
    }
    *pp = p;
    return 1;
}

typedef struct {
    int64_t *v;
    int64_t n, cap;
} al_i64vec;

static int al_push_i64(al_i64vec *p, int64_t x) {
    if (p->n == p->cap) {
        int64_t nc = p->cap ? 2 * p->cap : 256;
        int64_t *nv = al_realloc(p->v, (size_t)nc, sizeof *nv);
        if (!nv) return -1;
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n++] = x;
    return 0;
}

static int al_blank(char *const *f, int64_t n) { return n == 1 && !f[0][0]; }

static uint64_t al_hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Every header name non-empty and unique, in time linear in the header (a hash set of column indices): a
 * header of 10^6 columns takes milliseconds, not the quarter of an hour that comparing all pairs took. */
static al_status al_csv_header_names(const al_csv *c, int64_t line0, al_error *e) {
    size_t cap = 16;
    while (cap < 2 * (size_t)c->ncols)
        cap *= 2;
    int *slot = al_malloc(cap, sizeof *slot); /* [cap] column index + 1, 0 = empty */
    if (!slot) return al_fail(e, AL_ENOMEM, c->path, NULL, "out of memory reading CSV");
    memset(slot, 0, cap * sizeof *slot);
    al_status st = AL_OK;
    for (int i = 0; i < c->ncols && st == AL_OK; i++) {
        if (!c->head[i][0]) {
            st = al_fail(e, AL_EFORMAT, c->path, NULL, "line %lld: column %d of the header has no name",
                         (long long)line0, i + 1);
            break;
        }
        size_t k = (size_t)al_hash_str(c->head[i]) & (cap - 1);
        for (; slot[k]; k = (k + 1) & (cap - 1))
            if (!strcmp(c->head[slot[k] - 1], c->head[i])) {
                st = al_fail(e, AL_EFORMAT, c->path, NULL, "column '%s' appears twice in the header", c->head[i]);
                break;
            }
        slot[k] = i + 1;
    }
    al_free(slot);
    return st;
}

al_status al_csv_read(const char *path, al_csv *c, al_error *e) {
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    size_t len;
    if (al_read_text(path, &c->buf, &len, e) != AL_OK) return e->status;
    char *p = c->buf;
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
    al_ptrvec f = {0};
    al_i64vec lines = {0}; /* line where each record starts */
    int64_t line = 1, nrec = 0;
    char msg[128];
    for (;;) {
        int64_t start = line, before = f.n;
        int r = al_csv_record(&p, &line, &f, msg, sizeof msg);
        if (r == 0) break;
        if (r == -2) goto oom;
        if (r < 0) {
            al_fail(e, AL_EFORMAT, path, NULL, "line %lld: %s", (long long)start, msg);
            goto fail;
        }
        line++;
        int64_t nf = f.n - before;
        if (al_blank(f.v + before, nf)) {
            f.n = before;
            continue;
        }
        if (nrec == 0) {
            c->ncols = (int)nf;
        } else if (nf != c->ncols) {
            al_fail(e, AL_EFORMAT, path, NULL, "line %lld: %lld fields, but the header has %d", (long long)start,
                    (long long)nf, c->ncols);
            goto fail;
        }
        if (al_push_i64(&lines, start)) goto oom;
        nrec++;
    }
    if (nrec == 0) {
        al_fail(e, AL_EFORMAT, path, NULL, "empty file: expected a header row");
        goto fail;
    }
    c->head = al_malloc((size_t)c->ncols, sizeof *c->head);
    c->nrows = nrec - 1;
    c->cells = al_malloc((size_t)(c->nrows * c->ncols) + 1, sizeof *c->cells);
    c->line = al_malloc((size_t)c->nrows + 1, sizeof *c->line);
    if (!c->head || !c->cells || !c->line) goto oom;
    memcpy(c->head, f.v, (size_t)c->ncols * sizeof *c->head);
    memcpy(c->cells, f.v + c->ncols, (size_t)(c->nrows * c->ncols) * sizeof *c->cells);
    for (int64_t r = 0; r < c->nrows; r++)
        c->line[r] = lines.v[r + 1];
    if (al_csv_header_names(c, lines.v[0], e) != AL_OK) goto fail;
    al_free(f.v);
    al_free(lines.v);
    return AL_OK;
oom:
    al_fail(e, AL_ENOMEM, path, NULL, "out of memory reading CSV");
fail:
    al_free(f.v);
    al_free(lines.v);
    al_csv_free(c);
    return e->status;
}

int al_csv_col(const al_csv *c, const char *name) {
    for (int i = 0; i < c->ncols; i++)
        if (!strcmp(c->head[i], name)) return i;
    return -1;
}

al_status al_csv_need(const al_csv *c, const char *const *names, int n, int *idx, al_error *e) {
    for (int k = 0; k < n; k++) {
        idx[k] = al_csv_col(c, names[k]);
        if (idx[k] < 0) {
            char want[512] = "";
            size_t o = 0;
            for (int j = 0; j < n && o < sizeof want - 64; j++) o += (size_t)snprintf(want + o, sizeof want - o, "%s%s", j ? "," : "", names[j]);
            return al_fail(e, AL_EFORMAT, c->path, NULL, "no column '%s' in the header (expected columns %s)", names[k], want);
        }
    }
    return AL_OK;
}

al_status al_csv_double(const al_csv *c, int64_t row, int col, double *v, al_error *e) {
    const char *s = al_csv_cell(c, row, col);
    if (al_parse_double_str(s, v) != 0)
        return al_fail(e, AL_EVALUE, c->path, NULL, "line %lld, column '%s': expected a finite number, got '%.40s'",
                       (long long)c->line[row], c->head[col], s);
    return AL_OK;
}

al_status al_csv_int(const al_csv *c, int64_t row, int col, int64_t *v, al_error *e) {
    const char *s = al_csv_cell(c, row, col);
    if (al_parse_int_str(s, v) != 0)
        return al_fail(e, AL_EVALUE, c->path, NULL, "line %lld, column '%s': expected an integer, got '%.40s'",
                       (long long)c->line[row], c->head[col], s);
    return AL_OK;
}
