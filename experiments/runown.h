/* What `attnlab run` and `attnlab merge` own in their output folder, and the only ways they create, replace and
 * remove anything there (docs/reliability.md, "What attnlab run deletes").
 * OUT/.attnlab.owned lists, one relative path a line, every folder and file the driver created under OUT; a line
 * is appended and fsynced before the entry it names is created or renamed into place. The driver removes an
 * entry only when that list names it, never a file a spec input resolved to, never through a symbolic link:
 * every path under OUT is looked at with lstat and a link where a folder is expected is refused. */
#ifndef AL_RUNOWN_H
#define AL_RUNOWN_H

#include "run.h"

/* Checks OUT before anything is written to it: absent, empty, or a run of ours (its ownership record); no
 * symbolic link where the run keeps folders. Creates OUT when absent. AL_EUSAGE (exit 2) otherwise. */
al_status al_own_accept(al_run *r, al_error *e);
/* Loads (or starts) the ownership record, creates and empties OUT/.attnlab-tmp (the driver's temporaries);
 * called with OUT's lock held, so no other driver is writing there. */
al_status al_own_open(al_run *r, al_error *e);
/* Frees the record; ok: rewrite it first with the entries that still exist. Removes the empty temporaries folder. */
void al_own_close(al_run *r, int ok);
/* Another process of the same run (an MPI rank other than 0, after rank 0's al_own_open): opens the record to
 * append to it; the record is rewritten only by the process that opened it with al_own_open. */
al_status al_own_join(al_run *r, al_error *e);
/* 1 when rel (relative to OUT) is recorded as the driver's. */
int al_own_has(const al_run *r, const char *rel);
/* Records rel (and makes the record durable) before the caller creates it. */
al_status al_own_add(al_run *r, const char *rel, al_error *e);
/* mkdir -p of OUT/rel, each folder recorded before it is made; a link or a file on the way is refused. */
al_status al_own_mkdirs(al_run *r, const char *rel, al_error *e);
/* A fresh temporary path OUT/.attnlab-tmp/WHAT-PID-N (not created). */
void al_own_tmp(const al_run *r, const char *what, char *out, size_t n);
/* Puts the complete folder stage (under OUT/.attnlab-tmp) at OUT/rel: refused, nothing changed, when what is
 * there holds an entry the driver did not record (a user's file) or a link; else the stage's entries are
 * recorded and fsynced, the old folder moved into the temporaries, the stage renamed into place, the parent
 * fsynced, and the old folder removed. */
al_status al_own_swap(al_run *r, const char *stage, const char *rel, al_error *e);
/* Removes what the record names at and below OUT/rel; anything else (and the folders holding it) stays. */
void al_own_remove(al_run *r, const char *rel);

#endif
