/* Atomic output: files are written into a hidden staging folder inside DIR and renamed into place
 * only when the whole run succeeded, so a failed or killed run leaves no partial file. */
#ifndef AL_OUTDIR_H
#define AL_OUTDIR_H

#include <stdio.h>

#include "status.h"

typedef struct {
    char dir[4096];     /* final folder */
    char stage[4200];   /* DIR/.attnlab-stage-PID */
    int created_dir;    /* we made DIR, so abort removes it */
    int active;
} al_outdir;

al_status al_outdir_begin(al_outdir *o, const char *dir, al_error *e);
/* Opens STAGE/name for writing; path (if not NULL) receives the staged path. */
FILE *al_outdir_open(al_outdir *o, const char *name, char *path, size_t npath, al_error *e);
/* Renames every staged file into DIR, then removes the staging folder. */
al_status al_outdir_commit(al_outdir *o, al_error *e);
void al_outdir_abort(al_outdir *o);

/* Removes what a killed run left beside path: PATH.tmp-PID files (and, when path is a folder, its
 * .attnlab-stage-PID folders) whose process PID no longer exists on this machine. Called by every writer
 * before it starts, so a SIGKILL leaves at most one hidden temporary until the next run. */
void al_clean_stale(const char *path);

/* Writes a whole single file atomically: PATH.tmp-PID then rename. */
FILE *al_atomic_open(const char *path, char *tmp, size_t ntmp, al_error *e);
al_status al_atomic_close(FILE *f, const char *tmp, const char *path, al_error *e);
void al_atomic_abort(FILE *f, const char *tmp);

#endif
