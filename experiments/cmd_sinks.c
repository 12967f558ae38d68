/* `attnlab sinks FILE`: attention sinks of a recording (METRICS.md section 1), tables and figures. Its options
 * come from the catalogue (analyses/catalog.c); the work is al_sinks_compute, the output al_sinks_emit. */
#include <stdio.h>

#include "../analyses/sinks.h"
#include "commands.h"

int al_cmd_sinks(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_sinks_params p;
    al_sinks_defaults(&p);
    al_opt opts[AL_OPTS_MAX];
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_SINKS], &p, 0, opts, 0), npos = 0, done = 0;
    const char *pos[1];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &c, "sinks FILE [options]",
                     "Key importance alpha[j] (mean attention key j receives from the queries that see it),\n"
                     "the sink rate Sink_k^eps (percent of (sample, layer, head) with alpha[k] > eps, both\n"
                     "rounded to float32) overall and per layer, and hidden sinks (positions j >= 1 with\n"
                     "alpha[j] > tau, alpha averaged over samples). FILE: a format-v1 recording or a .npy\n"
                     "map dump [N, L, H, T, T]. Definitions: spec METRICS.md section 1.\n"
                     "Positions count from 0: Sink_0 is the first token, which \"When Attention Sink Emerges\"\n"
                     "calls Sink_1 (its Sink_k is attnlab's Sink_{k-1}).\n"
                     "Padded batches (/lengths): Sink_k needs one common T, so samples with fewer than T\n"
                     "valid tokens are left out, counted (skipped_samples in the JSON) and named in a warning.",
                     pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_rec *r = NULL;
    al_result *res = NULL;
    al_sinks_out out = {0};
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    res = al_result_new("sinks", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_sinks_compute(r, &p, &x, &out, &e);
    /* the warning naming the samples too short for T, which compute left out */
    if (out.T > 0) al_short_samples(r, out.T, "sinks", c.quiet);
    if (st == AL_OK) { /* the values resolved from the recording */
        al_result_param(res, "tokens", cJSON_CreateNumber((double)out.T));
        al_result_param(res, "positions", cJSON_CreateNumber((double)out.K));
        st = al_sinks_emit(&out, res, &e);
    }
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_sinks_out_free(&out);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
