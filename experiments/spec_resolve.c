/* Turning a spec's inputs into items (one analysis call each): globs expanded and sorted, files checked,
 * generated inputs named under OUT/inputs/. An optional input that is absent skips its steps with a reason. */
#include <glob.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "runfs.h"
#include "spec_check.h"

static al_status al_add_item(al_spec *s, int input, const char *const *files, int nfiles, int generated, al_error *e) {
    if (s->nitems % 64 == 0) {
        al_item *t = al_realloc(s->items, (size_t)s->nitems + 64, sizeof *t);
        if (!t) return al_fail(e, AL_ENOMEM, s->file, NULL, "out of memory");
        s->items = t;
    }
    al_item *it = &s->items[s->nitems];
    memset(it, 0, sizeof *it);
    it->input = input;
    it->generated = generated;
    it->index = s->inputs[input].nitems;
    for (int f = 0; f < nfiles; f++) {
        if (!(it->files[f] = al_strdup(files[f]))) return al_fail(e, AL_ENOMEM, s->file, NULL, "out of memory");
        it->nfiles++;
    }
    s->nitems++;
    s->inputs[input].nitems++;
    return AL_OK;
}

/* path relative to the spec's folder; a missing file is an error unless the input is optional */
static int al_need_file(al_spec *s, al_input *in, const char *written, const char *jp, char *abs, size_t n,
                        al_error *e) {
    char joined[8192];
    al_fs_join(s->dir, written, joined, sizeof joined);
    al_fs_abspath(joined, abs, n);
    if (al_fs_exists(abs) && !al_fs_isdir(abs)) return 1;
    const char *why = al_fs_isdir(abs) ? "is a folder, not a file" : "no such file";
    if (in && in->optional) {
        snprintf(in->unavailable, sizeof in->unavailable, "%s: %s", written, why);
        return 0;
    }
    al_fail(e, al_fs_isdir(abs) ? AL_EUSAGE : AL_ENOENT, s->file, jp, "%s: %s", why, written);
    return -1;
}

static al_status al_resolve_files(al_spec *s, int i, al_error *e) {
    al_input *in = &s->inputs[i];
    char jp[200], abs[AL_ITEM_MAXF][4096], joined[8192];
    int k = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, in->files) {
        snprintf(jp, sizeof jp, "inputs.%s.files[%d]", in->name, k++);
        if (cJSON_IsArray(f)) {
            const char *fs[AL_ITEM_MAXF];
            int nf = 0, r = 1;
            const cJSON *x;
            cJSON_ArrayForEach(x, f) {
                r = al_need_file(s, in, x->valuestring, jp, abs[nf], sizeof abs[nf], e);
                if (r <= 0) break;
                fs[nf] = abs[nf];
                nf++;
            }
            if (r < 0) return e->status;
            if (r == 0) break;
            if (al_add_item(s, i, fs, nf, 0, e)) return e->status;
        } else if (strpbrk(f->valuestring, "*?[")) {
            al_fs_join(s->dir, f->valuestring, joined, sizeof joined);
            glob_t g;
            int rc = glob(joined, 0, NULL, &g);
            size_t nmatch = 0;
            for (size_t m = 0; rc == 0 && m < g.gl_pathc; m++) {
                if (al_fs_isdir(g.gl_pathv[m])) continue;
                al_fs_abspath(g.gl_pathv[m], abs[0], sizeof abs[0]);
                const char *fs[1] = {abs[0]};
                if (al_add_item(s, i, fs, 1, 0, e)) {
                    globfree(&g);
                    return e->status;
                }
                nmatch++;
            }
            if (rc == 0) globfree(&g);
            if (nmatch == 0) {
                if (!in->optional) return al_fail(e, AL_ENOENT, s->file, jp, "no file matches '%s'", f->valuestring);
                snprintf(in->unavailable, sizeof in->unavailable, "no file matches '%s'", f->valuestring);
                break;
            }
        } else {
            int r = al_need_file(s, in, f->valuestring, jp, abs[0], sizeof abs[0], e);
            if (r < 0) return e->status;
            if (r == 0) break;
            const char *fs[1] = {abs[0]};
            if (al_add_item(s, i, fs, 1, 0, e)) return e->status;
        }
    }
    return AL_OK;
}

static void al_item_names(al_spec *s, al_input *in) {
    int w = 1;
    for (int n = in->nitems - 1; n >= 10; n /= 10)
        w++;
    for (int k = 0; k < in->nitems; k++) {
        al_item *it = &s->items[in->item0 + k];
        if (in->nitems == 1)
            snprintf(it->id, sizeof it->id, "%s", in->name);
        else {
            char num[16];
            snprintf(num, sizeof num, "%0*d", w > 9 ? 9 : w, k);
            snprintf(it->id, sizeof it->id, "%s-%s", in->name, num);
        }
        if (it->generated) {
            const cJSON *seed = cJSON_GetObjectItemCaseSensitive(in->params, "seed");
            long long s0 = cJSON_IsNumber(seed) ? (long long)seed->valuedouble : 0;
            if (in->gen->how == AL_GEN_RECORD) {
                const char *b = strrchr(in->model, '/');
                snprintf(it->label, sizeof it->label, "record %s", b ? b + 1 : in->model);
            } else
                snprintf(it->label, sizeof it->label, "synth %s, seed %lld", in->gen->kind, s0 + (long long)k);
            continue;
        }
        int o = 0;
        it->label[0] = 0;
        for (int f = 0; f < it->nfiles; f++) {
            const char *b = strrchr(it->files[f], '/');
            o += snprintf(it->label + o, sizeof it->label - (size_t)(o < (int)sizeof it->label ? o : 0), "%s%s",
                          f ? " + " : "", b ? b + 1 : it->files[f]);
            if (o >= (int)sizeof it->label) break;
        }
    }
}

static al_status al_resolve_path_params(al_spec *s, al_step *st, int i, al_error *e) {
    const cJSON *v;
    cJSON_ArrayForEach(v, st->params) {
        char canon[64], jp[300], abs[4096];
        al_param_canon(v->string, canon, sizeof canon);
        const al_pdef *d = st->def->params;
        while (d && d->name && strcmp(d->name, canon) != 0)
            d++;
        if (!d || !d->name || d->type != AL_PT_PATH) continue;
        snprintf(jp, sizeof jp, "steps[%d].params.%s", i, v->string);
        if (cJSON_IsString(v)) {
            if (al_need_file(s, NULL, v->valuestring, jp, abs, sizeof abs, e) < 0) return e->status;
            continue;
        }
        const char *name = cJSON_GetObjectItemCaseSensitive(v, "input")->valuestring;
        for (int k = 0; k < s->ninputs; k++) {
            al_input *in = &s->inputs[k];
            if (strcmp(in->name, name) != 0) continue;
            if (in->unavailable[0]) {
                if (!st->skip[0])
                    snprintf(st->skip, sizeof st->skip, "input '%s' is absent (%s)", name, in->unavailable);
            } else if (in->kind != AL_IN_FILES || in->nitems != 1 || s->items[in->item0].nfiles != 1)
                return al_spec_bad(s, e, jp, "input '%s' must be one file to serve as a parameter", name);
        }
    }
    return AL_OK;
}

al_status al_spec_resolve(al_spec *s, al_error *e) {
    for (int i = 0; i < s->ninputs; i++) {
        al_input *in = &s->inputs[i];
        in->item0 = s->nitems;
        in->nitems = 0;
        if (in->kind == AL_IN_FILES) {
            if (al_resolve_files(s, i, e)) return e->status;
            if (in->unavailable[0]) { /* all or nothing: an optional input with a missing part is absent */
                for (int k = in->item0; k < s->nitems; k++)
                    for (int f = 0; f < s->items[k].nfiles; f++)
                        al_free(s->items[k].files[f]);
                s->nitems = in->item0;
                in->nitems = 0;
            }
        } else {
            char abs[4096], jp[200];
            snprintf(jp, sizeof jp, "inputs.%s.record", in->name);
            if (in->gen->how == AL_GEN_RECORD && al_need_file(s, in, in->model, jp, abs, sizeof abs, e) < 0)
                return e->status;
            for (int64_t k = 0; k < in->count && !in->unavailable[0]; k++) /* files named below, once ids are known */
                if (al_add_item(s, i, in->gen->files, in->gen->nfiles, 1, e)) return e->status;
        }
        al_item_names(s, in);
        for (int k = in->item0; k < s->nitems; k++) /* generated files live in a folder named after the item */
            for (int f = 0; f < s->items[k].nfiles && s->items[k].generated; f++) {
                char p[400];
                snprintf(p, sizeof p, "inputs/%s/%s", s->items[k].id, s->inputs[i].gen->files[f]);
                al_free(s->items[k].files[f]);
                if (!(s->items[k].files[f] = al_strdup(p)))
                    return al_fail(e, AL_ENOMEM, s->file, NULL, "out of memory");
            }
    }
    for (int a = 0; a < s->nitems; a++)
        for (int b = 0; b < a; b++)
            if (!strcmp(s->items[a].id, s->items[b].id))
                return al_spec_bad(s, e, "inputs", "two items are called '%s' (rename input '%s')", s->items[a].id,
                                   s->inputs[s->items[a].input].name);
    for (int i = 0; i < s->nsteps; i++) {
        al_step *st = &s->steps[i];
        const al_input *in = &s->inputs[st->input];
        if (in->unavailable[0])
            snprintf(st->skip, sizeof st->skip, "input '%s' is absent (%s)", in->name, in->unavailable);
        if (al_resolve_path_params(s, st, i, e)) return e->status;
    }
    return AL_OK;
}
