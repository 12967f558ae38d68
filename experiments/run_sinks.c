/* Sinks statistics per input and their combination: hits add, alpha means weigh by sample counts (one input keeps
 * its mean), rates and hidden sinks recomputed with analyses/sinks.c's formulas, so one input gives its tables. */
#include "run_sinks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../analyses/stream.h"
#include "../core/alloc.h"
#include "../core/buf.h"
#include "../datasets/recording.h"
#include "../metrics/sinks.h"
#include "combine.h"
#include "runfs.h"

al_status al_sinks_prepare(const al_run *r, const al_unit *u, int64_t *T, int64_t *K, al_error *e) {
    const al_step *st = &r->spec->steps[u->step];
    char path[4096];
    al_item_path(r, u->item, 0, path, sizeof path);
    al_rec *rec = NULL;
    if (al_rec_open(path, &rec, e) != AL_OK) return e->status;
    const cJSON *tok = al_step_param(st, "tokens"), *pos = al_step_param(st, "positions");
    *T = al_resolve_tokens(rec, tok ? (int64_t)tok->valuedouble : 0, 64, e);
    al_rec_close(rec);
    if (*T < 0) return e->status;
    *K = pos ? (int64_t)pos->valuedouble : (*T < 10 ? *T : 10);
    if (*K > *T) {
        char jp[128];
        snprintf(jp, sizeof jp, "steps[%d].params.positions", u->step);
        return al_fail(e, AL_EUSAGE, r->spec->file, jp, "%lld positions requested but only %lld tokens are analysed",
                       (long long)*K, (long long)*T);
    }
    return AL_OK;
}

static cJSON *al_read_json(const char *path, al_error *e) {
    char *text = al_fs_read(path, NULL, e);
    if (!text) return NULL;
    uint64_t f0 = al_alloc_cjson_failures();
    cJSON *j = cJSON_Parse(text);
    al_free(text);
    if (!j)
        al_fail(e, al_alloc_cjson_failures() != f0 ? AL_ENOMEM : AL_EFORMAT, path, NULL, "%s",
                al_alloc_cjson_failures() != f0 ? "out of memory" : "malformed JSON");
    return j;
}

/* Numbers are written by hand with al_num_str (shortest text that reads back to the same double): cJSON prints
 * 15 digits whenever they come within an epsilon of the value, which can move the last bit. */
static void al_num(al_buf *b, double v) {
    char t[40];
    al_num_str(v, t, sizeof t);
    al_buf_printf(b, "%s", t);
}

al_status al_sinks_write_stats(const al_run *r, const al_unit *u, const char *stage, int64_t K, al_error *e) {
    const al_step *st = &r->spec->steps[u->step];
    char p[4600], path[4096];
    al_item_path(r, u->item, 0, path, sizeof path);
    al_rec *rec = NULL;
    al_table *lay = NULL, *heads = NULL;
    al_buf b = {0};
    al_status res = al_rec_open(path, &rec, e);
    if (res == AL_OK) { /* the analysis's own TSV files: every digit of every value */
        snprintf(p, sizeof p, "%s/sinks_layers.tsv", stage);
        if (!(lay = al_tsv_read(p, "sinks_layers", e))) res = e->status;
        snprintf(p, sizeof p, "%s/sinks_heads.tsv", stage);
        if (res == AL_OK && !(heads = al_tsv_read(p, "sinks_heads", e))) res = e->status;
    }
    int64_t Tw = 0; /* the analysed tokens: samples shorter were left out of the rates */
    if (res == AL_OK) {
        const cJSON *tok = al_step_param(st, "tokens");
        if ((Tw = al_resolve_tokens(rec, tok ? (int64_t)tok->valuedouble : 0, 64, e)) < 0) res = e->status;
    }
    if (res == AL_OK) {
        int64_t N = rec->N - al_short_samples(rec, Tw, "sinks", 1), L = rec->L, H = rec->H, T = lay->ncols - 1;
        if (lay->nrows != L || heads->nrows != L * H || heads->ncols != T + 3)
            res = al_fail(e, AL_EINTERNAL, stage, NULL, "sinks tables of unexpected shape");
        const cJSON *eps = al_step_param(st, "epsilon"), *tau = al_step_param(st, "hidden-threshold"),
                    *mq = al_step_param(st, "hidden-min-queries");
        al_buf_printf(&b,
                      "{\n\t\"analysis\": \"sinks\",\n\t\"samples\": %lld,\n\t\"layers\": %lld,\n\t\"heads\": %lld,\n"
                      "\t\"tokens\": %lld,\n\t\"positions\": %lld,\n\t\"epsilon\": ",
                      (long long)N, (long long)L, (long long)H, (long long)T, (long long)K);
        al_num(&b, eps ? eps->valuedouble : 0.3);
        al_buf_printf(&b, ",\n\t\"hidden_threshold\": ");
        al_num(&b, tau ? tau->valuedouble : 0.1);
        al_buf_printf(&b, ",\n\t\"hidden_min_queries\": %lld,\n\t\"causal\": %d",
                      mq ? (long long)mq->valuedouble : 16LL, rec->causal ? 1 : 0);
        /* hit counts are integers: recovered exactly from the per-layer rates 100 hits / (N H) */
        al_buf_printf(&b, ",\n\t\"hits\": [");
        for (int64_t l = 0; l < L && res == AL_OK; l++) {
            al_buf_printf(&b, "%s\n\t\t[", l ? "," : "");
            for (int64_t k = 0; k < T; k++)
                al_buf_printf(&b, "%s%lld", k ? ", " : "",
                              (long long)llround(al_cell_value(lay, l, 1 + (int)k) * (double)(N * H) / 100.0));
            al_buf_printf(&b, "]");
        }
        al_buf_printf(&b, "],\n\t\"alpha_mean\": [");
        for (int64_t lh = 0; lh < L * H && res == AL_OK; lh++) {
            al_buf_printf(&b, "%s\n\t\t[", lh ? "," : "");
            for (int64_t k = 0; k < T; k++) {
                al_buf_printf(&b, "%s", k ? ", " : "");
                al_num(&b, al_cell_value(heads, lh, 2 + (int)k));
            }
            al_buf_printf(&b, "]");
        }
        al_buf_printf(&b, "]\n}\n");
        snprintf(p, sizeof p, "%s/stats.json", stage);
        if (res == AL_OK)
            res = b.failed ? al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory") : al_fs_write_atomic(p, b.s, e);
    }
    al_buf_free(&b);
    al_table_free(lay);
    al_table_free(heads);
    al_rec_close(rec);
    return res;
}

/* ---- combination ---- */

typedef struct {
    int64_t N, L, H, T, K;
    double eps, tau;
    int64_t min_queries; /* hidden sinks: keys seen by at least this many queries */
    int causal;
    int64_t *hits; /* [L, T] */
    double *alpha; /* [L * H, T] */
} al_sstats;

static al_status al_sstats_read(const char *dir, al_sstats *s, al_error *e) {
    char p[4600];
    snprintf(p, sizeof p, "%s/stats.json", dir);
    cJSON *j = al_read_json(p, e);
    if (!j) return e->status;
#define NUM(k) cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, k))
    s->N = (int64_t)NUM("samples"), s->L = (int64_t)NUM("layers"), s->H = (int64_t)NUM("heads");
    s->T = (int64_t)NUM("tokens"), s->K = (int64_t)NUM("positions"), s->eps = NUM("epsilon"),
    s->tau = NUM("hidden_threshold");
    double mq = NUM("hidden_min_queries"), causal = NUM("causal"); /* absent (NaN) in a folder of an older run */
    s->min_queries = mq >= 1 && mq <= 1e12 ? (int64_t)mq : 0, s->causal = causal == 1;
#undef NUM
    const cJSON *hits = cJSON_GetObjectItemCaseSensitive(j, "hits"),
                *am = cJSON_GetObjectItemCaseSensitive(j, "alpha_mean");
    al_status st = AL_OK;
    if (!(s->N > 0 && s->L > 0 && s->H > 0 && s->T > 0 && s->K > 0 && s->K <= s->T && s->min_queries > 0) ||
        cJSON_GetArraySize(hits) != s->L || cJSON_GetArraySize(am) != s->L * s->H)
        st = al_fail(e, AL_EFORMAT, p, NULL, "inconsistent sink statistics");
    s->hits = al_calloc((size_t)(s->L * s->T), sizeof *s->hits);
    s->alpha = al_calloc((size_t)(s->L * s->H * s->T), sizeof *s->alpha);
    if (st == AL_OK && (!s->hits || !s->alpha)) st = al_fail(e, AL_ENOMEM, p, NULL, "out of memory");
    int64_t i = 0;
    const cJSON *row, *x;
    cJSON_ArrayForEach(row, (st == AL_OK ? hits : NULL)) {
        int64_t k = 0;
        if (cJSON_GetArraySize(row) != s->T)
            st = al_fail(e, AL_EFORMAT, p, NULL, "hits: rows of %lld expected", (long long)s->T);
        cJSON_ArrayForEach(x, (st == AL_OK ? row : NULL)) s->hits[i * s->T + k++] = (int64_t)x->valuedouble;
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(row, (st == AL_OK ? am : NULL)) {
        int64_t k = 0;
        if (cJSON_GetArraySize(row) != s->T)
            st = al_fail(e, AL_EFORMAT, p, NULL, "alpha_mean: rows of %lld expected", (long long)s->T);
        cJSON_ArrayForEach(x, (st == AL_OK ? row : NULL)) s->alpha[i * s->T + k++] = x->valuedouble;
        i++;
    }
    cJSON_Delete(j);
    return st;
}

static void al_sstats_free(al_sstats *s) {
    al_free(s->hits);
    al_free(s->alpha);
}

/* the tables of one group of same-shaped inputs g[0..m-1], appended to t[3] (input column when id != NULL) */
static int al_sinks_rows(al_sstats *g, int m, const char *id, al_table **t) {
    int64_t L = g[0].L, H = g[0].H, T = g[0].T, K = g[0].K, N = 0;
    for (int i = 0; i < m; i++)
        N += g[i].N;
    double *mean = al_calloc((size_t)T, sizeof *mean);
    int64_t *pos = al_calloc((size_t)T, sizeof *pos);
    size_t nbuf = (size_t)T * 24 + 64; /* a head's list of up to T hidden sinks */
    char *buf = al_malloc(nbuf, 1);
    int bad = !mean || !pos || !buf, c0 = id ? 1 : 0;
    for (int64_t k = 0; k < K && !bad; k++) {
        int64_t hk = 0;
        for (int i = 0; i < m; i++)
            for (int64_t l = 0; l < L; l++)
                hk += g[i].hits[l * T + k];
        al_cell *c = al_table_row(t[0]);
        if (!(bad = !c)) {
            if (id) bad |= al_cell_str(&c[0], id);
            al_cell_int(&c[c0], k);
            al_cell_num(&c[c0 + 1], 100.0 * (double)hk / (double)(N * L * H));
        }
    }
    for (int64_t l = 0; l < L && !bad; l++) {
        al_cell *c = al_table_row(t[1]);
        if ((bad = !c)) break;
        if (id) bad |= al_cell_str(&c[0], id);
        al_cell_int(&c[c0], l);
        for (int64_t k = 0; k < K; k++) {
            int64_t hk = 0;
            for (int i = 0; i < m; i++)
                hk += g[i].hits[l * T + k];
            al_cell_num(&c[c0 + 1 + k], 100.0 * (double)hk / (double)(N * H));
        }
    }
    for (int64_t lh = 0; lh < L * H && !bad; lh++) {
        for (int64_t j = 0; j < T; j++) {
            if (m == 1)
                mean[j] = g[0].alpha[lh * T + j];
            else {
                double s = 0;
                for (int i = 0; i < m; i++)
                    s += (double)g[i].N * g[i].alpha[lh * T + j];
                mean[j] = s / (double)N;
            }
        }
        int64_t np = al_hidden_sinks(mean, T, g[0].tau, g[0].min_queries, g[0].causal, pos);
        al_cell *c = al_table_row(t[2]);
        if ((bad = !c)) break;
        if (id) bad |= al_cell_str(&c[0], id);
        al_cell_int(&c[c0], lh / H);
        al_cell_int(&c[c0 + 1], lh % H);
        for (int64_t k = 0; k < K; k++)
            al_cell_num(&c[c0 + 2 + k], mean[k]);
        int o = 0;
        buf[0] = 0;
        for (int64_t i = 0; i < np && o < (int)nbuf - 24; i++)
            o += snprintf(buf + o, nbuf - (size_t)o, "%s%lld", i ? "," : "", (long long)pos[i]);
        bad |= al_cell_str(&c[c0 + 2 + K], buf);
    }
    al_free(mean);
    al_free(pos);
    al_free(buf);
    return bad ? -1 : 0;
}

static al_table *al_sinks_table(const char *name, const char *title, int with_input, const char *first, const char *per,
                                int64_t K, const char *last) {
    size_t n = (size_t)K * 40 + 256; /* K columns "PERk" */
    char *cols = al_malloc(n, 1);
    if (!cols) return NULL;
    int o = snprintf(cols, n, "%s%s", with_input ? "input," : "", first);
    for (int64_t k = 0; per && k < K && o < (int)n - 40; k++)
        o += snprintf(cols + o, n - (size_t)o, ",%s%lld", per, (long long)k);
    if (last) snprintf(cols + o, n - (size_t)o, ",%s", last);
    al_table *t = al_table_new(name, title, cols);
    al_free(cols);
    return t;
}

/* sinks_inputs: each input's own Sink_k, from its own hits (a model per input: the paper's table of models) */
static int al_sinks_inputs(const al_sstats *s, const char *const *ids, int n, al_table *t) {
    for (int i = 0; i < n; i++) {
        al_cell *c = al_table_row(t);
        if (!c || al_cell_str(&c[0], ids[i])) return -1;
        al_cell_int(&c[1], s[i].N);
        al_cell_int(&c[2], s[i].T);
        for (int64_t k = 0; k < s[i].K && 3 + k < t->ncols; k++) {
            int64_t hk = 0;
            for (int64_t l = 0; l < s[i].L; l++)
                hk += s[i].hits[l * s[i].T + k];
            al_cell_num(&c[3 + k], 100.0 * (double)hk / (double)(s[i].N * s[i].L * s[i].H));
        }
    }
    return 0;
}

al_status al_sinks_combine(const char *const *dirs, const char *const *ids, int n, int with_input, al_table **t,
                           int *ntab, al_error *e) {
    *ntab = 0;
    al_sstats *s = al_calloc((size_t)(n ? n : 1), sizeof *s);
    if (!s) return al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    al_status st = AL_OK;
    for (int i = 0; i < n && st == AL_OK; i++)
        st = al_sstats_read(dirs[i], &s[i], e);
    int same = 1;
    for (int i = 1; i < n; i++)
        same &= s[i].L == s[0].L && s[i].H == s[0].H && s[i].T == s[0].T && s[i].K == s[0].K && s[i].tau == s[0].tau &&
                s[i].min_queries == s[0].min_queries && s[i].causal == s[0].causal;
    int stack = with_input && !same; /* one set per input when they cannot be pooled */
    int64_t K = n ? s[0].K : 0;
    t[0] = al_sinks_table("sinks_rate", "Sink rate by position (% of heads with alpha > eps)", stack,
                          "position,sink_rate", NULL, 0, NULL);
    t[1] = al_sinks_table("sinks_layers", "Sink rate by layer (%)", stack, "layer", "sink_", K, NULL);
    t[2] = al_sinks_table("sinks_heads", "Key importance alpha per head (mean over samples) and hidden sinks", stack,
                          "layer,head", "alpha_", K, "hidden_sinks");
    t[3] = with_input ? al_sinks_table("sinks_inputs", "Sink rate by input (% of heads with alpha > eps)", 1,
                                       "samples,tokens", "sink_", K, NULL)
                      : NULL;
    if (st == AL_OK && (!t[0] || !t[1] || !t[2] || (with_input && !t[3])))
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    if (st == AL_OK && with_input && al_sinks_inputs(s, ids, n, t[3]))
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    if (st == AL_OK && n && !stack && al_sinks_rows(s, n, NULL, t))
        st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    for (int i = 0; st == AL_OK && stack && i < n; i++) {
        if (s[i].K != K)
            st = al_fail(e, AL_EUSAGE, dirs[i], NULL, "inputs differ in the positions reported");
        else if (al_sinks_rows(&s[i], 1, ids[i], t))
            st = al_fail(e, AL_ENOMEM, NULL, NULL, "out of memory");
    }
    for (int i = 0; i < n; i++)
        al_sstats_free(&s[i]);
    al_free(s);
    if (st != AL_OK)
        for (int i = 0; i < 4; i++)
            al_table_free(t[i]), t[i] = NULL;
    else
        *ntab = with_input ? 4 : 3;
    return st;
}
