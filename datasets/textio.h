/* Whole-file reads of the text inputs (CSV, JSON, JSON Lines), with one clear error per failure,
 * and JSON parsing through cJSON that names the line and column where a malformed document stops. */
#ifndef AL_TEXTIO_H
#define AL_TEXTIO_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/status.h"

/* Reads path into a NUL-terminated buffer (owned by the caller, al_free). A NUL byte inside is an error:
 * the file is not text. */
al_status al_read_text(const char *path, char **buf, size_t *len, al_error *e);
/* Names read from the text become JSON output: the text must be valid UTF-8 (no overlong forms, surrogates
 * or code points above U+10FFFF) and hold no \u0000 escape inside a JSON string (cJSON would cut the name
 * there). The error names line and column. */
al_status al_text_names_ok(const char *path, const char *buf, size_t len, al_error *e);
/* 1-based line and column of byte offset off in buf. */
void al_text_pos(const char *buf, size_t off, int64_t *line, int64_t *col);

/* One JSON document from a file. *root owned by the caller (cJSON_Delete). */
al_status al_json_read(const char *path, cJSON **root, al_error *e);
/* Parses text [len] (one line of JSON Lines, say); NULL when malformed, with *stop = offset where it stopped,
 * or *stop = AL_JSON_NOMEM when an allocation failed (out of memory: not the file's fault). */
#define AL_JSON_NOMEM ((size_t)-1)
cJSON *al_json_parse(const char *text, size_t len, size_t *stop);
/* "object", "array", "string", "number", "true/false", "null" for messages. */
const char *al_json_kind(const cJSON *v);
/* Name of the first key that occurs twice in object o, or NULL. */
const char *al_json_dup_key(const cJSON *o);

/* Iterates the non-blank lines of a text buffer (JSON Lines), NUL-terminating each in place. */
typedef struct {
    char *p;
    int64_t line; /* number of the line returned last */
} al_lines;
static inline void al_lines_init(al_lines *it, char *buf) {
    it->p = buf;
    it->line = 0;
}
/* The next non-blank line (without its newline) and its length, or NULL at the end. */
char *al_lines_next(al_lines *it, size_t *len);
/* 1 when the line returned last was the file's last and had no newline (a hint of truncation). */
static inline int al_lines_unterminated(const al_lines *it) { return it->p == NULL; }
/* 1 when path is an HDF5 file (by its signature), 0 otherwise (missing files included). */
int al_is_hdf5(const char *path);
/* The first character that is not white space, or 0 (for telling JSON Lines from CSV). */
int al_first_char(const char *buf);

#endif
