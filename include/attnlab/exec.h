/* How a libattnlab call runs (not what it computes): threads, memory budget, device, the q/k path and a progress
 * callback. Results never depend on threads or mem. */
#ifndef ATTNLAB_EXEC_H
#define ATTNLAB_EXEC_H

#include <stdint.h>

#include "export.h"

typedef enum { AL_DEVICE_CPU, AL_DEVICE_CUDA } al_device;

/* Progress of a long pass: called with done = 0 when it begins, 0 < done <= total as it goes, done = -1 when
 * it ends (successfully or not). Called from one thread at a time. */
typedef void (*al_progress_fn)(void *ctx, const char *label, int64_t done, int64_t total);

typedef struct {
    int64_t threads;         /* 0: all cores */
    int64_t mem;             /* working-memory budget in bytes (blocks are sized from it) */
    al_device device;        /* where map statistics are computed (AL_DEVICE_CUDA needs a CUDA build) */
    int from_qk;             /* map analyses: probabilities from recorded q and k even when maps are recorded */
    al_progress_fn progress; /* NULL: silent */
    void *progress_ctx;
} al_exec;

/* All cores, 1 GiB, the CPU, recorded maps, no progress. */
AL_API void al_exec_defaults(al_exec *x);

#endif
