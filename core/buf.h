/* A growable text buffer for building scripts, data files and messages.
 * A failed allocation sets a sticky flag, checked once when the text is used. */
#ifndef AL_BUF_H
#define AL_BUF_H

#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} al_buf;

void al_buf_printf(al_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void al_buf_free(al_buf *b);

#endif
