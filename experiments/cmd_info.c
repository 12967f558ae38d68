/* `attnlab info FILE`: what a recording holds (attributes, datasets, shapes, dtypes) and which analyses
 * can run on it. Structure is validated exactly as the analyses do, so a file info accepts can be analysed. */
#include <stdio.h>
#include <string.h>

#include "../analyses/catalog.h"
#include "../core/result.h"
#include "../datasets/recording.h"
#include "commands.h"

static int al_kv(al_table *t, const char *k, const char *v) {
    al_cell *c = al_table_row(t);
    if (!c) return -1;
    return al_cell_str(&c[0], k) | al_cell_str(&c[1], v);
}

static int al_kvi(al_table *t, const char *k, int64_t v) {
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    return al_kv(t, k, b);
}

/* an analysis of the catalogue that reads recordings and finds what it needs in r */
static int al_info_supports(const al_rec *r, const al_adef *a) {
    if (a->needs & AL_NEEDS_MAPS) return r->has[AL_T_ATT] || r->has[AL_T_Q];
    if (a->needs & AL_NEEDS_STATES) return r->has[AL_T_HIDDEN] || r->has[AL_T_K] || r->has[AL_T_V];
    return 0;
}

/* what an analysis of the catalogue reads, in words */
static const char *al_needs_name(unsigned needs) {
    if (needs & AL_NEEDS_MAPS) return "maps or q/k";
    if (needs & AL_NEEDS_STATES) return "hidden, k or v";
    return needs & AL_NEEDS_LOGS ? "logs file" : "any";
}

/* `attnlab info` without a file: every analysis of the catalogue with what it reads and its parameters */
static int al_info_catalogue(int argc, char **argv, const al_common *c, cJSON *params) {
    al_error e;
    al_error_clear(&e);
    al_result *res = al_result_new("info", argc, argv, NULL, 0, params, c, &e);
    if (!res) return al_cmd_finish(e.status, &e);
    al_table *t = al_table_new("info_analyses", "Analyses", "analysis,reads,files,fused,parameters,summary");
    int bad = al_result_table(res, t, 1);
    cJSON *ja = cJSON_AddArrayToObject(res->doc, "analyses");
    for (int i = 1; !bad && i < AL_ANALYSIS_COUNT; i++) { /* row 0 is info itself */
        const al_adef *a = &al_analyses[i];
        char ps[1024] = "";
        for (const al_pdef *d = a->params; d->name; d++)
            snprintf(ps + strlen(ps), sizeof ps - strlen(ps), "%s%s", ps[0] ? " " : "", d->name);
        al_cell *cl = al_table_row(t);
        if (!cl) break;
        bad |= al_cell_str(&cl[0], a->name) | al_cell_str(&cl[1], al_needs_name(a->needs)) | al_cell_str(&cl[4], ps) |
               al_cell_str(&cl[5], a->summary);
        al_cell_int(&cl[2], a->nfiles);
        al_cell_int(&cl[3], a->fused);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", a->name);
        cJSON_AddStringToObject(o, "reads", al_needs_name(a->needs));
        cJSON_AddStringToObject(o, "summary", a->summary);
        al_json_push(ja, o);
    }
    al_status st = bad || !ja ? al_fail(&e, AL_ENOMEM, NULL, NULL, "out of memory") : al_result_emit(res, c, &e);
    al_result_free(res);
    return al_cmd_finish(st, &e);
}

int al_cmd_info(int argc, char **argv) {
    al_error e;
    al_error_clear(&e);
    al_common c;
    al_common_defaults(&c);
    al_opt opts[AL_OPTS_MAX];
    int nopts = 0, npos = 0, done = 0;
    const char *pos[1];
    al_status st = al_cmd_parse(argc, argv, opts, &nopts, &c, "info [FILE]",
                                "Shows a recording's attributes, datasets (shape, dtype, chunking, compression) and the\n"
                                "analyses it supports. Without FILE: every analysis attnlab has (the catalogue of\n"
                                "analyses/catalog.c), what it reads, its parameters.",
                                pos, &npos, 0, 1, &done, &e);
    if (st != AL_OK || done) return al_cmd_finish(st, &e);
    if (npos == 0) return al_info_catalogue(argc, argv, &c, al_opts_params(opts, nopts));
    al_rec *r = NULL;
    if ((st = al_rec_open(pos[0], &r, &e)) != AL_OK) return al_cmd_finish(st, &e);
    al_result *res = al_result_new("info", argc, argv, pos, 1, al_opts_params(opts, nopts), &c, &e);
    if (!res) {
        al_rec_close(r);
        return al_cmd_finish(e.status, &e);
    }
    al_table *t = al_table_new("info", "Recording", "field,value");
    al_table *d = al_table_new("info_datasets", "Datasets", "dataset,dtype,shape,chunks,compressed");
    int bad = al_result_table(res, t, 1) | al_result_table(res, d, 1);
    if (!bad) {
        bad |= al_kv(t, "format", r->kind == AL_REC_NPY ? ".npy map dump" : "attnlab recording v1");
        bad |= al_kv(t, "model", r->model);
        bad |= al_kvi(t, "samples", r->N) | al_kvi(t, "layers", r->L) | al_kvi(t, "heads", r->H);
        bad |= al_kvi(t, "kv_heads", r->H_kv) | al_kvi(t, "head_dim", r->D) | al_kvi(t, "tokens", r->T);
        bad |= al_kvi(t, "causal", r->causal) | al_kvi(t, "first_token_is_bos", r->bos);
        char an[512] = "";
        for (int i = 0; i < AL_ANALYSIS_COUNT; i++)
            if (al_info_supports(r, &al_analyses[i]))
                snprintf(an + strlen(an), sizeof an - strlen(an), "%s%s", an[0] ? ", " : "", al_analyses[i].name);
        bad |= al_kv(t, "analyses", an);
    }
    cJSON *rec = cJSON_AddObjectToObject(res->doc, "recording");
    cJSON_AddStringToObject(rec, "format", r->kind == AL_REC_NPY ? "npy" : "recording");
    cJSON_AddStringToObject(rec, "model", r->model);
    cJSON_AddNumberToObject(rec, "n_samples", (double)r->N);
    cJSON_AddNumberToObject(rec, "n_layers", (double)r->L);
    cJSON_AddNumberToObject(rec, "n_heads", (double)r->H);
    cJSON_AddNumberToObject(rec, "n_kv_heads", (double)r->H_kv);
    cJSON_AddNumberToObject(rec, "head_dim", (double)r->D);
    cJSON_AddNumberToObject(rec, "tokens", (double)r->T);
    cJSON_AddBoolToObject(rec, "causal", r->causal);
    cJSON_AddBoolToObject(rec, "first_token_is_bos", r->bos);
    cJSON *jd = cJSON_AddArrayToObject(res->doc, "datasets");
    static const char *const gname[AL_T_COUNT] = {"attention", "q", "k", "v", "hidden"};
    for (int w = 0; w < AL_T_COUNT && !bad; w++) {
        if (!r->has[w]) continue;
        char nm[64], shape[128], chunks[128];
        if (r->kind == AL_REC_NPY) {
            snprintf(nm, sizeof nm, "(npy)");
            snprintf(shape, sizeof shape, "[%lld, %lld, %lld, %lld, %lld]", (long long)r->N, (long long)r->L, (long long)r->H,
                     (long long)r->T, (long long)r->T);
            snprintf(chunks, sizeof chunks, "-");
        } else {
            const al_h5_dset *x = &r->dsets[w][0];
            int64_t nl = w == AL_T_HIDDEN ? r->L + 1 : r->L;
            snprintf(nm, sizeof nm, "%s/L000..L%03lld", gname[w], (long long)nl - 1);
            int o = snprintf(shape, sizeof shape, "[");
            for (int i = 0; i < x->rank; i++) o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%lld", i ? ", " : "", (long long)x->dims[i]);
            snprintf(shape + o, sizeof shape - (size_t)o, "]");
            if (x->chunked) {
                o = snprintf(chunks, sizeof chunks, "(");
                for (int i = 0; i < x->rank; i++) o += snprintf(chunks + o, sizeof chunks - (size_t)o, "%s%lld", i ? ", " : "", (long long)x->chunk[i]);
                snprintf(chunks + o, sizeof chunks - (size_t)o, ")");
            } else {
                snprintf(chunks, sizeof chunks, "contiguous");
            }
        }
        al_cell *cl = al_table_row(d);
        if (!cl) {
            bad = 1;
            break;
        }
        int comp = r->kind == AL_REC_HDF5 && r->dsets[w][0].compressed;
        bad |= al_cell_str(&cl[0], nm) | al_cell_str(&cl[1], al_dtype_name(r->dtype[w])) | al_cell_str(&cl[2], shape) |
               al_cell_str(&cl[3], chunks) | al_cell_str(&cl[4], comp ? "gzip" : "no");
        cJSON *o = cJSON_CreateObject(); /* filled, then attached: al_json_push frees it when jd is missing */
        cJSON_AddStringToObject(o, "name", nm);
        cJSON_AddStringToObject(o, "dtype", al_dtype_name(r->dtype[w]));
        cJSON_AddStringToObject(o, "shape", shape);
        cJSON_AddStringToObject(o, "chunks", chunks);
        cJSON_AddBoolToObject(o, "compressed", comp);
        al_json_push(jd, o);
    }
    cJSON *ja = cJSON_AddArrayToObject(res->doc, "analyses");
    for (int i = 0; i < AL_ANALYSIS_COUNT; i++)
        if (al_info_supports(r, &al_analyses[i])) al_json_push(ja, cJSON_CreateString(al_analyses[i].name));
    if (bad) st = al_fail(&e, AL_ENOMEM, NULL, NULL, "out of memory");
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
