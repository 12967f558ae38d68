/* `attnlab sinks FILE`: attention sinks of a recording (METRICS.md section 1), tables and figures. */
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
    al_opt opts[AL_OPTS_MAX] = {
        {"epsilon", 0, AL_OPT_DOUBLE, &p.epsilon, "EPS", "sink threshold on alpha (default 0.3)", 0, 1, NULL, 0, 0},
        {"tokens", 0, AL_OPT_INT, &p.tokens, "T", "analyse the first T tokens (default 64; non-causal maps: all)", 1,
         1e12, NULL, 0, 0},
        {"positions", 0, AL_OPT_INT, &p.positions, "K",
         "report Sink_0 .. Sink_{K-1} (default 10, or T when fewer tokens)", 1, 1e9, NULL, 0, 0},
        {"hidden-threshold", 0, AL_OPT_DOUBLE, &p.hidden_threshold, "TAU",
         "hidden sinks: positions j >= 1 with alpha > TAU (default 0.1)", 0, 1, NULL, 0, 0},
        {"hidden-min-queries", 0, AL_OPT_INT, &p.hidden_min_queries, "M",
         "hidden sinks: only keys seen by at least M queries, T - j >= M on causal maps (default 16)", 1, 1e12, NULL, 0,
         0},
    };
    int nopts = 5, npos = 0, done = 0;
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
    al_rec *r = NULL;
    al_result *res = NULL;
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    res = al_result_new("sinks", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_sinks_run(r, &p, &c, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
