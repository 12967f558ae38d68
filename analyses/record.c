/* `attnlab record`: generate (greedy or sampled), then run each final sequence once through the model and
 * write every layer's maps, q, k, v and residual stream while the next layer is not yet computed. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/progress.h"
#include "../core/provenance.h"
#include "../datasets/l2ctok.h"
#include "../datasets/writer.h"
#include "llama_run.h"

static const char *const al_want_names[6] = {"attention", "q", "k", "v", "hidden", "logits"};

void al_record_defaults(al_record_params *p) {
    memset(p, 0, sizeof *p);
    p->samples = 1;
    p->what = AL_WANT_ALL;
    p->dtype = AL_DT_F32;
}

int al_record_parse_what(const char *s, unsigned *what, char *why, size_t nwhy) {
    *what = 0;
    const char *p = s;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        int k = 0;
        while (k < 6 && !(strlen(al_want_names[k]) == l && !strncmp(al_want_names[k], p, l)))
            k++;
        if (k == 6) {
            snprintf(why, nwhy, "unknown item '%.*s' (known: attention,q,k,v,hidden,logits)", (int)(l < 40 ? l : 40),
                     p);
            return -1;
        }
        *what |= 1u << k;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

int al_record_parse_span(const char *arg, al_span *s, char *why, size_t nwhy) {
    const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ':')) {
        snprintf(why, nwhy, "'%s' is not NAME:START:END", arg);
        return -1;
    }
    size_t nl = (size_t)(c1 - arg);
    if (nl == 0 || nl >= sizeof s->name) {
        snprintf(why, nwhy, "'%s': the name must have 1 to %zu characters", arg, sizeof s->name - 1);
        return -1;
    }
    memcpy(s->name, arg, nl);
    s->name[nl] = 0;
    char a[32], b[32];
    snprintf(a, sizeof a, "%.*s", (int)(c2 - c1 - 1 < 31 ? c2 - c1 - 1 : 31), c1 + 1);
    snprintf(b, sizeof b, "%s", c2 + 1);
    char *ea, *eb;
    long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
    if (!*a || !*b || *ea || *eb || x < 0 || y <= x || y > AL_LLAMA_MAX_SEQ) {
        snprintf(why, nwhy, "'%s': expected 0 <= START < END (a half-open token range)", arg);
        return -1;
    }
    s->start = x;
    s->end = y;
    return 0;
}

typedef struct {
    al_v1_writer *w;
    const al_llama_config *c;
    int64_t n; /* sample being written */
    unsigned what;
    float *tr; /* [T * dim]: one tensor in head-major order */
    al_progress *pg;
} al_rec_ctx;

static al_status al_obs_map(void *ctx, int64_t l, int64_t h, int64_t row0, int64_t nrows, const float *att, int64_t T,
                            al_error *e) {
    al_rec_ctx *x = ctx;
    char name[32];
    snprintf(name, sizeof name, "attention/L%03lld", (long long)l);
    int64_t st[4] = {x->n, h, row0, 0}, ct[4] = {1, 1, nrows, T};
    return al_v1_write(x->w, name, st, ct, att, e);
}

/* [T, nh * hs] (token-major, as computed) into [nh, T, hs] (the file's order). */
static void al_heads_major(const float *src, int64_t T, int64_t nh, int64_t hs, float *dst) {
    for (int64_t h = 0; h < nh; h++)
        for (int64_t t = 0; t < T; t++)
            memcpy(dst + (h * T + t) * hs, src + t * nh * hs + h * hs, sizeof(float) * (size_t)hs);
}

static al_status al_obs_qkv(void *ctx, int64_t l, const float *q, const float *k, const float *v, int64_t T,
                            al_error *e) {
    al_rec_ctx *x = ctx;
    const float *src[3] = {q, k, v};
    static const char *const grp[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        if (!(x->what & (AL_WANT_Q << i))) continue;
        int64_t nh = i == 0 ? x->c->n_heads : x->c->n_kv_heads, hs = x->c->head_size;
        al_heads_major(src[i], T, nh, hs, x->tr);
        char name[32];
        snprintf(name, sizeof name, "%s/L%03lld", grp[i], (long long)l);
        int64_t st[4] = {x->n, 0, 0, 0}, ct[4] = {1, nh, T, hs};
        if (al_v1_write(x->w, name, st, ct, x->tr, e) != AL_OK) return e->status;
    }
    return AL_OK;
}

static al_status al_obs_hidden(void *ctx, int64_t l, const float *h, int64_t T, al_error *e) {
    al_rec_ctx *x = ctx;
    if (l > 0) al_progress_add(x->pg, 1);
    if (!(x->what & AL_WANT_HIDDEN)) return AL_OK;
    char name[32];
    snprintf(name, sizeof name, "hidden/L%03lld", (long long)l);
    int64_t st[3] = {x->n, 0, 0}, ct[3] = {1, T, x->c->dim};
    return al_v1_write(x->w, name, st, ct, h, e);
}

static al_status al_obs_logits(void *ctx, int64_t t0, int64_t nt, const float *lg, al_error *e) {
    al_rec_ctx *x = ctx;
    int64_t st[3] = {x->n, t0, 0}, ct[3] = {1, nt, x->c->vocab_size};
    return al_v1_write(x->w, "logits", st, ct, lg, e);
}

void al_record_model_name(const char *path, const char *given, char *buf, size_t n) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *name = given ? given : base;
    size_t l = strlen(name);
    if (!given && l > 4 && !strcmp(name + l - 4, ".bin")) l -= 4;
    if (!given && l > 5 && !strcmp(name + l - 5, ".gguf")) l -= 5;
    snprintf(buf, n, "%.*s", (int)(l < n - 1 ? l : n - 1), name);
}

/* ---- the llama2.c checkpoint behind the recorder's model interface ---- */

static al_status al_l2c_start(al_rec_model *m, int64_t Tmax, al_error *e) {
    al_llm *s = al_calloc(1, sizeof *s);
    if (!s) return al_fail(e, AL_ENOMEM, m->path, NULL, "out of memory");
    al_status st = al_llm_init(s, m->impl, Tmax, e);
    if (st != AL_OK)
        al_free(s);
    else
        m->run = s;
    return st;
}

static al_status al_l2c_prefill(void *run, const int32_t *tok, int64_t t0, int64_t t1, const al_llm_observer *obs,
                                float *last, al_error *e) {
    return al_llm_prefill(run, tok, t0, t1, obs, last, e);
}

static al_status al_l2c_generate(void *run, int32_t *tok, int64_t n_prompt, int64_t n_total, double temperature,
                                 al_rng *rng, al_error *e) {
    return al_llm_generate(run, tok, n_prompt, n_total, temperature, rng, e);
}

static void al_l2c_stop(al_rec_model *m) {
    if (!m->run) return;
    al_llm_free(m->run);
    al_free(m->run);
    m->run = NULL;
}

void al_rec_model_llama2c(const al_llama *m, al_rec_model *rm) {
    memset(rm, 0, sizeof *rm);
    rm->path = m->path;
    rm->c = m->c;
    rm->bos = 1;
    rm->impl = m;
    rm->start = al_l2c_start;
    rm->prefill = al_l2c_prefill;
    rm->generate = al_l2c_generate;
    rm->stop = al_l2c_stop;
}

/* Rows per chunk of the last two dimensions: about 1 MiB of float32. */
static int64_t al_chunk_rows(int64_t width) {
    return width > 0 && width < 262144 ? 262144 / width : 1;
}

static al_status al_record_datasets(al_v1_writer *w, const al_llama_config *c, unsigned what, int64_t N, int64_t T,
                                    al_error *e) {
    char name[32];
    for (int64_t l = 0; l <= c->n_layers; l++) {
        if ((what & AL_WANT_HIDDEN)) {
            snprintf(name, sizeof name, "hidden/L%03lld", (long long)l);
            int64_t d[3] = {N, T, c->dim};
            if (al_v1_dataset(w, name, 3, d, al_chunk_rows(c->dim), e) != AL_OK) return e->status;
        }
        if (l == c->n_layers) break;
        if (what & AL_WANT_ATT) {
            snprintf(name, sizeof name, "attention/L%03lld", (long long)l);
            int64_t d[4] = {N, c->n_heads, T, T};
            if (al_v1_dataset(w, name, 4, d, al_chunk_rows(T), e) != AL_OK) return e->status;
        }
        static const char *const grp[3] = {"q", "k", "v"};
        for (int i = 0; i < 3; i++) {
            if (!(what & (AL_WANT_Q << i))) continue;
            snprintf(name, sizeof name, "%s/L%03lld", grp[i], (long long)l);
            int64_t d[4] = {N, i == 0 ? c->n_heads : c->n_kv_heads, T, c->head_size};
            if (al_v1_dataset(w, name, 4, d, al_chunk_rows(c->head_size), e) != AL_OK) return e->status;
        }
    }
    if (what & AL_WANT_LOGITS) {
        int64_t d[3] = {N, T, c->vocab_size};
        if (al_v1_dataset(w, "logits", 3, d, al_chunk_rows(c->vocab_size), e) != AL_OK) return e->status;
    }
    return AL_OK;
}

/* Tokens, lengths (when samples differ in length) and spans. */
static al_status al_record_inputs(al_v1_writer *w, const al_record_params *p, const int32_t *tok, const int32_t *len,
                                  int64_t N, int64_t T, al_error *e) {

    int64_t td[2] = {N, T};
    if (al_v1_write_i32(w, "tokens", 2, td, tok, e) != AL_OK) return e->status;
    int ragged = 0;
    for (int64_t n = 0; n < N; n++)
        ragged |= len[n] != T;
    if (ragged && al_v1_write_i32(w, "lengths", 1, &N, len, e) != AL_OK) return e->status;
    if (p->n_spans == 0) return AL_OK;
    int32_t *sp = al_malloc((size_t)(N * p->n_spans * 2), sizeof(int32_t)); /* [N, S, 2] */
    const char *names[AL_MAX_SPANS];
    if (!sp) return al_fail(e, AL_ENOMEM, w->path, "spans", "out of memory");
    for (int64_t n = 0; n < N; n++)
        for (int s = 0; s < p->n_spans; s++) {
            int64_t k = (n * p->n_spans + s) * 2;
            sp[k] = p->sample_spans ? p->sample_spans[k] : (int32_t)p->spans[s].start;
            sp[k + 1] = p->sample_spans ? p->sample_spans[k + 1] : (int32_t)p->spans[s].end;
        }
    for (int s = 0; s < p->n_spans; s++)
        names[s] = p->spans[s].name;
    int64_t sd[3] = {N, p->n_spans, 2};
    al_status st = al_v1_write_i32(w, "spans", 3, sd, sp, e);
    al_free(sp);
    if (st == AL_OK) st = al_v1_attr_strings(w, "spans", "names", names, p->n_spans, e);
    return st;
}

/* /token_text [N, T]: each valid token's decoded text (datasets/l2ctok.h), "" on padding. */
static al_status al_record_texts(al_v1_writer *w, const al_l2ctok *tk, const int32_t *tok, const int32_t *len,
                                 int64_t N, int64_t T, al_error *e) {
    char **s = al_calloc((size_t)(N * T), sizeof(char *)); /* [N, T] */
    int bad = !s;
    for (int64_t n = 0; !bad && n < N; n++)
        bad = al_l2ctok_texts(tk, tok + n * T, len[n], s + n * T) != 0;
    al_status st = bad ? al_fail(e, AL_ENOMEM, w->path, "token_text", "out of memory")
                       : al_v1_write_strings(w, "token_text", N, T, (const char *const *)s, e);
    for (int64_t i = 0; s && i < N * T; i++)
        al_free(s[i]);
    al_free(s);
    return st;
}

/* What position 0 holds: the id every sample starts with (-1 when they differ) and, with a tokenizer, its text. */
static void al_record_first(al_v1_attrs *a, const al_l2ctok *tk, const int32_t *tok, int64_t N, int64_t T, char *text,
                            size_t n) {
    a->has_first_token = 1;
    a->first_token_id = tok[0];
    for (int64_t i = 1; i < N; i++)
        if (tok[i * T] != tok[0]) a->first_token_id = -1;
    text[0] = 0;
    if (a->first_token_id < 0)
        snprintf(text, n, "(differs by sample)");
    else if (tk && a->first_token_id < tk->vocab)
        snprintf(text, n, "%s", tk->piece[a->first_token_id]);
    a->first_token_text = text;
}

/* Checks lengths and spans against the model and fills len [N]; returns the longest length. */
static int64_t al_record_plan(const al_rec_model *m, const al_record_params *p, int64_t N, int32_t *len, al_error *e) {
    int64_t T = 0;
    for (int64_t n = 0; n < N; n++) {
        int64_t pl = p->n_prompts ? p->prompt_len[p->n_prompts > 1 ? n : 0] : 1;
        int64_t ln = pl + p->generate;
        if (ln > m->c.seq_len) {
            al_fail(e, AL_EUSAGE, m->path, NULL,
                    "%s%lld prompt tokens + %lld generated = %lld tokens, longer than the model's seq_len %lld",
                    p->n_prompts > 1 ? "--tokens: " : "", (long long)pl, (long long)p->generate, (long long)ln,
                    (long long)m->c.seq_len);
            return -1;
        }
        len[n] = (int32_t)ln;
        T = ln > T ? ln : T;
    }
    for (int s = 0; s < p->n_spans; s++) {
        for (int s2 = 0; s2 < s; s2++)
            if (!strcmp(p->spans[s].name, p->spans[s2].name)) {
                al_fail(e, AL_EUSAGE, "--span", NULL, "span name '%s' is given twice", p->spans[s].name);
                return -1;
            }
        for (int64_t n = 0; n < N && !p->sample_spans; n++)
            if (p->spans[s].end > len[n]) {
                al_fail(e, AL_EUSAGE, "--span", NULL, "span '%s' ends at %lld, beyond sample %lld's %d tokens",
                        p->spans[s].name, (long long)p->spans[s].end, (long long)n, len[n]);
                return -1;
            }
    }
    return T;
}

/* /token_text [N, T]: each token's decoded text (padding positions included). */
static al_status al_record_token_text(al_v1_writer *w, const al_rec_model *m, const int32_t *tok, int64_t N, int64_t T,
                                      al_error *e) {
    char *buf = al_malloc((size_t)(N * T), 64); /* [N * T][64] */
    const char **v = al_malloc((size_t)(N * T), sizeof *v);
    al_status st = buf && v ? AL_OK : al_fail(e, AL_ENOMEM, w->path, "token_text", "out of memory");
    for (int64_t i = 0; st == AL_OK && i < N * T; i++) {
        m->piece(m, tok[i], buf + i * 64, 64);
        v[i] = buf + i * 64;
    }
    if (st == AL_OK) st = al_v1_write_strings(w, "token_text", N, T, v, e);
    al_free(buf);
    al_free(v);
    return st;
}

/* Root attributes of a model that says what it is: its own name, architecture and quantisation. */
static al_status al_record_provenance(al_v1_writer *w, const al_rec_model *m, al_error *e) {
    if (m->name && al_v1_attr_str(w, "model_name", m->name, e) != AL_OK) return e->status;
    if (m->arch && al_v1_attr_str(w, "architecture", m->arch, e) != AL_OK) return e->status;
    if (m->quant && al_v1_attr_str(w, "quantization", m->quant, e) != AL_OK) return e->status;
    return AL_OK;
}

/* Generation of sample n into row (len[n] tokens long); with stop ids, the length ends after the first one
 * generated (the rest of the row is padding, token 0). */
static al_status al_record_generate(al_rec_model *m, const al_record_params *p, int64_t n, int32_t *row, int32_t *len,
                                    al_error *e) {
    int64_t pl = 1;
    if (p->n_prompts) {
        int k = p->n_prompts > 1 ? (int)n : 0;
        pl = p->prompt_len[k];
        memcpy(row, p->prompts[k], sizeof(int32_t) * (size_t)pl);
    } else {
        row[0] = m->bos;
    }
    al_rng g;
    al_rng_seed(&g, p->seed, (uint64_t)n);
    al_status st = m->generate(m->run, row, pl, len[n], p->temperature, &g, e);
    for (int64_t t = pl; st == AL_OK && p->n_stop && t < len[n]; t++)
        for (int k = 0; k < p->n_stop; k++)
            if (row[t] == p->stop[k]) {
                memset(row + t + 1, 0, sizeof(int32_t) * (size_t)(len[n] - t - 1));
                len[n] = (int32_t)(t + 1);
                break;
            }
    return st;
}

al_status al_record_run(al_rec_model *m, const al_record_params *p, const char *out, al_error *e) {
    const al_llama_config *c = &m->c;
    int64_t N = p->n_prompts > 1 ? p->n_prompts : p->samples;
    if (!p->n_prompts && m->bos < 0)
        return al_fail(e, AL_EUSAGE, m->path, NULL, "the model has no BOS token to start from: give a prompt");
    int32_t *len = al_malloc((size_t)N, sizeof(int32_t)); /* [N] */
    if (!len) return al_fail(e, AL_ENOMEM, out, NULL, "out of memory");
    int64_t T = al_record_plan(m, p, N, len, e);
    if (T < 0) {
        al_free(len);
        return e->status;
    }
    al_l2ctok tk = {0};
    if (p->tokenizer && al_l2ctok_load(p->tokenizer, c->vocab_size, &tk, e) != AL_OK) {
        al_free(len);
        return e->status;
    }
    int32_t *tok = al_calloc((size_t)(N * T), sizeof(int32_t)); /* [N, T]; padding after len[n] is token 0 */
    float *tr = al_malloc((size_t)(T * c->dim), sizeof(float)); /* [H, T, hs] */
    al_v1_writer w;
    int open = 0;
    al_status st = AL_OK;
    if (!tok || !tr) st = al_fail(e, AL_ENOMEM, out, NULL, "out of memory");
    if (st == AL_OK) st = m->start(m, T, e);
    al_progress pg;
    al_progress_begin(&pg, "attnlab record", N * (p->generate + c->n_layers), p->quiet);
    for (int64_t n = 0; st == AL_OK && n < N; n++) {
        st = al_record_generate(m, p, n, tok + n * T, len, e);
        al_progress_add(&pg, p->generate);
    }
    char model[256], source[128];
    al_record_model_name(m->path, p->model_name, model, sizeof model);
    snprintf(source, sizeof source, "attnlab %s (%s) record", al_version(), al_git_hash());
    int bos = m->bos >= 0;
    for (int64_t n = 0; tok && n < N; n++)
        bos &= tok[n * T] == m->bos;
    al_v1_attrs a = {model, source, c->n_layers, c->n_heads, c->n_kv_heads, c->head_size, 1, bos};
    char first[256];
    if (tok) al_record_first(&a, p->tokenizer ? &tk : NULL, tok, N, T, first, sizeof first);
    if (st == AL_OK && (st = al_v1_create(&w, out, p->dtype, &a, e)) == AL_OK) open = 1;
    if (st == AL_OK) st = al_record_provenance(&w, m, e);
    if (st == AL_OK) st = al_record_inputs(&w, p, tok, len, N, T, e);
    if (st == AL_OK && p->tokenizer)
        st = al_record_texts(&w, &tk, tok, len, N, T, e);
    else if (st == AL_OK && m->piece)
        st = al_record_token_text(&w, m, tok, N, T, e);
    if (st == AL_OK) st = al_record_datasets(&w, c, p->what, N, T, e);
    al_rec_ctx ctx = {&w, c, 0, p->what, tr, &pg};
    al_llm_observer obs = {&ctx, p->what & AL_WANT_ATT ? al_obs_map : NULL,
                           p->what & (AL_WANT_Q | AL_WANT_K | AL_WANT_V) ? al_obs_qkv : NULL, al_obs_hidden,
                           p->what & AL_WANT_LOGITS ? al_obs_logits : NULL};
    for (int64_t n = 0; st == AL_OK && n < N; n++) {
        ctx.n = n;
        st = m->prefill(m->run, tok + n * T, 0, T, &obs, NULL, e);
    }
    al_progress_end(&pg);
    if (st == AL_OK) {
        st = al_v1_finish(&w, e);
        open = 0;
    }
    if (open) al_v1_abort(&w);
    if (m->run) m->stop(m);
    al_l2ctok_free(&tk);
    al_free(tok);
    al_free(tr);
    al_free(len);
    return st;
}
