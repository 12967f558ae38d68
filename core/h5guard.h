/* The metadata pass of an HDF5 input, run in a short-lived child process before attnlab touches the file:
 * HDF5 1.10.8 crashes or loops forever on some corrupt metadata, so that must happen in a process that may die. */
#ifndef AL_H5GUARD_H
#define AL_H5GUARD_H

#include "status.h"

/* Forks a child that opens path with HDF5 and walks everything attnlab may touch: every link (external links
 * are refused), every object's attributes (read in full), every dataset's type, shape, layout, filters and
 * chunk index. The parent waits at most ATTNLAB_OPEN_TIMEOUT seconds (default 30 s plus 1 s per GiB of file).
 * A crash, a hang or a structure HDF5 cannot walk becomes AL_EFORMAT naming the file; an error the child found
 * (an external link) is passed back as it is. AL_OK when the file is safe to open in this process. */
al_status al_h5_guard(const char *path, al_error *e);

/* The walk itself, in this process (what the child runs; for tests and the fuzz harness). */
al_status al_h5_walk(const char *path, al_error *e);

#endif
