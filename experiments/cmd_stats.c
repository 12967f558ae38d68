/* `attnlab stats FILE`: sinks, heads and similarity from ONE read of the maps (or of q and k), the library's
 * al_stats_compute. Each analysis writes the tables, JSON and figures it writes on its own; --analyses picks a
 * subset. */
#include <stdio.h>
#include <string.h>

#include "../analyses/stats.h"
#include "../core/alloc.h"
#include "commands.h"

enum { AL_ST_SINKS, AL_ST_HEADS, AL_ST_SIM, AL_ST_N };
static const char *const al_st_names[AL_ST_N] = {"sinks", "heads", "similarity"};

static al_status al_stats_pick(const char *list, int *want, al_error *e) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    memset(want, 0, sizeof(int) * AL_ST_N);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < AL_ST_N && strcmp(t, al_st_names[k]) != 0)
            k++;
        if (k == AL_ST_N)
            return al_fail(e, AL_EUSAGE, "--analyses", NULL, "unknown analysis '%s' (known: sinks, heads, similarity)",
                           t);
        want[k] = 1;
    }
    return AL_OK;
}

/* Prints the results of several analyses as one JSON object {"sinks": ..., "heads": ...} (or each one's
 * tables in a text format), and writes each into -o DIR as it would on its own. */
static al_status al_stats_emit(al_result **res, const int *want, const al_common *c, al_error *e) {
    int json = c->format && !strcmp(c->format, "json");
    al_common files_only = *c;
    files_only.format = NULL;
    for (int k = 0; k < AL_ST_N; k++) {
        if (!want[k] || (json && !c->out)) continue;
        if (al_result_emit(res[k], json ? &files_only : c, e) != AL_OK) return e->status;
    }
    if (json) {
        cJSON *all = cJSON_CreateObject();
        for (int k = 0; all && k < AL_ST_N; k++)
            if (want[k]) cJSON_AddItemReferenceToObject(all, al_st_names[k], res[k]->doc);
        int bad = !all || al_json_write(stdout, all) != 0;
        cJSON_Delete(all);
        if (bad) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    return AL_OK;
}

int al_cmd_stats(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_sinks_params sp;
    al_sinks_defaults(&sp);
    al_heads_params hp;
    al_heads_defaults(&hp);
    const char *analyses = "sinks,heads,similarity";
    int64_t tokens = 0;
    al_opt opts[AL_OPTS_MAX] = {
        {"analyses", 0, AL_OPT_STRING, &analyses, "LIST", "which of sinks,heads,similarity (default: all three)", 0, 0,
         NULL, 0, 0},
        {"tokens", 0, AL_OPT_INT, &tokens, "T", "analyse the first T tokens, for every analysis (default: all)", 1,
         1e12, NULL, 0, 0},
    };
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_SINKS], &sp, 1, opts, 2), npos = 0, done = 0;
    nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_HEADS], &hp, 1, opts, nopts);
    const char *pos[1];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &c, "stats FILE [options]",
                     "sinks, heads and similarity in one read of the recording: each block of rows of every\n"
                     "head is read once and handed to all three. The numbers are those of the separate\n"
                     "commands with the same --tokens (note: `sinks` alone defaults to the first 64 tokens,\n"
                     "`stats` to the whole recording; pass --tokens 64 for the sink-rate protocol).\n"
                     "With -o DIR, each analysis writes its own files there; --format json prints one object\n"
                     "{\"sinks\": ..., \"heads\": ..., \"similarity\": ...}. See docs/performance.md.",
                     pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    int want[AL_ST_N];
    if ((st = al_stats_pick(analyses, want, &e)) != AL_OK) return al_cmd_finish(st, &e);
    al_rec *r = NULL;
    al_result *res[AL_ST_N] = {NULL};
    al_sinks_out so = {0};
    al_heads_out ho = {0};
    al_similarity_out jo = {0};
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    int64_t T = al_resolve_tokens(r, tokens, 0, &e);
    if (T < 0) st = e.status;
    sp.tokens = hp.tokens = T;
    for (int k = 0; k < AL_ST_N && st == AL_OK; k++) {
        if (!want[k]) continue;
        res[k] = al_result_new(al_st_names[k], argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
        if (!res[k])
            st = e.status;
        else
            al_result_param(res[k], "tokens", cJSON_CreateNumber((double)T));
    }
    if (st == AL_OK)
        st = al_stats_compute(r, T, &sp, &hp, &x, want[AL_ST_SINKS] ? &so : NULL, want[AL_ST_HEADS] ? &ho : NULL,
                              want[AL_ST_SIM] ? &jo : NULL, &e);
    /* the warning naming the samples too short for T, which the sinks statistics left out */
    if (want[AL_ST_SINKS] && so.T > 0) al_short_samples(r, so.T, "sinks", c.quiet);
    if (st == AL_OK && want[AL_ST_SINKS]) st = al_sinks_emit(&so, res[AL_ST_SINKS], &e);
    if (st == AL_OK && want[AL_ST_HEADS]) st = al_heads_emit(&ho, res[AL_ST_HEADS], &e);
    if (st == AL_OK && want[AL_ST_SIM]) st = al_similarity_emit(&jo, res[AL_ST_SIM], &e);
    if (st == AL_OK) st = al_stats_emit(res, want, &c, &e);
    al_sinks_out_free(&so);
    al_heads_out_free(&ho);
    al_similarity_out_free(&jo);
    for (int k = 0; k < AL_ST_N; k++)
        al_result_free(res[k]);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
