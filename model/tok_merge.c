/* The merge loop that SentencePiece and BPE share (llama.cpp's llm_tokenizer_spm/bpe sessions): symbols
 * start as UTF-8 characters, the adjacent pair of highest priority (best score, or lowest merge rank;
 * leftmost at a tie) merges first, stale pairs are skipped. Then the pieces become token ids. */
#include <string.h>

#include "../core/alloc.h"
#include "tok_impl.h"

typedef struct {
    const char *text;
    int32_t prev, next;
    uint32_t n;
} al_sym;

typedef struct {
    int32_t left, right;
    double prio; /* larger merges first */
    uint32_t size;
} al_bigram;

typedef struct {
    al_bigram *v;
    int64_t n, cap;
} al_heap;

static int al_bg_before(const al_bigram *a, const al_bigram *b) {
    return a->prio > b->prio || (a->prio == b->prio && a->left < b->left);
}

static int al_heap_push(al_heap *h, al_bigram b) {
    if (h->n == h->cap) {
        int64_t c = h->cap ? 2 * h->cap : 64;
        al_bigram *v = al_realloc(h->v, (size_t)c, sizeof *v);
        if (!v) return -1;
        h->v = v;
        h->cap = c;
    }
    int64_t i = h->n++;
    while (i > 0 && al_bg_before(&b, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = b;
    return 0;
}

static al_bigram al_heap_pop(al_heap *h) {
    al_bigram top = h->v[0], last = h->v[--h->n];
    int64_t i = 0;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && al_bg_before(&h->v[c + 1], &h->v[c])) c++;
        if (!al_bg_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n > 0) h->v[i] = last;
    return top;
}

/* Priority of merging the pair starting at a with total length n; 0 when it may not merge. */
static int al_pair_prio(const al_tokenizer *t, const al_sym *a, const al_sym *b, double *prio) {
    if (!t->bpe) {
        int32_t id = al_strmap_get(&t->vocab, a->text, a->n + b->n);
        if (id < 0) return 0;
        *prio = t->score[id];
        return 1;
    }
    char key[4096];
    if (a->n + b->n + 1 > sizeof key) return 0;
    memcpy(key, a->text, a->n);
    key[a->n] = ' ';
    memcpy(key + a->n + 1, b->text, b->n);
    int32_t r = al_strmap_get(&t->merges, key, a->n + b->n + 1);
    if (r < 0) return 0;
    *prio = -(double)r;
    return 1;
}

static int al_try_pair(const al_tokenizer *t, al_sym *sy, int32_t l, int32_t r, al_heap *h) {
    double p;
    if (l < 0 || r < 0 || !al_pair_prio(t, &sy[l], &sy[r], &p)) return 0;
    return al_heap_push(h, (al_bigram){l, r, p, sy[l].n + sy[r].n});
}

/* One finished piece into ids: its token, else byte tokens (SentencePiece) or one-byte tokens (BPE). */
static int al_emit(const al_tokenizer *t, const char *s, uint32_t n, al_ids *o) {
    int32_t id = al_strmap_get(&t->vocab, s, n);
    if (id >= 0) return al_ids_push(o, id);
    for (uint32_t j = 0; j < n; j++) {
        int32_t b = t->bpe ? al_strmap_get(&t->vocab, s + j, 1) : t->byte_tok[(unsigned char)s[j]];
        if (b < 0 && !t->bpe) b = t->unk;
        if (b >= 0 && al_ids_push(o, b)) return -1;
    }
    return 0;
}

int al_merge_encode(const al_tokenizer *t, const char *s, size_t n, al_ids *o) {
    if (n == 0) return 0;
    al_sym *sy = al_malloc(n, sizeof *sy); /* [n]: at most one symbol per byte */
    al_heap h = {0};
    int err = !sy;
    int32_t ns = 0;
    for (size_t off = 0; !err && off < n; ns++) {
        uint32_t l = (uint32_t)al_utf8_len((unsigned char)s[off]);
        if (l > n - off) l = (uint32_t)(n - off);
        sy[ns] = (al_sym){s + off, ns - 1, off + l == n ? -1 : ns + 1, l};
        off += l;
    }
    for (int32_t i = 1; !err && i < ns; i++)
        err |= al_try_pair(t, sy, i - 1, i, &h);
    while (!err && h.n > 0) {
        al_bigram b = al_heap_pop(&h);
        al_sym *L = &sy[b.left], *R = &sy[b.right];
        if (L->n == 0 || R->n == 0 || L->n + R->n != b.size) continue;
        L->n += R->n;
        R->n = 0;
        L->next = R->next;
        if (R->next >= 0) sy[R->next].prev = b.left;
        err |= al_try_pair(t, sy, L->prev, b.left, &h) | al_try_pair(t, sy, b.left, L->next, &h);
    }
    for (int32_t i = 0; !err && i >= 0 && ns > 0; i = sy[i].next)
        err |= al_emit(t, sy[i].text, sy[i].n, o);
    al_free(sy);
    al_free(h.v);
    return err ? -1 : 0;
}

int al_spm_encode(const al_tokenizer *t, const char *s, size_t n, al_ids *o) {
    size_t sp = 0;
    for (size_t i = 0; i < n; i++)
        sp += s[i] == ' ';
    char *b = al_malloc(n + 2 * sp + 1, 1); /* every space becomes U+2581 (3 bytes) */
    if (!b) return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ')
            memcpy(b + m, "\xe2\x96\x81", 3), m += 3;
        else
            b[m++] = s[i];
    }
    int r = al_merge_encode(t, b, m, o);
    al_free(b);
    return r;
}
