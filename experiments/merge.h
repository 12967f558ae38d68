/* Merging the folders of `attnlab run --shard i/n` into one, exactly as one run would have written it.
 * The shards must be all N of one spec and one attnlab version. */
#ifndef AL_MERGE_H
#define AL_MERGE_H

#include "../core/cli.h"
#include "run.h"

/* dirs: the folders of every shard of one spec, each exactly once, in any order. Writes out (which may be one
 * of them) and returns the exit status of the merged experiment in *rc (failed units count as in `run`). */
al_status al_merge(const char *const *dirs, int ndirs, const char *out, const al_common *c, int *rc, al_error *e);

#endif
