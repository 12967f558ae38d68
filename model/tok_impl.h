/* Internals shared by the tokenizer's parts: the vocabulary with its hash index, merges, and the
 * symbol lists and heaps that SentencePiece and BPE merging walk. Not for use outside model/. */
#ifndef AL_TOK_IMPL_H
#define AL_TOK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

enum { AL_TT_NORMAL = 1, AL_TT_UNKNOWN = 2, AL_TT_CONTROL = 3, AL_TT_USER = 4, AL_TT_UNUSED = 5, AL_TT_BYTE = 6 };

/* Open-addressing index from byte strings to int32 values. */
typedef struct {
    const char **key;
    uint32_t *klen;
    int32_t *val;
    uint64_t cap; /* power of two */
} al_strmap;

int al_strmap_init(al_strmap *m, uint64_t n);
void al_strmap_free(al_strmap *m);
/* Inserts key -> v unless key is present (the first entry wins, as in llama.cpp). key must outlive m. */
void al_strmap_put(al_strmap *m, const char *key, uint32_t len, int32_t v);
int32_t al_strmap_get(const al_strmap *m, const char *key, size_t len); /* -1 when absent */

#define AL_TOK_MAX_RE 3

struct al_tokenizer {
    int bpe;            /* 1: byte-level BPE, 0: SentencePiece */
    int64_t n;          /* vocabulary size */
    const char **text;  /* [n]: token text in the file (not NUL-terminated) */
    uint64_t *len;      /* [n] */
    int32_t *type;      /* [n]: AL_TT_* */
    float *score;       /* [n] SentencePiece scores (NULL for BPE) */
    al_strmap vocab;    /* text -> id */
    al_strmap merges;   /* BPE: "left right" -> rank */
    const char **mtext; /* [n_merges] */
    uint64_t *mlen;
    int64_t n_merges;
    int32_t *special; /* ids of control/user-defined/unknown tokens, longest text first */
    int64_t n_special;
    int32_t bos, eos, eot, unk;
    int add_bos, add_eos, add_space_prefix, ignore_merges;
    pcre2_code *re[AL_TOK_MAX_RE];
    int n_re;
    char byte_enc[256][3]; /* byte-level BPE: byte -> its UTF-8 stand-in */
    int32_t byte_tok[256]; /* SentencePiece: <0xXX> tokens (-1 absent) */
    char path[4096];
};

/* A growing list of ids. */
typedef struct {
    int32_t *v;
    int64_t n, cap;
} al_ids;

int al_ids_push(al_ids *o, int32_t id);

/* Appends the tokens of one stretch of plain text (no special tokens in it). Return 0, -1 out of memory. */
int al_spm_encode(const al_tokenizer *t, const char *s, size_t n, al_ids *out);
int al_bpe_encode(const al_tokenizer *t, const char *s, size_t n, al_ids *out);
/* The shared merge loop on one piece s[0 .. n-1] (already byte-encoded or space-escaped). */
int al_merge_encode(const al_tokenizer *t, const char *s, size_t n, al_ids *out);
/* Sets the pre-tokenizer regexes for tokenizer.ggml.pre; -1 when the name is not implemented. */
int al_bpe_set_pre(al_tokenizer *t, const char *pre, char *why, size_t nwhy);

/* Length in bytes of the UTF-8 character starting at s (1 for a stray byte). */
int al_utf8_len(unsigned char c);

#endif
