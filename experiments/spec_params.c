/* Checking a spec's values: field types, names, and parameter objects against the schema of spec_schema.c.
 * A spec is refused before any work starts, with the JSON path of the first problem. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../core/cli.h"
#include "spec_check.h"

al_status al_spec_bad(const al_spec *s, al_error *e, const char *jpath, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return al_fail(e, AL_EUSAGE, s->file, jpath && *jpath ? jpath : NULL, "%s", msg);
}

al_status al_spec_keys(const al_spec *s, const cJSON *obj, const char *jpath, const char *const *allowed, al_error *e) {
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = !strcmp(*a, it->string);
        if (ok) continue;
        char known[512];
        int o = 0;
        known[0] = 0;
        for (const char *const *a = allowed; *a && o < (int)sizeof known; a++)
            o += snprintf(known + o, sizeof known - (size_t)o, "%s%s", o ? ", " : "", *a);
        char p[600];
        snprintf(p, sizeof p, "%s%s%s", jpath, *jpath ? "." : "", it->string);
        return al_spec_bad(s, e, p, "unknown key (known here: %s)", known);
    }
    return AL_OK;
}

al_status al_spec_str(const al_spec *s, const cJSON *obj, const char *key, const char *jpath, const char **out,
                      al_error *e) {
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) return AL_OK;
    if (!cJSON_IsString(v)) {
        char p[600];
        snprintf(p, sizeof p, "%s%s%s", jpath, *jpath ? "." : "", key);
        return al_spec_bad(s, e, p, "expected a string");
    }
    *out = v->valuestring;
    return AL_OK;
}

int al_spec_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 40 || name[0] == '.') return 0;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == '-' || *c == '.'))
            return 0;
    return 1;
}

void al_param_canon(const char *key, char *out, int n) {
    int i = 0;
    for (; key[i] && i < n - 1; i++)
        out[i] = key[i] == '_' ? '-' : key[i];
    out[i] = 0;
}

static int al_choice_ok(const char *choices, const char *v) {
    size_t lv = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t l = bar ? (size_t)(bar - c) : strlen(c);
        if (l == lv && !strncmp(c, v, l)) return 1;
        c += l + (bar ? 1 : 0);
    }
    return 0;
}

static int al_is_scalar(const cJSON *v) {
    return cJSON_IsNumber(v) || cJSON_IsString(v) || cJSON_IsBool(v);
}

static al_status al_check_value(const al_spec *s, const al_pdef *d, const cJSON *v, const char *p, al_error *e) {
    char buf[300];
    switch (d->type) {
    case AL_PT_NUM:
    case AL_PT_INT:
        if (!cJSON_IsNumber(v))
            return al_spec_bad(s, e, p, d->type == AL_PT_INT ? "expected an integer" : "expected a number");
        if (d->type == AL_PT_INT &&
            (v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9007199254740992.0))
            return al_spec_bad(s, e, p, "expected an integer, found %g", v->valuedouble);
        if ((d->min != 0 || d->max != 0) && !(v->valuedouble >= d->min && v->valuedouble <= d->max))
            return al_spec_bad(s, e, p, "%g is out of range [%g, %g]", v->valuedouble, d->min, d->max);
        return AL_OK;
    case AL_PT_BOOL: return cJSON_IsBool(v) ? AL_OK : al_spec_bad(s, e, p, "expected true or false");
    case AL_PT_STR: return cJSON_IsString(v) ? AL_OK : al_spec_bad(s, e, p, "expected a string");
    case AL_PT_CHOICE:
        if (!cJSON_IsString(v) || !al_choice_ok(d->choices, v->valuestring)) {
            snprintf(buf, sizeof buf, "%s", d->choices);
            for (char *c = buf; *c; c++)
                if (*c == '|') *c = '/';
            return al_spec_bad(s, e, p, "expected one of %s", buf);
        }
        return AL_OK;
    case AL_PT_IDS: {
        int64_t tmp[4096];
        if (cJSON_IsString(v) && al_parse_index_list(v->valuestring, tmp, 4096) > 0) return AL_OK;
        int ok = cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, v) ok &=
            cJSON_IsNumber(x) && x->valuedouble >= 0 && x->valuedouble == floor(x->valuedouble) && x->valuedouble < 1e9;
        return ok ? AL_OK : al_spec_bad(s, e, p, "expected indices such as \"0,2-4\" or [0, 2, 3, 4]");
    }
    case AL_PT_STRS: {
        if (cJSON_IsString(v)) return AL_OK;
        int ok = cJSON_IsArray(v);
        const cJSON *x;
        cJSON_ArrayForEach(x, v) ok &= cJSON_IsString(x);
        return ok ? AL_OK : al_spec_bad(s, e, p, "expected a string or a list of strings");
    }
    case AL_PT_PATH: {
        if (cJSON_IsString(v) && v->valuestring[0]) return AL_OK;
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(v, "input");
        if (cJSON_IsObject(v) && cJSON_GetArraySize(v) == 1 && cJSON_IsString(in)) {
            for (int i = 0; i < s->ninputs; i++)
                if (!strcmp(s->inputs[i].name, in->valuestring)) return AL_OK;
            snprintf(buf, sizeof buf, "%s.input", p);
            return al_spec_bad(s, e, buf, "no input named '%s'", in->valuestring);
        }
        return al_spec_bad(s, e, p, "expected a file path (relative to the spec's folder) or {\"input\": NAME}");
    }
    }
    return AL_OK;
}

al_status al_spec_params(const al_spec *s, const cJSON *params, const al_pdef *defs, const char *what,
                         const char *jpath, al_error *e) {
    char p[700], canon[64];
    if (params && !cJSON_IsObject(params)) return al_spec_bad(s, e, jpath, "expected an object of parameters");
    const cJSON *v;
    cJSON_ArrayForEach(v, params) {
        snprintf(p, sizeof p, "%s.%s", jpath, v->string);
        al_param_canon(v->string, canon, sizeof canon);
        for (const cJSON *w = params->child; w != v; w = w->next) {
            char c2[64];
            al_param_canon(w->string, c2, sizeof c2);
            if (!strcmp(c2, canon)) return al_spec_bad(s, e, p, "given twice (as '%s' and '%s')", w->string, v->string);
        }
        if (!defs) {
            int ok = al_is_scalar(v);
            if (cJSON_IsArray(v)) {
                ok = 1;
                const cJSON *x;
                cJSON_ArrayForEach(x, v) ok &= cJSON_IsNumber(x) || cJSON_IsString(x);
            }
            if (!ok) return al_spec_bad(s, e, p, "expected a number, string, true/false or a list");
            continue;
        }
        const al_pdef *d = defs;
        while (d->name && strcmp(d->name, canon) != 0)
            d++;
        if (!d->name) {
            char known[600];
            int o = 0;
            known[0] = 0;
            for (const al_pdef *k = defs; k->name && o < (int)sizeof known; k++)
                o += snprintf(known + o, sizeof known - (size_t)o, "%s%s", o ? ", " : "", k->name);
            return al_spec_bad(s, e, p, "%s has no parameter '%s' (known: %s)", what, v->string, o ? known : "none");
        }
        if (al_check_value(s, d, v, p, e) != AL_OK) return e->status;
    }
    for (const al_pdef *d = defs; d && d->name; d++) {
        if (!d->required) continue;
        int found = 0;
        cJSON_ArrayForEach(v, params) {
            al_param_canon(v->string, canon, sizeof canon);
            found |= !strcmp(canon, d->name);
        }
        if (!found) return al_spec_bad(s, e, jpath, "%s needs the parameter '%s'", what, d->name);
    }
    return AL_OK;
}

const cJSON *al_step_param(const al_step *st, const char *name) {
    const cJSON *v;
    char canon[64];
    cJSON_ArrayForEach(v, st->params) {
        al_param_canon(v->string, canon, sizeof canon);
        if (!strcmp(canon, name)) return v;
    }
    return NULL;
}
