/* `attnlab semdrift FILE`: semantic drift across generations, MCD and SDR (METRICS.md section 5). */
#include <stdio.h>

#include "../analyses/semdrift.h"
#include "commands.h"

int al_cmd_semdrift(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_opt opts[AL_COMMON_NOPTS];
    int nopts = 0, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "semdrift FILE [options]",
        "Semantic drift of a unified model across repeated generations (reference: Semantic-Drift-in-Unified-\n"
        "Models mcd-sdr.py). s[n,g] = cosine of sample n at generation g with its generation 0. Per direction d:\n"
        "m_d(g) = mean over samples, MCD_d = mean over generations; MCD = mean over directions (a similarity:\n"
        "higher = less drift). SDR: fit m_d(g) = a exp(-b g) + c, g the generation number, by Levenberg-Marquardt\n"
        "(MINPACK lmdif from (1, 0.1, 0) with scipy.optimize.curve_fit's settings); sdr = mean (a, b, c) over the\n"
        "directions whose fit converged (SDR = b). A fit that does not converge is reported as such.\n\n"
        "FILE: CSV with columns direction,generation,sample,similarity, or HDF5 with embeddings\n"
        "/embeddings/<direction>/G00, G01, ... each [N, D] (G00 = generation 0; cosines through BLAS).\n"
        "Definitions: METRICS.md section 5; docs/logs.md.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_result *res = al_result_new("semdrift", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_semdrift_run(pos[0], &x, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    return al_cmd_finish(st, &e);
}
