/* Atomic output: files are written into a hidden staging folder inside DIR and committed as one step only when
 * the whole command succeeded, so a failed or killed command leaves no partial file and never a mix of old and
 * new outputs (docs/reliability.md, "Atomic outputs"). What is committed is fsynced first. */
#ifndef AL_OUTDIR_H
#define AL_OUTDIR_H

#include <stdio.h>

#include "status.h"

typedef struct {
    char dir[4096];   /* final folder */
    char stage[4200]; /* DIR/.attnlab-stage-PID */
    int created_dir;  /* we made DIR, so abort removes it */
    int lockfd;       /* the staging folder, flocked while we own it (-1: none) */
    int active;
} al_outdir;

al_status al_outdir_begin(al_outdir *o, const char *dir, al_error *e);
/* Opens STAGE/name for writing; path (if not NULL) receives the staged path. */
FILE *al_outdir_open(al_outdir *o, const char *name, char *path, size_t npath, al_error *e);
/* Checks that every staged name can take its place in DIR (nothing there but a file or a link), fsyncs the staged
 * files, writes the stage's commit mark, renames every staged file into DIR, fsyncs DIR and removes the stage.
 * A refusal leaves DIR exactly as before; a kill after the mark is completed by the next command writing to DIR. */
al_status al_outdir_commit(al_outdir *o, al_error *e);
void al_outdir_abort(al_outdir *o);

/* Settles what a killed writer left beside path: PATH.tmp-PID files (and, when path is a folder, its
 * .attnlab-stage-PID folders) whose owner is gone (no process PID, and no flock held on the temporary) are
 * removed, except a staging folder carrying its commit mark, whose commit is completed instead. Called by every
 * writer before it starts; temporaries of a live writer, and names not of this form, are never touched. */
void al_clean_stale(const char *path);

/* Writes a whole single file atomically: PATH.tmp-PID (flocked while written), fsync, rename, fsync of the folder. */
FILE *al_atomic_open(const char *path, char *tmp, size_t ntmp, al_error *e);
al_status al_atomic_close(FILE *f, const char *tmp, const char *path, al_error *e);
void al_atomic_abort(FILE *f, const char *tmp);

/* fsync of a file or folder by path (0, or -1 with errno); a folder fsync makes the renames in it durable. */
int al_fsync_path(const char *path);
/* fsync of the folder that holds path. */
int al_fsync_parent(const char *path);
/* 1 when the temporary at path (a file or folder, not followed if a link) is named for a process that no longer
 * exists and no process holds a flock on it: its owner is gone. */
int al_tmp_orphaned(const char *path, long pid);

#endif
