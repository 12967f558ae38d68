/* `attnlab drift BASELINE CONFLICT`: attention drift between two recordings of one model, focal heads and
 * focal layers (METRICS.md section 3, the project's own definition), tables and figures. */
#include <stdio.h>

#include "../analyses/drift.h"
#include "commands.h"

int al_cmd_drift(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_drift_params p;
    al_drift_defaults(&p);
    al_opt opts[AL_OPTS_MAX];
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_DRIFT], &p, 0, opts, 0), npos = 0, done = 0;
    const char *pos[2];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "drift BASELINE CONFLICT [options]",
        "Attention drift (the project's own definition, METRICS.md section 3). For every (layer, head, sample)\n"
        "the query rows (span --query-span, else the last token) give a distribution over key groups: each named\n"
        "span plus 'other' (keys outside every span). Baseline p against conflict q: magnitude |q[t] - p[t]| on\n"
        "the target span t, direction 1 - cos(p, q), reshaping JS(p, q). Each is averaged over samples and\n"
        "z-scored across heads; score = the mean z. Focal heads: the top --top-percent; focal layers: the fewest\n"
        "layers holding half of them, written as layer_range (e.g. 19-21,23). Recordings of different lengths\n"
        "are aligned through their span names; without /spans both must have one length and keys are compared\n"
        "one by one (target key 0). Figures: score heatmap; span masses of the focal heads. See docs/heads.md.",
        pos, &npos, 2, 2, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    p.query_given = opts[0].seen;
    p.target_given = opts[1].seen;
    al_rec *b = NULL, *k = NULL;
    al_result *res = NULL;
    if ((st = al_rec_open(pos[0], &b, &e)) == AL_OK && (st = al_rec_open(pos[1], &k, &e)) == AL_OK) {
        res = al_result_new("drift", argc, argv, pos, 2, al_opts_params(opts, nopts), &c, &e);
        if (!res) st = e.status;
        if (st == AL_OK) st = al_drift_run(b, k, &p, &x, res, &e);
        if (st == AL_OK) st = al_result_emit(res, &c, &e);
    }
    al_result_free(res);
    al_rec_close(b);
    al_rec_close(k);
    return al_cmd_finish(st, &e);
}
