/* `attnlab heads FILE`: head profiles and roles (METRICS.md section 2), optionally against DuoAttention's
 * published gates; tables and figures. */
#include <stdio.h>

#include "../analyses/heads.h"
#include "../core/alloc.h"
#include "commands.h"

int al_cmd_heads(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_heads_params p;
    al_heads_defaults(&p);
    al_opt opts[AL_OPTS_MAX];
    int nopts = al_cmd_catalog_opts(&al_analyses[AL_AN_HEADS], &p, 0, opts, 0), npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(
        argc, argv, opts, &nopts, &c, "heads FILE [options]",
        "Per head, means over query rows then samples (Clark et al.'s head profile): entropy (nats, over\n"
        "visible keys; --clark: smoothed over all T keys), entropy_norm (entropy / ln(visible keys)), first\n"
        "(attention to key 0), self, prev, next (non-causal maps), distance (sum_j A[i,j] |i-j|), distant_mass\n"
        "(mass on keys S <= j <= i - R, DuoAttention's retrieval proxy), class attention, and a role: the first\n"
        "of sink (first > 0.3), previous (prev >= 0.5), self (self >= 0.5), retrieval (distant_mass >= 0.35),\n"
        "broad (entropy_norm >= 0.8), else mixed. With --duo-gates, DuoAttention's gates are binarised and\n"
        "compared, per KV head, with the mean distant_mass of its query heads. Figures: entropy, first and\n"
        "distant_mass heatmaps, the role map. Definitions: METRICS.md section 2; docs/heads.md.",
        pos, &npos, 1, 1, &done, &e);
    if (st != AL_OK || done) goto out;
    if (opts[8].seen && opts[7].seen) {
        st = al_fail(&e, AL_EUSAGE, "--sparsity", NULL, "give either --threshold or --sparsity, not both");
        goto out;
    }
    if ((opts[7].seen || opts[8].seen) && !p.duo_gates) {
        st = al_fail(&e, AL_EUSAGE, opts[8].seen ? "--sparsity" : "--threshold", NULL, "only applies with --duo-gates FILE");
        goto out;
    }
    if (!opts[8].seen) p.sparsity = -1;
    al_progress pg;
    al_exec x = al_cmd_exec(&c, &pg);
    al_rec *r = NULL;
    al_result *res = NULL;
    al_heads_out out = {0};
    if ((st = al_rec_open(pos[0], &r, &e)) == AL_OK) {
        const char *ins[2] = {pos[0], p.duo_gates};
        res = al_result_new("heads", argc, argv, ins, p.duo_gates ? 2 : 1, al_opts_params(opts, nopts), &c, &e);
        if (!res) st = e.status;
        if (st == AL_OK && !opts[8].seen) al_result_param(res, "sparsity", cJSON_CreateNull());
        if (st == AL_OK) st = al_heads_compute(r, &p, &x, &out, &e);
        if (st == AL_OK) { /* the token count resolved from the recording */
            al_result_param(res, "tokens", cJSON_CreateNumber((double)out.T));
            st = al_heads_emit(&out, res, &e);
        }
        if (st == AL_OK) st = al_result_emit(res, &c, &e);
    }
    al_heads_out_free(&out);
    al_result_free(res);
    al_rec_close(r);
out:
    al_free((void *)p.class_ids.v);
    al_free((void *)p.class_masks.v);
    return al_cmd_finish(st, &e);
}
