/* Parsing an experiment spec: top-level fields, named inputs (files, generated inputs) and steps. Values are
 * kept inside the cJSON tree the spec owns; the structs point into it. Format: docs/experiments.md. */
#include "spec.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/figure.h"
#include "commands.h"
#include "runfs.h"
#include "spec_check.h"

static const char *const al_top_keys[] = {"attnlab_spec", "name",          "title",  "description", "mirrors",
                                          "needs",        "hash",          "inputs", "steps",       "figures",
                                          "report",       "figure_format", NULL};

/* files per item of a "files" input, or -1 (error set) */
static int al_files_arity(const al_spec *s, const cJSON *files, const char *jp, al_error *e) {
    char p[300];
    int arity = 0, k = 0;
    if (!cJSON_IsArray(files) || cJSON_GetArraySize(files) == 0) {
        snprintf(p, sizeof p, "%s.files", jp);
        al_spec_bad(s, e, p, "expected a non-empty list of paths or globs");
        return -1;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, files) {
        snprintf(p, sizeof p, "%s.files[%d]", jp, k++);
        int a = 0;
        if (cJSON_IsString(f) && f->valuestring[0])
            a = 1;
        else if (cJSON_IsArray(f)) {
            const cJSON *x;
            a = cJSON_GetArraySize(f);
            cJSON_ArrayForEach(x, f) if (!cJSON_IsString(x) || !x->valuestring[0] || strpbrk(x->valuestring, "*?[")) a =
                0;
            if (a > AL_ITEM_MAXF) a = 0;
        }
        if (!a) {
            al_spec_bad(s, e, p, "expected a path or glob, or a list of up to %d paths (one item of several files)",
                        AL_ITEM_MAXF);
            return -1;
        }
        if (arity && a != arity) {
            al_spec_bad(s, e, p, "every item of an input needs the same number of files (%d before, %d here)", arity,
                        a);
            return -1;
        }
        arity = a;
    }
    return arity;
}

static al_status al_parse_input(al_spec *s, const cJSON *v, al_input *in, al_error *e) {
    static const char *const keys[] = {"files", "synth", "record", "params", "count", "optional", "note", NULL};
    char jp[128], p[300];
    snprintf(jp, sizeof jp, "inputs.%s", in->name);
    if (!cJSON_IsObject(v)) return al_spec_bad(s, e, jp, "expected an object with \"files\", \"synth\" or \"record\"");
    if (al_spec_keys(s, v, jp, keys, e) != AL_OK) return e->status;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(v, "files"),
                *synth = cJSON_GetObjectItemCaseSensitive(v, "synth"),
                *rec = cJSON_GetObjectItemCaseSensitive(v, "record"),
                *opt = cJSON_GetObjectItemCaseSensitive(v, "optional"),
                *cnt = cJSON_GetObjectItemCaseSensitive(v, "count"),
                *note = cJSON_GetObjectItemCaseSensitive(v, "note");
    if (!!files + !!synth + !!rec != 1)
        return al_spec_bad(s, e, jp, "needs exactly one of \"files\", \"synth\", \"record\"");
    if (opt && !cJSON_IsBool(opt)) {
        snprintf(p, sizeof p, "%s.optional", jp);
        return al_spec_bad(s, e, p, "expected true or false");
    }
    if (note && !cJSON_IsString(note)) {
        snprintf(p, sizeof p, "%s.note", jp);
        return al_spec_bad(s, e, p, "expected a string");
    }
    in->optional = cJSON_IsTrue(opt);
    in->params = cJSON_GetObjectItemCaseSensitive(v, "params");
    in->count = 1;
    if (files) {
        in->kind = AL_IN_FILES;
        in->files = files;
        if (in->params || cnt) {
            snprintf(p, sizeof p, "%s.%s", jp, in->params ? "params" : "count");
            return al_spec_bad(s, e, p, "only generated inputs (\"synth\", \"record\") take this");
        }
        return al_files_arity(s, files, jp, e) < 0 ? e->status : AL_OK;
    }
    in->kind = AL_IN_GEN;
    if (synth) {
        snprintf(p, sizeof p, "%s.synth", jp);
        char known[256];
        al_gdef_names(known, sizeof known);
        if (!cJSON_IsString(synth)) return al_spec_bad(s, e, p, "expected a kind (%s)", known);
        in->gen = al_gdef_find(synth->valuestring);
        if (!in->gen || in->gen->how == AL_GEN_RECORD)
            return al_spec_bad(s, e, p, "unknown synthetic kind '%s' (known: %s)", synth->valuestring, known);
    } else {
        snprintf(p, sizeof p, "%s.record", jp);
        if (!cJSON_IsString(rec) || !rec->valuestring[0])
            return al_spec_bad(s, e, p, "expected the path of a llama2.c checkpoint");
        in->gen = al_gdef_find("record");
        in->model = rec->valuestring;
    }
    if (cnt) {
        snprintf(p, sizeof p, "%s.count", jp);
        if (!cJSON_IsNumber(cnt) || cnt->valuedouble != (double)(int64_t)cnt->valuedouble || cnt->valuedouble < 1 ||
            cnt->valuedouble > 100000)
            return al_spec_bad(s, e, p, "expected an integer in [1, 100000]");
        in->count = (int64_t)cnt->valuedouble;
    }
    char what[64];
    snprintf(what, sizeof what, "%s %s", synth ? "synth" : "record", synth ? synth->valuestring : "");
    snprintf(p, sizeof p, "%s.params", jp);
    return al_spec_params(s, in->params, in->gen->params, what, p, e);
}

static int al_input_arity(const al_input *in) {
    if (in->kind == AL_IN_GEN) return in->gen->nfiles;
    const cJSON *f = in->files->child;
    return cJSON_IsArray(f) ? cJSON_GetArraySize(f) : 1;
}

static al_status al_parse_step(al_spec *s, const cJSON *v, int i, al_error *e) {
    static const char *const keys[] = {"name", "analysis", "input", "params", "title", "note", NULL};
    char jp[64], p[128];
    snprintf(jp, sizeof jp, "steps[%d]", i);
    al_step *st = &s->steps[i];
    if (!cJSON_IsObject(v)) return al_spec_bad(s, e, jp, "expected an object with \"analysis\" and \"input\"");
    if (al_spec_keys(s, v, jp, keys, e) != AL_OK) return e->status;
    const char *an, *name, *input;
    if (al_spec_str(s, v, "analysis", jp, &an, e) || al_spec_str(s, v, "name", jp, &name, e) ||
        al_spec_str(s, v, "input", jp, &input, e) || al_spec_str(s, v, "title", jp, &st->title, e) ||
        al_spec_str(s, v, "note", jp, &st->note, e))
        return e->status;
    char known[512];
    al_adef_names(known, sizeof known);
    snprintf(p, sizeof p, "%s.analysis", jp);
    if (!an) return al_spec_bad(s, e, jp, "missing \"analysis\" (one of: %s)", known);
    if (!(st->def = al_adef_find(an))) {
        for (const al_command *c = al_commands; c->name; c++)
            if (!strcmp(c->name, an))
                return al_spec_bad(s, e, p,
                                   "'%s' writes inputs or runs experiments, it is not an analysis (inputs take "
                                   "{\"synth\": KIND} or {\"record\": MODEL})",
                                   an);
        return al_spec_bad(s, e, p, "unknown analysis '%s' (known: %s)", an, known);
    }
    snprintf(st->analysis, sizeof st->analysis, "%s", an);
    snprintf(p, sizeof p, "%s.name", jp);
    if (!name) name = an;
    if (!al_spec_name_ok(name))
        return al_spec_bad(s, e, p, "'%s' is not a usable name ([A-Za-z0-9_.-], at most 40)", name);
    for (int k = 0; k < i; k++)
        if (!strcmp(s->steps[k].name, name))
            return al_spec_bad(s, e, p, "two steps are named '%s' (give each step its own \"name\")", name);
    snprintf(st->name, sizeof st->name, "%s", name);
    snprintf(p, sizeof p, "%s.input", jp);
    if (!input) return al_spec_bad(s, e, jp, "missing \"input\" (the name of one of the spec's inputs)");
    st->input = -1;
    for (int k = 0; k < s->ninputs; k++)
        if (!strcmp(s->inputs[k].name, input)) st->input = k;
    if (st->input < 0) return al_spec_bad(s, e, p, "no input named '%s'", input);
    int arity = al_input_arity(&s->inputs[st->input]);
    if (arity != st->def->nfiles)
        return al_spec_bad(s, e, p, "%s takes %d file%s per item but input '%s' gives %d", an, st->def->nfiles,
                           st->def->nfiles > 1 ? "s" : "", input, arity);
    st->params = cJSON_GetObjectItemCaseSensitive(v, "params");
    snprintf(p, sizeof p, "%s.params", jp);
    return al_spec_params(s, st->params, st->def->params, an, p, e);
}

al_status al_spec_parse(const char *text, const char *file, const char *dir, al_spec **out, al_error *e) {
    *out = NULL;
    al_spec *s = al_calloc(1, sizeof *s);
    if (!s) return al_fail(e, AL_ENOMEM, file, NULL, "out of memory");
    snprintf(s->file, sizeof s->file, "%s", file);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    al_sha256_text(text, s->sha);
    if (!(s->text = al_strdup(text))) {
        al_free(s);
        return al_fail(e, AL_ENOMEM, file, NULL, "out of memory");
    }
    const char *end = NULL;
    uint64_t f0 = al_alloc_cjson_failures();
    s->root = cJSON_ParseWithOpts(text, &end, 1);
    if (!s->root && al_alloc_cjson_failures() != f0) {
        al_fail(e, AL_ENOMEM, file, NULL, "out of memory");
        goto fail;
    }
    if (!s->root) {
        int line = 1, col = 1;
        for (const char *c = text; end && c < end; c++)
            line += *c == '\n', col = *c == '\n' ? 1 : col + 1;
        al_fail(e, AL_EUSAGE, file, NULL, "malformed JSON at line %d, column %d", line, col);
        goto fail;
    }
    const cJSON *r = s->root, *v;
    if (!cJSON_IsObject(r)) {
        al_spec_bad(s, e, "", "expected a JSON object with \"inputs\" and \"steps\"");
        goto fail;
    }
    if (al_spec_keys(s, r, "", al_top_keys, e)) goto fail;
    if ((v = cJSON_GetObjectItemCaseSensitive(r, "attnlab_spec")) && !(cJSON_IsNumber(v) && v->valuedouble == 1)) {
        al_spec_bad(s, e, "attnlab_spec", "this attnlab reads spec format 1");
        goto fail;
    }
    const char *name, *hash, *figfmt;
    if (al_spec_str(s, r, "figure_format", "", &figfmt, e)) goto fail;
    s->figure_format = figfmt ? al_figfmt_parse(figfmt) : -1;
    if (figfmt && s->figure_format < 0) {
        al_spec_bad(s, e, "figure_format", "expected \"png\", \"svg\" or \"pdf\"");
        goto fail;
    }
    if (s->figure_format >= 0) al_figure_format_set((al_figfmt)s->figure_format); /* the spec's, over the flag */
    if (al_spec_str(s, r, "name", "", &name, e) || al_spec_str(s, r, "title", "", &s->title, e) ||
        al_spec_str(s, r, "description", "", &s->description, e) || al_spec_str(s, r, "mirrors", "", &s->mirrors, e) ||
        al_spec_str(s, r, "needs", "", &s->needs, e) || al_spec_str(s, r, "hash", "", &hash, e))
        goto fail;
    if (hash && strcmp(hash, "fingerprint") != 0 && strcmp(hash, "full") != 0) {
        al_spec_bad(s, e, "hash", "expected \"fingerprint\" or \"full\"");
        goto fail;
    }
    s->full_hash = hash && !strcmp(hash, "full");
    if (!name) { /* the spec file's stem */
        const char *b = strrchr(file, '/');
        snprintf(s->name, sizeof s->name, "%s", b ? b + 1 : file);
        char *dot = strrchr(s->name, '.');
        if (dot && dot != s->name) *dot = 0;
    } else if (!al_spec_name_ok(name)) {
        al_spec_bad(s, e, "name", "'%s' is not a usable name ([A-Za-z0-9_.-], at most 40)", name);
        goto fail;
    } else
        snprintf(s->name, sizeof s->name, "%s", name);

    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(r, "inputs");
    if (!cJSON_IsObject(ins) || !ins->child) {
        al_spec_bad(s, e, "inputs", ins ? "expected an object of named inputs" : "missing: the spec needs \"inputs\"");
        goto fail;
    }
    cJSON_ArrayForEach(v, ins) {
        if (s->ninputs == AL_SPEC_MAX_INPUTS) {
            al_spec_bad(s, e, "inputs", "more than %d inputs", AL_SPEC_MAX_INPUTS);
            goto fail;
        }
        al_input *in = &s->inputs[s->ninputs];
        if (!al_spec_name_ok(v->string)) {
            al_spec_bad(s, e, "inputs", "'%s' is not a usable input name ([A-Za-z0-9_.-], at most 40)", v->string);
            goto fail;
        }
        snprintf(in->name, sizeof in->name, "%s", v->string);
        for (int k = 0; k < s->ninputs; k++)
            if (!strcmp(s->inputs[k].name, in->name)) {
                al_spec_bad(s, e, "inputs", "two inputs are named '%s'", in->name);
                goto fail;
            }
        s->ninputs++;
        if (al_parse_input(s, v, in, e)) goto fail;
    }
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(r, "steps");
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
        al_spec_bad(s, e, "steps", steps ? "expected a non-empty list of steps" : "missing: the spec needs \"steps\"");
        goto fail;
    }
    if (cJSON_GetArraySize(steps) > AL_SPEC_MAX_STEPS) {
        al_spec_bad(s, e, "steps", "more than %d steps", AL_SPEC_MAX_STEPS);
        goto fail;
    }
    cJSON_ArrayForEach(v, steps) if (al_parse_step(s, v, s->nsteps++, e)) goto fail;
    if (al_spec_figures(s, cJSON_GetObjectItemCaseSensitive(r, "figures"), e) ||
        al_spec_report(s, cJSON_GetObjectItemCaseSensitive(r, "report"), e))
        goto fail;
    *out = s;
    return AL_OK;
fail:
    al_spec_free(s);
    return e->status;
}

al_status al_spec_load(const char *path, al_spec **out, al_error *e) {
    *out = NULL;
    char *text = al_fs_read(path, NULL, e);
    if (!text) return e->status;
    char abs[4096], dir[4096];
    al_fs_abspath(path, abs, sizeof abs);
    snprintf(dir, sizeof dir, "%s", abs);
    char *slash = strrchr(dir, '/');
    if (slash) *(slash == dir ? slash + 1 : slash) = 0;
    al_status st = al_spec_parse(text, path, dir, out, e);
    al_free(text);
    return st;
}

void al_spec_free(al_spec *s) {
    if (!s) return;
    for (int i = 0; i < s->nitems; i++)
        for (int f = 0; f < s->items[i].nfiles; f++)
            al_free(s->items[i].files[f]);
    al_free(s->items);
    cJSON_Delete(s->root);
    al_free(s->text);
    al_free(s);
}
