/* One unit: a step's analysis on one input item, called in-process through the command table into a staging
 * folder renamed into OUT/steps/STEP/ITEM when complete, under a key that lets reruns skip it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/figure.h"
#include "../core/json.h"
#include "../core/provenance.h"
#include "../core/table.h"
#include "commands.h"
#include "run.h"
#include "run_argv.h"
#include "run_sinks.h"
#include "runfs.h"
#include "runown.h"

static int al_cmp_items(const void *a, const void *b) {
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* the file a path parameter names: a path relative to the spec, or the single file of an input */
static void al_param_file(const al_run *r, const cJSON *v, char *out, size_t n) {
    const al_spec *s = r->spec;
    if (cJSON_IsString(v)) {
        char joined[8192];
        al_fs_join(s->dir, v->valuestring, joined, sizeof joined);
        al_fs_abspath(joined, out, n);
        return;
    }
    const char *name = cJSON_GetObjectItemCaseSensitive(v, "input")->valuestring;
    for (int k = 0; k < s->ninputs; k++)
        if (!strcmp(s->inputs[k].name, name)) al_item_path(r, s->inputs[k].item0, 0, out, n);
}

static const al_pdef *al_pdef_of(const al_step *st, const char *canon) {
    for (const al_pdef *d = st->def->params; d && d->name; d++)
        if (!strcmp(d->name, canon)) return d;
    return NULL;
}

cJSON *al_params_canonical(al_run *r, const al_step *st, al_error *e) {
    uint64_t f0 = al_alloc_cjson_failures(); /* cJSON reports a failed allocation only by a missing field */
    int n = cJSON_GetArraySize(st->params), k = 0;
    cJSON **v = al_calloc((size_t)(n ? n : 1), sizeof *v);
    cJSON *o = cJSON_CreateObject();
    if (!v || !o) goto oom;
    const cJSON *p;
    cJSON_ArrayForEach(p, st->params) {
        char canon[64], path[4096], id[AL_IDENT_MAX];
        al_param_canon(p->string, canon, sizeof canon);
        const al_pdef *d = al_pdef_of(st, canon);
        cJSON *x;
        if (d && d->type == AL_PT_PATH) { /* content, not location, decides whether results are still valid */
            al_param_file(r, p, path, sizeof path);
            if (al_file_ident(path, r->spec->full_hash || !strcmp(r->common.hash, "full"), id, e) != AL_OK) goto fail;
            x = cJSON_CreateString(id);
        } else
            x = cJSON_Duplicate(p, 1);
        if (!x) goto oom;
        /* sorted by the canonical name, kept meanwhile in the item's own key field */
        cJSON_free(x->string);
        x->string = al_strdup(canon);
        if (!x->string) {
            cJSON_Delete(x);
            goto oom;
        }
        v[k++] = x;
    }
    qsort(v, (size_t)k, sizeof *v, al_cmp_items);
    for (int i = 0; i < k; i++) {
        char *name = v[i]->string;
        v[i]->string = NULL;
        al_json_add(o, name, v[i]);
        al_free(name);
    }
    al_free(v);
    if (al_alloc_cjson_failures() == f0) return o;
    cJSON_Delete(o);
    al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    return NULL;
oom:
    al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
fail:
    for (int i = 0; v && i < k; i++) {
        al_free(v[i]->string);
        v[i]->string = NULL;
        cJSON_Delete(v[i]);
    }
    al_free(v);
    cJSON_Delete(o);
    return NULL;
}

al_status al_unit_key(al_run *r, al_unit *u, al_error *e) {
    const al_step *st = &r->spec->steps[u->step];
    cJSON *p = al_params_canonical(r, st, e);
    if (!p) return e->status;
    al_buf b = {0}; /* the key's material; the device only when it is not the CPU (a GPU sums in another order) */
    al_buf_printf(&b, "attnlab run unit 1\nversion: %s (%s)\nanalysis: %s\nparams: ", al_version(), al_git_hash(),
                  st->analysis);
    al_json_exact(&b, p);
    cJSON_Delete(p);
    al_buf_printf(&b, "\ninput: %s\n", r->ident[u->item]);
    if (strcmp(r->common.device, "cpu") != 0) al_buf_printf(&b, "device: %s\n", r->common.device);
    if (u->pass[0]) al_buf_printf(&b, "pass: %s\n", u->pass); /* computed with other analyses in one read */
    if (b.failed) {
        al_buf_free(&b);
        return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    al_sha256_text(b.s, u->key);
    al_buf_free(&b);
    return AL_OK;
}

void al_unit_stored_key(const al_run *r, const al_unit *u, char key[65]) {
    char p[4600];
    key[0] = 0;
    snprintf(p, sizeof p, "%s/steps/%s/%s/unit.json", r->out, r->spec->steps[u->step].name, r->spec->items[u->item].id);
    al_error e;
    char *text = al_fs_read(p, NULL, &e);
    if (!text) return;
    cJSON *j = cJSON_Parse(text);
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "key");
    if (cJSON_IsString(k) && strlen(k->valuestring) == 64) snprintf(key, 65, "%s", k->valuestring);
    cJSON_Delete(j);
    al_free(text);
}

static void al_build_argv(const al_run *r, const al_unit *u, const char *stage, al_argv *a, const char *skip_param) {
    const al_spec *s = r->spec;
    const al_step *st = &s->steps[u->step];
    char path[4096];
    al_arg(a, st->analysis);
    for (int f = 0; f < s->items[u->item].nfiles; f++) {
        al_item_path(r, u->item, f, path, sizeof path);
        al_arg(a, path);
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, st->params) {
        char canon[64];
        al_param_canon(p->string, canon, sizeof canon);
        if (skip_param && !strcmp(canon, skip_param)) continue;
        const al_pdef *d = al_pdef_of(st, canon);
        if (d && d->type == AL_PT_PATH) {
            al_param_file(r, p, path, sizeof path);
            char flag[80];
            snprintf(flag, sizeof flag, "--%s", canon);
            al_arg(a, flag);
            al_arg(a, path);
        } else
            al_param_flags(a, canon, p, d && d->type == AL_PT_IDS);
    }
    al_argv_tail(r, a, stage);
}

void al_argv_tail(const al_run *r, al_argv *a, const char *stage) {
    const al_spec *s = r->spec;
    al_arg(a, "-o");
    al_arg(a, stage);
    al_arg(a, "--quiet");
    char num[64];
    if (r->common.threads > 0) {
        snprintf(num, sizeof num, "%lld", (long long)r->common.threads);
        al_arg(a, "--threads");
        al_arg(a, num);
    }
    snprintf(num, sizeof num, "%lld", (long long)r->common.mem);
    al_arg(a, "--mem");
    al_arg(a, num);
    if (s->full_hash || !strcmp(r->common.hash, "full")) {
        al_arg(a, "--hash");
        al_arg(a, "full");
    }
    if (strcmp(r->common.device, "cpu") != 0) {
        al_arg(a, "--device");
        al_arg(a, r->common.device);
    }
    al_arg(a, "--figure-format"); /* the run's (command line, else the spec's): units would reset it to png */
    al_arg(a, al_figure_ext());
}

/* unit.json: what the folder holds and under which key; written last, inside the staging folder */
static al_status al_unit_manifest(al_run *r, const al_unit *u, const al_argv *a, const char *stage, al_error *e) {
    const al_spec *s = r->spec;
    const al_step *st = &s->steps[u->step];
    uint64_t f0 = al_alloc_cjson_failures();
    cJSON *o = cJSON_CreateObject(), *in, *av;
    char ver[96], p[4600];
    snprintf(ver, sizeof ver, "%s (%s)", al_version(), al_git_hash());
    cJSON_AddStringToObject(o, "attnlab_version", ver);
    cJSON_AddStringToObject(o, "key", u->key);
    cJSON_AddStringToObject(o, "step", st->name);
    cJSON_AddStringToObject(o, "analysis", st->analysis);
    cJSON_AddStringToObject(o, "item", s->items[u->item].id);
    cJSON_AddStringToObject(o, "identity", r->ident[u->item]);
    cJSON *params = al_params_canonical(r, st, e);
    if (!params) {
        cJSON_Delete(o);
        return e->status;
    }
    al_json_add(o, "params", params);
    in = cJSON_AddArrayToObject(o, "inputs");
    for (int f = 0; f < s->items[u->item].nfiles; f++)
        al_json_push(in, cJSON_CreateString(s->items[u->item].files[f]));
    av = cJSON_AddArrayToObject(o, "argv");
    for (int i = 0; i < a->n; i++)
        al_json_push(av, cJSON_CreateString(a->v[i]));
    char *text = al_alloc_cjson_failures() == f0 ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    snprintf(p, sizeof p, "%s/unit.json", stage);
    al_status res = al_fs_write_atomic(p, text, e);
    cJSON_free(text);
    return res;
}

al_status al_unit_stage(const al_run *r, char *stage, size_t n, al_error *e) {
    al_own_tmp(r, "unit", stage, n);
    if (mkdir(stage, 0777) != 0) return al_fail(e, AL_EWRITE, stage, NULL, "cannot create folder: %s", strerror(errno));
    return AL_OK;
}

al_status al_unit_commit(al_run *r, al_unit *u, const al_argv *a, const char *stage, int64_t K, al_error *e) {
    const al_spec *s = r->spec;
    const al_step *st = &s->steps[u->step];
    char dst[4600];
    snprintf(dst, sizeof dst, "steps/%s/%s", st->name, s->items[u->item].id);
    al_status res = AL_OK;
    if (st->def->combine == AL_COMBINE_SINKS) res = al_sinks_write_stats(r, u, stage, K, e);
    if (res == AL_OK) res = al_unit_manifest(r, u, a, stage, e);
    if (res == AL_OK) res = al_own_swap(r, stage, dst, e);
    if (res != AL_OK) al_fs_rmtree(stage);
    return res;
}

al_status al_unit_run(al_run *r, al_unit *u, al_error *e) {
    const al_spec *s = r->spec;
    const al_step *st = &s->steps[u->step];
    char stage[4300], errf[4400];
    al_own_tmp(r, "err", errf, sizeof errf);
    int64_t T = 0, K = 0;
    int sinks = st->def->combine == AL_COMBINE_SINKS;
    if (sinks && al_sinks_prepare(r, u, &T, &K, e) != AL_OK) {
        u->status = al_exit_code(e->status);
        return e->status;
    }
    if (al_unit_stage(r, stage, sizeof stage, e) != AL_OK) return e->status;
    al_argv a = {0};
    al_build_argv(r, u, stage, &a, sinks ? "positions" : NULL);
    if (sinks) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)T);
        al_arg(&a, "--positions");
        al_arg(&a, num);
    }
    al_status res = AL_OK;
    if (a.bad) res = al_fail(e, AL_ENOMEM, NULL, NULL, "too many parameters or out of memory");
    if (res == AL_OK) {
        int rc = al_run_command(&a, errf, u->reason, sizeof u->reason);
        if (rc != 0) {
            u->status = rc;
            res = al_fail(e, rc == 2 ? AL_EUSAGE : AL_EINTERNAL, NULL, NULL, "%s", u->reason);
        }
    }
    if (res == AL_OK)
        res = al_unit_commit(r, u, &a, stage, K, e); /* removes stage on failure */
    else
        al_fs_rmtree(stage);
    al_argv_free(&a);
    return res;
}
