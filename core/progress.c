/* Progress bar and plain progress lines. Short runs (under a second) print nothing at all,
 * so tests and pipelines stay quiet. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double al_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void al_progress_begin(al_progress *p, const char *label, int64_t total, int quiet) {
    p->label = label;
    p->total = total > 0 ? total : 1;
    p->done = 0;
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
    p->last_pct = -1;
    p->t0 = al_now();
    p->last_draw = 0;
}

void al_progress_add(al_progress *p, int64_t n) {
    p->done += n;
    if (p->quiet) return;
    double t = al_now();
    if (t - p->t0 < 1.0) return;
    int pct = (int)(100 * p->done / p->total);
    if (p->tty) {
        if (t - p->last_draw < 0.1 && p->done < p->total) return;
        int w = 30, fill = pct * w / 100;
        fprintf(stderr, "\r%s [", p->label);
        for (int i = 0; i < w; i++) fputc(i < fill ? '#' : '.', stderr);
        fprintf(stderr, "] %3d%% %.1fs", pct, t - p->t0);
        p->last_draw = t;
    } else if (pct / 10 != p->last_pct / 10) {
        fprintf(stderr, "%s: %d%% (%.1fs)\n", p->label, pct, t - p->t0);
    }
    p->last_pct = pct;
}

void al_progress_end(al_progress *p) {
    if (!p->quiet && p->tty && p->last_draw > 0) fputc('\n', stderr);
}

void al_progress_stderr(void *ctx, const char *label, int64_t done, int64_t total) {
    al_progress *p = ctx;
    if (done == 0) al_progress_begin(p, label, total, p->quiet);
    else if (done < 0) al_progress_end(p);
    else al_progress_add(p, done - p->done);
}
