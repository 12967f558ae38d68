/* `kvsim --prefill P` and `kvsim --decode C`: KV-compression methods as they are used (KVPress's presses,
 * docs/kvsim.md): the cache compressed once at the end of a P-token prompt, or held at C keys while generating;
 * retained mass, output error and kept fraction on the later queries, all methods and ratios in one pass. */
#ifndef AL_ANALYSIS_KVPREFILL_H
#define AL_ANALYSIS_KVPREFILL_H

#include "../core/exec.h"
#include "../core/result.h"
#include "../datasets/recording.h"
#include "../metrics/kvpress.h"

typedef struct {
    const char *const *methods; /* method SPECs (metrics/kvpress.h) */
    int nmethods;
    const double *ratios; /* compression ratios (kvpress's), prefill only */
    int nratios;
    int64_t prefill, decode, tokens; /* exactly one of prefill, decode > 0; tokens <= 0: all */
    al_gqa agg;
    int kept; /* list every kept prompt key (table kvsim_kept) */
} al_kvpress_params;

typedef struct al_kvp al_kvp;

/* Parses and checks every method against the recording (AL_EUSAGE naming a bad one), sizes the state within
 * mem, reads gate files. */
al_kvp *al_kvp_new(al_rec *r, const al_kvpress_params *p, int64_t T, int64_t mem, al_error *e);
void al_kvp_free(al_kvp *a);
al_status al_kvpress_run(al_rec *r, const al_kvpress_params *p, const al_exec *x, al_result *res, al_error *e);
/* Adds `methods`, tables and figures (analyses/kvprefill_report.c). */
al_status al_kvp_report(const al_kvp *a, al_result *res, al_error *e);

#endif
