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
    al_opt opts[AL_OPTS_MAX];
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_SIMILARITY], &p, 0, opts, 0), npos = 0, done = 0;
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
    al_similarity_out out = {0};
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    res = al_result_new("similarity", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_similarity_compute(r, &p, &x, &out, &e);
    if (st == AL_OK) { /* the token count resolved from the recording */
        al_result_param(res, "tokens", cJSON_CreateNumber((double)out.T));
        st = al_similarity_emit(&out, res, &e);
    }
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_similarity_out_free(&out);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
