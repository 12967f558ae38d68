/* Plumbing shared by the subcommands: option parsing with --help, thread set-up, error reporting. */
#include <stdio.h>

#include "../core/figure.h"
#include "commands.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef AL_HAVE_OPENBLAS
void openblas_set_num_threads(int);
/* OpenBLAS's pthreads build starts its workers when it loads, and they spin on sched_yield for about 0.1 s
 * waiting for work: on two cores that steals one from the OpenMP threads. Weak: absent in other builds. */
extern int blas_thread_shutdown_(void) __attribute__((weak));
#endif

int al_cmd_finish(al_status st, const al_error *e) {
    if (st != AL_OK) al_error_print(e);
    return al_exit_code(st);
}

al_status al_cmd_parse(int argc, char **argv, al_opt *opts, int *nopts, al_common *c, const char *usage,
                       const char *summary, const char **pos, int *npos, int minpos, int maxpos, int *done, al_error *e) {
    *done = 0;
    *nopts = al_common_opts(c, opts, *nopts);
    if (al_parse_args(argc, argv, opts, *nopts, pos, npos, maxpos, e) != AL_OK) return e->status;
    if (c->help) {
        al_print_help(stdout, usage, summary, opts, *nopts);
        *done = 1;
        return AL_OK;
    }
    al_figure_format_set((al_figfmt)al_figfmt_parse(c->figure_format));
    if (*npos < minpos) return al_fail(e, AL_EUSAGE, argv[0], NULL, "missing argument (usage: attnlab %s)", usage);
    if (c->device && !__builtin_strcmp(c->device, "cuda")) {
#ifndef AL_HAVE_CUDA
        return al_fail(e, AL_ENODEV, "--device", NULL, "this attnlab was built without CUDA (configure with -DATTNLAB_CUDA=ON)");
#endif
    }
    al_cmd_cap_threads(c);
    al_cmd_threads(c);
    return AL_OK;
}

static al_opt_kind al_opt_kind_of(al_ptype t) {
    switch (t) {
    case AL_PT_NUM: return AL_OPT_DOUBLE;
    case AL_PT_INT: return AL_OPT_INT;
    case AL_PT_BOOL: return AL_OPT_FLAG;
    case AL_PT_CHOICE: return AL_OPT_CHOICE;
    case AL_PT_STRS: return AL_OPT_LIST;
    default: return AL_OPT_STRING;
    }
}

int al_cmd_catalog_opts(const al_adef *a, void *params, int fused_only, al_opt *opts, int n) {
    for (const al_pdef *d = a->params; d->name && n < AL_OPTS_MAX - AL_COMMON_NOPTS; d++) {
        if (!d->field || (fused_only && (!d->fused || !__builtin_strcmp(d->name, "tokens")))) continue;
        opts[n++] = (al_opt){d->name, 0, al_opt_kind_of(d->type), (char *)params + d->field - 1, d->arg, d->help,
                             d->min, d->max, d->choices, 0, 0};
    }
    return n;
}

al_exec al_cmd_exec(const al_common *c, al_progress *pg) {
    al_exec x;
    al_exec_defaults(&x);
    x.threads = c->threads;
    x.mem = c->mem;
    x.device = c->device && !__builtin_strcmp(c->device, "cuda") ? AL_DEVICE_CUDA : AL_DEVICE_CPU;
    x.from_qk = c->from_qk;
    pg->quiet = c->quiet;
    x.progress = al_progress_stderr;
    x.progress_ctx = pg;
    return x;
}

/* Every OpenMP thread costs memory whatever its work: stack pages, a malloc arena, the runtime's own state
 * (about 70 KB each, measured: 1000 threads under --mem 32M peaked at 101 MB). --mem bounds the process, so
 * at most one thread runs per AL_THREAD_MEM of it. Results do not depend on the thread count. */
#define AL_THREAD_MEM ((int64_t)1 << 20)
void al_cmd_cap_threads(al_common *c) {
    int64_t cap = c->mem / AL_THREAD_MEM > 1 ? c->mem / AL_THREAD_MEM : 1;
#ifdef _OPENMP
    int64_t want = c->threads > 0 ? c->threads : omp_get_max_threads();
#else
    int64_t want = c->threads > 0 ? c->threads : 1;
#endif
    if (want > cap) c->threads = cap;
}

void al_cmd_threads(const al_common *c) {
#ifdef _OPENMP
    if (c->threads > 0) omp_set_num_threads((int)c->threads);
#endif
#ifdef AL_HAVE_OPENBLAS
    /* BLAS calls are made from one thread or from inside OpenMP regions: one BLAS thread avoids oversubscription */
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_) blas_thread_shutdown_();
#endif
    (void)c;
}
