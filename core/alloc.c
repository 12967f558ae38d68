/* Allocation wrappers with overflow checks and a fault-injection hook for tests.
 * The counters are atomic so OpenMP workers may allocate workspaces too. */
#include "alloc.h"

#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t al_n_alloc;
static _Atomic uint64_t al_fail_k;

void al_alloc_fail_at(uint64_t k) {
    al_n_alloc = 0;
    al_fail_k = k;
}

uint64_t al_alloc_count(void) { return al_n_alloc; }

static int al_should_fail(void) {
    uint64_t n = ++al_n_alloc;
    uint64_t k = al_fail_k;
    return k != 0 && n == k;
}

/* Buffers of 64 KiB or more start on a page: they are what file data is read into (pread, HDF5, npy), and the
 * kernel's copy out of the page cache runs at a quarter of its speed into a destination 16 bytes off a page,
 * where glibc puts large blocks (measured: 59% of a stats run). */
void *al_malloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    if (al_should_fail()) return NULL;
    size_t bytes = count * size;
    if (bytes < ((size_t)64 << 10)) return malloc(bytes ? bytes : 1);
    void *p = NULL;
    return posix_memalign(&p, 4096, bytes) == 0 ? p : NULL;
}

void *al_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    if (al_should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *al_realloc(void *p, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    if (al_should_fail()) return NULL;
    size_t bytes = count * size;
    return realloc(p, bytes ? bytes : 1);
}

void al_free(void *p) { free(p); }

char *al_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = al_malloc(n, 1);
    if (d) memcpy(d, s, n);
    return d;
}

static _Atomic uint64_t al_cjson_fail;

static void *al_cjson_malloc(size_t n) {
    void *p = al_malloc(n, 1);
    if (!p) al_cjson_fail++;
    return p;
}

uint64_t al_alloc_cjson_failures(void) { return al_cjson_fail; }

void al_alloc_cjson_hooks(void) {
    cJSON_Hooks h = {al_cjson_malloc, al_free};
    cJSON_InitHooks(&h);
}
