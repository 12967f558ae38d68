/* Parsing a spec's "figures" (drawn by the driver from the combined tables of a step) and "report" (title,
 * introduction, how much of each table the report shows, captions of the analyses' own figures). */
#include <stdio.h>
#include <string.h>

#include "spec_check.h"

static al_status al_fig_col(const al_spec *s, const cJSON *f, const char *key, const char *jp, int required, char *out,
                            size_t n, al_error *e) {
    const char *v;
    if (al_spec_str(s, f, key, jp, &v, e)) return e->status;
    if (!v && required) return al_spec_bad(s, e, jp, "missing \"%s\" (a column of the table)", key);
    snprintf(out, n, "%s", v ? v : "");
    return AL_OK;
}

static al_status al_parse_fig(al_spec *s, const cJSON *f, al_figspec *g, al_error *e) {
    static const char *const keys[] = {"name", "step",  "table", "kind",   "x",      "y",       "series", "row",
                                       "col",  "value", "title", "xlabel", "ylabel", "caption", "log",    NULL};
    const char *jp = g->jpath;
    char p[128];
    if (!cJSON_IsObject(f)) return al_spec_bad(s, e, jp, "expected an object with \"name\", \"step\", \"table\"");
    if (al_spec_keys(s, f, jp, keys, e)) return e->status;
    const char *name, *step, *table, *kind;
    if (al_spec_str(s, f, "name", jp, &name, e) || al_spec_str(s, f, "step", jp, &step, e) ||
        al_spec_str(s, f, "table", jp, &table, e) || al_spec_str(s, f, "kind", jp, &kind, e) ||
        al_spec_str(s, f, "title", jp, &g->title, e) || al_spec_str(s, f, "xlabel", jp, &g->xlabel, e) ||
        al_spec_str(s, f, "ylabel", jp, &g->ylabel, e) || al_spec_str(s, f, "caption", jp, &g->caption, e))
        return e->status;
    snprintf(p, sizeof p, "%s.name", jp);
    if (!name) return al_spec_bad(s, e, jp, "missing \"name\" (the figure's file name)");
    if (!al_spec_name_ok(name))
        return al_spec_bad(s, e, p, "'%s' is not a usable name ([A-Za-z0-9_.-], at most 40)", name);
    for (int k = 0; k < s->nfigs; k++)
        if (!strcmp(s->figs[k].name, name)) return al_spec_bad(s, e, p, "two figures are named '%s'", name);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(p, sizeof p, "%s.step", jp);
    if (!step) return al_spec_bad(s, e, jp, "missing \"step\" (the step whose table is drawn)");
    g->step = -1;
    for (int k = 0; k < s->nsteps; k++)
        if (!strcmp(s->steps[k].name, step)) g->step = k;
    if (g->step < 0) return al_spec_bad(s, e, p, "no step named '%s'", step);
    if (!table) return al_spec_bad(s, e, jp, "missing \"table\" (e.g. sinks_rate)");
    snprintf(g->table, sizeof g->table, "%s", table);
    snprintf(p, sizeof p, "%s.kind", jp);
    if (kind && strcmp(kind, "lines") != 0 && strcmp(kind, "heatmap") != 0)
        return al_spec_bad(s, e, p, "expected \"lines\" or \"heatmap\"");
    g->kind = kind && !strcmp(kind, "heatmap") ? AL_FIG_HEATMAP : AL_FIG_LINES;
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(f, "log");
    snprintf(p, sizeof p, "%s.log", jp);
    if (lg && !cJSON_IsBool(lg)) return al_spec_bad(s, e, p, "expected true or false");
    g->logscale = cJSON_IsTrue(lg);
    int lines = g->kind == AL_FIG_LINES;
    static const char *const only_lines[] = {"x", "y", "series", NULL}, *const only_map[] = {"row", "col", "value",
                                                                                             NULL};
    for (const char *const *k = lines ? only_map : only_lines; *k; k++)
        if (cJSON_GetObjectItemCaseSensitive(f, *k)) {
            snprintf(p, sizeof p, "%s.%s", jp, *k);
            return al_spec_bad(s, e, p, "not a key of a %s figure", lines ? "lines" : "heatmap");
        }
    if (!lines)
        return al_fig_col(s, f, "row", jp, 1, g->row, sizeof g->row, e) ||
                       al_fig_col(s, f, "col", jp, 1, g->col, sizeof g->col, e) ||
                       al_fig_col(s, f, "value", jp, 1, g->value, sizeof g->value, e)
                   ? e->status
                   : AL_OK;
    if (al_fig_col(s, f, "x", jp, 1, g->x, sizeof g->x, e) ||
        al_fig_col(s, f, "series", jp, 0, g->series, sizeof g->series, e))
        return e->status;
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(f, "y");
    snprintf(p, sizeof p, "%s.y", jp);
    if (!y) return al_spec_bad(s, e, jp, "missing \"y\" (a column, or a list of columns)");
    if (cJSON_IsString(y))
        snprintf(g->y[g->ny++], sizeof g->y[0], "%s", y->valuestring);
    else if (cJSON_IsArray(y) && cJSON_GetArraySize(y) > 0 && cJSON_GetArraySize(y) <= AL_SPEC_MAX_Y) {
        const cJSON *c;
        cJSON_ArrayForEach(c, y) {
            if (!cJSON_IsString(c)) return al_spec_bad(s, e, p, "expected column names");
            snprintf(g->y[g->ny++], sizeof g->y[0], "%s", c->valuestring);
        }
    } else
        return al_spec_bad(s, e, p, "expected a column name or a list of 1 to %d names", AL_SPEC_MAX_Y);
    if (g->series[0] && g->ny > 1) return al_spec_bad(s, e, p, "with \"series\", give one y column");
    return AL_OK;
}

al_status al_spec_figures(al_spec *s, const cJSON *figs, al_error *e) {
    if (!figs) return AL_OK;
    if (!cJSON_IsArray(figs)) return al_spec_bad(s, e, "figures", "expected a list of figures");
    if (cJSON_GetArraySize(figs) > AL_SPEC_MAX_FIGS)
        return al_spec_bad(s, e, "figures", "more than %d figures", AL_SPEC_MAX_FIGS);
    const cJSON *f;
    cJSON_ArrayForEach(f, figs) {
        al_figspec *g = &s->figs[s->nfigs];
        snprintf(g->jpath, sizeof g->jpath, "figures[%d]", s->nfigs);
        if (al_parse_fig(s, f, g, e)) return e->status;
        s->nfigs++;
    }
    return AL_OK;
}

static al_status al_rep_int(const al_spec *s, const cJSON *rep, const char *key, int def, int hi, int *out,
                            al_error *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(rep, key);
    *out = def;
    if (!v) return AL_OK;
    char p[64];
    snprintf(p, sizeof p, "report.%s", key);
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble || v->valuedouble < 1 ||
        v->valuedouble > hi)
        return al_spec_bad(s, e, p, "expected an integer in [1, %d]", hi);
    *out = (int)v->valuedouble;
    return AL_OK;
}

al_status al_spec_report(al_spec *s, const cJSON *rep, al_error *e) {
    static const char *const keys[] = {"title", "intro", "max_rows", "max_cols", "captions", NULL};
    if (rep && !cJSON_IsObject(rep)) return al_spec_bad(s, e, "report", "expected an object");
    if (al_spec_keys(s, rep, "report", keys, e)) return e->status;
    const char *title;
    if (al_spec_str(s, rep, "title", "report", &title, e) || al_spec_str(s, rep, "intro", "report", &s->intro, e) ||
        al_rep_int(s, rep, "max_rows", 40, 1000000, &s->max_rows, e) ||
        al_rep_int(s, rep, "max_cols", 14, 1000, &s->max_cols, e))
        return e->status;
    if (title) s->title = title;
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(rep, "captions"), *c;
    if (cap && !cJSON_IsObject(cap))
        return al_spec_bad(s, e, "report.captions", "expected an object {\"STEP/FIGURE\": \"caption\"}");
    cJSON_ArrayForEach(c, cap) if (!cJSON_IsString(c)) {
        char p[300];
        snprintf(p, sizeof p, "report.captions.%s", c->string);
        return al_spec_bad(s, e, p, "expected a string");
    }
    s->captions = cap;
    return AL_OK;
}
