/* A small open-addressing hash table of strings (FNV-1a, load factor <= 1/2). Lookups cost O(1), so
 * files with millions of rows are grouped in one pass. */
#include "strtab.h"

#include <string.h>

#include "../core/alloc.h"

static uint64_t al_fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

int64_t al_strtab_find(const al_strtab *t, const char *s) {
    if (!t->nslots) return -1;
    uint64_t m = (uint64_t)t->nslots - 1;
    for (uint64_t k = al_fnv1a(s) & m;; k = (k + 1) & m) {
        int64_t v = t->slots[k];
        if (!v) return -1;
        if (!strcmp(t->s[v - 1], s)) return v - 1;
    }
}

static int al_strtab_grow(al_strtab *t) {
    int64_t ns = t->nslots ? 2 * t->nslots : 64;
    int64_t *sl = al_calloc((size_t)ns, sizeof *sl);
    if (!sl) return -1;
    for (int64_t i = 0; i < t->n; i++) {
        uint64_t k = al_fnv1a(t->s[i]) & (uint64_t)(ns - 1);
        while (sl[k]) k = (k + 1) & (uint64_t)(ns - 1);
        sl[k] = i + 1;
    }
    al_free(t->slots);
    t->slots = sl;
    t->nslots = ns;
    return 0;
}

int64_t al_strtab_intern(al_strtab *t, const char *s, int *added) {
    if (added) *added = 0;
    int64_t i = al_strtab_find(t, s);
    if (i >= 0) return i;
    if (2 * (t->n + 1) > t->nslots && al_strtab_grow(t)) return -1;
    if (t->n == t->cap) {
        int64_t nc = t->cap ? 2 * t->cap : 16;
        char **ns = al_realloc(t->s, (size_t)nc, sizeof *ns);
        if (!ns) return -1;
        t->s = ns;
        t->cap = nc;
    }
    char *c = al_strdup(s);
    if (!c) return -1;
    t->s[t->n] = c;
    uint64_t m = (uint64_t)t->nslots - 1;
    uint64_t k = al_fnv1a(s) & m;
    while (t->slots[k]) k = (k + 1) & m;
    t->slots[k] = ++t->n;
    if (added) *added = 1;
    return t->n - 1;
}

void al_strtab_free(al_strtab *t) {
    for (int64_t i = 0; i < t->n; i++) al_free(t->s[i]);
    al_free(t->s);
    al_free(t->slots);
    memset(t, 0, sizeof *t);
}
