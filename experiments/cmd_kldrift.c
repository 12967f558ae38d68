/* `attnlab kl-drift FILE`: KL context drift over conversation turns and its equilibrium (METRICS.md section 4). */
#include <stdio.h>

#include "../analyses/kldrift.h"
#include "commands.h"

int al_cmd_kldrift(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_kldrift_params p;
    al_kldrift_defaults(&p);
    al_opt opts[8 + AL_COMMON_NOPTS] = {
        {"temperature", 0, AL_OPT_DOUBLE, &p.temperature, "T", "softmax temperature applied to both models' logits (default 1)", 1e-6, 1e6, NULL, 0, 0},
        {"token-agg", 0, AL_OPT_CHOICE, &p.token_agg, "AGG", "D_t of a turn: mean (default) or sum of its token KLs", 0, 0, "mean|sum", 0, 0},
        {"bootstrap", 0, AL_OPT_INT, &p.bootstrap, "B", "bootstrap resamples over conversations (default 1000; 0: no intervals)", 0, 1e6, NULL, 0, 0},
        {"seed", 0, AL_OPT_INT, &p.seed, "S", "bootstrap seed (default 0; generator in docs/logs.md)", 0, 9e15, NULL, 0, 0},
    };
    int nopts = 4, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "kl-drift FILE [options]",
        "KL context drift across the turns of conversations (after \"Drift No More?\"). Per scored token,\n"
        "KL(q || p) = sum_y q(y) (ln q(y) - ln p(y)), q the test model, p the reference, both softmax(logits / T).\n"
        "D_t of a turn = mean (or sum) over its tokens. Reports D_t per turn (mean, sd, n over conversations) and\n"
        "the pooled equilibrium fit D_{t+1} - D_t = a + b D_t over consecutive turns: restoring rate kappa = -b,\n"
        "equilibrium D* = -a/b (not defined when b >= 0), R^2, with 95% percentile bootstrap intervals resampling\n"
        "whole conversations (resamples with b >= 0 are left out and counted). With intervention flags, the same\n"
        "fit for intervention and other conversations and the relative change of mean D.\n\n"
        "FILE: a drift file (HDF5, attnlab_format = \"drift\": /row_conversation, /row_turn, /test and /ref each with\n"
        "dense `logits` [R, V] or `topk_ids` + `topk_logprobs` [R, K], optional /intervention), or precomputed\n"
        "per-turn values as CSV or JSON Lines with columns conversation,turn,kl[,intervention].\n"
        "Dense logits are streamed in row blocks within --mem. Definitions: METRICS.md section 4; docs/logs.md.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_result *res = al_result_new("kl-drift", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_kldrift_run(pos[0], &p, &x, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    return al_cmd_finish(st, &e);
}
