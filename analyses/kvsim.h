/* The `kvsim` analysis: KV-cache and sparse-attention policies simulated on a recording's causal maps
 * (METRICS.md section 7), every policy in one streaming pass; retained mass, kept fraction, output error. */
#ifndef AL_ANALYSIS_KVSIM_H
#define AL_ANALYSIS_KVSIM_H

#include "../core/result.h"
#include "../datasets/recording.h"
#include "stream.h"

typedef struct {
    const char *const *policies; /* SPEC strings, sweeps already expanded */
    int npolicies;
    int64_t tokens; /* analysed tokens; <= 0: the whole length */
} al_kvsim_params;

/* Expands a sweep SPEC with one budget written A..BxF (A, A F, A F^2, ... <= B) into *out (al_malloc'd array of
 * al_malloc'd strings, appended; *n updated). Returns AL_OK or fails naming the sweep. */
al_status al_kvsim_sweep(const char *spec, char ***out, int *n, al_error *e);
void al_kvsim_strings_free(char **s, int n);

typedef struct al_kvsim_acc al_kvsim_acc;
/* Parses every policy (a bad one: AL_EUSAGE naming it), reads gate files and the values (when recorded). */
al_kvsim_acc *al_kvsim_acc_new(al_rec *r, int64_t T, const al_kvsim_params *p, int64_t mem, al_error *e);
al_map_visitor al_kvsim_visitor(al_kvsim_acc *a);
void al_kvsim_acc_free(al_kvsim_acc *a);
/* Adds `policies`, tables and figures to res (analyses/kvsim_report.c). */
al_status al_kvsim_report(const al_kvsim_acc *a, al_result *res, al_error *e);

al_status al_kvsim_run(al_rec *r, const al_kvsim_params *p, const al_exec *x, al_result *res, al_error *e);

#endif
