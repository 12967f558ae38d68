/* `attnlab run SPEC.json -o DIR [--shard i/n]`: an experiment from a spec (docs/experiments.md): inputs, steps,
 * figures, report.md; resumable, and shardable over inputs for array jobs (combine them with `attnlab merge`). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "run.h"
#ifdef AL_HAVE_MPI
#include "run_mpi.h"
#endif
#include "runfs.h"

static int al_parse_shard(const char *s, int *i, int *n) {
    int64_t a, b;
    char buf[64];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash - s >= (int)sizeof buf) return -1;
    snprintf(buf, sizeof buf, "%.*s", (int)(slash - s), s);
    if (al_parse_int_str(buf, &a) || al_parse_int_str(slash + 1, &b) || b < 1 || b > 1000000 || a < 0 || a >= b)
        return -1;
    *i = (int)a, *n = (int)b;
    return 0;
}

int al_cmd_run(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_run r;
    memset(&r, 0, sizeof r);
    r.lockfd = -1;
    al_common_defaults(&r.common);
    const char *shard = NULL;
    al_opt opts[AL_OPTS_MAX] = {
        {"shard", 0, AL_OPT_STRING, &shard, "I/N", "run the deterministic share I of N of the inputs (0 <= I < N)", 0,
         0, NULL, 0, 0},
    };
    int nopts = 1, npos = 0, done = 0;
    const char *pos[1];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &r.common, "run SPEC.json -o DIR [--shard I/N] [options]",
                     "Runs the experiment a spec describes (format: docs/experiments.md): its inputs (files,\n"
                     "globs, or synthetic inputs generated here), its steps (an analysis and its parameters\n"
                     "on every item of an input), its figures, and DIR/report.md with every table and figure.\n"
                     "Each step's results on each item go to DIR/steps/STEP/ITEM under a key (sha256 of the\n"
                     "attnlab version, the parameters and the inputs' content): a rerun skips what is up to\n"
                     "date, and a run killed at any point and run again gives the tables of a clean run.\n"
                     "--shard I/N runs items I, I+N, I+2N, ...; `attnlab merge` combines the shards' folders.\n"
                     "Combined tables: DIR/tables/STEP/NAME.tsv (and .json). Examples: experiments/*.json.\n"
                     "DIR must be new, empty or a folder of an earlier run; only what a run recorded as its own\n"
                     "there is ever replaced or removed (docs/reliability.md).\n"
                     "Under MPI (a build with ATTNLAB_MPI): `mpirun -n N attnlab run SPEC -o DIR` shares the\n"
                     "items and units among the ranks (a shared file system); the outputs are those of one process.",
                     pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    if (!r.common.out) return al_cmd_finish(al_fail(&e, AL_EUSAGE, "run", NULL, "-o DIR is required"), &e);
    if (r.common.from_qk)
        return al_cmd_finish(
            al_fail(&e, AL_EUSAGE, "--from-qk", NULL, "give it per step in the spec (\"params\": {\"from-qk\": true})"),
            &e);
    r.nshards = 1;
    if (shard && al_parse_shard(shard, &r.shard, &r.nshards))
        return al_cmd_finish(
            al_fail(&e, AL_EUSAGE, "--shard", NULL, "expected I/N with 0 <= I < N, e.g. 0/4 (got '%s')", shard), &e);
    r.tty = isatty(STDERR_FILENO) && !r.common.quiet;
    if ((st = al_fs_outpath(r.common.out, r.out, &e)) != AL_OK) return al_cmd_finish(st, &e);
#ifdef AL_HAVE_MPI
    if (al_mpi_launched()) {
        int rc = al_mpi_run(&r, pos[0], &e);
        al_run_free(&r, rc == 0);
        al_spec_free(r.spec);
        return rc;
    }
#endif
    if ((st = al_spec_load(pos[0], &r.spec, &e)) == AL_OK && (st = al_spec_resolve(r.spec, &e)) == AL_OK &&
        (st = al_run_prepare_dir(&r, &e)) == AL_OK && (st = al_run_plan(&r, &e)) == AL_OK &&
        (st = al_run_execute(&r, &e)) == AL_OK) {
        al_run_prune(&r);
        st = al_run_finish(&r, &e);
    }
    int rc = st != AL_OK ? al_cmd_finish(st, &e) : al_run_outcome(&r, "run");
    al_run_free(&r, st == AL_OK);
    al_spec_free(r.spec);
    return rc;
}
