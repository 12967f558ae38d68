/* llama2.c tokenizer reading and per-token decoding for /token_text. */
#include "l2ctok.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"

void al_l2ctok_free(al_l2ctok *t) {
    for (int64_t i = 0; t->piece && i < t->vocab; i++)
        al_free(t->piece[i]);
    al_free(t->piece);
    al_free(t->len);
    memset(t, 0, sizeof *t);
}

static al_status al_l2ctok_entry(FILE *f, const char *path, int64_t i, al_l2ctok *t, al_error *e) {
    float score;
    int32_t len;
    if (fread(&score, 4, 1, f) != 1 || fread(&len, 4, 1, f) != 1)
        return al_fail(e, AL_EFORMAT, path, NULL, "ends at token %lld of %lld (is it the model's tokenizer?)",
                       (long long)i, (long long)t->vocab);
    if (len < 0 || len > (1 << 16))
        return al_fail(e, AL_EFORMAT, path, NULL, "token %lld has length %d", (long long)i, len);
    t->piece[i] = al_malloc((size_t)len + 1, 1);
    if (!t->piece[i]) return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    if (len && fread(t->piece[i], 1, (size_t)len, f) != (size_t)len)
        return al_fail(e, AL_EFORMAT, path, NULL, "token %lld runs past the end of the file", (long long)i);
    t->piece[i][len] = 0;
    t->len[i] = (size_t)len;
    return AL_OK;
}

al_status al_l2ctok_load(const char *path, int64_t vocab, al_l2ctok *t, al_error *e) {
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return al_fail(e, AL_EIO, path, NULL, "cannot open: %s", strerror(errno));
    int32_t maxlen;
    al_status st = AL_OK;
    t->vocab = vocab;
    t->piece = al_calloc((size_t)vocab, sizeof(char *));
    t->len = al_calloc((size_t)vocab, sizeof(size_t));
    if (!t->piece || !t->len)
        st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    else if (fread(&maxlen, 4, 1, f) != 1)
        st = al_fail(e, AL_EFORMAT, path, NULL, "too short for a llama2.c tokenizer");
    for (int64_t i = 0; st == AL_OK && i < vocab; i++)
        st = al_l2ctok_entry(f, path, i, t, e);
    fclose(f);
    if (st != AL_OK) al_l2ctok_free(t);
    return st;
}

/* bytes of one token as llama2.c's decode() gives them */
static size_t al_l2ctok_piece(const al_l2ctok *t, int32_t prev, int32_t id, char *buf, size_t n) {
    if (id < 0 || id >= t->vocab) return (size_t)snprintf(buf, n, "<%d>", id);
    const char *p = t->piece[id];
    unsigned int byte;
    char tail;
    if (prev == 1 && p[0] == ' ') p++;
    if (sscanf(p, "<0x%02X>%c", &byte, &tail) == 1 && strlen(p) == 6) {
        buf[0] = (char)byte;
        return 1;
    }
    return (size_t)snprintf(buf, n, "%s", p);
}

/* bytes still missing to complete the UTF-8 characters of s [n] (0: s ends on a character boundary) */
static int al_utf8_open(const unsigned char *s, size_t n) {
    int need = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (need > 0 && (c & 0xC0) == 0x80)
            need--;
        else
            need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    }
    return need;
}

int al_l2ctok_texts(const al_l2ctok *t, const int32_t *ids, int64_t n, char **out) {
    char acc[1024], piece[512];
    size_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t m = al_l2ctok_piece(t, i ? ids[i - 1] : -1, ids[i], piece, sizeof piece);
        if (m > sizeof piece - 1) m = sizeof piece - 1;
        if (k + m < sizeof acc) memcpy(acc + k, piece, m), k += m;
        int open = al_utf8_open((const unsigned char *)acc, k) && i + 1 < n && k < 8;
        out[i] = al_malloc(open ? 1 : k + 1, 1);
        if (!out[i]) return -1;
        if (open) {
            out[i][0] = 0;
            continue;
        }
        memcpy(out[i], acc, k);
        out[i][k] = 0;
        k = 0;
    }
    return 0;
}
