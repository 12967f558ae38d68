/* `attnlab maps FILE --layers L,...`: heatmaps of mean attention maps, per head or mean over heads
 * (figures only). */
#include <stdio.h>

#include "../analyses/maps.h"
#include "commands.h"

int al_cmd_maps(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_maps_params p;
    al_maps_defaults(&p);
    al_opt opts[AL_OPTS_MAX];
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_MAPS], &p, 0, opts, 0), npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "maps FILE --layers L,... [options]",
        "The attention maps themselves as heatmaps: for each layer in --layers, the map averaged over samples\n"
        "and, with --heads mean, over heads (one figure per layer, maps_LNNN), or one panel per head with --heads\n"
        "all. Rows are queries, columns keys; tokens are labelled from /token_text (sample 0) when present. Use\n"
        "-o DIR to get the figures (.gp scripts, .png with gnuplot); stdout lists them.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_rec *r = NULL;
    al_result *res = NULL;
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    res = al_result_new("maps", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) st = e.status;
    if (st == AL_OK) st = al_maps_run(r, &p, &x, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
