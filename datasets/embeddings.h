/* Embeddings per generation for semantic drift (RECORDING.md "Other inputs"): HDF5 datasets
 * /embeddings/<direction>/G00 ... each [N, D], G00 the generation-0 reference of each sample. */
#ifndef AL_EMBEDDINGS_H
#define AL_EMBEDDINGS_H

#include <stdint.h>

#include "../core/h5.h"
#include "../core/status.h"

typedef struct {
    char name[128];
    int64_t N, D;
    int64_t ngen;       /* generations after 0 */
    int64_t *gen;       /* [ngen] ascending */
    al_h5_dset ref;     /* G00 */
    al_h5_dset *dsets;  /* [ngen] */
} al_emb_dir;

typedef struct {
    char path[4096];
    hid_t file;
    int64_t ndir;
    al_emb_dir *dirs; /* [ndir] in name order */
} al_emb;

/* Opens and validates: every direction has G00 and at least one later generation, all [N, D] alike, float
 * types, dataset names G<number> without repeats. */
al_status al_emb_open(const char *path, al_emb **out, al_error *e);
void al_emb_close(al_emb *m);
/* Rows [row0, row0 + n) of generation index gi of direction d (gi = -1: G00) as double: dst [n, D].
 * Non-finite entries are errors naming the dataset and row. */
al_status al_emb_read(al_emb *m, int64_t d, int64_t gi, int64_t row0, int64_t n, double *dst, al_error *e);

#endif
