/* Tokenizer setup from GGUF metadata, the split of text at special tokens (llama.cpp's
 * tokenizer_st_partition: longest special text first), BOS/EOS, and token pieces for labels. */
#include "tokenizer.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "tok_impl.h"

static uint64_t al_fnv(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

int al_strmap_init(al_strmap *m, uint64_t n) {
    m->cap = 16;
    while (m->cap < 2 * n + 16)
        m->cap *= 2;
    m->key = al_calloc((size_t)m->cap, sizeof *m->key);
    m->klen = al_calloc((size_t)m->cap, sizeof *m->klen);
    m->val = al_calloc((size_t)m->cap, sizeof *m->val);
    return m->key && m->klen && m->val ? 0 : -1;
}

void al_strmap_free(al_strmap *m) {
    al_free(m->key);
    al_free(m->klen);
    al_free(m->val);
    memset(m, 0, sizeof *m);
}

void al_strmap_put(al_strmap *m, const char *key, uint32_t len, int32_t v) {
    uint64_t i = al_fnv(key, len) & (m->cap - 1);
    while (m->key[i]) {
        if (m->klen[i] == len && !memcmp(m->key[i], key, len)) return;
        i = (i + 1) & (m->cap - 1);
    }
    m->key[i] = key;
    m->klen[i] = len;
    m->val[i] = v;
}

int32_t al_strmap_get(const al_strmap *m, const char *key, size_t len) {
    if (!m->cap) return -1;
    uint64_t i = al_fnv(key, len) & (m->cap - 1);
    while (m->key[i]) {
        if (m->klen[i] == len && !memcmp(m->key[i], key, len)) return m->val[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

int al_ids_push(al_ids *o, int32_t id) {
    if (o->n == o->cap) {
        int64_t c = o->cap ? 2 * o->cap : 64;
        int32_t *v = al_realloc(o->v, (size_t)c, sizeof *v);
        if (!v) return -1;
        o->v = v;
        o->cap = c;
    }
    o->v[o->n++] = id;
    return 0;
}

int al_utf8_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

/* Reads an array of strings (tokens or merges): pointers and lengths. */
static al_status al_tok_strs(const al_gguf *g, const char *key, int64_t *n, const char ***p, uint64_t **l,
                             al_error *e) {
    const al_gguf_kv *kv = al_gguf_find(g, key);
    if (!kv) return al_fail(e, AL_EFORMAT, g->path, key, "required metadata key is missing");
    if (kv->type != AL_GV_ARRAY || kv->elem != AL_GV_STRING || kv->count == 0 || kv->count > (1u << 24))
        return al_fail(e, AL_EFORMAT, g->path, key, "expected a non-empty array of at most 2^24 strings");
    *n = (int64_t)kv->count;
    *p = al_malloc((size_t)*n, sizeof **p);
    *l = al_malloc((size_t)*n, sizeof **l);
    if (!*p || !*l) return al_fail(e, AL_ENOMEM, g->path, key, "out of memory");
    al_gguf_arr_strs(kv, *p, *l);
    for (int64_t i = 0; i < *n; i++)
        if ((*l)[i] > 65535)
            return al_fail(e, AL_EFORMAT, g->path, key, "entry %lld is longer than 65535 bytes", (long long)i);
    return AL_OK;
}

/* A numeric array of n entries (scores, token types) as float / int32; absent: defaults. */
static al_status al_tok_nums(const al_gguf *g, const char *key, int64_t n, float *f, int32_t *iv, al_error *e) {
    const al_gguf_kv *kv = al_gguf_find(g, key);
    if (!kv) return AL_OK;
    if (kv->type != AL_GV_ARRAY || kv->elem == AL_GV_STRING || kv->elem == AL_GV_ARRAY || (int64_t)kv->count != n)
        return al_fail(e, AL_EFORMAT, g->path, key, "expected a numeric array with one entry per token (%lld)",
                       (long long)n);
    for (int64_t i = 0; i < n; i++) {
        double x = al_gguf_arr_num(kv, (uint64_t)i);
        if (f) f[i] = (float)x;
        if (iv) iv[i] = (int32_t)x;
    }
    return AL_OK;
}

static al_status al_tok_id_key(const al_gguf *g, const al_tokenizer *t, const char *key, int32_t *id, al_error *e) {
    int64_t v = -1;
    if (al_gguf_get_int(g, key, 0, &v, e) != AL_OK) return e->status;
    if (v >= t->n)
        return al_fail(e, AL_EFORMAT, g->path, key, "token id %lld outside the vocabulary (%lld tokens)", (long long)v,
                       (long long)t->n);
    *id = (int32_t)v;
    return AL_OK;
}

static int al_special_cmp(const void *a, const void *b, void *ctx) {
    const al_tokenizer *t = ctx;
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (t->len[x] != t->len[y]) return t->len[x] > t->len[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

static al_status al_tok_specials(al_tokenizer *t, al_error *e) {
    t->special = al_malloc((size_t)t->n, sizeof(int32_t));
    if (!t->special) return al_fail(e, AL_ENOMEM, t->path, NULL, "out of memory");
    for (int64_t i = 0; i < t->n; i++)
        if ((t->type[i] == AL_TT_CONTROL || t->type[i] == AL_TT_USER || t->type[i] == AL_TT_UNKNOWN) && t->len[i] > 0)
            t->special[t->n_special++] = (int32_t)i;
    qsort_r(t->special, (size_t)t->n_special, sizeof(int32_t), al_special_cmp, t);
    return AL_OK;
}

/* Model-specific parts: SentencePiece scores and byte tokens, or BPE merges, byte map and pre-tokenizer. */
static al_status al_tok_model(const al_gguf *g, al_tokenizer *t, const char *model, al_error *e) {
    char pre[64];
    if (!strcmp(model, "llama")) {
        t->score = al_calloc((size_t)t->n, sizeof(float));
        if (!t->score) return al_fail(e, AL_ENOMEM, g->path, NULL, "out of memory");
        if (al_tok_nums(g, "tokenizer.ggml.scores", t->n, t->score, NULL, e) != AL_OK) return e->status;
        for (int b = 0; b < 256; b++) {
            char hex[8];
            snprintf(hex, sizeof hex, "<0x%02X>", b);
            t->byte_tok[b] = al_strmap_get(&t->vocab, hex, 6);
        }
        t->add_bos = 1;
        t->add_space_prefix = 1;
        return AL_OK;
    }
    if (strcmp(model, "gpt2") != 0)
        return al_fail(e, AL_EFORMAT, g->path, "tokenizer.ggml.model",
                       "tokenizer '%s' is not supported (llama and gpt2 are)", model);
    t->bpe = 1;
    if (al_tok_strs(g, "tokenizer.ggml.merges", &t->n_merges, &t->mtext, &t->mlen, e) != AL_OK) return e->status;
    if (al_strmap_init(&t->merges, (uint64_t)t->n_merges)) return al_fail(e, AL_ENOMEM, g->path, NULL, "out of memory");
    for (int64_t i = 0; i < t->n_merges; i++)
        al_strmap_put(&t->merges, t->mtext[i], (uint32_t)t->mlen[i], (int32_t)i);
    for (int b = 0, extra = 0; b < 256; b++) {
        int self = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
        int cp = self ? b : 256 + extra++;
        char *o = t->byte_enc[b];
        if (cp < 0x80)
            o[0] = (char)cp;
        else
            o[0] = (char)(0xC0 | (cp >> 6)), o[1] = (char)(0x80 | (cp & 0x3F));
    }
    if (al_gguf_get_str(g, "tokenizer.ggml.pre", 0, pre, sizeof pre, e) != AL_OK) return e->status;
    char why[256];
    if (al_bpe_set_pre(t, pre[0] ? pre : "default", why, sizeof why) != 0)
        return al_fail(e, AL_EFORMAT, g->path, "tokenizer.ggml.pre", "%s", why);
    return AL_OK;
}

static al_status al_tok_flags(const al_gguf *g, al_tokenizer *t, al_error *e) {
    t->bos = t->eos = t->eot = t->unk = -1;
    if (al_tok_id_key(g, t, "tokenizer.ggml.bos_token_id", &t->bos, e) != AL_OK ||
        al_tok_id_key(g, t, "tokenizer.ggml.eos_token_id", &t->eos, e) != AL_OK ||
        al_tok_id_key(g, t, "tokenizer.ggml.eot_token_id", &t->eot, e) != AL_OK ||
        al_tok_id_key(g, t, "tokenizer.ggml.unknown_token_id", &t->unk, e) != AL_OK)
        return e->status;
    if (t->eot < 0) t->eot = t->eos;
    if (al_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", 0, &t->add_bos, e) != AL_OK ||
        al_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", 0, &t->add_eos, e) != AL_OK ||
        al_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", 0, &t->add_space_prefix, e) != AL_OK)
        return e->status;
    if (t->add_bos && t->bos < 0)
        return al_fail(e, AL_EFORMAT, g->path, "tokenizer.ggml.bos_token_id",
                       "add_bos_token is set but there is no BOS id");
    return AL_OK;
}

al_status al_tok_open(const al_gguf *g, al_tokenizer **out, al_error *e) {
    *out = NULL;
    char model[64];
    if (al_gguf_get_str(g, "tokenizer.ggml.model", 1, model, sizeof model, e) != AL_OK) return e->status;
    al_tokenizer *t = al_calloc(1, sizeof *t);
    if (!t) return al_fail(e, AL_ENOMEM, g->path, NULL, "out of memory");
    snprintf(t->path, sizeof t->path, "%s", g->path);
    al_status st = al_tok_strs(g, "tokenizer.ggml.tokens", &t->n, &t->text, &t->len, e);
    if (st == AL_OK) {
        t->type = al_malloc((size_t)t->n, sizeof(int32_t));
        if (!t->type || al_strmap_init(&t->vocab, (uint64_t)t->n))
            st = al_fail(e, AL_ENOMEM, g->path, NULL, "out of memory");
    }
    for (int64_t i = 0; st == AL_OK && i < t->n; i++) {
        t->type[i] = AL_TT_NORMAL;
        al_strmap_put(&t->vocab, t->text[i], (uint32_t)t->len[i], (int32_t)i);
    }
    if (st == AL_OK) st = al_tok_nums(g, "tokenizer.ggml.token_type", t->n, NULL, t->type, e);
    if (st == AL_OK) st = al_tok_model(g, t, model, e);
    if (st == AL_OK) st = al_tok_flags(g, t, e);
    if (st == AL_OK) st = al_tok_specials(t, e);
    if (st != AL_OK) {
        al_tok_close(t);
        return st;
    }
    *out = t;
    return AL_OK;
}

void al_tok_close(al_tokenizer *t) {
    if (!t) return;
    al_free(t->text);
    al_free(t->len);
    al_free(t->type);
    al_free(t->score);
    al_strmap_free(&t->vocab);
    al_strmap_free(&t->merges);
    al_free(t->mtext);
    al_free(t->mlen);
    al_free(t->special);
    for (int i = 0; i < t->n_re; i++)
        pcre2_code_free(t->re[i]);
    al_free(t);
}

/* A stretch of the text: raw (id < 0) or one special token. */
typedef struct {
    size_t off, len;
    int32_t id;
} al_frag;

typedef struct {
    al_frag *v;
    int64_t n, cap;
} al_frags;

static int al_frag_push(al_frags *f, size_t off, size_t len, int32_t id) {
    if (f->n == f->cap) {
        int64_t c = f->cap ? 2 * f->cap : 16;
        al_frag *v = al_realloc(f->v, (size_t)c, sizeof *v);
        if (!v) return -1;
        f->v = v;
        f->cap = c;
    }
    f->v[f->n++] = (al_frag){off, len, id};
    return 0;
}

/* llama.cpp's tokenizer_st_partition: each special token in turn (longest text first) splits every raw
 * stretch at each of its occurrences, left to right. */
static int al_tok_partition(const al_tokenizer *t, const char *s, size_t n, int special, al_frags *f) {
    if (al_frag_push(f, 0, n, -1)) return -1;
    for (int64_t k = 0; k < t->n_special; k++) {
        int32_t id = t->special[k];
        if (!special && t->type[id] != AL_TT_USER) continue;
        size_t l = (size_t)t->len[id];
        al_frags nf = {0};
        for (int64_t i = 0; i < f->n; i++) {
            al_frag r = f->v[i];
            if (r.id >= 0) {
                if (al_frag_push(&nf, r.off, r.len, r.id)) goto oom;
                continue;
            }
            size_t p = r.off, end = r.off + r.len;
            const char *hit;
            while (p < end && (hit = memmem(s + p, end - p, t->text[id], l)) != NULL) {
                size_t h = (size_t)(hit - s);
                if ((h > p && al_frag_push(&nf, p, h - p, -1)) || al_frag_push(&nf, h, l, id)) goto oom;
                p = h + l;
            }
            if (p < end && al_frag_push(&nf, p, end - p, -1)) goto oom;
        }
        al_free(f->v);
        *f = nf;
        continue;
    oom:
        al_free(nf.v);
        return -1;
    }
    return 0;
}

static int al_tok_raw(const al_tokenizer *t, const char *s, size_t n, int prev_special, al_ids *o) {
    if (t->bpe) return al_bpe_encode(t, s, n, o);
    if (!(t->add_space_prefix && prev_special)) return al_spm_encode(t, s, n, o);
    char *b = al_malloc(n + 2, 1);
    if (!b) return -1;
    b[0] = ' ';
    memcpy(b + 1, s, n);
    int r = al_spm_encode(t, b, n + 1, o);
    al_free(b);
    return r;
}

/* 1 when s[0 .. n-1] is valid UTF-8 without NUL bytes. */
static int al_utf8_valid(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        int l = al_utf8_len(c);
        if (c == 0 || (c >= 0x80 && l == 1) || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + (size_t)l > n) return 0;
        for (int k = 1; k < l; k++)
            if (((unsigned char)s[i + (size_t)k] & 0xC0) != 0x80) return 0;
        i += (size_t)l;
    }
    return 1;
}

static al_status al_tok_run(const al_tokenizer *t, const char *text, size_t n, int special, int bos_eos, int32_t **ids,
                            int64_t *n_ids, al_error *e) {
    *ids = NULL;
    *n_ids = 0;
    if (!al_utf8_valid(text, n))
        return al_fail(e, AL_EUSAGE, t->path, NULL, "the text is not valid UTF-8 (or holds a NUL byte)");
    al_ids o = {0};
    al_frags f = {0};
    int err = bos_eos && t->add_bos ? al_ids_push(&o, t->bos) : 0;
    err |= al_tok_partition(t, text, n, special, &f);
    int prev_special = 1;
    for (int64_t i = 0; !err && i < f.n; i++) {
        if (f.v[i].id >= 0) {
            err |= al_ids_push(&o, f.v[i].id);
            prev_special = 1;
        } else {
            err |= al_tok_raw(t, text + f.v[i].off, f.v[i].len, prev_special, &o);
            prev_special = 0;
        }
    }
    if (!err && bos_eos && t->add_eos) err = al_ids_push(&o, t->eos);
    al_free(f.v);
    if (err) {
        al_free(o.v);
        return al_fail(e, AL_ENOMEM, t->path, NULL, "out of memory while tokenizing");
    }
    *ids = o.v;
    *n_ids = o.n;
    return AL_OK;
}

al_status al_tok_encode(const al_tokenizer *t, const char *text, size_t n, int special, int32_t **ids, int64_t *n_ids,
                        al_error *e) {
    return al_tok_run(t, text, n, special, 1, ids, n_ids, e);
}

al_status al_tok_encode_plain(const al_tokenizer *t, const char *text, size_t n, int special, int32_t **ids,
                              int64_t *n_ids, al_error *e) {
    return al_tok_run(t, text, n, special, 0, ids, n_ids, e);
}

/* Code point of the UTF-8 character at s (length l). */
static uint32_t al_utf8_cp(const unsigned char *s, int l) {
    if (l == 1) return s[0];
    uint32_t c = s[0] & (0xFF >> (l + 1));
    for (int k = 1; k < l; k++)
        c = (c << 6) | (s[k] & 0x3F);
    return c;
}

/* Byte-level BPE text back to bytes: each stand-in character to its byte. */
static size_t al_bpe_unmap(const al_tokenizer *t, const char *s, size_t n, char *buf, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        int l = al_utf8_len((unsigned char)s[i]);
        if (i + (size_t)l > n) l = 1;
        uint32_t cp = al_utf8_cp((const unsigned char *)s + i, l);
        int b = -1;
        for (int k = 0; k < 256 && b < 0; k++) {
            unsigned char c0 = (unsigned char)t->byte_enc[k][0];
            uint32_t kc = c0 < 0x80 ? c0 : ((uint32_t)(c0 & 0x1F) << 6) | ((unsigned char)t->byte_enc[k][1] & 0x3F);
            if (kc == cp) b = k;
        }
        for (int k = 0; k < (b < 0 ? l : 1); k++) {
            if (o + 1 < cap) buf[o] = b < 0 ? s[i + (size_t)k] : (char)b;
            o++;
        }
        i += (size_t)l;
    }
    return o;
}

size_t al_tok_piece(const al_tokenizer *t, int32_t id, char *buf, size_t n) {
    if (n == 0) return 0;
    buf[0] = 0;
    if (id < 0 || id >= t->n) return 0;
    const char *s = t->text[id];
    size_t l = (size_t)t->len[id], o = 0;
    if (t->type[id] == AL_TT_CONTROL || t->type[id] == AL_TT_USER || t->type[id] == AL_TT_UNKNOWN) {
        o = l;
        snprintf(buf, n, "%.*s", (int)l, s);
    } else if (t->bpe) {
        o = al_bpe_unmap(t, s, l, buf, n);
    } else if (t->type[id] == AL_TT_BYTE && l == 6) {
        unsigned v = 0;
        sscanf(s + 3, "%2X", &v);
        if (n > 1) buf[0] = (char)v;
        o = 1;
    } else {
        for (size_t i = 0; i < l; i++) {
            int sp = i + 2 < l && !memcmp(s + i, "\xe2\x96\x81", 3);
            if (o + 1 < n) buf[o] = sp ? ' ' : s[i];
            o++;
            if (sp) i += 2;
        }
    }
    buf[o < n ? o : n - 1] = 0;
    return o;
}

int32_t al_tok_find(const al_tokenizer *t, const char *text) {
    return al_strmap_get(&t->vocab, text, strlen(text));
}
int64_t al_tok_vocab(const al_tokenizer *t) {
    return t->n;
}
int32_t al_tok_bos(const al_tokenizer *t) {
    return t->bos;
}
int32_t al_tok_eos(const al_tokenizer *t) {
    return t->eos;
}
int32_t al_tok_eot(const al_tokenizer *t) {
    return t->eot;
}
int al_tok_adds_bos(const al_tokenizer *t) {
    return t->add_bos;
}
