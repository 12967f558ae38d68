/* Rendering and writing of analysis results. With -o DIR, each table becomes NAME.tsv (with '#'
 * provenance lines) and NAME.json (provenance + rows), the whole document COMMAND.json, each figure NAME.gp. */
#include "result.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "outdir.h"
#include "provenance.h"

al_result *al_result_new(const char *command, int argc, char **argv, const char *const *inputs, int ninputs,
                         cJSON *params, const al_common *c, al_error *e) {
    al_result *r = params ? al_calloc(1, sizeof *r) : NULL; /* no params: al_opts_params ran out of memory */
    if (!r) {
        cJSON_Delete(params);
        al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    snprintf(r->command, sizeof r->command, "%s", command);
    r->cjson_fail0 = al_alloc_cjson_failures();
    r->doc = al_provenance(command, argc, argv, inputs, ninputs, params, c && !strcmp(c->hash, "full"), e);
    if (!r->doc) {
        al_free(r);
        return NULL;
    }
    return r;
}

void al_result_free(al_result *r) {
    if (!r) return;
    cJSON_Delete(r->doc);
    for (int i = 0; i < r->ntables; i++) al_table_free(r->tables[i]);
    for (int i = 0; i < r->nfigs; i++) al_figure_free(r->figs[i]);
    al_free(r);
}

int al_result_table(al_result *r, al_table *t, int on_stdout) {
    if (!t || r->ntables >= AL_RESULT_MAX) {
        r->failed = 1;
        al_table_free(t);
        return -1;
    }
    r->stdout_table[r->ntables] = on_stdout;
    r->tables[r->ntables++] = t;
    return 0;
}

int al_result_figure(al_result *r, al_figure *f) {
    if (!f || r->nfigs >= AL_RESULT_MAX) {
        r->failed = 1;
        al_figure_free(f);
        return -1;
    }
    r->figs[r->nfigs++] = f;
    return 0;
}

cJSON *al_result_params(al_result *r) { return cJSON_GetObjectItemCaseSensitive(r->doc, "params"); }

void al_result_param(al_result *r, const char *key, cJSON *v) {
    /* the key is copied before the tree is touched: cJSON 1.7.15's ReplaceItemInObject inserts the item with a
     * NULL key when that copy fails, which corrupts later look-ups */
    cJSON *p = al_result_params(r);
    char *k = v && p ? cJSON_malloc(strlen(key) + 1) : NULL;
    if (!k) {
        cJSON_Delete(v);
        r->failed = 1;
        return;
    }
    memcpy(k, key, strlen(key) + 1);
    if (v->string && !(v->type & cJSON_StringIsConst)) cJSON_free(v->string);
    v->string = k;
    v->type &= ~cJSON_StringIsConst;
    cJSON *old = cJSON_GetObjectItemCaseSensitive(p, key);
    if (old) cJSON_ReplaceItemViaPointer(p, old, v);
    else cJSON_AddItemToArray(p, v); /* members of an object are its children with their keys set */
}

static cJSON *al_prov_copy(const cJSON *doc) {
    cJSON *o = cJSON_CreateObject();
    static const char *keys[] = {"attnlab_version", "command", "inputs", "params"};
    for (int i = 0; o && i < 4; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, keys[i]);
        if (v) al_json_add(o, keys[i], cJSON_Duplicate(v, 1));
    }
    return o;
}

static int al_print_json(FILE *f, const cJSON *j) { return al_json_write(f, j); }

/* Any cJSON allocation that failed since the result was created left a field out somewhere: no output then. */
static al_status al_result_complete(const al_result *r, al_error *e) {
    if (r->failed || al_alloc_cjson_failures() != r->cjson_fail0)
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory while building the %s output", r->command);
    return AL_OK;
}

static al_status al_write_dir(al_result *r, const al_common *c, al_error *e) {
    al_outdir od;
    if (al_outdir_begin(&od, c->out, e) != AL_OK) return e->status;
    char name[300], path[4800];
    FILE *f;
    for (int i = 0; i < r->ntables; i++) {
        const al_table *t = r->tables[i];
        snprintf(name, sizeof name, "%s.tsv", t->name);
        if (!(f = al_outdir_open(&od, name, path, sizeof path, e))) goto fail;
        int oom = al_provenance_tsv(r->doc, f);
        al_table_write(t, AL_FMT_TSV, f);
        if (oom | ferror(f) | (fclose(f) != 0)) {
            al_fail(e, oom ? AL_ENOMEM : AL_EWRITE, path, NULL, oom ? "out of memory" : "write failed");
            goto fail;
        }
        snprintf(name, sizeof name, "%s.json", t->name);
        if (!(f = al_outdir_open(&od, name, path, sizeof path, e))) goto fail;
        cJSON *j = al_prov_copy(r->doc);
        if (j) al_json_add(j, "rows", al_table_json(t));
        int bad = !j || al_print_json(f, j) != 0;
        cJSON_Delete(j);
        if (bad | ferror(f) | (fclose(f) != 0)) {
            al_fail(e, AL_EWRITE, path, NULL, "write failed");
            goto fail;
        }
    }
    snprintf(name, sizeof name, "%s.json", r->command);
    if (!(f = al_outdir_open(&od, name, path, sizeof path, e))) goto fail;
    if ((al_print_json(f, r->doc) != 0) | ferror(f) | (fclose(f) != 0)) {
        al_fail(e, AL_EWRITE, path, NULL, "write failed");
        goto fail;
    }
    int render = al_gnuplot_available();
    for (int i = 0; i < r->nfigs; i++)
        if (al_figure_write(r->figs[i], od.stage, render, e) != AL_OK) goto fail;
    if (al_result_complete(r, e) != AL_OK || al_outdir_commit(&od, e) != AL_OK) goto fail;
    if (!c->quiet)
        fprintf(stderr, "attnlab %s: wrote %d tables and %d figures%s to %s/\n", r->command, r->ntables, r->nfigs,
                render ? "" : " (gnuplot not found: .gp scripts only)", c->out);
    return AL_OK;
fail:
    al_outdir_abort(&od);
    return e->status;
}

al_status al_result_emit(al_result *r, const al_common *c, al_error *e) {
    if (al_result_complete(r, e) != AL_OK) return e->status;
    if (c->out && al_write_dir(r, c, e) != AL_OK) return e->status;
    if (c->out && !c->format && !isatty(STDOUT_FILENO)) return AL_OK; /* on a terminal, the tables are shown too */
    al_format fmt = al_format_parse(c->format);
    if (fmt == AL_FMT_JSON) {
        /* built whole before anything reaches stdout */
        if (al_result_complete(r, e) != AL_OK || al_json_write(stdout, r->doc) != 0)
            return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    } else {
        if (fmt == AL_FMT_TSV && al_provenance_tsv(r->doc, stdout) != 0)
            return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        int first = 1;
        for (int i = 0; i < r->ntables; i++) {
            if (!r->stdout_table[i]) continue;
            if (!first) fputc('\n', stdout);
            if (fmt == AL_FMT_MD) printf("### %s\n\n", r->tables[i]->title);
            else if (fmt != AL_FMT_TABLE && !first) printf("# table: %s\n", r->tables[i]->name);
            else if (fmt == AL_FMT_TSV || fmt == AL_FMT_CSV) printf("# table: %s\n", r->tables[i]->name);
            al_table_write(r->tables[i], fmt, stdout);
            first = 0;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) return al_fail(e, AL_EWRITE, "<stdout>", NULL, "write failed");
    return AL_OK;
}
