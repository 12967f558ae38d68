/* `attnlab kvsim FILE --policy SPEC ...`: KV-cache and sparse-attention policies simulated on a recording
 * (METRICS.md section 7); --sweep expands one budget range into a policy per budget. */
#include <stdio.h>
#include <string.h>

#include "../analyses/kvsim.h"
#include "../core/alloc.h"
#include "commands.h"

int al_cmd_kvsim(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_kvsim_params p = {0};
    al_strlist pol = {0}, sweep = {0};
    al_opt opts[AL_OPTS_MAX] = {
        {"policy", 0, AL_OPT_LIST, &pol, "SPEC", "window:W, sink:S,window:W, h2o:B,window:W, topk:K, coverage:G, duo:S,W[,gates=FILE][,threshold=T] (repeatable)", 0, 0, NULL, 0, 0},
        {"sweep", 0, AL_OPT_LIST, &sweep, "SPEC", "a policy with one budget written A..BxF, e.g. window:16..1024x2 (repeatable)", 0, 0, NULL, 0, 0},
        {"tokens", 0, AL_OPT_INT, &p.tokens, "T", "simulate the first T tokens (default: all)", 1, 1e12, NULL, 0, 0},
    };
    int nopts = 3, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(argc, argv, opts, &nopts, &c, "kvsim FILE --policy SPEC [--policy SPEC ...] [options]",
                                "Simulates KV-cache and sparse-attention policies on the causal maps of a recording: per\n"
                                "policy and head the attention mass the kept keys retain, the fraction of keys kept and,\n"
                                "when values are recorded, the relative error of the attention output. All policies are\n"
                                "evaluated in one pass. Definitions: spec METRICS.md section 7.",
                                pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) {
        al_free((void *)pol.v);
        al_free((void *)sweep.v);
        return al_cmd_finish(st, &e);
    }
    char **specs = NULL;
    int n = 0;
    for (int i = 0; st == AL_OK && i < pol.n; i++) {
        const char *one[1] = {pol.v[i]};
        char **t = al_malloc((size_t)(n + 1), sizeof(char *));
        char *s = al_malloc(strlen(one[0]) + 1, 1);
        if (!t || !s) {
            al_free(t), al_free(s);
            st = al_fail(&e, AL_ENOMEM, NULL, NULL, "out of memory");
            break;
        }
        if (n) memcpy(t, specs, sizeof(char *) * (size_t)n);
        al_free(specs);
        strcpy(s, one[0]);
        t[n++] = s;
        specs = t;
    }
    for (int i = 0; st == AL_OK && i < sweep.n; i++) st = al_kvsim_sweep(sweep.v[i], &specs, &n, &e);
    al_rec *r = NULL;
    al_result *res = NULL;
    if (st == AL_OK) st = al_rec_open(pos[0], &r, &e);
    if (st == AL_OK) {
        res = al_result_new("kvsim", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
        if (!res) st = e.status;
    }
    p.policies = (const char *const *)specs;
    p.npolicies = n;
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    if (st == AL_OK) st = al_kvsim_run(r, &p, &x, res, &e);
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    al_kvsim_strings_free(specs, n);
    al_free((void *)pol.v);
    al_free((void *)sweep.v);
    return al_cmd_finish(st, &e);
}
