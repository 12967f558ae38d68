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
    if ((a->needs & AL_NEEDS_CAUSAL) && !r->causal) return 0;
    if (a->needs & AL_NEEDS_MAPS) return r->has[AL_T_ATT] || r->has[AL_T_Q];
    if (a->needs & AL_NEEDS_STATES) return r->has[AL_T_HIDDEN] || r->has[AL_T_K] || r->has[AL_T_V];
    return 0;
}

/* what an analysis of the catalogue reads, in words */
static const char *al_needs_name(unsigned needs) {
    if (needs & AL_NEEDS_MAPS) return needs & AL_NEEDS_CAUSAL ? "causal maps or q/k" : "maps or q/k";
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

static int64_t al_info_min_length(const al_rec *r) {
    int64_t m = r->T;
    for (int64_t n = 0; n < r->N; n++)
        m = r->lengths[n] < m ? r->lengths[n] : m;
    return m;
}

/* "all 24" or "unequal: 17..24 valid tokens (2 of 3 samples padded)" */
static int al_info_lengths(al_table *t, const al_rec *r) {
    int64_t lo = al_info_min_length(r), hi = 0, padded = 0;
    for (int64_t n = 0; n < r->N; n++) {
        hi = r->lengths[n] > hi ? r->lengths[n] : hi;
        padded += r->lengths[n] < r->T;
    }
    char b[160];
    if (!padded)
        snprintf(b, sizeof b, "all %lld", (long long)r->T);
    else
        snprintf(b, sizeof b, "unequal: %lld..%lld valid tokens (%lld of %lld samples padded; /lengths)", (long long)lo,
                 (long long)hi, (long long)padded, (long long)r->N);
    return al_kv(t, "lengths", b);
}

/* first_token_id / first_token_text attributes, as the recorders write them (what position 0 actually is) */
static void al_info_first_token_read(const al_rec *r, int64_t *id, char *text, size_t n) {
    al_error e;
    al_error_clear(&e);
    *id = -1;
    text[0] = 0;
    if (r->kind != AL_REC_HDF5) return;
    if (al_h5_attr_int(r->file, "first_token_id", id, r->path, &e) != 1) *id = -2; /* -2: absent, -1: differs */
    if (al_h5_attr_str(r->file, "first_token_text", text, n, r->path, &e) != 1) text[0] = 0;
}

/* control characters written as C escapes: "\n<s>\n" stays on one line of a table */
static void al_info_escape(const char *s, char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 5 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n')
            k += (size_t)snprintf(out + k, n - k, "\\n");
        else if (c == '\t')
            k += (size_t)snprintf(out + k, n - k, "\\t");
        else if (c < 0x20 || c == 0x7f)
            k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
        else
            out[k++] = (char)c;
    }
    out[k] = 0;
}

static int al_info_first_token(al_table *t, const al_rec *r) {
    int64_t id;
    char text[128], esc[256], b[320];
    al_info_first_token_read(r, &id, text, sizeof text);
    if (id == -2) return 0;
    al_info_escape(text, esc, sizeof esc);
    snprintf(b, sizeof b, "id %lld, \"%s\" (Sink_0; the paper's Sink_1)", (long long)id, esc);
    return al_kv(t, "first_token", b);
}

static void al_info_first_token_json(cJSON *rec, const al_rec *r) {
    int64_t id;
    char text[128];
    al_info_first_token_read(r, &id, text, sizeof text);
    if (id == -2) return;
    cJSON_AddNumberToObject(rec, "first_token_id", (double)id);
    cJSON_AddStringToObject(rec, "first_token_text", text);
}

/* dtype, shape, chunks and filter of any dataset, whatever its type (strings and integers included) */
static void al_info_describe(hid_t ds, char *dtype, size_t nd, char *shape, size_t ns, char *chunks, size_t nc,
                             int *comp) {
    hid_t sp = H5Dget_space(ds), ty = H5Dget_type(ds), pl = H5Dget_create_plist(ds);
    hsize_t dims[AL_MAX_RANK] = {0}, ch[AL_MAX_RANK] = {0};
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank > AL_MAX_RANK) rank = AL_MAX_RANK;
    if (rank > 0) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5T_class_t cl = H5Tget_class(ty);
    size_t sz = H5Tget_size(ty);
    if (cl == H5T_STRING)
        snprintf(dtype, nd, "%s", H5Tis_variable_str(ty) > 0 ? "string (variable)" : "string (fixed)");
    else if (cl == H5T_INTEGER)
        snprintf(dtype, nd, "%s%zu", H5Tget_sign(ty) == H5T_SGN_NONE ? "uint" : "int", sz * 8);
    else if (cl == H5T_FLOAT)
        snprintf(dtype, nd, "float%zu", sz * 8);
    else
        snprintf(dtype, nd, "other");
    int o = snprintf(shape, ns, "[");
    for (int i = 0; i < rank; i++)
        o += snprintf(shape + o, ns - (size_t)o, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    snprintf(shape + o, ns - (size_t)o, "]");
    if (H5Pget_layout(pl) == H5D_CHUNKED && H5Pget_chunk(pl, AL_MAX_RANK, ch) >= 0) {
        o = snprintf(chunks, nc, "(");
        for (int i = 0; i < rank; i++)
            o += snprintf(chunks + o, nc - (size_t)o, "%s%llu", i ? ", " : "", (unsigned long long)ch[i]);
        snprintf(chunks + o, nc - (size_t)o, ")");
    } else {
        snprintf(chunks, nc, "contiguous");
    }
    *comp = H5Pget_nfilters(pl) > 0;
    H5Pclose(pl);
    H5Tclose(ty);
    H5Sclose(sp);
}

typedef struct {
    al_table *d;
    cJSON *jd;
    int bad;
} al_info_walk;

/* every dataset at the root (tokens, lengths, token_text, logits, spans, class masks, ...), in name order */
static herr_t al_info_single(hid_t g, const char *name, const H5L_info_t *li, void *op) {
    al_info_walk *w = op;
    H5O_info_t oi;
    if (H5Oget_info_by_name(g, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_DATASET) return 0;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    if (ds < 0) return 0;
    char dtype[48], shape[128], chunks[128];
    int comp = 0;
    al_info_describe(ds, dtype, sizeof dtype, shape, sizeof shape, chunks, sizeof chunks, &comp);
    if (H5Aexists(ds, "dtype") > 0 && !strcmp(dtype, "uint16")) snprintf(dtype, sizeof dtype, "bfloat16");
    H5Dclose(ds);
    al_cell *cl = al_table_row(w->d);
    if (!cl) return w->bad = 1, -1;
    w->bad |= al_cell_str(&cl[0], name) | al_cell_str(&cl[1], dtype) | al_cell_str(&cl[2], shape) |
              al_cell_str(&cl[3], chunks) | al_cell_str(&cl[4], comp ? "gzip" : "no");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "dtype", dtype);
    cJSON_AddStringToObject(o, "shape", shape);
    cJSON_AddStringToObject(o, "chunks", chunks);
    cJSON_AddBoolToObject(o, "compressed", comp);
    al_json_push(w->jd, o);
    return 0;
}

static int al_info_singles(const al_rec *r, al_table *d, cJSON *jd) {
    al_info_walk w = {d, jd, 0};
    hsize_t idx = 0;
    H5Literate(r->file, H5_INDEX_NAME, H5_ITER_INC, &idx, al_info_single, &w);
    return w.bad;
}

/* The analyses r supports, in the catalogue's order, with their summaries; `stats` (the fused pass of those with a
 * visitor, in one read) right after the last of them. names, notes: [AL_ANALYSIS_COUNT + 1]; stats_note: the
 * buffer of its note. Returns the count. */
static int al_info_supported(const al_rec *r, const char **names, const char **notes, char *stats_note, size_t ns) {
    int n = 0, at = -1;
    stats_note[0] = 0;
    for (int i = 0; i < AL_ANALYSIS_COUNT; i++) {
        const al_adef *a = &al_analyses[i];
        if (!al_info_supports(r, a)) continue;
        names[n] = a->name;
        notes[n++] = a->summary;
        if (!a->fused) continue;
        at = n;
        snprintf(stats_note + strlen(stats_note), ns - strlen(stats_note), "%s%s", stats_note[0] ? " + " : "", a->name);
    }
    if (at < 0) return n;
    snprintf(stats_note + strlen(stats_note), ns - strlen(stats_note), " from one read");
    for (int k = n; k > at; k--)
        names[k] = names[k - 1], notes[k] = notes[k - 1];
    names[at] = "stats";
    notes[at] = stats_note;
    return n + 1;
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
                                "Shows a recording's attributes, every dataset (shape, dtype, chunking, compression),\n"
                                "the samples' valid lengths (/lengths), what the first token is when the recorder\n"
                                "wrote it, and the analyses the file supports. Without FILE: every analysis attnlab\n"
                                "has (the catalogue of analyses/catalog.c), what it reads, its parameters.",
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
    const char *sup[AL_ANALYSIS_COUNT + 1], *supnote[AL_ANALYSIS_COUNT + 1];
    char stats_note[256];
    int nsup = al_info_supported(r, sup, supnote, stats_note, sizeof stats_note);
    al_table *t = al_table_new("info", "Recording", "field,value");
    al_table *d = al_table_new("info_datasets", "Datasets", "dataset,dtype,shape,chunks,compressed");
    int bad = al_result_table(res, t, 1) | al_result_table(res, d, 1);
    if (!bad) {
        bad |= al_kv(t, "format", r->kind == AL_REC_NPY ? ".npy map dump" : "attnlab recording v1");
        bad |= al_kv(t, "model", r->model);
        bad |= al_kvi(t, "samples", r->N) | al_kvi(t, "layers", r->L) | al_kvi(t, "heads", r->H);
        bad |= al_kvi(t, "kv_heads", r->H_kv) | al_kvi(t, "head_dim", r->D) | al_kvi(t, "tokens", r->T);
        bad |= al_kvi(t, "causal", r->causal) | al_kvi(t, "first_token_is_bos", r->bos);
        bad |= al_info_lengths(t, r);
        bad |= al_info_first_token(t, r);
        char an[512] = "";
        for (int k = 0; k < nsup; k++)
            snprintf(an + strlen(an), sizeof an - strlen(an), "%s%s", an[0] ? ", " : "", sup[k]);
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
            snprintf(shape, sizeof shape, "[%lld, %lld, %lld, %lld, %lld]", (long long)r->N, (long long)r->L,
                     (long long)r->H, (long long)r->T, (long long)r->T);
            snprintf(chunks, sizeof chunks, "-");
        } else {
            const al_h5_dset *x = &r->dsets[w][0];
            int64_t nl = w == AL_T_HIDDEN ? r->L + 1 : r->L;
            snprintf(nm, sizeof nm, "%s/L000..L%03lld", gname[w], (long long)nl - 1);
            int o = snprintf(shape, sizeof shape, "[");
            for (int i = 0; i < x->rank; i++)
                o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%lld", i ? ", " : "", (long long)x->dims[i]);
            snprintf(shape + o, sizeof shape - (size_t)o, "]");
            if (x->chunked) {
                o = snprintf(chunks, sizeof chunks, "(");
                for (int i = 0; i < x->rank; i++)
                    o += snprintf(chunks + o, sizeof chunks - (size_t)o, "%s%lld", i ? ", " : "",
                                  (long long)x->chunk[i]);
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
    if (!bad && r->kind == AL_REC_HDF5) bad |= al_info_singles(r, d, jd);
    cJSON *ja = cJSON_AddArrayToObject(res->doc, "analyses");
    al_table *ta = al_table_new("info_analyses", "Analyses this file supports", "analysis,what");
    bad |= al_result_table(res, ta, 1);
    for (int k = 0; !bad && k < nsup; k++) {
        al_json_push(ja, cJSON_CreateString(sup[k]));
        bad |= al_kv(ta, sup[k], supnote[k]);
    }
    cJSON *jl = cJSON_AddArrayToObject(rec, "lengths");
    for (int64_t n = 0; n < r->N; n++)
        al_json_push(jl, cJSON_CreateNumber((double)r->lengths[n]));
    cJSON_AddBoolToObject(rec, "equal_lengths", al_info_min_length(r) == r->T);
    al_info_first_token_json(rec, r);
    if (bad) st = al_fail(&e, AL_ENOMEM, NULL, NULL, "out of memory");
    if (st == AL_OK) st = al_result_emit(res, &c, &e);
    al_result_free(res);
    al_rec_close(r);
    return al_cmd_finish(st, &e);
}
