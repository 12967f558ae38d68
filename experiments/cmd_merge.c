/* `attnlab merge DIR... -o DIR`: combines the folders of `attnlab run --shard i/n` (one per shard) into the
 * folder one run would have written: the same units, tables, figures and report.md. */
#include <stdio.h>

#include "commands.h"
#include "merge.h"

int al_cmd_merge(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_opt opts[AL_OPTS_MAX];
    int nopts = 0, npos = 0, done = 0;
    const char *pos[4096];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &c, "merge DIR... -o DIR",
                     "Combines the output folders of `attnlab run SPEC --shard I/N` (all N of them, any order)\n"
                     "into one folder with every unit's results, the combined tables (statistics merged from\n"
                     "sums and counts, never means of means: docs/experiments.md), the figures and report.md,\n"
                     "equal to what one unsharded run writes. The -o folder may be one of the shard folders.",
                     pos, &npos, 1, 4096, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    if (!c.out) return al_cmd_finish(al_fail(&e, AL_EUSAGE, "merge", NULL, "-o DIR is required"), &e);
    int rc = 0;
    st = al_merge(pos, npos, c.out, &c, &rc, &e);
    return st != AL_OK ? al_cmd_finish(st, &e) : rc;
}
