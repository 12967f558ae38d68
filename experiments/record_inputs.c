/* Building `attnlab record`'s prompts: ids parsed against the vocabulary, texts through the model's own
 * tokenizer, chats rendered message by message so that each role's tokens form a span. */
#include "record_inputs.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../datasets/textio.h"
#include "../model/chat.h"

int al_rec_inputs_count(const al_rec_inputs *in) {
    return in->tokens->n + in->ids->n + in->texts->n + in->chats->n;
}

void al_rec_inputs_free(al_rec_inputs *in) {
    for (int i = 0; i < in->n; i++)
        al_free(in->prompt[i]);
    al_free(in->prompt);
    al_free(in->len);
    al_free(in->names);
    al_free(in->spans);
    in->prompt = NULL;
    in->len = NULL;
    in->names = NULL;
    in->spans = NULL;
    in->n = in->cap = in->n_names = 0;
}

/* Appends one sample (takes ids). */
static int al_in_add(al_rec_inputs *in, int32_t *ids, int64_t n) {
    if (in->n == in->cap) {
        int c = in->cap ? 2 * in->cap : 8;
        int32_t **p = al_realloc(in->prompt, (size_t)c, sizeof *p);
        if (!p) return -1;
        in->prompt = p;
        int64_t *l = al_realloc(in->len, (size_t)c, sizeof *l);
        if (!l) return -1;
        in->len = l;
        in->cap = c;
    }
    in->prompt[in->n] = ids;
    in->len[in->n++] = n;
    return 0;
}

/* Index of span name s, added when new; -1 when there are too many. */
static int al_in_name(al_rec_inputs *in, const char *s) {
    for (int i = 0; i < in->n_names; i++)
        if (!strcmp(in->names[i], s)) return i;
    if (in->n_names == AL_MAX_SPANS) return -1;
    snprintf(in->names[in->n_names], 64, "%s", s);
    return in->n_names++;
}

/* Chat spans found so far: sample, name index, start, end. */
typedef struct {
    int sample, name;
    int32_t a, b;
} al_in_span;

typedef struct {
    al_in_span *v;
    int n, cap;
} al_in_spans;

static int al_span_add(al_in_spans *s, int sample, int name, int64_t a, int64_t b) {
    if (s->n == s->cap) {
        int c = s->cap ? 2 * s->cap : 16;
        al_in_span *v = al_realloc(s->v, (size_t)c, sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = c;
    }
    s->v[s->n++] = (al_in_span){sample, name, (int32_t)a, (int32_t)b};
    return 0;
}

/* Span name of a role: assistant is "response"; repeats are numbered (user_2). */
static void al_role_name(const char *role, const char (*seen)[32], int n_seen, char *out, size_t n) {
    const char *base = !strcmp(role, "assistant") ? "response" : role;
    int k = 1;
    for (int i = 0; i < n_seen; i++)
        k += !strcmp(seen[i], base);
    if (k == 1)
        snprintf(out, n, "%.40s", base);
    else
        snprintf(out, n, "%.40s_%d", base, k);
}

/* The messages of one chat (a JSON array of {"role", "content"}) into cm [n]. */
static al_status al_in_messages(const cJSON *msgs, al_chat_msg *cm, int n, const char *path, al_error *e) {
    for (int i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(msgs, i), *r = cJSON_GetObjectItemCaseSensitive(o, "role"),
                    *c = cJSON_GetObjectItemCaseSensitive(o, "content");
        if (!cJSON_IsString(r) || !cJSON_IsString(c) || strlen(r->valuestring) > 24)
            return al_fail(e, AL_EUSAGE, path, NULL,
                           "message %d: expected {\"role\": \"...\" (at most 24 characters), \"content\": \"...\"}", i);
        cm[i] = (al_chat_msg){r->valuestring, c->valuestring};
    }
    return AL_OK;
}

/* Appends the tokens of txt to *all (BOS first when first); returns the count added, -1 on failure. */
static int64_t al_in_append(const al_rec_model *m, const char *txt, int first, int32_t **all, int64_t total,
                            const char *path, al_error *e) {
    int32_t *ids = NULL;
    int64_t k = 0;
    al_status st = first ? al_tok_encode(m->gguf->tok, txt, strlen(txt), 1, &ids, &k, e)
                         : al_tok_encode_plain(m->gguf->tok, txt, strlen(txt), 1, &ids, &k, e);
    if (st != AL_OK) return -1;
    int32_t *grown = al_realloc(*all, (size_t)(total + k + 1), sizeof **all);
    if (!grown) {
        al_free(ids);
        al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
        return -1;
    }
    memcpy(grown + total, ids, sizeof(int32_t) * (size_t)k);
    *all = grown;
    al_free(ids);
    return k;
}

/* Records span [a, b) of the role's span name (b < 0: to the sample's end) and the role as seen. */
static al_status al_in_role_span(al_rec_inputs *in, al_in_spans *sp, const char *role, char (*seen)[32], int *n_seen,
                                 int64_t a, int64_t b, const char *path, al_error *e) {
    char name[64];
    al_role_name(role, (const char(*)[32])seen, *n_seen, name, sizeof name);
    int ni = al_in_name(in, name);
    if (ni < 0) return al_fail(e, AL_EUSAGE, path, NULL, "more than %d span names", AL_MAX_SPANS);
    if (al_span_add(sp, in->n, ni, a, b)) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    if (*n_seen < AL_MAX_SPANS)
        snprintf(seen[(*n_seen)++], 32, "%.31s", !strcmp(role, "assistant") ? "response" : role);
    return AL_OK;
}

/* One chat into one sample: each rendered message tokenized in turn (its tokens are its span), then the
 * generation prompt; the generated response is a span to the sample's end. */
static al_status al_in_chat(al_rec_inputs *in, const al_rec_model *m, const cJSON *msgs, int add_gen, al_in_spans *sp,
                            const char *path, al_error *e) {
    int n = cJSON_GetArraySize(msgs), sys = 0;
    al_chat_msg *cm = al_calloc((size_t)n + 1, sizeof *cm);
    if (!cm) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    char **parts = NULL, seen[AL_MAX_SPANS][32];
    int n_seen = 0;
    al_status st = al_in_messages(msgs, cm, n, path, e);
    if (st == AL_OK) st = al_chat_render(m->gguf->g, cm, n, add_gen, &parts, &sys, e);
    int32_t *all = NULL;
    int64_t total = 0;
    for (int i = 0; st == AL_OK && i <= n + sys; i++) {
        int64_t k = al_in_append(m, parts[i], i == 0, &all, total, path, e);
        if (k < 0)
            st = e->status;
        else if (i < n + sys)
            st = al_in_role_span(in, sp, sys && i == 0 ? "system" : cm[i - sys].role, seen, &n_seen, total, total + k,
                                 path, e);
        else if (add_gen)
            st = al_in_role_span(in, sp, "assistant", seen, &n_seen, total + k, -1, path, e);
        total += k;
    }
    if (st == AL_OK && al_in_add(in, all, total)) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    if (st != AL_OK) al_free(all);
    for (int i = 0; parts && i < n + 2; i++)
        al_free(parts[i]);
    al_free(parts);
    al_free(cm);
    return st;
}

/* --chat FILE.json: a list of messages (one sample) or a list of such lists. */
static al_status al_in_chat_file(al_rec_inputs *in, const al_rec_model *m, const char *path, int add_gen,
                                 al_in_spans *sp, al_error *e) {
    if (!m->gguf)
        return al_fail(e, AL_EUSAGE, "--chat", NULL,
                       "chats need a GGUF model (a llama2.c checkpoint has no tokenizer)");
    cJSON *root = NULL;
    if (al_json_read(path, &root, e) != AL_OK) return e->status;
    al_status st = AL_OK;
    const cJSON *first = cJSON_GetArrayItem(root, 0);
    if (!cJSON_IsArray(root) || !first)
        st = al_fail(e, AL_EUSAGE, path, NULL, "expected a JSON list of messages or of chats");
    else if (cJSON_IsArray(first))
        for (const cJSON *c = root->child; st == AL_OK && c; c = c->next)
            st = al_in_chat(in, m, c, add_gen, sp, path, e);
    else
        st = al_in_chat(in, m, root, add_gen, sp, path, e);
    cJSON_Delete(root);
    return st;
}

static al_status al_in_ids(al_rec_inputs *in, const al_rec_model *m, const al_strlist *l, const char *flag,
                           al_error *e) {
    char why[256];
    for (int i = 0; i < l->n; i++) {
        int32_t *ids = NULL;
        int64_t n = al_ids_parse(l->v[i], strlen(l->v[i]), m->c.vocab_size, &ids, why, sizeof why);
        if (n < 0) return al_fail(e, n == -2 ? AL_ENOMEM : AL_EUSAGE, flag, NULL, "%s", why);
        if (al_in_add(in, ids, n)) {
            al_free(ids);
            return al_fail(e, AL_ENOMEM, flag, NULL, "out of memory");
        }
    }
    return AL_OK;
}

static al_status al_in_texts(al_rec_inputs *in, const al_rec_model *m, al_error *e) {
    if (in->texts->n && !m->gguf)
        return al_fail(e, AL_EUSAGE, "--text", NULL,
                       "texts need a GGUF model (a llama2.c checkpoint has no tokenizer): give --tokens");
    for (int i = 0; i < in->texts->n; i++) {
        int32_t *ids = NULL;
        int64_t n = 0;
        const char *t = in->texts->v[i];
        if (al_tok_encode(m->gguf->tok, t, strlen(t), in->special, &ids, &n, e) != AL_OK) return e->status;
        if (n == 0) {
            al_free(ids);
            return al_fail(e, AL_EUSAGE, "--text", NULL, "the text gives no tokens");
        }
        if (al_in_add(in, ids, n)) {
            al_free(ids);
            return al_fail(e, AL_ENOMEM, "--text", NULL, "out of memory");
        }
    }
    return AL_OK;
}

/* Per-sample spans [n, n_names, 2]: --span ranges for every sample, chat roles where they occur. */
static al_status al_in_spans_table(al_rec_inputs *in, al_record_params *p, const al_in_spans *sp, al_error *e) {
    for (int s = 0; s < p->n_spans; s++) {
        for (int k = 0; k < in->n_names; k++)
            if (!strcmp(in->names[k], p->spans[s].name))
                return al_fail(e, AL_EUSAGE, "--span", NULL, "span name '%s' is also a chat role's span",
                               p->spans[s].name);
    }
    int S = p->n_spans + in->n_names;
    if (S > AL_MAX_SPANS) return al_fail(e, AL_EUSAGE, "--span", NULL, "at most %d spans in all", AL_MAX_SPANS);
    in->spans = al_malloc((size_t)(in->n * S * 2), sizeof(int32_t));
    if (!in->spans) return al_fail(e, AL_ENOMEM, "record", NULL, "out of memory");
    for (int i = 0; i < in->n * S * 2; i++)
        in->spans[i] = -1;
    for (int n = 0; n < in->n; n++)
        for (int s = 0; s < p->n_spans; s++) {
            in->spans[(n * S + s) * 2] = (int32_t)p->spans[s].start;
            in->spans[(n * S + s) * 2 + 1] = (int32_t)p->spans[s].end;
        }
    for (int i = 0; i < sp->n; i++) {
        int32_t *d = in->spans + (sp->v[i].sample * S + p->n_spans + sp->v[i].name) * 2;
        d[0] = sp->v[i].a;
        d[1] = sp->v[i].b >= 0 ? sp->v[i].b : (int32_t)(in->len[sp->v[i].sample] + p->generate);
    }
    for (int k = 0; k < in->n_names; k++)
        snprintf(p->spans[p->n_spans + k].name, sizeof p->spans[0].name, "%s", in->names[k]);
    p->n_spans = S;
    p->sample_spans = in->spans;
    return AL_OK;
}

al_status al_rec_inputs_build(al_rec_inputs *in, const al_rec_model *m, al_record_params *p, al_error *e) {
    al_in_spans sp = {0};
    in->names = al_calloc(AL_MAX_SPANS, sizeof *in->names);
    al_status st = in->names ? AL_OK : al_fail(e, AL_ENOMEM, "record", NULL, "out of memory");
    if (st == AL_OK) st = al_in_ids(in, m, in->tokens, "--tokens", e);
    if (st == AL_OK) st = al_in_ids(in, m, in->ids, "--ids", e);
    if (st == AL_OK) st = al_in_texts(in, m, e);
    for (int i = 0; st == AL_OK && i < in->chats->n; i++)
        st = al_in_chat_file(in, m, in->chats->v[i], p->generate > 0, &sp, e);
    if (st == AL_OK && in->n_names) st = al_in_spans_table(in, p, &sp, e);
    al_free(sp.v);
    if (st != AL_OK) return st;
    if (in->n > 1 && p->samples > 1 && p->samples != in->n)
        return al_fail(e, AL_EUSAGE, "--samples", NULL, "%lld samples but %d prompts", (long long)p->samples, in->n);
    p->prompts = in->prompt;
    p->prompt_len = in->len;
    p->n_prompts = in->n;
    if (m->gguf && in->stop_eos) {
        in->stop[0] = al_tok_eos(m->gguf->tok);
        in->stop[1] = al_tok_eot(m->gguf->tok);
        p->stop = in->stop;
        p->n_stop = in->stop[0] >= 0 ? (in->stop[1] >= 0 ? 2 : 1) : 0;
        if (in->stop[0] < 0 && in->stop[1] >= 0) p->stop = in->stop + 1, p->n_stop = 1;
    }
    return AL_OK;
}
