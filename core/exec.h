/* How a library call runs (not what it computes): threads, memory budget, device, the q/k path and a progress
 * callback. Every analysis takes one; the program fills it from its common options, a C or Python caller by
 * hand. Results never depend on threads or mem (the streaming visitor contract, analyses/stream.h). */
#ifndef AL_EXEC_H
#define AL_EXEC_H

#include <stdint.h>

#include "attnlab/exec.h" /* al_exec, al_device, al_progress_fn, al_exec_defaults */

/* Threads a pass uses: x->threads, or all cores when 0. */
int al_exec_threads(const al_exec *x);

/* A pass's progress, reported through x->progress; the library never prints. */
typedef struct {
    al_progress_fn fn;
    void *ctx;
    const char *label;
    int64_t done, total;
} al_ticker;

/* silent: no reports at all (e.g. a pass that is known to fail already) */
void al_ticker_begin(al_ticker *t, const al_exec *x, const char *label, int64_t total, int silent);
void al_ticker_add(al_ticker *t, int64_t n);
void al_ticker_end(al_ticker *t);

#endif
