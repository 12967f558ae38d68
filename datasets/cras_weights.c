/* Parsing of CRAS weights. Every weight set names all four dimensions: a partial set would leave the
 * reader to guess what the others mean, so it is refused. */
#include "cras_weights.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/cli.h"
#include "textio.h"

void al_cras_weights_equal(al_cras_weights *w) {
    memset(w, 0, sizeof *w);
    for (int d = 0; d < AL_CRAS_NDIM; d++) w->def[d] = 1.0;
}

void al_cras_weights_free(al_cras_weights *w) {
    for (int64_t r = 0; w->role && r < w->nrole; r++) al_free(w->role[r]);
    al_free(w->role);
    al_free(w->w);
    memset(w, 0, sizeof *w);
}

static int al_dim_index(const char *s, size_t n) {
    for (int d = 0; d < AL_CRAS_NDIM; d++)
        if (strlen(al_cras_dims[d]) == n && !strncmp(al_cras_dims[d], s, n)) return d;
    return -1;
}

/* Checks a complete set: seen[d] for all d, sum > 0. */
static al_status al_check_set(const double *w, const int *seen, const char *where, const char *what, al_error *e) {
    double sum = 0;
    for (int d = 0; d < AL_CRAS_NDIM; d++) {
        if (!seen[d]) return al_fail(e, AL_EUSAGE, where, NULL, "%s: no weight for %s (give all of GA, RC, KBA, CC)", what, al_cras_dims[d]);
        sum += w[d];
    }
    if (!(sum > 0)) return al_fail(e, AL_EUSAGE, where, NULL, "%s: the weights sum to 0", what);
    return AL_OK;
}

al_status al_cras_weights_parse(const char *spec, al_cras_weights *w, al_error *e) {
    al_cras_weights_equal(w);
    int seen[AL_CRAS_NDIM] = {0};
    const char *p = spec;
    while (*p) {
        const char *eq = strchr(p, '='), *comma = strchr(p, ',');
        if (!comma) comma = p + strlen(p);
        if (!eq || eq > comma) return al_fail(e, AL_EUSAGE, "--weights", NULL, "expected DIM=WEIGHT pairs like GA=1,RC=1,KBA=1,CC=1, got '%s'", spec);
        int d = al_dim_index(p, (size_t)(eq - p));
        char num[64];
        snprintf(num, sizeof num, "%.*s", (int)(comma - eq - 1), eq + 1);
        double v;
        if (d < 0) return al_fail(e, AL_EUSAGE, "--weights", NULL, "unknown dimension '%.*s' (expected GA, RC, KBA, CC)", (int)(eq - p), p);
        if (seen[d]) return al_fail(e, AL_EUSAGE, "--weights", NULL, "%s given twice", al_cras_dims[d]);
        if (al_parse_double_str(num, &v) != 0 || v < 0)
            return al_fail(e, AL_EUSAGE, "--weights", NULL, "weight of %s: expected a number >= 0, got '%s'", al_cras_dims[d], num);
        w->def[d] = v;
        seen[d] = 1;
        p = *comma ? comma + 1 : comma;
        if (*comma && !*p) return al_fail(e, AL_EUSAGE, "--weights", NULL, "trailing comma in '%s'", spec);
    }
    return al_check_set(w->def, seen, "--weights", "weights", e);
}

static al_status al_json_set(const char *path, const cJSON *o, double *w, const char *what, al_error *e) {
    int seen[AL_CRAS_NDIM] = {0};
    if (!cJSON_IsObject(o)) return al_fail(e, AL_EFORMAT, path, NULL, "%s: expected an object {\"GA\": w, ...}, found %s", what, al_json_kind(o));
    for (const cJSON *x = o->child; x; x = x->next) {
        int d = al_dim_index(x->string, strlen(x->string));
        if (d < 0) return al_fail(e, AL_EFORMAT, path, NULL, "%s: unknown dimension \"%s\" (expected GA, RC, KBA, CC)", what, x->string);
        if (seen[d]) return al_fail(e, AL_EFORMAT, path, NULL, "%s: %s given twice", what, x->string);
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble < 0)
            return al_fail(e, AL_EFORMAT, path, NULL, "%s: weight of %s must be a number >= 0", what, x->string);
        w[d] = x->valuedouble;
        seen[d] = 1;
    }
    return al_check_set(w, seen, path, what, e);
}

al_status al_cras_weights_read(const char *path, al_cras_weights *w, al_error *e) {
    al_cras_weights_equal(w);
    cJSON *root;
    if (al_json_read(path, &root, e) != AL_OK) return e->status;
    al_status st = AL_OK;
    if (!cJSON_IsObject(root)) st = al_fail(e, AL_EFORMAT, path, NULL, "expected an object {\"default\": {...}, \"roles\": {...}}");
    for (const cJSON *x = st == AL_OK ? root->child : NULL; st == AL_OK && x; x = x->next)
        if (strcmp(x->string, "default") && strcmp(x->string, "roles"))
            st = al_fail(e, AL_EFORMAT, path, NULL, "unknown key \"%s\" (expected \"default\" and \"roles\")", x->string);
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(root, "default");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(root, "roles");
    if (st == AL_OK && def) st = al_json_set(path, def, w->def, "default", e);
    if (st == AL_OK && roles && !cJSON_IsObject(roles)) st = al_fail(e, AL_EFORMAT, path, NULL, "\"roles\": expected an object {role: {...}}");
    if (st == AL_OK && roles && al_json_dup_key(roles)) st = al_fail(e, AL_EFORMAT, path, NULL, "role \"%s\" appears twice", al_json_dup_key(roles));
    if (st == AL_OK && roles) {
        int64_t n = cJSON_GetArraySize(roles);
        w->role = al_calloc((size_t)n + 1, sizeof *w->role);
        w->w = al_calloc((size_t)n + 1, sizeof *w->w);
        if (!w->role || !w->w) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        for (const cJSON *r = roles->child; st == AL_OK && r; r = r->next) {
            char what[200];
            snprintf(what, sizeof what, "roles.\"%.150s\"", r->string);
            if (!(w->role[w->nrole] = al_strdup(r->string))) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
            if (st == AL_OK) st = al_json_set(path, r, w->w[w->nrole], what, e);
            w->nrole++;
        }
    }
    cJSON_Delete(root);
    if (st != AL_OK) al_cras_weights_free(w);
    return st;
}

const double *al_cras_weights_for(const al_cras_weights *w, const char *role) {
    for (int64_t r = 0; r < w->nrole; r++)
        if (!strcmp(w->role[r], role)) return w->w[r];
    return w->def;
}
