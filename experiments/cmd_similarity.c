/* `attnlab similarity FILE`: JS divergence between every pair of heads and a 2-D MDS map of the heads
 * (METRICS.md section 2, head similarity), tables and figures. */
#include <stdio.h>

#include "../analyses/similarity.h"
#include "commands.h"

int al_cmd_similarity(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_similarity_params p;
    al_similarity_defaults(&p);
    al_opt opts[AL_OPTS_MAX] = {
        {"tokens", 0, AL_OPT_INT, &p.tokens, "T", "analyse the first T tokens (default: all; non-causal maps: all)", 1, 1e12, NULL, 0, 0},
    };
    int nopts = 1, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "similarity FILE [options]",
        "Jensen-Shannon divergence between every pair of heads: rows smoothed as p' = 0.001/T + 0.999 p over all\n"
        "T keys, JS per query row, mean over rows and samples (Clark et al. sum instead: sum = mean x rows x\n"
        "samples). Heads are then placed in 2-D by classical MDS (eigen-decomposition of -1/2 J D^2 J with\n"
        "D = the JS matrix, LAPACK dsyev). JSON: heads ([layer, head] in matrix order), js, mds, mds_eigenvalues.\n"
        "Streams blocks of rows of all heads at once: peak memory follows --mem, not the number of maps.\n"
        "Figures: the JS matrix and the MDS map. Definitions: METRICS.md section 2; docs/heads.md.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_rec *r = NULL;
    al_result *res = NULL;
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    res = al_result_new("similarity", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_similarity_run(r, &p, &x, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
