/* The one allocator every part of attnlab calls, so a test can make the k-th allocation fail.
 * Sizes are checked for overflow here; callers pass counts and element sizes. */
#ifndef AL_ALLOC_H
#define AL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *al_malloc(size_t count, size_t size); /* NULL on overflow or failure; page-aligned from 64 KiB */
void *al_calloc(size_t count, size_t size);
void *al_realloc(void *p, size_t count, size_t size);
void al_free(void *p);
char *al_strdup(const char *s);

/* Test hook: fail the k-th allocation from now on (k >= 1); 0 disables. Returns allocations made so far. */
void al_alloc_fail_at(uint64_t k);
uint64_t al_alloc_count(void);

/* Routes cJSON's allocations through al_malloc/al_free, so they count and fail like the rest; call once at
 * program start (experiments/main.c, test and fuzz harnesses) before any cJSON object exists. */
void al_alloc_cjson_hooks(void);
/* cJSON allocations that failed so far: cJSON reports them only as NULL results that are easy to miss, so
 * al_result_emit compares this count with the one at the result's creation and refuses incomplete output. */
uint64_t al_alloc_cjson_failures(void);

#endif
