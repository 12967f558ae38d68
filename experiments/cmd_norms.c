/* `attnlab norms FILE`: hidden-state norms by layer and token, massive activations, key and value norms
 * (METRICS.md section 2, norms), tables and figures. */
#include <stdio.h>

#include "../analyses/norms.h"
#include "commands.h"

int al_cmd_norms(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_norms_params p;
    al_norms_defaults(&p);
    al_opt opts[AL_OPTS_MAX];
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_NORMS], &p, 0, opts, 0), npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "norms FILE [options]",
        "Residual-stream norms (Attention-Sink compute_norm): per layer entry (0 = embeddings, l + 1 = output of\n"
        "block l) and token, ||h[t]||_2 averaged over samples; massive activations (locuslab/massive-activations):\n"
        "the top-3 |h| over samples x tokens x channels, where they are, and the exact median |h|. With /k and /v:\n"
        "||k[t]|| and ||v[t]|| per layer, averaged over samples and KV heads. Samples shorter than T (/lengths)\n"
        "count only their valid tokens. Figures: norm against token position (one line per layer), top-1 and\n"
        "median |h| per layer, key and value norms. See docs/heads.md.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_rec *r = NULL;
    al_result *res = NULL;
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    res = al_result_new("norms", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_norms_run(r, &p, &x, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
