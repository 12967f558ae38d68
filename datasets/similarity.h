/* Inputs of semantic drift (METRICS.md section 5): per-sample similarities to generation 0 from CSV
 * `direction,generation,sample,similarity`, or embeddings per generation from HDF5 (see embeddings.h). */
#ifndef AL_SIMILARITY_H
#define AL_SIMILARITY_H

#include <stdint.h>

#include "../core/status.h"

typedef struct {
    int64_t ndir;
    char **dir;      /* [ndir] direction names, in order of first appearance */
    int64_t n;       /* rows */
    int64_t *dir_of; /* [n] direction index */
    int64_t *gen;    /* [n] generation number */
    double *sim;     /* [n] cosine to generation 0 */
} al_similarities;

/* Reads the CSV (extra columns are ignored). Errors name the line: a non-numeric or non-finite similarity, one
 * outside [-1, 1] (beyond rounding), a negative or non-integer generation, a repeated (direction, generation,
 * sample). */
al_status al_similarities_read_csv(const char *path, al_similarities *s, al_error *e);
/* Allocates n rows and ndir names (names NULL). */
al_status al_similarities_alloc(al_similarities *s, int64_t n, int64_t ndir, al_error *e);
void al_similarities_free(al_similarities *s);

#endif
