/* Append-only formatted text buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>

#include "alloc.h"

void al_buf_printf(al_buf *b, const char *fmt, ...) {
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *s = al_realloc(b->s, cap, 1);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

void al_buf_free(al_buf *b) {
    al_free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
