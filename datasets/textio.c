/* Text input helpers. cJSON stops at the first malformed byte; its offset becomes "line L, column C", and a
 * stop at the very end of the text is reported as a truncated document. */
#include "textio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/alloc.h"
#include "../core/h5.h"

al_status al_read_text(const char *path, char **buf, size_t *len, al_error *e) {
    *buf = NULL;
    *len = 0;
    struct stat st;
    if (stat(path, &st) != 0) return al_fail(e, errno == ENOENT ? AL_ENOENT : AL_EIO, path, NULL, "%s", strerror(errno));
    if (S_ISDIR(st.st_mode)) return al_fail(e, AL_EIO, path, NULL, "is a folder, not a file");
    FILE *f = fopen(path, "rb");
    if (!f) return al_fail(e, AL_EIO, path, NULL, "%s", strerror(errno));
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = al_malloc(cap, 1);
    if (!b) {
        fclose(f);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory reading %zu bytes", cap);
    }
    n = fread(b, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        al_free(b);
        return al_fail(e, AL_EIO, path, NULL, "read failed");
    }
    b[n] = 0;
    if (memchr(b, 0, n)) {
        al_free(b);
        return al_fail(e, AL_EFORMAT, path, NULL, "contains NUL bytes: not a text file");
    }
    *buf = b;
    *len = n;
    return AL_OK;
}

void al_text_pos(const char *buf, size_t off, int64_t *line, int64_t *col) {
    int64_t l = 1, c = 1;
    for (size_t i = 0; i < off && buf[i]; i++) {
        if (buf[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one. */
static size_t al_utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!k || k > n) return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
    if (c == 0xED && s[1] > 0x9F) return 0; /* surrogates */
    if (c == 0xF0 && s[1] < 0x90) return 0; /* overlong */
    if (c == 0xF4 && s[1] > 0x8F) return 0; /* above U+10FFFF */
    return k;
}

al_status al_text_names_ok(const char *path, const char *buf, size_t len, al_error *e) {
    const unsigned char *u = (const unsigned char *)buf;
    int in_str = 0;
    for (size_t i = 0; i < len;) {
        size_t k = al_utf8_len(u + i, len - i);
        const char *why = !k ? "invalid UTF-8 (names must be UTF-8 text)" : NULL;
        if (k == 1 && in_str && u[i] == '\\' && i + 1 < len) {
            if (u[i + 1] == 'u' && i + 6 <= len && !memcmp(buf + i + 2, "0000", 4))
                why = "a \\u0000 (NUL) escape inside a string: names must not contain NUL";
            else
                k = 2; /* the escaped character */
        } else if (k == 1 && u[i] == '"') {
            in_str = !in_str;
        }
        if (why) {
            int64_t line, col;
            al_text_pos(buf, i, &line, &col);
            return al_fail(e, AL_EFORMAT, path, NULL, "line %lld, column %lld: %s", (long long)line, (long long)col,
                           why);
        }
        i += k;
    }
    return AL_OK;
}

cJSON *al_json_parse(const char *text, size_t len, size_t *stop) {
    const char *end = NULL;
    uint64_t failed0 = al_alloc_cjson_failures();
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!j) {
        *stop = al_alloc_cjson_failures() != failed0 ? AL_JSON_NOMEM : end && end >= text ? (size_t)(end - text) : 0;
        return NULL;
    }
    /* only white space may follow the document */
    size_t off = (size_t)(end - text);
    while (off < len && (text[off] == ' ' || text[off] == '\t' || text[off] == '\r' || text[off] == '\n')) off++;
    if (off < len) {
        cJSON_Delete(j);
        *stop = off;
        return NULL;
    }
    return j;
}

/* 1 when the text ends inside a string or with brackets left open: what a file cut short looks like. */
static int al_json_unfinished(const char *buf, size_t len) {
    int64_t depth = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = buf[i];
        if (in_str) {
            if (ch == '\\') i++;
            else if (ch == '"') in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return in_str || depth > 0;
}

al_status al_json_read(const char *path, cJSON **root, al_error *e) {
    char *buf;
    size_t len, stop = 0;
    *root = NULL;
    if (al_read_text(path, &buf, &len, e) != AL_OK) return e->status;
    cJSON *j = al_json_parse(buf, len, &stop);
    if (!j && stop == AL_JSON_NOMEM) {
        al_free(buf);
        return al_fail(e, AL_ENOMEM, path, NULL, "out of memory parsing JSON");
    }
    if (!j) {
        int64_t line, col;
        al_text_pos(buf, stop, &line, &col);
        if (al_json_unfinished(buf, len))
            al_fail(e, AL_EFORMAT, path, NULL, "malformed JSON: the document ends before it is complete (truncated file?); "
                    "parsing stopped at line %lld, column %lld", (long long)line, (long long)col);
        else
            al_fail(e, AL_EFORMAT, path, NULL, "malformed JSON at line %lld, column %lld", (long long)line, (long long)col);
        al_free(buf);
        return e->status;
    }
    al_free(buf);
    *root = j;
    return AL_OK;
}

const char *al_json_kind(const cJSON *v) {
    if (!v) return "nothing";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "an unknown value";
}

const char *al_json_dup_key(const cJSON *o) {
    for (const cJSON *a = o ? o->child : NULL; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && !strcmp(a->string, b->string)) return a->string;
    return NULL;
}

char *al_lines_next(al_lines *it, size_t *len) {
    while (it->p && *it->p) {
        char *s = it->p, *nl = strchr(s, '\n');
        it->line++;
        it->p = nl ? nl + 1 : NULL;
        if (nl) *nl = 0;
        size_t n = strlen(s);
        if (n && s[n - 1] == '\r') s[--n] = 0;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t')) k++;
        if (k == n) continue;
        *len = n;
        return s;
    }
    return NULL;
}

int al_is_hdf5(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || S_ISDIR(st.st_mode)) return 0;
    al_h5_quiet();
    return H5Fis_hdf5(path) > 0;
}

int al_first_char(const char *buf) {
    const unsigned char *p = (const unsigned char *)buf;
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) p += 3;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return *p;
}
