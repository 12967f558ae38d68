/* Byte-level BPE: the pre-tokenizer (tokenizer.ggml.pre) splits text with llama.cpp's regexes, each
 * applied inside the pieces the previous one left (matches and the gaps between them both kept); every
 * piece is mapped byte by byte to GPT-2's printable stand-ins and merged by rank. */
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "tok_impl.h"

#define AL_RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define AL_RE_LLAMA3_HEAD "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
#define AL_RE_LLAMA3_TAIL "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const struct {
    const char *names; /* space-separated values of tokenizer.ggml.pre */
    const char *re[AL_TOK_MAX_RE];
    int ignore_merges, add_bos;
} al_pre_table[] = {
    {" gpt-2 phi-2 mpt olmo jina-es jina-de ", {AL_RE_GPT2}, 0, 0},
    {" smollm starcoder refact codeshell command-r ", {"\\p{N}", AL_RE_GPT2}, 0, 0},
    {" llama3 llama-v3 llama-bpe falcon3 ", {AL_RE_LLAMA3_HEAD "\\p{N}{1,3}" AL_RE_LLAMA3_TAIL}, 1, 1},
    {" qwen2 deepseek-r1-qwen ", {AL_RE_LLAMA3_HEAD "\\p{N}" AL_RE_LLAMA3_TAIL}, 0, 0},
};

int al_bpe_set_pre(al_tokenizer *t, const char *pre, char *why, size_t nwhy) {
    char key[80];
    snprintf(key, sizeof key, " %.64s ", pre);
    for (size_t k = 0; k < sizeof al_pre_table / sizeof *al_pre_table; k++) {
        if (!strstr(al_pre_table[k].names, key)) continue;
        for (int i = 0; i < AL_TOK_MAX_RE && al_pre_table[k].re[i]; i++) {
            int err;
            PCRE2_SIZE off;
            t->re[i] = pcre2_compile((PCRE2_SPTR)al_pre_table[k].re[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                     &err, &off, NULL);
            if (!t->re[i]) {
                snprintf(why, nwhy, "PCRE2 cannot compile the pre-tokenizer pattern of '%s' (error %d)", pre, err);
                return -1;
            }
            t->n_re = i + 1;
        }
        t->ignore_merges = al_pre_table[k].ignore_merges;
        t->add_bos = al_pre_table[k].add_bos;
        return 0;
    }
    snprintf(why, nwhy, "pre-tokenizer '%s' is not supported (gpt2, smollm, llama-bpe, qwen2 and their aliases are)",
             pre);
    return -1;
}

typedef struct {
    size_t *off, *len;
    int64_t n, cap;
} al_pieces;

static int al_piece_add(al_pieces *p, size_t off, size_t len) {
    if (p->n == p->cap) {
        int64_t c = p->cap ? 2 * p->cap : 64;
        size_t *o = al_realloc(p->off, (size_t)c, sizeof *o);
        if (!o) return -1;
        p->off = o;
        size_t *l = al_realloc(p->len, (size_t)c, sizeof *l);
        if (!l) return -1;
        p->len = l;
        p->cap = c;
    }
    p->off[p->n] = off;
    p->len[p->n++] = len;
    return 0;
}

/* Splits s[off .. off+len-1] with re into out: each match and each gap between matches. */
static int al_re_split(const pcre2_code *re, pcre2_match_data *md, const char *s, size_t off, size_t len,
                       al_pieces *out) {
    size_t p = 0, last = 0;
    while (p < len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)(s + off), len, p, 0, md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (b == a) { /* empty match: step one character */
            p = a + (size_t)al_utf8_len((unsigned char)s[off + a]);
            continue;
        }
        if (a > last && al_piece_add(out, off + last, a - last)) return -1;
        if (al_piece_add(out, off + a, b - a)) return -1;
        last = p = b;
    }
    if (last < len && al_piece_add(out, off + last, len - last)) return -1;
    return 0;
}

static int al_pretokenize(const al_tokenizer *t, const char *s, size_t n, al_pieces *cur) {
    if (al_piece_add(cur, 0, n)) return -1;
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    if (!md) return -1;
    int err = 0;
    for (int r = 0; !err && r < t->n_re; r++) {
        al_pieces nx = {0};
        for (int64_t i = 0; !err && i < cur->n; i++)
            err |= al_re_split(t->re[r], md, s, cur->off[i], cur->len[i], &nx);
        al_free(cur->off);
        al_free(cur->len);
        *cur = nx;
    }
    pcre2_match_data_free(md);
    return err ? -1 : 0;
}

int al_bpe_encode(const al_tokenizer *t, const char *s, size_t n, al_ids *o) {
    al_pieces pc = {0};
    int err = al_pretokenize(t, s, n, &pc);
    char *w = err ? NULL : al_malloc(2 * n + 1, 1); /* one piece byte-encoded: at most 2 bytes a byte */
    err |= !w;
    for (int64_t i = 0; !err && i < pc.n; i++) {
        size_t m = 0;
        for (size_t k = 0; k < pc.len[i]; k++) {
            const char *c = t->byte_enc[(unsigned char)s[pc.off[i] + k]];
            size_t cl = c[1] ? 2 : 1;
            memcpy(w + m, c, cl);
            m += cl;
        }
        int32_t whole = t->ignore_merges ? al_strmap_get(&t->vocab, w, m) : -1;
        err |= whole >= 0 ? al_ids_push(o, whole) : al_merge_encode(t, w, m, o);
    }
    al_free(w);
    al_free(pc.off);
    al_free(pc.len);
    return err ? -1 : 0;
}
