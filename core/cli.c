/* Option parsing for attnlab's subcommands: --name VALUE, --name=VALUE, -o VALUE.
 * Typed values are checked completely (no trailing junk, finite, within bounds) before any work starts. */
#include "cli.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json.h"

void al_common_defaults(al_common *c) {
    c->format = NULL;
    c->out = NULL;
    c->threads = 0;
    c->mem = (int64_t)1 << 30;
    c->device = "cpu";
    c->hash = "fingerprint";
    c->quiet = 0;
    c->help = 0;
    c->from_qk = 0;
    c->figure_format = "png";
}

int al_common_opts(al_common *c, al_opt *o, int n) {
    assert(n + AL_COMMON_NOPTS <= AL_OPTS_MAX); /* the caller's table is al_opt[AL_OPTS_MAX] */
    al_opt add[AL_COMMON_NOPTS] = {
        {"format", 0, AL_OPT_CHOICE, &c->format, "FMT",
         "output format on stdout (default: table on a terminal, else tsv)", 0, 0, "table|tsv|csv|md|json", 0, 1},
        {"out", 'o', AL_OPT_STRING, &c->out, "DIR",
         "write every table (.tsv, .json) and figure (.gp, .png) into DIR; stdout: the tables too on a terminal, "
         "nothing in a pipe unless --format",
         0, 0, NULL, 0, 1},
        {"figure-format", 0, AL_OPT_CHOICE, &c->figure_format, "FMT",
         "figures rendered as png (default), svg or pdf (vector, fonts embedded)", 0, 0, "png|svg|pdf", 0, 1},
        {"threads", 0, AL_OPT_INT, &c->threads, "N", "worker threads (default: all cores; at most one per MiB of --mem)", 0, 4096, NULL, 0, 1},
        {"mem", 0, AL_OPT_SIZE, &c->mem, "SIZE",
         "peak memory budget, e.g. 512M (default 1G); honoured down to the floor of 128M (the program, HDF5's caches "
         "and the smallest blocks): a smaller budget shrinks the blocks, not the peak below it",
         0, 0, NULL, 0, 0},
        {"device", 0, AL_OPT_CHOICE, &c->device, "DEV", "cpu or cuda (cuda needs a CUDA build)", 0, 0, "cpu|cuda", 0,
         0},
        {"hash", 0, AL_OPT_CHOICE, &c->hash, "MODE", "input fingerprint: fingerprint (first+last MiB) or full", 0, 0,
         "fingerprint|full", 0, 1},
        {"from-qk", 0, AL_OPT_FLAG, &c->from_qk, NULL, "map analyses: recompute probabilities from recorded q and k", 0,
         0, NULL, 0, 0},
        {"quiet", 'q', AL_OPT_FLAG, &c->quiet, NULL, "no progress output", 0, 0, NULL, 0, 1},
        {"help", 'h', AL_OPT_FLAG, &c->help, NULL, "show this help", 0, 0, NULL, 0, 1},
    };
    memcpy(o + n, add, sizeof add);
    return n + AL_COMMON_NOPTS;
}

int al_parse_double_str(const char *s, double *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int al_parse_int_str(const char *s, int64_t *out) {
    if (!s || !*s || isspace((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

int al_parse_size_str(const char *s, int64_t *out) {
    if (!s || !*s || !isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || !isfinite(v) || v < 0) return -1;
    double mul = 1;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': mul = 1024.0; break;
        case 'M': mul = 1024.0 * 1024; break;
        case 'G': mul = 1024.0 * 1024 * 1024; break;
        case 'T': mul = 1024.0 * 1024 * 1024 * 1024; break;
        default: return -1;
        }
        end++;
        if (*end == 'i' || *end == 'I') end++;
        if (*end == 'B' || *end == 'b') end++;
        if (*end) return -1;
    }
    v *= mul;
    if (v > 9.0e18) return -1;
    *out = (int64_t)v;
    return 0;
}

static int al_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int al_parse_index_list(const char *s, int64_t *out, int maxn) {
    int n = 0;
    const char *p = s;
    if (!s || !*s) return -1;
    while (*p) {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)*p)) return -1;
        long long a = strtoll(p, &end, 10), b = a;
        if (errno) return -1;
        p = end;
        if (*p == '-') {
            p++;
            if (!isdigit((unsigned char)*p)) return -1;
            b = strtoll(p, &end, 10);
            if (errno || b < a) return -1;
            p = end;
        }
        for (long long v = a; v <= b; v++) {
            if (n >= maxn) return -1;
            out[n++] = v;
        }
        if (*p == ',') {
            p++;
            if (!*p) return -1;
        } else if (*p) {
            return -1;
        }
    }
    qsort(out, (size_t)n, sizeof *out, al_cmp_i64);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (m == 0 || out[m - 1] != out[i]) out[m++] = out[i];
    return m;
}

static al_opt *al_find_long(al_opt *opts, int n, const char *name, size_t len) {
    for (int i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

static int al_choice_ok(const char *choices, const char *v) {
    size_t lv = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == lv && strncmp(p, v, l) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static al_status al_set_opt(al_opt *o, const char *v, al_error *e) {
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", o->name);
    int bounded = !(o->min == 0 && o->max == 0);
    switch (o->kind) {
    case AL_OPT_FLAG:
        *(int *)o->dst = 1;
        break;
    case AL_OPT_INT: {
        int64_t x;
        if (al_parse_int_str(v, &x) != 0)
            return al_fail(e, AL_EUSAGE, flag, NULL, "expected an integer, got '%s'", v);
        if (bounded && (x < o->min || x > o->max))
            return al_fail(e, AL_EUSAGE, flag, NULL, "%s is outside %.0f..%.0f", v, o->min, o->max);
        *(int64_t *)o->dst = x;
        break;
    }
    case AL_OPT_DOUBLE: {
        double x;
        if (al_parse_double_str(v, &x) != 0)
            return al_fail(e, AL_EUSAGE, flag, NULL, "expected a number, got '%s'", v);
        if (bounded && (x < o->min || x > o->max))
            return al_fail(e, AL_EUSAGE, flag, NULL, "%s is outside [%g, %g]", v, o->min, o->max);
        *(double *)o->dst = x;
        break;
    }
    case AL_OPT_SIZE: {
        int64_t x;
        if (al_parse_size_str(v, &x) != 0 || x <= 0)
            return al_fail(e, AL_EUSAGE, flag, NULL, "expected a size such as 512M or 2G, got '%s'", v);
        *(int64_t *)o->dst = x;
        break;
    }
    case AL_OPT_CHOICE:
        if (!al_choice_ok(o->choices, v))
            return al_fail(e, AL_EUSAGE, flag, NULL, "expected one of %s, got '%s'", o->choices, v);
        *(const char **)o->dst = v;
        break;
    case AL_OPT_STRING:
        if (!*v) return al_fail(e, AL_EUSAGE, flag, NULL, "expects a value");
        *(const char **)o->dst = v;
        break;
    case AL_OPT_LIST: {
        al_strlist *l = o->dst;
        const char **nv = al_realloc((void *)l->v, (size_t)l->n + 1, sizeof *nv);
        if (!nv) return al_fail(e, AL_ENOMEM, flag, NULL, "out of memory");
        nv[l->n++] = v;
        l->v = nv;
        break;
    }
    }
    o->seen = 1;
    return AL_OK;
}

al_status al_parse_args(int argc, char **argv, al_opt *opts, int nopts, const char **pos, int *npos, int maxpos,
                        al_error *e) {
    *npos = 0;
    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        al_opt *o = NULL;
        const char *val = NULL;
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            o = al_find_long(opts, nopts, a + 2, len);
            if (!o) return al_fail(e, AL_EUSAGE, argv[0], NULL, "unknown option '%.*s' (see attnlab %s --help)", (int)(len + 2), a, argv[0]);
            if (eq) val = eq + 1;
        } else if (!only_pos && a[0] == '-' && a[1] && !isdigit((unsigned char)a[1]) && a[1] != '.') {
            for (int k = 0; k < nopts; k++)
                if (opts[k].shortname == a[1] && a[2] == 0) o = &opts[k];
            if (!o) return al_fail(e, AL_EUSAGE, argv[0], NULL, "unknown option '%s' (see attnlab %s --help)", a, argv[0]);
        } else {
            if (*npos >= maxpos) return al_fail(e, AL_EUSAGE, argv[0], NULL, "unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (o->kind == AL_OPT_FLAG) {
            if (val) return al_fail(e, AL_EUSAGE, argv[0], NULL, "--%s takes no value", o->name);
            *(int *)o->dst = 1;
            o->seen = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) return al_fail(e, AL_EUSAGE, argv[0], NULL, "--%s needs a value", o->name);
            val = argv[++i];
        }
        if (o->shortname == 'o' && strlen(val) >= PATH_MAX) /* refused before anything is created */
            return al_fail(e, AL_EUSAGE, "-o", NULL, "a path of %zu bytes: longer than PATH_MAX (%d)", strlen(val),
                           PATH_MAX);
        if (al_set_opt(o, val, e) != AL_OK) return e->status;
    }
    return AL_OK;
}

void al_print_help(FILE *f, const char *usage, const char *summary, const al_opt *opts, int nopts) {
    fprintf(f, "usage: attnlab %s\n\n%s\n\noptions:\n", usage, summary);
    for (int i = 0; i < nopts; i++) {
        const al_opt *o = &opts[i];
        char lhs[96];
        if (o->shortname)
            snprintf(lhs, sizeof lhs, "-%c, --%s%s%s", o->shortname, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(lhs, sizeof lhs, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-28s %s\n", lhs, o->help);
    }
}

cJSON *al_opts_params(const al_opt *opts, int nopts) {
    uint64_t failed0 = al_alloc_cjson_failures(); /* a field left out by a failed allocation: no params at all */
    cJSON *p = cJSON_CreateObject();
    if (!p) return NULL;
    for (int i = 0; i < nopts; i++) {
        const al_opt *o = &opts[i];
        if (o->hidden_in_params) continue;
        switch (o->kind) {
        case AL_OPT_FLAG: cJSON_AddBoolToObject(p, o->name, *(int *)o->dst); break;
        case AL_OPT_INT:
        case AL_OPT_SIZE: cJSON_AddNumberToObject(p, o->name, (double)*(int64_t *)o->dst); break;
        case AL_OPT_DOUBLE: cJSON_AddNumberToObject(p, o->name, *(double *)o->dst); break;
        case AL_OPT_STRING:
        case AL_OPT_CHOICE: {
            const char *s = *(const char **)o->dst;
            if (s) cJSON_AddStringToObject(p, o->name, s);
            else cJSON_AddNullToObject(p, o->name);
            break;
        }
        case AL_OPT_LIST: {
            const al_strlist *l = o->dst;
            cJSON *a = cJSON_AddArrayToObject(p, o->name);
            for (int k = 0; a && k < l->n; k++) al_json_push(a, cJSON_CreateString(l->v[k]));
            break;
        }
        }
    }
    if (al_alloc_cjson_failures() != failed0) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}
