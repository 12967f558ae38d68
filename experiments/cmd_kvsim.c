/* `attnlab kvsim FILE --policy SPEC ...`: KV-cache and sparse-attention policies simulated on a recording
 * (METRICS.md section 7); --sweep expands one budget range into a policy per budget. */
#include <stdio.h>
#include <string.h>

#include "../analyses/kvprefill.h"
#include "../analyses/kvsim.h"
#include "../core/alloc.h"
#include "commands.h"

/* kvsim --prefill/--decode: the methods, ratios and GQA rule checked, then the pass over the recording. */
static al_status al_cmd_kvpress(int argc, char **argv, const char *path, al_opt *opts, int nopts, al_common *c,
                                al_kvpress_params *kp, const al_strlist *meth, const al_strlist *rat, const char *gqa,
                                int npolicies, al_error *e) {
    if (npolicies)
        return al_fail(e, AL_EUSAGE, "--policy", NULL, "policies are per-row; with --prefill/--decode give --method");
    if (!kp->prefill == !kp->decode)
        return al_fail(e, AL_EUSAGE, "--method", NULL, "give exactly one of --prefill P and --decode C");
    if (kp->decode && rat->n)
        return al_fail(e, AL_EUSAGE, "--ratio", NULL, "--decode takes its budget from C, not a ratio");
    double ratios[256] = {0.5};
    if (rat->n > 256) return al_fail(e, AL_EUSAGE, "--ratio", NULL, "at most 256 ratios");
    for (int i = 0; i < rat->n; i++)
        if (al_parse_double_str(rat->v[i], &ratios[i]) || !(ratios[i] >= 0 && ratios[i] < 1))
            return al_fail(e, AL_EUSAGE, "--ratio", NULL, "'%s': a compression ratio in [0, 1)", rat->v[i]);
    kp->methods = meth->v, kp->nmethods = meth->n;
    kp->ratios = ratios, kp->nratios = rat->n ? rat->n : 1;
    kp->agg = !strcmp(gqa, "max") ? AL_GQA_MAX : AL_GQA_MEAN;
    al_rec *r = NULL;
    al_result *res = NULL;
    const char *pos[1] = {path};
    al_status st = al_rec_open(path, &r, e);
    if (st == AL_OK) {
        res = al_result_new("kvsim", argc, argv, pos, 1, al_opts_params(opts, nopts), c, e);
        if (!res) st = e->status;
    }
    al_progress pg;
    al_exec x = al_cmd_exec(c, &pg);
    if (st == AL_OK) st = al_kvpress_run(r, kp, &x, res, e);
    if (st == AL_OK) st = al_result_emit(res, c, e);
    al_result_free(res);
    al_rec_close(r);
    return st;
}

int al_cmd_kvsim(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_kvsim_params p = {0};
    al_kvpress_params kp = {0};
    al_strlist pol = {0}, sweep = {0}, meth = {0}, rat = {0};
    const char *gqa = "mean";
    al_opt opts[AL_OPTS_MAX] = {
        {"policy", 0, AL_OPT_LIST, &pol, "SPEC",
         "window:W, sink:S,window:W, h2o:B,window:W, topk:K, coverage:G, duo:S,W[,gates=FILE][,threshold=T] "
         "(repeatable)",
         0, 0, NULL, 0, 0},
        {"sweep", 0, AL_OPT_LIST, &sweep, "SPEC",
         "a policy with one budget written A..BxF, e.g. window:16..1024x2 (repeatable)", 0, 0, NULL, 0, 0},
        {"tokens", 0, AL_OPT_INT, &p.tokens, "T",
         "simulate the first T tokens (default: all; padded samples: their own)", 1, 1e12, NULL, 0, 0},
        {"prefill", 0, AL_OPT_INT, &kp.prefill, "P",
         "compress once after a prompt of P tokens with each --method; measure the later queries", 1, 1e12, NULL, 0, 0},
        {"decode", 0, AL_OPT_INT, &kp.decode, "C",
         "decoding-time eviction: each --method holds at most C keys per KV head", 1, 1e12, NULL, 0, 0},
        {"method", 0, AL_OPT_LIST, &meth, "SPEC",
         "streaming[:sink=S], knorm, snapkv[:window=W,kernel=K], tova, observed, "
         "expected[:sink=S,cov=0|1,vnorm=0|1,eps=E], pyramid[:window=W,kernel=K,beta=B], adakv:BASE[,alpha=A], "
         "duo[:sink=S,recent=R,gates=FILE], quest[:page=16], random[:seed=N], h2o (--decode) (repeatable)",
         0, 0, NULL, 0, 0},
        {"ratio", 0, AL_OPT_LIST, &rat, "R",
         "compression ratio as kvpress's: each KV head keeps max(1, int(P (1 - R))) prompt keys (repeatable; default "
         "0.5)",
         0, 0, NULL, 0, 0},
        {"kept", 0, AL_OPT_FLAG, &kp.kept, NULL,
         "--prefill: list every method's kept prompt keys per sample, layer and KV head (table kvsim_kept, with -o)", 0,
         0, NULL, 0, 0},
        {"gqa", 0, AL_OPT_CHOICE, &gqa, "AGG",
         "scores of a KV group's query heads: mean (default, as kvpress) or max; the same for every method", 0, 0,
         "mean|max", 0, 0},
    };
    int nopts = 9, npos = 0, done = 0;
    const char *pos[1];
    al_status st =
        al_cmd_parse(argc, argv, opts, &nopts, &c, "kvsim FILE --policy SPEC [--policy SPEC ...] [options]",
                     "Simulates KV-cache and sparse-attention policies on the causal maps of a recording: per\n"
                     "policy and head the attention mass the kept keys retain, the fraction of keys kept and,\n"
                     "when values are recorded, the relative error of the attention output. All policies are\n"
                     "evaluated in one pass. Definitions: spec METRICS.md section 7. With --prefill P or --decode C,\n"
                     "the KV-compression methods as shipped (KVPress's presses; docs/kvsim.md) instead.",
                     pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) {
        al_free((void *)pol.v), al_free((void *)sweep.v), al_free((void *)meth.v), al_free((void *)rat.v);
        return al_cmd_finish(st, &e);
    }
    kp.tokens = p.tokens;
    if (kp.prefill || kp.decode || meth.n) {
        st = al_cmd_kvpress(argc, argv, pos[0], opts, nopts, &c, &kp, &meth, &rat, gqa, pol.n + sweep.n, &e);
        al_free((void *)pol.v), al_free((void *)sweep.v), al_free((void *)meth.v), al_free((void *)rat.v);
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
    for (int i = 0; st == AL_OK && i < sweep.n; i++)
        st = al_kvsim_sweep(sweep.v[i], &specs, &n, &e);
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
