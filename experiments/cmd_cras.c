/* `attnlab cras FILE`: role adherence CRAS from judge scores (METRICS.md section 6). */
#include <stdio.h>

#include "../analyses/cras.h"
#include "commands.h"

int al_cmd_cras(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_cras_params p;
    al_cras_defaults(&p);
    const char *weights = NULL, *wfile = NULL, *correct = NULL;
    al_opt opts[8 + AL_COMMON_NOPTS] = {
        {"weights", 0, AL_OPT_STRING, &weights, "W", "dimension weights, all four: GA=1,RC=1,KBA=1,CC=1 (default: equal)", 0, 0, NULL, 0, 0},
        {"weights-file", 0, AL_OPT_STRING, &wfile, "W.json", "weights per role: {\"default\": {GA: 1, ...}, \"roles\": {ROLE: {...}}}", 0, 0, NULL, 0, 0},
        {"correct", 0, AL_OPT_STRING, &correct, "C.csv", "per-query correctness (CSV query,correct) for Pearson and Spearman", 0, 0, NULL, 0, 0},
        {"bootstrap", 0, AL_OPT_INT, &p.bootstrap, "B", "bootstrap resamples over queries (default 1000; 0: no intervals)", 0, 1e6, NULL, 0, 0},
        {"seed", 0, AL_OPT_INT, &p.seed, "S", "bootstrap seed (default 0; generator in docs/logs.md)", 0, 9e15, NULL, 0, 0},
    };
    int nopts = 5, npos = 0, done = 0;
    const char *pos[3];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "cras FILE [options]",
        "Role adherence (CRAS, after \"Diagnose, Localize, Align\") from judge scores of four dimensions, each 1..5:\n"
        "GA goal alignment, RC role consistency, KBA knowledge-boundary adherence, CC constraint compliance.\n"
        "Per record: weighted mean of the four (equal weights unless --weights or --weights-file, which may set them\n"
        "per role); per (query, role): mean over records; per query: mean over roles; CRAS: mean over queries.\n"
        "Per dimension: the same hierarchy on that dimension alone. Per role: mean over the queries where it\n"
        "appears. 95% percentile bootstrap intervals resample queries; normalised = (score - 1) / 4. With\n"
        "correctness (--correct, or the `correct` field of JSON Lines): Pearson and Spearman with per-query CRAS.\n\n"
        "FILE: the DLA-ICLR judge output scores.json {query: {role: [{\"GA\": {\"score\": s, ...}, \"RC\": ..., \"KBA\":\n"
        "..., \"CC\": ...}, ...]}}, or JSON Lines with fields query, role, GA, RC, KBA, CC[, correct].\n"
        "Definitions: METRICS.md section 6; docs/logs.md.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    if (weights && wfile) return al_cmd_finish(al_fail(&e, AL_EUSAGE, "--weights", NULL, "give either --weights or --weights-file, not both"), &e);
    al_cras_weights w;
    al_cras_weights_equal(&w);
    if (weights) st = al_cras_weights_parse(weights, &w, &e);
    if (wfile) st = al_cras_weights_read(wfile, &w, &e);
    if (st != AL_OK) return al_cmd_finish(st, &e);
    const char *inputs[3] = {pos[0]};
    int ninputs = 1;
    if (wfile) inputs[ninputs++] = wfile;
    if (correct) inputs[ninputs++] = correct;
    al_result *res = al_result_new("cras", argc, argv, inputs, ninputs, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_cras_run(pos[0], correct, &w, &p, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_cras_weights_free(&w);
    return al_cmd_finish(st, &e);
}
