/* The last phase of `run` and `merge`: run.json (what merge needs), the combined tables and the spec's figures
 * built in a staging folder and swapped into OUT/tables and OUT/figures, then report.md. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/figure.h"
#include "../core/json.h"
#include "../core/outdir.h"
#include "../core/provenance.h"
#include "combine.h"
#include "report.h"
#include "run.h"
#include "run_figs.h"
#include "runfs.h"
#include "runown.h"

static const char *const al_state_str[] = {"pending", "done", "failed", "skipped", "elsewhere"};

al_status al_run_write_manifest(al_run *r, al_error *e) {
    const al_spec *s = r->spec;
    uint64_t f0 = al_alloc_cjson_failures();
    cJSON *o = cJSON_CreateObject(), *sp, *a;
    char ver[96], p[4300];
    snprintf(ver, sizeof ver, "%s (%s)", al_version(), al_git_hash());
    cJSON_AddStringToObject(o, "attnlab_version", ver);
    sp = cJSON_AddObjectToObject(o, "spec");
    cJSON_AddStringToObject(sp, "file", s->file);
    cJSON_AddStringToObject(sp, "dir", s->dir);
    cJSON_AddStringToObject(sp, "sha256", s->sha);
    cJSON_AddStringToObject(sp, "text", s->text);
    a = cJSON_AddArrayToObject(o, "shard");
    al_json_push(a, cJSON_CreateNumber(r->shard));
    al_json_push(a, cJSON_CreateNumber(r->nshards));
    cJSON_AddNumberToObject(o, "merged_from", r->merged_from);
    a = cJSON_AddArrayToObject(o, "inputs");
    for (int i = 0; i < s->ninputs; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->inputs[i].name);
        cJSON_AddStringToObject(x, "absent", s->inputs[i].unavailable);
        al_json_push(a, x);
    }
    a = cJSON_AddArrayToObject(o, "steps");
    for (int i = 0; i < s->nsteps; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", s->steps[i].name);
        cJSON_AddStringToObject(x, "skip", s->steps[i].skip);
        al_json_push(a, x);
    }
    a = cJSON_AddArrayToObject(o, "items");
    for (int i = 0; i < s->nitems; i++) {
        const al_item *it = &s->items[i];
        cJSON *x = cJSON_CreateObject(), *f = cJSON_CreateArray();
        cJSON_AddStringToObject(x, "id", it->id);
        cJSON_AddStringToObject(x, "label", it->label);
        cJSON_AddNumberToObject(x, "input", it->input);
        cJSON_AddNumberToObject(x, "index", (double)it->index);
        cJSON_AddBoolToObject(x, "generated", it->generated);
        for (int k = 0; k < it->nfiles; k++)
            al_json_push(f, cJSON_CreateString(it->files[k]));
        al_json_add(x, "files", f);
        cJSON_AddStringToObject(x, "identity", r->ident[i]);
        al_json_push(a, x);
    }
    a = cJSON_AddArrayToObject(o, "units");
    for (int i = 0; i < r->nunits; i++) {
        const al_unit *u = &r->units[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "step", s->steps[u->step].name);
        cJSON_AddStringToObject(x, "item", s->items[u->item].id);
        cJSON_AddStringToObject(x, "state", al_state_str[u->state]);
        cJSON_AddStringToObject(x, "key", u->key);
        cJSON_AddNumberToObject(x, "status", u->status);
        cJSON_AddStringToObject(x, "reason", u->reason);
        al_json_push(a, x);
    }
    char *text = al_alloc_cjson_failures() == f0 ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    snprintf(p, sizeof p, "%s/run.json", r->out);
    al_status st = al_own_add(r, "run.json", e);
    if (st == AL_OK) st = al_fs_write_atomic(p, text, e);
    cJSON_free(text);
    return st;
}

/* the combined tables as files: NAME.tsv with '#' provenance lines, NAME.json with provenance and rows */
static al_status al_write_tables(const al_run *r, int step, const al_tabset *ts, const char *dir, al_error *e) {
    const al_spec *s = r->spec;
    if (!ts->n) return AL_OK;
    if (al_fs_mkdirs(dir, e) != AL_OK) return e->status;
    char ver[96], cmd[300], p[9000];
    snprintf(ver, sizeof ver, "%s (%s)", al_version(), al_git_hash());
    snprintf(cmd, sizeof cmd, "attnlab run %s (spec sha256 %s): step %s", s->name, s->sha, s->steps[step].name);
    uint64_t f0 = al_alloc_cjson_failures();
    cJSON *prov = cJSON_CreateObject(), *ins;
    cJSON_AddStringToObject(prov, "attnlab_version", ver);
    cJSON_AddStringToObject(prov, "command", cmd);
    ins = cJSON_AddArrayToObject(prov, "inputs");
    for (int i = 0; i < r->nunits; i++) {
        const al_unit *u = &r->units[i];
        if (u->step != step || u->state != AL_U_DONE) continue;
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "item", s->items[u->item].id);
        cJSON_AddStringToObject(x, "label", s->items[u->item].label);
        cJSON_AddStringToObject(x, "identity", r->ident[u->item]);
        cJSON_AddStringToObject(x, "unit_key", u->key);
        al_json_push(ins, x);
    }
    al_json_add(prov, "params", cJSON_Duplicate(ts->params, 1));
    al_status st = al_alloc_cjson_failures() == f0 ? AL_OK : al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int t = 0; t < ts->n && st == AL_OK; t++) {
        char tmp[9100];
        snprintf(p, sizeof p, "%s/%s.tsv", dir, ts->t[t]->name);
        FILE *f = al_atomic_open(p, tmp, sizeof tmp, e);
        if (!f) {
            st = e->status;
            break;
        }
        al_provenance_tsv(prov, f);
        al_table_write(ts->t[t], AL_FMT_TSV, f);
        if ((st = al_atomic_close(f, tmp, p, e)) != AL_OK) break;
        cJSON *j = cJSON_Duplicate(prov, 1);
        al_json_add(j, "rows", al_table_json(ts->t[t]));
        char *text = al_alloc_cjson_failures() == f0 ? cJSON_Print(j) : NULL;
        cJSON_Delete(j);
        snprintf(p, sizeof p, "%s/%s.json", dir, ts->t[t]->name);
        st = text ? al_fs_write_atomic(p, text, e) : al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        cJSON_free(text);
    }
    cJSON_Delete(prov);
    return st;
}

al_status al_run_finish(al_run *r, al_error *e) {
    const al_spec *s = r->spec;
    if (al_run_write_manifest(r, e) != AL_OK) return e->status;
    al_tabset *ts = al_calloc((size_t)s->nsteps, sizeof *ts);
    char(*why)[400] = al_calloc((size_t)(s->nfigs ? s->nfigs : 1), sizeof *why);
    char stage[4300], p[4700];
    if (!ts || !why) {
        al_free(ts), al_free(why);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    al_own_tmp(r, "agg", stage, sizeof stage);
    al_status st = AL_OK;
    al_error fe; /* the first problem with a spec figure: reported after everything else is written */
    al_error_clear(&fe);
    for (int i = 0; i < s->nsteps && st == AL_OK; i++) {
        if ((st = al_combine_step(r, i, &ts[i], e)) != AL_OK) break;
        snprintf(p, sizeof p, "%s/tables/%s", stage, s->steps[i].name);
        st = al_write_tables(r, i, &ts[i], p, e);
    }
    snprintf(p, sizeof p, "%s/tables", stage);
    if (st == AL_OK) st = al_fs_mkdirs(p, e);
    snprintf(p, sizeof p, "%s/figures", stage);
    if (st == AL_OK) st = al_fs_mkdirs(p, e);
    int render = s->nfigs && al_gnuplot_available();
    for (int i = 0; i < s->nfigs && st == AL_OK; i++) {
        al_error ge;
        al_error_clear(&ge);
        if (al_draw_figure(s, &s->figs[i], &ts[s->figs[i].step], p, render, why[i], sizeof why[i], &ge) != AL_OK) {
            if (ge.status == AL_EUSAGE) {
                snprintf(why[i], sizeof why[i], "not drawn: %.380s", ge.msg);
                if (fe.status == AL_OK) fe = ge;
            } else {
                *e = ge;
                st = ge.status;
            }
        }
    }
    for (int k = 0; k < 2 && st == AL_OK; k++) {
        const char *sub = k ? "figures" : "tables";
        snprintf(p, sizeof p, "%s/%s", stage, sub);
        st = al_own_swap(r, p, sub, e);
    }
    al_fs_rmtree(stage);
    if (st == AL_OK) st = al_report_write(r, ts, why, e);
    for (int i = 0; i < s->nsteps; i++)
        al_tabset_free(&ts[i]);
    al_free(ts);
    al_free(why);
    if (st == AL_OK && fe.status != AL_OK) {
        *e = fe;
        st = fe.status;
    }
    return st;
}
