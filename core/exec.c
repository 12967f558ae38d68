/* Execution settings of library calls and the progress ticker that reports through their callback. */
#include "exec.h"

#include <stddef.h>

#ifdef _OPENMP
#include <omp.h>
#endif

void al_exec_defaults(al_exec *x) {
    x->threads = 0;
    x->mem = (int64_t)1 << 30;
    x->device = AL_DEVICE_CPU;
    x->from_qk = 0;
    x->progress = NULL;
    x->progress_ctx = NULL;
}

int al_exec_threads(const al_exec *x) {
#ifdef _OPENMP
    return x->threads > 0 ? (int)x->threads : omp_get_max_threads();
#else
    (void)x;
    return 1;
#endif
}

void al_ticker_begin(al_ticker *t, const al_exec *x, const char *label, int64_t total, int silent) {
    t->fn = silent ? NULL : x->progress;
    t->ctx = x->progress_ctx;
    t->label = label;
    t->done = 0;
    t->total = total;
    if (t->fn) t->fn(t->ctx, label, 0, total);
}

void al_ticker_add(al_ticker *t, int64_t n) {
    t->done += n;
    if (t->fn) t->fn(t->ctx, t->label, t->done, t->total);
}

void al_ticker_end(al_ticker *t) {
    if (t->fn) t->fn(t->ctx, t->label, -1, t->total);
}
