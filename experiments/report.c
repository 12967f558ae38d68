/* Writing report.md. Numbers are shown with 6 significant digits (the TSV and JSON beside it keep every digit);
 * long tables are cut at report.max_rows rows and report.max_cols columns with a link to the whole table. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/figure.h"
#include "../core/provenance.h"
#include "runfs.h"
#include "runown.h"

static void al_md_text(al_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            al_buf_printf(b, "\\|");
        else if (*s == '\n')
            al_buf_printf(b, " ");
        else
            al_buf_printf(b, "%c", *s);
    }
}

static void al_md_table(al_buf *b, const al_table *t, int max_rows, int max_cols, const char *link) {
    int nc = t->ncols > max_cols ? max_cols : t->ncols;
    int64_t nr = t->nrows > max_rows ? max_rows : t->nrows;
    al_buf_printf(b, "|");
    for (int c = 0; c < nc; c++) {
        al_buf_printf(b, " ");
        al_md_text(b, t->cols[c]);
        al_buf_printf(b, " |");
    }
    al_buf_printf(b, "%s\n|", nc < t->ncols ? " ... |" : "");
    for (int c = 0; c < nc + (nc < t->ncols); c++)
        al_buf_printf(b, "---|");
    al_buf_printf(b, "\n");
    for (int64_t r = 0; r < nr; r++) {
        al_buf_printf(b, "|");
        for (int c = 0; c < nc; c++) {
            const al_cell *x = &t->cells[r * t->ncols + c];
            al_buf_printf(b, " ");
            if (x->kind == AL_CELL_INT)
                al_buf_printf(b, "%lld", (long long)x->i);
            else if (x->kind == AL_CELL_NUM)
                al_buf_printf(b, "%.6g", x->d);
            else if (x->kind == AL_CELL_STR)
                al_md_text(b, x->s);
            al_buf_printf(b, " |");
        }
        al_buf_printf(b, "%s\n", nc < t->ncols ? " ... |" : "");
    }
    if (nr < t->nrows || nc < t->ncols)
        al_buf_printf(b, "\n_Shown: %lld of %lld rows, %d of %d columns; the whole table: [%s](%s)._\n", (long long)nr,
                      (long long)t->nrows, nc, t->ncols, link, link);
}

static const char *al_state_name(const al_unit *u) {
    switch (u->state) {
    case AL_U_DONE: return "done";
    case AL_U_FAILED: return "failed";
    case AL_U_SKIPPED: return "skipped";
    case AL_U_ELSEWHERE: return "in another shard";
    default: return "not run";
    }
}

/* "!" embeds a PNG or SVG figure in the Markdown; a PDF is linked */
static const char *al_report_embed(void) {
    return al_figure_format_get() == AL_FIGFMT_PDF ? "" : "!";
}

static void al_unit_figures(al_buf *b, const al_run *r, const al_spec *s, const al_unit *u) {
    char dir[5000], rel[800], png[8192];
    snprintf(rel, sizeof rel, "steps/%s/%s", s->steps[u->step].name, s->items[u->item].id);
    snprintf(dir, sizeof dir, "%s/%s", r->out, rel);
    char **v;
    int n = al_fs_list(dir, ".gp", &v);
    if (n == -2) b->failed = 1; /* a figure left out: no report rather than an incomplete one */
    for (int i = 0; i < n; i++) {
        v[i][strlen(v[i]) - 3] = 0;
        snprintf(png, sizeof png, "%s/%s.%s", dir, v[i], al_figure_ext());
        char key[300];
        snprintf(key, sizeof key, "%s/%s", s->steps[u->step].name, v[i]);
        const cJSON *cap = cJSON_GetObjectItemCaseSensitive(s->captions, key);
        if (al_fs_exists(png))
            al_buf_printf(b, "%s[%s (%s)](%s/%s.%s)\n", al_report_embed(), v[i], s->items[u->item].id, rel, v[i],
                          al_figure_ext());
        else
            al_buf_printf(b, "- %s (%s): [gnuplot script](%s/%s.gp)\n", v[i], s->items[u->item].id, rel, v[i]);
        al_buf_printf(b, "%s%s%s\n", cJSON_IsString(cap) ? "\n_" : "", cJSON_IsString(cap) ? cap->valuestring : "",
                      cJSON_IsString(cap) ? "_\n" : "");
    }
    al_fs_names_free(v, n);
}

static void al_report_step(al_buf *b, const al_run *r, const al_spec *s, int i, const al_tabset *ts) {
    const al_step *st = &s->steps[i];
    const al_input *in = &s->inputs[st->input];
    al_buf_printf(b, "\n## Step `%s`: %s%s%s\n\n", st->name, st->analysis, st->title ? " — " : "",
                  st->title ? st->title : "");
    if (st->note) al_buf_printf(b, "%s\n\n", st->note);
    al_buf_printf(b, "- Input: `%s` (%d item%s)\n", in->name, in->nitems, in->nitems == 1 ? "" : "s");
    if (ts->params) {
        char *p = cJSON_PrintUnformatted(ts->params);
        al_buf_printf(b, "- Parameters (canonical; files by content): `%s`\n", p ? p : "?");
        cJSON_free(p);
    }
    if (st->skip[0]) al_buf_printf(b, "- **Skipped**: %s\n", st->skip);
    int nu = 0;
    for (int k = 0; k < r->nunits; k++)
        nu += r->units[k].step == i;
    if (nu) {
        al_buf_printf(b, "\n| item | state | unit key | note |\n|---|---|---|---|\n");
        for (int k = 0; k < r->nunits; k++) {
            const al_unit *u = &r->units[k];
            if (u->step != i) continue;
            al_buf_printf(b, "| %s | %s | %.12s | ", s->items[u->item].id, al_state_name(u),
                          u->state == AL_U_DONE ? u->key : "");
            if (u->state == AL_U_FAILED || u->state == AL_U_SKIPPED) al_md_text(b, u->reason);
            al_buf_printf(b, " |\n");
        }
    }
    for (int t = 0; t < ts->n; t++) {
        char link[400];
        snprintf(link, sizeof link, "tables/%s/%s.tsv", st->name, ts->t[t]->name);
        al_buf_printf(b, "\n### %s\n\n", ts->t[t]->name);
        if (strcmp(ts->t[t]->title, ts->t[t]->name) != 0) al_buf_printf(b, "%s. ", ts->t[t]->title);
        al_buf_printf(b, "[TSV](%s), [JSON](tables/%s/%s.json)%s\n\n", link, st->name, ts->t[t]->name,
                      st->def->combine == AL_COMBINE_SINKS && ts->units > 1 && al_table_col(ts->t[t], "input") < 0
                          ? "; pooled over the inputs"
                          : "");
        al_md_table(b, ts->t[t], s->max_rows, s->max_cols, link);
    }
    int first = 1;
    for (int k = 0; k < r->nunits; k++) {
        const al_unit *u = &r->units[k];
        if (u->step != i || u->state != AL_U_DONE) continue;
        if (first) al_buf_printf(b, "\n### Figures of `%s`\n\n", st->name);
        first = 0;
        al_unit_figures(b, r, s, u);
    }
}

al_status al_report_write(al_run *r, const al_tabset *ts, char (*figwhy)[400], al_error *e) {
    const al_spec *s = r->spec;
    al_buf b = {0};
    int cnt[5] = {0};
    for (int k = 0; k < r->nunits; k++)
        cnt[r->units[k].state]++;
    al_buf_printf(&b, "# %s\n\n", s->title ? s->title : s->name);
    if (s->description) al_buf_printf(&b, "%s\n\n", s->description);
    if (s->mirrors) al_buf_printf(&b, "- Mirrors: %s\n", s->mirrors);
    if (s->needs) al_buf_printf(&b, "- Input it needs: %s\n", s->needs);
    al_buf_printf(&b, "- Spec: `%s`, sha256 `%s`\n- attnlab %s (%s)\n", s->name, s->sha, al_version(), al_git_hash());
    al_buf_printf(&b, "- Units: %d done, %d failed, %d skipped", cnt[AL_U_DONE], cnt[AL_U_FAILED], cnt[AL_U_SKIPPED]);
    if (cnt[AL_U_ELSEWHERE] || cnt[AL_U_PENDING])
        al_buf_printf(&b,
                      ", %d in other shards (this folder holds shard %d/%d: combine the shards with `attnlab merge`)",
                      cnt[AL_U_ELSEWHERE] + cnt[AL_U_PENDING], r->shard, r->nshards);
    al_buf_printf(&b, "\n");
    if (s->intro) al_buf_printf(&b, "\n%s\n", s->intro);
    if (s->nfigs) al_buf_printf(&b, "\n## Figures\n");
    for (int i = 0; i < s->nfigs; i++) {
        const al_figspec *g = &s->figs[i];
        char png[4400];
        snprintf(png, sizeof png, "%s/figures/%s.%s", r->out, g->name, al_figure_ext());
        al_buf_printf(&b, "\n### %s\n\n", g->title ? g->title : g->name);
        if (figwhy[i][0])
            al_buf_printf(&b, "_%s_\n", figwhy[i]);
        else if (al_fs_exists(png))
            al_buf_printf(&b, "%s[%s](figures/%s.%s)\n", al_report_embed(), g->name, g->name, al_figure_ext());
        else
            al_buf_printf(&b, "[gnuplot script](figures/%s.gp) (gnuplot was not found to render it)\n", g->name);
        if (g->caption) al_buf_printf(&b, "\n%s\n", g->caption);
    }
    al_buf_printf(&b, "\n## Inputs\n\n| input | item | what | files | identity |\n|---|---|---|---|---|\n");
    for (int k = 0; k < s->nitems; k++) {
        const al_item *it = &s->items[k];
        al_buf_printf(&b, "| %s | %s | ", s->inputs[it->input].name, it->id);
        al_md_text(&b, it->label);
        al_buf_printf(&b, " | ");
        for (int f = 0; f < it->nfiles; f++) {
            al_buf_printf(&b, "%s", f ? ", " : "");
            al_md_text(&b, it->files[f]);
        }
        al_buf_printf(&b, " | %s |\n", r->ident[k][0] ? r->ident[k] : "-");
    }
    for (int i = 0; i < s->ninputs; i++)
        if (s->inputs[i].unavailable[0])
            al_buf_printf(&b, "\nInput `%s` is absent: %s\n", s->inputs[i].name, s->inputs[i].unavailable);
    for (int i = 0; i < s->nsteps; i++)
        al_report_step(&b, r, s, i, &ts[i]);
    if (b.failed) {
        al_buf_free(&b);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while writing the report");
    }
    char p[4300];
    snprintf(p, sizeof p, "%s/report.md", r->out);
    al_status st = al_own_add(r, "report.md", e);
    if (st == AL_OK) st = al_fs_write_atomic(p, b.s, e);
    al_buf_free(&b);
    return st;
}
