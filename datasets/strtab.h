/* String interning for the readers of tabular inputs: conversation ids, directions, queries and roles
 * become dense indices in order of first appearance. */
#ifndef AL_STRTAB_H
#define AL_STRTAB_H

#include <stdint.h>

typedef struct {
    int64_t n, cap;
    char **s;        /* [n] owned copies, in order of first appearance */
    int64_t *slots;  /* [nslots] open addressing: index + 1, 0 = empty */
    int64_t nslots;
} al_strtab;

/* Index of s, adding it when new (*added = 1). -1 when out of memory. */
int64_t al_strtab_intern(al_strtab *t, const char *s, int *added);
/* Index of s, or -1 when absent. */
int64_t al_strtab_find(const al_strtab *t, const char *s);
void al_strtab_free(al_strtab *t);

#endif
