/* Parsing of id lists and conversation files. Every id is checked against the vocabulary here, so the
 * forward pass never indexes the embedding table out of range. */
#include "token_ids.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"

#define AL_CONV_MAX_BYTES ((int64_t)1 << 30)

int64_t al_ids_parse(const char *s, size_t len, int64_t vocab, int32_t **out, char *why, size_t nwhy) {
    *out = NULL;
    int64_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += s[i] == ',';
    int32_t *ids = al_malloc((size_t)cap, sizeof(int32_t));
    if (!ids) {
        snprintf(why, nwhy, "out of memory");
        return -2;
    }
    int64_t n = 0;
    size_t i = 0;
    for (;;) {
        while (i < len && isspace((unsigned char)s[i])) i++;
        size_t a = i;
        while (i < len && s[i] != ',' && !isspace((unsigned char)s[i])) i++;
        char item[32];
        size_t il = i - a;
        if (il == 0) {
            snprintf(why, nwhy, n == 0 && i >= len ? "no token ids" : "empty item after item %lld", (long long)n);
            goto bad;
        }
        snprintf(item, sizeof item, "%.*s", (int)(il < 31 ? il : 31), s + a);
        char *end;
        errno = 0;
        long long v = strtoll(item, &end, 10);
        if (il > 30 || *end || errno || !isdigit((unsigned char)item[0])) {
            snprintf(why, nwhy, "'%.*s' (item %lld) is not a token id", (int)(il < 40 ? il : 40), s + a, (long long)n + 1);
            goto bad;
        }
        if (v >= vocab) {
            snprintf(why, nwhy, "token id %lld (item %lld) is outside the vocabulary 0..%lld", v, (long long)n + 1,
                     (long long)vocab - 1);
            goto bad;
        }
        ids[n++] = (int32_t)v;
        while (i < len && isspace((unsigned char)s[i])) i++;
        if (i >= len) break;
        if (s[i] != ',') {
            snprintf(why, nwhy, "expected ',' after id %lld, got '%c'", v, s[i]);
            goto bad;
        }
        i++;
    }
    *out = ids;
    return n;
bad:
    al_free(ids);
    return -1;
}

void al_convs_free(al_convs *c) {
    al_free(c->ids);
    al_free(c->turn_start);
    al_free(c->conv_turn);
    al_free(c->turn_line);
    memset(c, 0, sizeof *c);
}

/* Appends to a growing array; returns 0, or -1 when out of memory. */
static int al_push(void **a, int64_t *cap, int64_t n, size_t es, const void *v, int64_t count) {
    if (n + count > *cap) {
        int64_t nc = (*cap ? *cap * 2 : 64) + count;
        void *p = al_realloc(*a, (size_t)nc, es);
        if (!p) return -1;
        *a = p;
        *cap = nc;
    }
    memcpy((char *)*a + (size_t)n * es, v, (size_t)count * es);
    return 0;
}

al_status al_convs_read(const char *path, int64_t vocab, al_convs *c, al_error *e) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return al_fail(e, AL_ENOENT, path, NULL, "cannot open the conversation file");
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > AL_CONV_MAX_BYTES) {
        fclose(f);
        return al_fail(e, AL_EIO, path, NULL, "not a regular file of at most 1 GiB");
    }
    char *buf = al_malloc((size_t)sb.st_size + 1, 1);
    if (!buf) {
        fclose(f);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    size_t got = fread(buf, 1, (size_t)sb.st_size, f);
    fclose(f);
    buf[got] = 0;
    int64_t cap_ids = 0, cap_ts = 0, cap_ct = 0, cap_tl = 0;
    int in_conv = 0, oom = 0;
    int64_t line = 0;
    al_status st = AL_OK;
    for (char *p = buf; p < buf + got && st == AL_OK;) {
        char *nl = memchr(p, '\n', (size_t)(buf + got - p));
        char *end = nl ? nl : buf + got;
        line++;
        char *a = p, *b = end;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        p = nl ? nl + 1 : buf + got;
        if (a == b) {
            in_conv = 0;
            continue;
        }
        if (*a == '#') continue;
        if (memchr(a, 0, (size_t)(b - a))) {
            st = al_fail(e, AL_EFORMAT, path, NULL, "line %lld: a NUL byte (not a text file)", (long long)line);
            break;
        }
        int32_t *ids;
        char why[160];
        int64_t n = al_ids_parse(a, (size_t)(b - a), vocab, &ids, why, sizeof why);
        if (n < 0) {
            st = al_fail(e, n == -2 ? AL_ENOMEM : AL_EVALUE, path, NULL, "line %lld: %s", (long long)line, why);
            break;
        }
        if (!in_conv) {
            oom |= al_push((void **)&c->conv_turn, &cap_ct, c->n_conv, sizeof(int64_t), &c->n_turns, 1);
            c->n_conv++;
            in_conv = 1;
        }
        oom |= al_push((void **)&c->turn_start, &cap_ts, c->n_turns, sizeof(int64_t), &c->n_ids, 1);
        oom |= al_push((void **)&c->turn_line, &cap_tl, c->n_turns, sizeof(int64_t), &line, 1);
        oom |= al_push((void **)&c->ids, &cap_ids, c->n_ids, sizeof(int32_t), ids, n);
        al_free(ids);
        c->n_turns++;
        c->n_ids += n;
        if (oom) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    al_free(buf);
    if (st == AL_OK && c->n_conv == 0) st = al_fail(e, AL_EVALUE, path, NULL, "no conversations (no line of token ids)");
    if (st == AL_OK) {
        oom |= al_push((void **)&c->conv_turn, &cap_ct, c->n_conv, sizeof(int64_t), &c->n_turns, 1);
        oom |= al_push((void **)&c->turn_start, &cap_ts, c->n_turns, sizeof(int64_t), &c->n_ids, 1);
        if (oom) st = al_fail(e, AL_ENOMEM, path, NULL, "out of memory");
    }
    if (st != AL_OK) al_convs_free(c);
    return st;
}
