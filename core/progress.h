/* Progress reporting on stderr: a redrawn bar on a terminal, a plain line every ~10% otherwise.
 * Silent with --quiet. Called from the driver thread only. */
#ifndef AL_PROGRESS_H
#define AL_PROGRESS_H

#include <stdint.h>

typedef struct {
    const char *label;
    int64_t total, done;
    int tty, quiet, last_pct;
    double t0, last_draw;
} al_progress;

void al_progress_begin(al_progress *p, const char *label, int64_t total, int quiet);
void al_progress_add(al_progress *p, int64_t n);
void al_progress_end(al_progress *p);
double al_now(void); /* monotonic seconds */
/* An al_progress_fn (core/exec.h) drawing on stderr: ctx is an al_progress whose quiet field is set. */
void al_progress_stderr(void *ctx, const char *label, int64_t done, int64_t total);

#endif
