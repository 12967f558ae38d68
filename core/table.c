/* Table storage and its text renderings. Numbers in TSV, CSV and Markdown are written so they read back
 * exactly; the aligned terminal view rounds to 6 significant digits for the eye. */
#include "table.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "json.h"

al_table *al_table_new(const char *name, const char *title, const char *cols) {
    al_table *t = al_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->name = al_strdup(name);
    t->title = al_strdup(title ? title : name);
    int n = 1;
    for (const char *p = cols; *p; p++)
        n += *p == ',';
    t->cols = al_calloc((size_t)n, sizeof *t->cols);
    if (!t->name || !t->title || !t->cols) goto fail;
    t->ncols = n;
    const char *p = cols;
    for (int i = 0; i < n; i++) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        t->cols[i] = al_malloc(l + 1, 1);
        if (!t->cols[i]) goto fail;
        memcpy(t->cols[i], p, l);
        t->cols[i][l] = 0;
        p = c ? c + 1 : p + l;
    }
    return t;
fail:
    al_table_free(t);
    return NULL;
}

void al_table_free(al_table *t) {
    if (!t) return;
    for (int64_t i = 0; i < t->nrows * t->ncols; i++)
        al_free(t->cells[i].s);
    for (int i = 0; i < t->ncols && t->cols; i++)
        al_free(t->cols[i]);
    al_free(t->cols);
    al_free(t->cells);
    al_free(t->name);
    al_free(t->title);
    al_free(t);
}

al_cell *al_table_row(al_table *t) {
    if (t->nrows == t->cap) {
        int64_t cap = t->cap ? 2 * t->cap : 16;
        al_cell *c = al_realloc(t->cells, (size_t)(cap * t->ncols), sizeof *c);
        if (!c) return NULL;
        t->cells = c;
        t->cap = cap;
    }
    al_cell *row = t->cells + t->nrows * t->ncols;
    memset(row, 0, sizeof *row * (size_t)t->ncols);
    t->nrows++;
    return row;
}

void al_cell_int(al_cell *c, int64_t v) {
    c->kind = AL_CELL_INT;
    c->i = v;
}

void al_cell_num(al_cell *c, double v) {
    c->kind = AL_CELL_NUM;
    c->d = v;
}

int al_cell_str(al_cell *c, const char *s) {
    c->kind = AL_CELL_STR;
    c->s = al_strdup(s);
    return c->s ? 0 : -1;
}

al_format al_format_parse(const char *s) {
    if (!s) return isatty(STDOUT_FILENO) ? AL_FMT_TABLE : AL_FMT_TSV;
    if (!strcmp(s, "tsv")) return AL_FMT_TSV;
    if (!strcmp(s, "csv")) return AL_FMT_CSV;
    if (!strcmp(s, "md")) return AL_FMT_MD;
    if (!strcmp(s, "json")) return AL_FMT_JSON;
    return AL_FMT_TABLE;
}

/* The text of a cell: a string cell's own text (whatever its length), else the number formatted into buf [n]. */
static const char *al_cell_text(const al_cell *c, al_format fmt, char *buf, size_t n) {
    if (c->kind == AL_CELL_STR) return c->s;
    switch (c->kind) {
    case AL_CELL_NULL: snprintf(buf, n, "%s", fmt == AL_FMT_TABLE ? "-" : ""); break;
    case AL_CELL_INT: snprintf(buf, n, "%lld", (long long)c->i); break;
    case AL_CELL_NUM:
        if (fmt == AL_FMT_TABLE)
            snprintf(buf, n, "%.6g", c->d);
        else
            al_num_str(c->d, buf, n);
        break;
    case AL_CELL_STR: break;
    }
    return buf;
}

static void al_csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int al_table_write(const al_table *t, al_format fmt, FILE *f) {
    char buf[512];
    if (fmt == AL_FMT_JSON) {
        cJSON *j = al_table_json(t);
        int bad = !j || al_json_write(f, j) != 0;
        cJSON_Delete(j);
        return bad || ferror(f) ? -1 : 0;
    }
    size_t *w = NULL;
    if (fmt == AL_FMT_TABLE) {
        w = al_calloc((size_t)t->ncols, sizeof *w);
        if (!w) return -1;
        for (int c = 0; c < t->ncols; c++)
            w[c] = strlen(t->cols[c]);
        for (int64_t r = 0; r < t->nrows; r++)
            for (int c = 0; c < t->ncols; c++) {
                size_t l = strlen(al_cell_text(&t->cells[r * t->ncols + c], fmt, buf, sizeof buf));
                if (l > w[c]) w[c] = l;
            }
        fprintf(f, "%s\n", t->title);
    }
    const char *sep = fmt == AL_FMT_CSV ? "," : fmt == AL_FMT_TSV ? "\t" : fmt == AL_FMT_MD ? " | " : "  ";
    for (int64_t r = -1; r < t->nrows; r++) {
        if (fmt == AL_FMT_MD) fputs("| ", f);
        for (int c = 0; c < t->ncols; c++) {
            const char *s = r < 0 ? t->cols[c] : al_cell_text(&t->cells[r * t->ncols + c], fmt, buf, sizeof buf);
            if (c) fputs(sep, f);
            if (fmt == AL_FMT_CSV)
                al_csv_field(f, s);
            else if (fmt == AL_FMT_TABLE) {
                int right = r >= 0 && t->cells[r * t->ncols + c].kind != AL_CELL_STR;
                fprintf(f, right ? "%*s" : "%-*s", (int)w[c], s);
            } else
                fputs(s, f);
        }
        if (fmt == AL_FMT_MD) fputs(" |", f);
        fputc('\n', f);
        if (r < 0 && fmt == AL_FMT_MD) {
            fputs("|", f);
            for (int c = 0; c < t->ncols; c++)
                fputs("---|", f);
            fputc('\n', f);
        }
    }
    al_free(w);
    return ferror(f) ? -1 : 0;
}

cJSON *al_table_json(const al_table *t) {
    cJSON *a = cJSON_CreateArray();
    for (int64_t r = 0; a && r < t->nrows; r++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        for (int c = 0; c < t->ncols; c++) {
            const al_cell *x = &t->cells[r * t->ncols + c];
            switch (x->kind) {
            case AL_CELL_NULL: cJSON_AddNullToObject(o, t->cols[c]); break;
            case AL_CELL_INT: cJSON_AddNumberToObject(o, t->cols[c], (double)x->i); break;
            case AL_CELL_NUM:
                if (isfinite(x->d))
                    cJSON_AddNumberToObject(o, t->cols[c], x->d);
                else
                    cJSON_AddNullToObject(o, t->cols[c]);
                break;
            case AL_CELL_STR: cJSON_AddStringToObject(o, t->cols[c], x->s); break;
            }
        }
        al_json_push(a, o);
    }
    return a;
}
