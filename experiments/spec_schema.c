/* What a spec may ask for: the analyses of the catalogue (analyses/catalog.c) and each generator's parameters
 * (the commands' flags, types, bounds). tests/cli/test_run.py checks every name against `attnlab CMD --help`. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "spec.h"

#define BIG 1e12

/* Commands that write inputs or drive others: never a step. */
static const char *const al_not_analyses[] = {"run", "merge", "synth", "import", "record", NULL};

const al_adef *al_adef_find(const char *name) {
    for (const char *const *n = al_not_analyses; *n; n++)
        if (!strcmp(*n, name)) return NULL;
    const al_adef *a = al_analysis_find(name);
    if (a) return a;
    /* a command added after this table was written: usable, its parameters unchecked until it runs */
    static al_adef generic[8];
    static int ngeneric;
    for (const al_command *c = al_commands; c->name; c++) {
        if (strcmp(c->name, name) != 0) continue;
        for (int i = 0; i < ngeneric; i++)
            if (!strcmp(generic[i].name, name)) return &generic[i];
        if (ngeneric == 8) return NULL;
        generic[ngeneric] = (al_adef){c->name, c->summary, 0, 1, 0, 0, AL_COMBINE_STACK, NULL};
        return &generic[ngeneric++];
    }
    return NULL;
}

void al_adef_names(char *buf, int n) {
    int o = 0;
    buf[0] = 0;
    for (const al_command *c = al_commands; c->name && o < n; c++) {
        int skip = 0;
        for (const char *const *x = al_not_analyses; *x; x++)
            skip |= !strcmp(*x, c->name);
        if (!skip) o += snprintf(buf + o, (size_t)(n - o), "%s%s", o ? ", " : "", c->name);
    }
}

/* ---- generators of inputs ---- */

/* one parameter per line */
/* clang-format off */

static const al_pdef al_g_maps[] = {
    {"seed", AL_PT_INT, 0, 9e15},
    {"samples", AL_PT_INT, 1, 1e6},
    {"layers", AL_PT_INT, 1, 4096},
    {"heads", AL_PT_INT, 1, 65536},
    {"kv-heads", AL_PT_INT, 0, 65536},
    {"tokens", AL_PT_INT, 1, 1 << 20},
    {"head-dim", AL_PT_INT, 1, 65536},
    {"dtype", AL_PT_CHOICE, 0, 0, "f32|f16|bf16"},
    {"bidirectional", AL_PT_BOOL},
    {"with-maps", AL_PT_BOOL},
    {NULL},
};
static const al_pdef al_g_kl[] = {
    {"seed", AL_PT_INT, 0, 9e15},
    {"conversations", AL_PT_INT, 2, 1e6},
    {"turns", AL_PT_INT, 2, 1e5},
    {"kappa", AL_PT_NUM, 0, 2},
    {"equilibrium", AL_PT_NUM, 0, 1e6},
    {"start", AL_PT_NUM, 0, 1e6},
    {"noise", AL_PT_NUM, 0, 1e6},
    {"reminders", AL_PT_NUM, 0, 1},
    {"reminder-effect", AL_PT_NUM, 0, 1},
    {"reminder-every", AL_PT_INT, 1, 1e5},
    {NULL},
};
static const al_pdef al_g_sem[] = {
    {"seed", AL_PT_INT, 0, 9e15},
    {"samples", AL_PT_INT, 1, 1e6},
    {"noise", AL_PT_NUM, 0, 1},
    {NULL},
};
static const al_pdef al_g_cras[] = {
    {"seed", AL_PT_INT, 0, 9e15},
    {"queries", AL_PT_INT, 2, 1e6},
    {"roles", AL_PT_STRS},
    {"records", AL_PT_INT, 1, 1000},
    {NULL},
};
static const al_pdef al_g_record[] = {
    {"tokens", AL_PT_STRS},
    {"ids", AL_PT_STRS},
    {"text", AL_PT_STRS},
    {"ignore-eos", AL_PT_BOOL},
    {"no-special", AL_PT_BOOL},
    {"generate", AL_PT_INT, 0, 1e6},
    {"temperature", AL_PT_NUM, 0, 1e6},
    {"seed", AL_PT_INT, 0, 9e15},
    {"samples", AL_PT_INT, 1, 1e6},
    {"what", AL_PT_STR},
    {"span", AL_PT_STRS},
    {"dtype", AL_PT_CHOICE, 0, 0, "f32|f16|bf16"},
    {"model", AL_PT_STR},
    {NULL},
};

static const al_gdef al_gens[] = {
    {"maps", AL_GEN_SYNTH, 1, {"synthetic.h5"}, al_g_maps},
    {"sinks", AL_GEN_SYNTH, 1, {"synthetic.h5"}, al_g_maps},
    {"qk", AL_GEN_SYNTH, 1, {"synthetic.h5"}, al_g_maps},
    {"drift", AL_GEN_SYNTH, 2, {"baseline.h5", "conflict.h5"}, al_g_maps},
    {"kl-drift", AL_GEN_LOGS, 1, {"turns.csv"}, al_g_kl},
    {"semdrift", AL_GEN_LOGS, 1, {"similarity.csv"}, al_g_sem},
    {"cras", AL_GEN_LOGS, 1, {"scores.jsonl"}, al_g_cras},
    {"record", AL_GEN_RECORD, 1, {"recording.h5"}, al_g_record},
    {NULL},
};

/* clang-format on */

const al_gdef *al_gdef_find(const char *kind) {
    for (const al_gdef *g = al_gens; g->kind; g++)
        if (!strcmp(g->kind, kind)) return g;
    return NULL;
}

void al_gdef_names(char *buf, int n) {
    int o = 0;
    buf[0] = 0;
    for (const al_gdef *g = al_gens; g->kind && o < n; g++)
        if (g->how != AL_GEN_RECORD) o += snprintf(buf + o, (size_t)(n - o), "%s%s", o ? ", " : "", g->kind);
}
