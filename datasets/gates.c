/* Parsing of DuoAttention gate TSV files. Strict: a stray word, a value outside [0, 1] or a ragged row is
 * an error naming its row and column, never a silently skipped cell. */
#include "gates.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/cli.h"

#define AL_GATES_MAX_ROWS 4096
#define AL_GATES_MAX_COLS 65536

void al_gates_free(al_gates *g) {
    al_free(g->g);
    g->g = NULL;
    g->rows = g->cols = 0;
}

/* Parses one line's cells into row (cap cells). Returns the count or -1 (e set). */
static int64_t al_gates_line(char *line, int64_t rowno, const char *path, double *row, int64_t cap, al_error *e) {
    int64_t n = 0;
    char *p = line;
    for (;;) {
        char *tab = strchr(p, '\t');
        if (tab) *tab = 0;
        if (n >= cap) {
            al_fail(e, AL_EFORMAT, path, NULL, "row %lld has more than %lld columns", (long long)rowno, (long long)cap);
            return -1;
        }
        double v;
        if (al_parse_double_str(p, &v) != 0) {
            al_fail(e, AL_EFORMAT, path, NULL, "row %lld, column %lld: '%.40s' is not a number (expected tab-separated gate values)",
                    (long long)rowno, (long long)n + 1, p);
            return -1;
        }
        /* the published gate files hold training noise just below 0 (down to -0.0014): accepted, as is; a value
         * further out is not a gate */
        if (v < -0.01 || v > 1.01) {
            al_fail(e, AL_ERANGE, path, NULL, "row %lld, column %lld: gate %g is outside [0, 1] (beyond rounding noise)",
                    (long long)rowno, (long long)n + 1, v);
            return -1;
        }
        row[n++] = v;
        if (!tab) break;
        p = tab + 1;
    }
    return n;
}

al_status al_gates_read(const char *path, al_gates *out, al_error *e) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) return al_fail(e, errno == ENOENT ? AL_ENOENT : AL_EIO, path, NULL, "cannot open: %s", strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t rowno = 0, blank_after = 0, cols = -1, rows = 0, alloc_rows = 0;
    double *row = al_malloc(AL_GATES_MAX_COLS, sizeof(double)); /* [max cols] one line */
    double *g = NULL;
    al_status st = row ? AL_OK : al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    while (st == AL_OK && (len = getline(&line, &cap, f)) >= 0) {
        rowno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) {
            blank_after = rowno;
            continue;
        }
        if (blank_after) {
            st = al_fail(e, AL_EFORMAT, path, NULL, "row %lld is blank, but more rows follow it", (long long)blank_after);
            break;
        }
        if ((size_t)len != strlen(line)) {
            st = al_fail(e, AL_EFORMAT, path, NULL, "row %lld holds a NUL byte (not a text file)", (long long)rowno);
            break;
        }
        int64_t n = al_gates_line(line, rowno, path, row, AL_GATES_MAX_COLS, e);
        if (n < 0) {
            st = e->status;
            break;
        }
        if (cols >= 0 && n != cols) {
            st = al_fail(e, AL_EFORMAT, path, NULL, "row %lld has %lld columns, row 1 has %lld", (long long)rowno, (long long)n,
                         (long long)cols);
            break;
        }
        cols = n;
        if (rows >= AL_GATES_MAX_ROWS) {
            st = al_fail(e, AL_EFORMAT, path, NULL, "more than %d rows", AL_GATES_MAX_ROWS);
            break;
        }
        if (rows == alloc_rows) {
            alloc_rows = alloc_rows ? 2 * alloc_rows : 64;
            double *ng = al_realloc(g, (size_t)(alloc_rows * cols), sizeof(double));
            if (!ng) {
                st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
                break;
            }
            g = ng;
        }
        memcpy(g + rows * cols, row, sizeof(double) * (size_t)cols);
        rows++;
    }
    if (st == AL_OK && ferror(f)) st = al_fail(e, AL_EIO, path, NULL, "read failed");
    if (st == AL_OK && rows == 0) st = al_fail(e, AL_EFORMAT, path, NULL, "no gate values (empty file)");
    free(line);
    fclose(f);
    al_free(row);
    if (st != AL_OK) {
        al_free(g);
        return st;
    }
    out->rows = rows;
    out->cols = cols;
    out->g = g;
    return AL_OK;
}

al_status al_gates_check_shape(const al_gates *g, const char *path, int64_t L, int64_t Hkv, const char *rec, al_error *e) {
    if (g->rows != L || g->cols != Hkv)
        return al_fail(e, AL_ESHAPE, path, NULL,
                       "gate file is %lld layers x %lld KV heads, but %s has %lld layers x %lld KV heads (one row per "
                       "layer, one column per KV head)",
                       (long long)g->rows, (long long)g->cols, rec, (long long)L, (long long)Hkv);
    return AL_OK;
}
