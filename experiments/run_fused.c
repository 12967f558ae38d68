/* The shared pass of a recording's map steps: the sinks, heads and similarity units that `attnlab stats` can
 * serve go to ONE call of it, whose output folder is split into the units' folders by file name. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../analyses/stream.h"
#include "../datasets/recording.h"
#include "commands.h"
#include "run.h"
#include "run_sinks.h"
#include "runfs.h"
#include "runown.h"

/* a step the shared pass can serve: its analysis has a fused visitor and every parameter it sets is one the
 * pass takes (analyses/catalog.c) */
static int al_fusable(const al_step *st) {
    if (!st->def->fused) return 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, st->params) {
        char canon[64];
        al_param_canon(p->string, canon, sizeof canon);
        if (!al_fused_param(st->def, canon)) return 0;
    }
    return 1;
}

/* the token count the unit's analysis will use, or -1 */
static int64_t al_unit_tokens(const al_run *r, const al_unit *u, int64_t *K) {
    const al_step *st = &r->spec->steps[u->step];
    al_error e;
    al_error_clear(&e);
    if (!strcmp(st->analysis, "sinks")) {
        int64_t T;
        return al_sinks_prepare(r, u, &T, K, &e) == AL_OK ? T : -1;
    }
    char path[4096];
    al_item_path(r, u->item, 0, path, sizeof path);
    al_rec *rec = NULL;
    if (al_rec_open(path, &rec, &e) != AL_OK) return -1;
    const cJSON *tok = al_step_param(st, "tokens");
    int64_t T = al_resolve_tokens(rec, tok ? (int64_t)tok->valuedouble : 0, 0, &e);
    al_rec_close(rec);
    return T;
}

/* the unit whose analysis wrote file name (its name is the analysis's, or starts with it and '_') */
static int al_owner(const al_run *r, al_unit **f, int nf, const char *name) {
    for (int i = 0; i < nf; i++) {
        const char *a = r->spec->steps[f[i]->step].analysis;
        size_t l = strlen(a);
        if (!strncmp(name, a, l) && (name[l] == '.' || name[l] == '_')) return i;
    }
    return -1;
}

int al_fuse_plan(al_run *r, al_unit **g, int n, al_unit **f, int64_t *T, int64_t *K) {
    const al_command *c = al_commands;
    while (c->name && strcmp(c->name, "stats") != 0)
        c++;
    int nf = 0;
    *T = -1, *K = 0;
    for (int i = 0; c->name && i < n && nf < 3; i++) {
        const al_step *st = &r->spec->steps[g[i]->step];
        int dup = 0;
        for (int k = 0; k < nf; k++)
            dup |= !strcmp(r->spec->steps[f[k]->step].analysis, st->analysis);
        if (dup || !al_fusable(st)) continue;
        int64_t k = 0, t = al_unit_tokens(r, g[i], &k);
        if (t < 0 || (*T >= 0 && t != *T)) continue;
        *T = t;
        if (!strcmp(st->analysis, "sinks")) *K = k;
        f[nf++] = g[i];
    }
    if (nf < 2) return 0;
    char pass[64] = "stats:";
    for (int i = 0; i < nf; i++)
        snprintf(pass + strlen(pass), sizeof pass - strlen(pass), "%s%s", i ? "," : "",
                 r->spec->steps[f[i]->step].analysis);
    for (int i = 0; i < nf; i++)
        snprintf(f[i]->pass, sizeof f[i]->pass, "%s", pass);
    return nf;
}

int al_fuse_exec(al_run *r, al_unit **f, int nf, int64_t T, int64_t K) {
    char stage[4300], errf[4400], reason[1100], list[64] = "", num[32], path[4096];
    al_error e;
    al_error_clear(&e);
    if (al_unit_stage(r, stage, sizeof stage, &e) != AL_OK) return -1;
    al_argv a = {0};
    al_item_path(r, f[0]->item, 0, path, sizeof path);
    al_arg(&a, "stats");
    al_arg(&a, path);
    for (int i = 0; i < nf; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "," : "",
                 r->spec->steps[f[i]->step].analysis);
    al_arg(&a, "--analyses");
    al_arg(&a, list);
    snprintf(num, sizeof num, "%lld", (long long)T);
    al_arg(&a, "--tokens");
    al_arg(&a, num);
    for (int i = 0; i < nf; i++) {
        const cJSON *p;
        cJSON_ArrayForEach(p, r->spec->steps[f[i]->step].params) {
            char canon[64];
            al_param_canon(p->string, canon, sizeof canon);
            if (strcmp(canon, "tokens") != 0 && strcmp(canon, "positions") != 0) al_param_flags(&a, canon, p, 0);
        }
        if (!strcmp(r->spec->steps[f[i]->step].analysis, "sinks")) { /* alpha at every position: stats.json */
            al_arg(&a, "--positions");
            al_arg(&a, num);
        }
    }
    al_argv_tail(r, &a, stage);
    al_own_tmp(r, "err", errf, sizeof errf);
    double t0 = al_now();
    int fail = 1;
    if (a.bad || al_run_command(&a, errf, reason, sizeof reason) != 0) goto out;
    /* split: every file to the unit of its analysis, each unit into its own staging folder */
    char ustage[3][4300], from[4700], to[4700];
    int made = 0;
    for (; made < nf; made++)
        if (al_unit_stage(r, ustage[made], sizeof ustage[made], &e) != AL_OK) goto out;
    char **names;
    int nn = al_fs_list(stage, "", &names), bad = nn < 0;
    for (int i = 0; i < nn && !bad; i++) {
        int o = al_owner(r, f, nf, names[i]);
        snprintf(from, sizeof from, "%s/%s", stage, names[i]);
        if (o < 0) {
            bad = 1; /* a file no unit claims: the split would not be what the separate calls write */
            break;
        }
        snprintf(to, sizeof to, "%s/%s", ustage[o], names[i]);
        bad = rename(from, to) != 0;
    }
    al_fs_names_free(names, nn);
    fail = bad;
    for (int i = 0; i < nf && !bad; i++) {
        if (f[i]->state != AL_U_PENDING) continue; /* up to date already: this pass's copy is dropped below */
        if (al_unit_commit(r, f[i], &a, ustage[i], K, &e) != AL_OK) {
            f[i]->state = AL_U_FAILED;
            f[i]->status = al_exit_code(e.status);
            al_run_reason(f[i]->reason, sizeof f[i]->reason, &e);
            ustage[i][0] = 0;
            if (r->tty) al_progress_add(&r->prog, 1);
            al_run_say(r, "%s [%s]: failed: %s", r->spec->steps[f[i]->step].name, r->spec->items[f[i]->item].id,
                       f[i]->reason);
            continue;
        }
        ustage[i][0] = 0;
        f[i]->state = AL_U_DONE;
        f[i]->ran = 1;
        if (r->tty) al_progress_add(&r->prog, 1);
        al_run_say(r, "%s [%s]: done in %.1fs, in one pass with %d other%s (key %.12s)",
                   r->spec->steps[f[i]->step].name, r->spec->items[f[i]->item].id, al_now() - t0, nf - 1,
                   nf > 2 ? "s" : "", f[i]->key);
    }
    for (int i = 0; i < made; i++)
        if (ustage[i][0]) al_fs_rmtree(ustage[i]);
out:
    al_fs_rmtree(stage);
    al_argv_free(&a);
    return fail ? -1 : 0;
}
