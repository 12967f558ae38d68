/* Combining a step's per-input results into its tables. Stacking reads each unit's NAME.tsv back (the exact text
 * the analysis wrote, NaN included, which its JSON cannot carry) and appends the rows in item order. */
#include "combine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/cli.h"
#include "run_sinks.h"
#include "runfs.h"

int al_table_col(const al_table *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->cols[c], name)) return c;
    return -1;
}

double al_cell_value(const al_table *t, int64_t row, int c) {
    const al_cell *x = &t->cells[row * t->ncols + c];
    return x->kind == AL_CELL_INT ? (double)x->i : x->kind == AL_CELL_NUM ? x->d : NAN;
}

void al_cell_text_of(const al_table *t, int64_t row, int c, char *buf, size_t n) {
    const al_cell *x = &t->cells[row * t->ncols + c];
    if (x->kind == AL_CELL_INT)
        snprintf(buf, n, "%lld", (long long)x->i);
    else if (x->kind == AL_CELL_NUM)
        al_num_str(x->d, buf, n);
    else
        snprintf(buf, n, "%s", x->kind == AL_CELL_STR ? x->s : "");
}

/* a cell typed by what its text reads back to exactly */
static int al_cell_parse(al_cell *c, const char *s) {
    char buf[64];
    int64_t i;
    double d;
    if (!*s) return 0;
    if (al_parse_int_str(s, &i) == 0) {
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        if (!strcmp(buf, s)) {
            al_cell_int(c, i);
            return 0;
        }
    }
    if (!strcmp(s, "nan") || !strcmp(s, "inf") || !strcmp(s, "-inf")) {
        al_cell_num(c, !strcmp(s, "nan") ? NAN : s[0] == '-' ? -INFINITY : INFINITY);
        return 0;
    }
    char *end;
    d = strtod(s, &end);
    if (!*end) {
        al_num_str(d, buf, sizeof buf);
        if (!strcmp(buf, s)) {
            al_cell_num(c, d);
            return 0;
        }
    }
    return al_cell_str(c, s);
}

al_table *al_tsv_read(const char *path, const char *name, al_error *e) {
    char *text = al_fs_read(path, NULL, e);
    if (!text) return NULL;
    al_table *t = NULL;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    while (line && line[0] == '#')
        line = strtok_r(NULL, "\n", &save);
    if (!line) {
        al_fail(e, AL_EFORMAT, path, NULL, "no header line");
        goto done;
    }
    for (char *c = line; *c; c++) /* al_table_new takes comma-separated names */
        if (*c == '\t') *c = ',';
    if (!(t = al_table_new(name, name, line))) {
        al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        goto done;
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        al_cell *row = al_table_row(t);
        if (!row) {
            al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
            goto fail;
        }
        char *cell = line;
        for (int c = 0; c < t->ncols; c++) {
            char *tab = cell ? strchr(cell, '\t') : NULL;
            if (tab) *tab = 0;
            if (cell && al_cell_parse(&row[c], cell)) {
                al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
                goto fail;
            }
            cell = tab ? tab + 1 : NULL;
        }
    }
    goto done;
fail:
    al_table_free(t);
    t = NULL;
done:
    al_free(text);
    return t;
}

/* rows of src appended to dst under dst's columns (matched by name), after an optional input id */
static int al_append_rows(al_table *dst, const al_table *src, const char *id) {
    int *map = al_calloc((size_t)dst->ncols, sizeof *map);
    if (!map) return -1;
    for (int c = 0; c < dst->ncols; c++)
        map[c] = al_table_col(src, dst->cols[c]);
    int bad = 0;
    for (int64_t r = 0; r < src->nrows && !bad; r++) {
        al_cell *row = al_table_row(dst);
        if (!row) {
            bad = 1;
            break;
        }
        for (int c = 0; c < dst->ncols; c++) {
            if (id && c == 0) {
                bad |= al_cell_str(&row[0], id);
                continue;
            }
            if (map[c] < 0) continue;
            const al_cell *x = &src->cells[r * src->ncols + map[c]];
            row[c] = *x;
            if (x->kind == AL_CELL_STR && !(row[c].s = al_strdup(x->s))) bad = 1, row[c].kind = AL_CELL_NULL;
        }
    }
    al_free(map);
    return bad ? -1 : 0;
}

static al_status al_stack(const al_run *r, int step, char **dirs, const char **ids, int n, int with_input,
                          al_tabset *ts, al_error *e) {
    char **names = NULL, p[4800];
    int nn = 0;
    for (int u = 0; u < n; u++) { /* union of table names, sorted */
        char **v;
        int k = al_fs_list(dirs[u], ".tsv", &v);
        if (k == -2) {
            al_fs_names_free(names, nn);
            return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        }
        for (int i = 0; i < k; i++) {
            v[i][strlen(v[i]) - 4] = 0;
            int have = 0;
            for (int j = 0; j < nn; j++)
                have |= !strcmp(names[j], v[i]);
            if (have || nn == AL_COMBINE_MAX) continue;
            char **t = al_realloc(names, (size_t)nn + 1, sizeof *names);
            if (!t || !(t[nn] = al_strdup(v[i]))) {
                names = t ? t : names;
                al_fs_names_free(v, k);
                al_fs_names_free(names, nn);
                return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
            }
            names = t;
            nn++;
        }
        al_fs_names_free(v, k);
    }
    for (int i = 1; i < nn; i++) /* sorted: listings of different units interleave */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1], names[j - 1] = t;
        }
    al_status st = AL_OK;
    for (int i = 0; i < nn && st == AL_OK; i++) {
        al_table **src = al_calloc((size_t)n, sizeof *src), *dst = NULL;
        int m = 0;
        if (!src) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        char cols[16384];
        int o = snprintf(cols, sizeof cols, "%s", with_input ? "input" : "");
        for (int u = 0; u < n && st == AL_OK; u++) {
            snprintf(p, sizeof p, "%s/%s.tsv", dirs[u], names[i]);
            src[u] = NULL;
            if (!al_fs_exists(p)) continue;
            if (!(src[u] = al_tsv_read(p, names[i], e))) st = e->status;
            for (int c = 0; src[u] && c < src[u]->ncols; c++) { /* union of columns, first appearance first */
                int have = 0;
                for (int u2 = 0; u2 < u; u2++)
                    have |= src[u2] && al_table_col(src[u2], src[u]->cols[c]) >= 0;
                have |= with_input && !strcmp(src[u]->cols[c], "input"); /* the id column takes that name */
                if (!have && o < (int)sizeof cols - 200)
                    o += snprintf(cols + o, sizeof cols - (size_t)o, "%s%s", o ? "," : "", src[u]->cols[c]);
            }
            m = u + 1;
        }
        if (st == AL_OK && !(dst = al_table_new(names[i], names[i], cols)))
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        for (int u = 0; u < m && st == AL_OK; u++)
            if (src[u] && al_append_rows(dst, src[u], with_input ? ids[u] : NULL))
                st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        for (int u = 0; u < m; u++)
            al_table_free(src[u]);
        al_free(src);
        if (st == AL_OK)
            ts->t[ts->n++] = dst;
        else
            al_table_free(dst);
    }
    (void)r, (void)step;
    al_fs_names_free(names, nn);
    return st;
}

al_status al_combine_step(const al_run *r, int step, al_tabset *ts, al_error *e) {
    const al_spec *s = r->spec;
    memset(ts, 0, sizeof *ts);
    int n = 0, nall = 0;
    for (int i = 0; i < r->nunits; i++)
        nall += r->units[i].step == step;
    char **dirs = al_calloc((size_t)(nall ? nall : 1), sizeof *dirs);
    const char **ids = al_calloc((size_t)(nall ? nall : 1), sizeof *ids);
    if (!dirs || !ids) {
        al_free(dirs), al_free(ids);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    al_status st = AL_OK;
    for (int i = 0; i < r->nunits && st == AL_OK; i++) {
        const al_unit *u = &r->units[i];
        if (u->step != step || u->state != AL_U_DONE) continue;
        char p[4600];
        snprintf(p, sizeof p, "%s/steps/%s/%s", r->out, s->steps[step].name, s->items[u->item].id);
        ids[n] = s->items[u->item].id;
        if (!(dirs[n++] = al_strdup(p))) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    ts->units = n;
    if (st == AL_OK && n) { /* canonical parameters as the first unit recorded them */
        char p[4700];
        snprintf(p, sizeof p, "%s/unit.json", dirs[0]);
        uint64_t f0 = al_alloc_cjson_failures();
        char *text = al_fs_read(p, NULL, e);
        cJSON *j = text ? cJSON_Parse(text) : NULL;
        ts->params = cJSON_DetachItemFromObjectCaseSensitive(j, "params");
        cJSON_Delete(j);
        if (!text)
            st = e->status;
        else if (!ts->params && al_alloc_cjson_failures() != f0)
            st = al_fail(e, AL_ENOMEM, p, NULL, "out of memory");
        else if (!ts->params)
            st = al_fail(e, AL_EFORMAT, p, NULL, "no params in the unit's record");
        al_free(text);
    }
    int with_input = s->inputs[s->steps[step].input].nitems > 1;
    if (st == AL_OK && n && s->steps[step].def->combine == AL_COMBINE_SINKS) {
        st = al_sinks_combine((const char *const *)dirs, ids, n, with_input, ts->t, &ts->n, e);
    } else if (st == AL_OK && n)
        st = al_stack(r, step, dirs, ids, n, with_input, ts, e);
    for (int i = 0; i < n; i++)
        al_free(dirs[i]);
    al_free(dirs);
    al_free(ids);
    if (st != AL_OK) al_tabset_free(ts);
    return st;
}

void al_tabset_free(al_tabset *ts) {
    for (int i = 0; i < ts->n; i++)
        al_table_free(ts->t[i]);
    cJSON_Delete(ts->params);
    memset(ts, 0, sizeof *ts);
}
