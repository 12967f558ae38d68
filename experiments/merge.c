/* `attnlab merge`: each unit copied from the shard that owns it (item index mod N), then the combined tables,
 * figures and report rebuilt by the code a single run uses, so the result equals that run byte for byte. */
#include "merge.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/alloc.h"
#include "../core/provenance.h"
#include "runfs.h"
#include "runown.h"

static cJSON *al_read_manifest(const char *dir, al_error *e) {
    char p[4300];
    snprintf(p, sizeof p, "%s/run.json", dir);
    if (!al_fs_exists(p)) {
        al_fail(e, AL_EUSAGE, dir, NULL, "no run.json: not the folder of an attnlab run, or its run did not finish");
        return NULL;
    }
    char *text = al_fs_read(p, NULL, e);
    if (!text) return NULL;
    uint64_t f0 = al_alloc_cjson_failures();
    cJSON *j = cJSON_Parse(text);
    al_free(text);
    if (!j)
        al_fail(e, al_alloc_cjson_failures() != f0 ? AL_ENOMEM : AL_EFORMAT, p, NULL, "%s",
                al_alloc_cjson_failures() != f0 ? "out of memory" : "malformed JSON");
    return j;
}

static const char *al_jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* items, absent inputs and skipped steps as the first manifest recorded them */
static al_status al_restore_spec(al_spec *s, const cJSON *m, const char *where, al_error *e) {
    const cJSON *x;
    int i = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(m, "inputs")) {
        if (i < s->ninputs)
            snprintf(s->inputs[i].unavailable, sizeof s->inputs[i].unavailable, "%s", al_jstr(x, "absent"));
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(m, "steps")) {
        if (i < s->nsteps) snprintf(s->steps[i].skip, sizeof s->steps[i].skip, "%s", al_jstr(x, "skip"));
        i++;
    }
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(m, "items");
    int n = cJSON_GetArraySize(items);
    s->items = al_calloc((size_t)(n ? n : 1), sizeof *s->items);
    if (!s->items) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int k = 0; k < s->ninputs; k++)
        s->inputs[k].item0 = -1, s->inputs[k].nitems = 0;
    cJSON_ArrayForEach(x, items) {
        al_item *it = &s->items[s->nitems];
        int in = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "input"));
        if (in < 0 || in >= s->ninputs)
            return al_fail(e, AL_EFORMAT, where, NULL, "run.json: item %d names no input", s->nitems);
        snprintf(it->id, sizeof it->id, "%s", al_jstr(x, "id"));
        snprintf(it->label, sizeof it->label, "%s", al_jstr(x, "label"));
        it->input = in;
        it->index = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "index"));
        it->generated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "generated"));
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(x, "files")) if (it->nfiles < AL_ITEM_MAXF) {
            if (!(it->files[it->nfiles] = al_strdup(cJSON_IsString(f) ? f->valuestring : "")))
                return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
            it->nfiles++;
        }
        if (s->inputs[in].item0 < 0) s->inputs[in].item0 = s->nitems;
        s->inputs[in].nitems++;
        s->nitems++;
    }
    for (int k = 0; k < s->ninputs; k++)
        if (s->inputs[k].item0 < 0) s->inputs[k].item0 = 0;
    return AL_OK;
}

static int al_find_step(const al_spec *s, const char *name) {
    for (int i = 0; i < s->nsteps; i++)
        if (!strcmp(s->steps[i].name, name)) return i;
    return -1;
}

static int al_find_item(const al_spec *s, const char *id) {
    for (int i = 0; i < s->nitems; i++)
        if (!strcmp(s->items[i].id, id)) return i;
    return -1;
}

/* copies the unit's folder from its shard unless OUT already holds it under the same key */
static al_status al_merge_unit(al_run *r, const al_unit *u, const char *src_dir, al_error *e) {
    const al_spec *s = r->spec;
    char src[4600], dst[4600], stage[4400], key[65], p[4700];
    snprintf(src, sizeof src, "%s/steps/%s/%s", src_dir, s->steps[u->step].name, s->items[u->item].id);
    snprintf(dst, sizeof dst, "steps/%s/%s", s->steps[u->step].name, s->items[u->item].id);
    al_unit_stored_key(r, u, key);
    if (!strcmp(key, u->key)) return AL_OK;
    snprintf(p, sizeof p, "%s/unit.json", src);
    uint64_t f0 = al_alloc_cjson_failures();
    al_error re;
    al_error_clear(&re);
    char *text = al_fs_read(p, NULL, &re);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    int ok = !strcmp(al_jstr(j, "key"), u->key);
    cJSON_Delete(j);
    al_free(text);
    if (re.status == AL_ENOMEM || al_alloc_cjson_failures() != f0)
        return al_fail(e, AL_ENOMEM, p, NULL, "out of memory");
    if (!ok)
        return al_fail(e, AL_EFORMAT, src, NULL, "missing, or not the unit its run.json lists (key %.12s)", u->key);
    al_own_tmp(r, "merge", stage, sizeof stage);
    al_status st = al_fs_copytree(src, stage, e);
    if (st == AL_OK) st = al_own_swap(r, stage, dst, e);
    if (st != AL_OK) al_fs_rmtree(stage);
    return st;
}

al_status al_merge(const char *const *dirs, int ndirs, const char *out, const al_common *c, int *rc, al_error *e) {
    *rc = 0;
    cJSON **m = al_calloc((size_t)ndirs, sizeof *m);
    al_run r;
    memset(&r, 0, sizeof r);
    r.lockfd = -1;
    r.common = *c;
    r.shard = 0, r.nshards = 1, r.merged_from = ndirs;
    al_status st = m ? al_fs_outpath(out, r.out, e) : al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    char ver[96];
    snprintf(ver, sizeof ver, "%s (%s)", al_version(), al_git_hash());
    int n = 0, *owner = NULL;
    for (int d = 0; d < ndirs && st == AL_OK; d++) {
        if (!(m[d] = al_read_manifest(dirs[d], e))) {
            st = e->status;
            break;
        }
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(m[d], "shard");
        int i = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(sh, 0)),
            nn = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(sh, 1));
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(m[d], "spec"),
                    *spec0 = cJSON_GetObjectItemCaseSensitive(m[0], "spec");
        if (strcmp(al_jstr(m[d], "attnlab_version"), ver) != 0)
            st = al_fail(e, AL_EUSAGE, dirs[d], NULL, "written by attnlab %s; this is attnlab %s (rerun that shard)",
                         al_jstr(m[d], "attnlab_version"), ver);
        else if (strcmp(al_jstr(spec, "sha256"), al_jstr(spec0, "sha256")) != 0)
            st = al_fail(e, AL_EUSAGE, dirs[d], NULL, "a run of another spec than %s (sha256 differs)", dirs[0]);
        else if (d == 0)
            n = nn;
        else if (nn != n)
            st = al_fail(e, AL_EUSAGE, dirs[d], NULL, "shard %d/%d, but %s is a shard of %d", i, nn, dirs[0], n);
        if (st != AL_OK) break;
        if (!(i >= 0 && i < n)) st = al_fail(e, AL_EFORMAT, dirs[d], NULL, "run.json: bad shard %d/%d", i, nn);
        for (int d2 = 0; d2 < d && st == AL_OK; d2++)
            if ((int)cJSON_GetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m[d2], "shard"), 0)) == i)
                st = al_fail(e, AL_EUSAGE, dirs[d], NULL, "shard %d/%d is also %s", i, n, dirs[d2]);
    }
    if (st == AL_OK && ndirs != n) { /* every shard exactly once */
        for (int i = 0; i < n; i++) {
            int have = 0;
            for (int d = 0; d < ndirs; d++)
                have |= (int)cJSON_GetNumberValue(
                            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m[d], "shard"), 0)) == i;
            if (!have) {
                st = al_fail(e, AL_EUSAGE, "merge", NULL, "shard %d/%d is missing (give the folders of all %d shards)",
                             i, n, n);
                break;
            }
        }
    }
    if (st == AL_OK) {
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(m[0], "spec");
        st = al_spec_parse(al_jstr(spec, "text"), al_jstr(spec, "file"), al_jstr(spec, "dir"), &r.spec, e);
    }
    if (st == AL_OK) st = al_restore_spec(r.spec, m[0], dirs[0], e);
    const cJSON *units0 = st == AL_OK ? cJSON_GetObjectItemCaseSensitive(m[0], "units") : NULL;
    int nu = cJSON_GetArraySize(units0);
    if (st == AL_OK) {
        r.units = al_calloc((size_t)(nu ? nu : 1), sizeof *r.units);
        r.ident = al_calloc((size_t)(r.spec->nitems ? r.spec->nitems : 1), sizeof *r.ident);
        owner = al_calloc((size_t)(nu ? nu : 1), sizeof *owner);
        if (!r.units || !r.ident || !owner) st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    for (int k = 0; k < nu && st == AL_OK; k++) { /* each unit from the shard that owns it */
        al_unit *u = &r.units[r.nunits++];
        const cJSON *x0 = cJSON_GetArrayItem(units0, k);
        u->step = al_find_step(r.spec, al_jstr(x0, "step"));
        u->item = al_find_item(r.spec, al_jstr(x0, "item"));
        if (u->step < 0 || u->item < 0) {
            st = al_fail(e, AL_EFORMAT, dirs[0], NULL, "run.json: unit %d names no step or item of its spec", k);
            break;
        }
        u->state = AL_U_PENDING;
        for (int d = 0; d < ndirs; d++) {
            const cJSON *x = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m[d], "units"), k);
            if (strcmp(al_jstr(x, "step"), al_jstr(x0, "step")) || strcmp(al_jstr(x, "item"), al_jstr(x0, "item"))) {
                st = al_fail(e, AL_EUSAGE, dirs[d], NULL, "its units differ from %s's (were the inputs different?)",
                             dirs[0]);
                break;
            }
            const char *state = al_jstr(x, "state");
            if (!strcmp(state, "elsewhere")) continue;
            owner[k] = d;
            u->state = !strcmp(state, "done")      ? AL_U_DONE
                       : !strcmp(state, "failed")  ? AL_U_FAILED
                       : !strcmp(state, "skipped") ? AL_U_SKIPPED
                                                   : AL_U_PENDING;
            snprintf(u->key, sizeof u->key, "%s", al_jstr(x, "key"));
            snprintf(u->reason, sizeof u->reason, "%s", al_jstr(x, "reason"));
            u->status = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(x, "status"));
            const cJSON *id = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m[d], "items"), u->item);
            snprintf(r.ident[u->item], sizeof r.ident[u->item], "%s", al_jstr(id, "identity"));
        }
        if (st == AL_OK && u->state == AL_U_PENDING)
            st = al_fail(e, AL_EUSAGE, "merge", NULL, "no shard ran step %s on %s", al_jstr(x0, "step"),
                         al_jstr(x0, "item"));
    }
    if (st == AL_OK) st = al_run_prepare_dir(&r, e);
    for (int k = 0; k < r.nunits && st == AL_OK; k++)
        if (r.units[k].state == AL_U_DONE) st = al_merge_unit(&r, &r.units[k], dirs[owner[k]], e);
    if (st == AL_OK) {
        al_run_prune(&r);
        st = al_run_finish(&r, e);
    }
    if (st == AL_OK) *rc = al_run_outcome(&r, "merge");
    for (int d = 0; m && d < ndirs; d++)
        cJSON_Delete(m[d]);
    al_free(m);
    al_free(owner);
    al_run_free(&r, st == AL_OK);
    al_spec_free(r.spec);
    return st;
}
