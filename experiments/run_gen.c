/* Generated inputs (`synth` and `record` through the command table, synthetic logs from datasets/synth_logs.h),
 * each made in a staging folder renamed to OUT/inputs/ITEM/ with gen.json holding its key. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/buf.h"
#include "../core/json.h"
#include "../core/provenance.h"
#include "../datasets/synth_logs.h"
#include "run.h"
#include "run_argv.h"
#include "runfs.h"
#include "runown.h"

static int64_t al_gp_int(const cJSON *p, const char *name, int64_t def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!v) { /* the spec may spell it with '_' */
        char alt[64];
        snprintf(alt, sizeof alt, "%s", name);
        for (char *c = alt; *c; c++)
            *c = *c == '-' ? '_' : *c;
        v = cJSON_GetObjectItemCaseSensitive(p, alt);
    }
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static double al_gp_num(const cJSON *p, const char *name, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, name);
    if (!v) {
        char alt[64];
        snprintf(alt, sizeof alt, "%s", name);
        for (char *c = alt; *c; c++)
            *c = *c == '-' ? '_' : *c;
        v = cJSON_GetObjectItemCaseSensitive(p, alt);
    }
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

int al_gen_key(const al_spec *s, int item, const char *model_ident, char hex[65]) {
    const al_item *it = &s->items[item];
    const al_input *in = &s->inputs[it->input];
    /* canonical parameters: names with '-', sorted; the seed of item k is seed + k */
    const char *names[64];
    const cJSON *vals[64];
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, in->params) if (n < 64) names[n] = v->string, vals[n++] = v;
    char canon[64], c2[64];
    al_buf b = {0};
    al_buf_printf(&b, "attnlab run input 1\nversion: %s (%s)\nkind: %s\nmodel: %s\nindex: %lld\n", al_version(),
                  al_git_hash(), in->gen->kind, model_ident ? model_ident : "-", (long long)it->index);
    for (int i = 0; i < n; i++) { /* selection sort by canonical name: a handful of parameters */
        int m = i;
        for (int j = i + 1; j < n; j++) {
            al_param_canon(names[j], canon, sizeof canon);
            al_param_canon(names[m], c2, sizeof c2);
            if (strcmp(canon, c2) < 0) m = j;
        }
        const char *tn = names[i];
        const cJSON *tv = vals[i];
        names[i] = names[m], vals[i] = vals[m], names[m] = tn, vals[m] = tv;
        al_param_canon(names[i], canon, sizeof canon);
        al_buf_printf(&b, "param %s: ", canon);
        al_json_exact(&b, vals[i]);
        al_buf_printf(&b, "\n");
    }
    int bad = b.failed || !b.s;
    if (!bad) al_sha256_text(b.s, hex);
    al_buf_free(&b);
    return bad ? -1 : 0;
}

static al_status al_gen_logs(const al_input *in, int64_t k, const char *path, al_error *e) {
    const cJSON *p = in->params;
    uint64_t seed = (uint64_t)(al_gp_int(p, "seed", 0) + k);
    if (!strcmp(in->gen->kind, "kl-drift")) {
        al_synth_kl_params q;
        al_synth_kl_defaults(&q);
        q.seed = seed;
        q.conversations = al_gp_int(p, "conversations", q.conversations);
        q.turns = al_gp_int(p, "turns", q.turns);
        q.reminder_every = al_gp_int(p, "reminder-every", q.reminder_every);
        q.kappa = al_gp_num(p, "kappa", q.kappa);
        q.equilibrium = al_gp_num(p, "equilibrium", q.equilibrium);
        q.start = al_gp_num(p, "start", q.start);
        q.noise = al_gp_num(p, "noise", q.noise);
        q.reminders = al_gp_num(p, "reminders", q.reminders);
        q.reminder_effect = al_gp_num(p, "reminder-effect", q.reminder_effect);
        return al_synth_kl_write(&q, path, e);
    }
    if (!strcmp(in->gen->kind, "semdrift")) {
        al_synth_sem_params q;
        al_synth_sem_defaults(&q);
        q.seed = seed;
        q.samples = al_gp_int(p, "samples", q.samples);
        q.noise = al_gp_num(p, "noise", q.noise);
        return al_synth_sem_write(&q, path, e);
    }
    al_synth_cras_params q;
    al_synth_cras_defaults(&q);
    q.seed = seed;
    q.queries = al_gp_int(p, "queries", q.queries);
    q.records = al_gp_int(p, "records", q.records);
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(p, "roles"), *x;
    const char *rv[64];
    int nr = 0;
    if (cJSON_IsString(roles)) rv[nr++] = roles->valuestring;
    cJSON_ArrayForEach(x, (cJSON_IsArray(roles) ? roles : NULL)) if (nr < 64) rv[nr++] = x->valuestring;
    if (nr) q.roles = rv, q.nroles = nr;
    return al_synth_cras_write(&q, path, e);
}

/* synth and record through the command table, with the spec's parameters as flags */
static al_status al_gen_command(const al_run *r, const al_input *in, int64_t k, const char *stage, const char *model,
                                al_error *e) {
    al_argv a = {0};
    char out[4600], num[32], errf[4400], reason[1100];
    int synth = in->gen->how == AL_GEN_SYNTH, multi = in->gen->nfiles > 1;
    snprintf(out, sizeof out, multi ? "%s" : "%s/%s", stage, in->gen->files[0]);
    al_arg(&a, synth ? "synth" : "record");
    al_arg(&a, synth ? in->gen->kind : model);
    al_arg(&a, "-o");
    al_arg(&a, out);
    al_arg(&a, "--quiet");
    const cJSON *v;
    cJSON_ArrayForEach(v, in->params) {
        char canon[64];
        al_param_canon(v->string, canon, sizeof canon);
        if (strcmp(canon, "seed") != 0) al_param_flags(&a, canon, v, 0);
    }
    snprintf(num, sizeof num, "%lld", (long long)(al_gp_int(in->params, "seed", 0) + k));
    al_arg(&a, "--seed");
    al_arg(&a, num);
    al_own_tmp(r, "err", errf, sizeof errf);
    al_status st = AL_OK;
    if (a.bad)
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "too many parameters or out of memory");
    else {
        int rc = al_run_command(&a, errf, reason, sizeof reason);
        if (rc != 0) st = al_fail(e, rc == 2 ? AL_EUSAGE : AL_EINTERNAL, NULL, NULL, "%s", reason);
    }
    al_argv_free(&a);
    return st;
}

al_status al_gen_item(al_run *r, int item, al_error *e) {
    const al_spec *s = r->spec;
    const al_item *it = &s->items[item];
    const al_input *in = &s->inputs[it->input];
    char model[4096] = "", mident[AL_IDENT_MAX] = "", key[65], dst[4400], stage[4400], p[4700];
    if (in->gen->how == AL_GEN_RECORD) {
        char joined[8192];
        al_fs_join(s->dir, in->model, joined, sizeof joined);
        al_fs_abspath(joined, model, sizeof model);
        if (al_file_ident(model, 0, mident, e) != AL_OK) return e->status;
    }
    if (al_gen_key(s, item, mident[0] ? mident : NULL, key)) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    snprintf(dst, sizeof dst, "%s/inputs/%s", r->out, it->id);
    snprintf(p, sizeof p, "%s/gen.json", dst);
    al_error ignore;
    char *text = al_fs_read(p, NULL, &ignore);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "key");
    int fresh = cJSON_IsString(k) && !strcmp(k->valuestring, key);
    for (int f = 0; f < it->nfiles && fresh; f++) {
        al_item_path(r, item, f, p, sizeof p);
        fresh = al_fs_exists(p);
    }
    cJSON_Delete(j);
    al_free(text);
    snprintf(r->ident[item], sizeof r->ident[item], "generated:%s", key);
    if (fresh) {
        al_run_say(r, "input %s: up to date (%s)", it->id, it->label);
        return AL_OK;
    }
    al_own_tmp(r, "gen", stage, sizeof stage);
    if (al_fs_mkdirs(stage, e) != AL_OK) return e->status;
    double t0 = al_now();
    al_status st;
    if (in->gen->how == AL_GEN_LOGS) {
        snprintf(p, sizeof p, "%s/%s", stage, in->gen->files[0]);
        st = al_gen_logs(in, it->index, p, e);
    } else
        st = al_gen_command(r, in, it->index, stage, model, e);
    if (st == AL_OK) {
        uint64_t f0 = al_alloc_cjson_failures();
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", key);
        cJSON_AddStringToObject(o, "kind", in->gen->kind);
        cJSON_AddNumberToObject(o, "index", (double)it->index);
        if (in->params) al_json_add(o, "params", cJSON_Duplicate(in->params, 1));
        if (model[0]) cJSON_AddStringToObject(o, "model", model), cJSON_AddStringToObject(o, "model_identity", mident);
        char *gj = al_alloc_cjson_failures() == f0 ? cJSON_Print(o) : NULL;
        cJSON_Delete(o);
        snprintf(p, sizeof p, "%s/gen.json", stage);
        st = gj ? al_fs_write_atomic(p, gj, e) : al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
        cJSON_free(gj);
    }
    snprintf(p, sizeof p, "inputs/%s", it->id);
    if (st == AL_OK) st = al_own_swap(r, stage, p, e);
    if (st != AL_OK)
        al_fs_rmtree(stage);
    else
        al_run_say(r, "input %s: generated in %.1fs (%s)", it->id, al_now() - t0, it->label);
    return st;
}
