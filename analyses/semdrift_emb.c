/* Semantic drift from embeddings: per direction and generation, the cosine of each sample's embedding with its
 * generation-0 embedding, streamed in row blocks; the result is the same table a similarity CSV gives. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../metrics/cosine.h"
#include "semdrift.h"

al_status al_semdrift_from_embeddings(al_emb *m, const al_exec *ex, al_similarities *s, al_error *e) {
    int64_t total = 0, maxD = 1;
    for (int64_t d = 0; d < m->ndir; d++) {
        total += m->dirs[d].N * m->dirs[d].ngen;
        if (m->dirs[d].D > maxD) maxD = m->dirs[d].D;
    }
    int64_t B = (int64_t)((double)ex->mem / (16.0 * (double)maxD + 8.0)); /* rows per block: two [B, D] doubles */
    if (B < 1) B = 1;
    if (al_similarities_alloc(s, total, m->ndir, e) != AL_OK) return e->status;
    double *x = al_malloc((size_t)B, (size_t)maxD * sizeof(double)); /* [B, D] generation g */
    double *y = al_malloc((size_t)B, (size_t)maxD * sizeof(double)); /* [B, D] generation 0 */
    double *cs = al_malloc((size_t)B, sizeof(double));              /* [B] */
    al_status st = AL_OK;
    if (!x || !y || !cs) st = al_fail(e, AL_ENOMEM, m->path, NULL, "out of memory for a block of %lld embeddings (lower --mem)", (long long)B);
    int64_t at = 0;
    for (int64_t d = 0; st == AL_OK && d < m->ndir; d++) {
        al_emb_dir *dir = &m->dirs[d];
        if (!(s->dir[d] = al_strdup(dir->name))) st = al_fail(e, AL_ENOMEM, m->path, NULL, "out of memory");
        for (int64_t gi = 0; st == AL_OK && gi < dir->ngen; gi++)
            for (int64_t r0 = 0; st == AL_OK && r0 < dir->N; r0 += B) {
                int64_t nb = dir->N - r0 < B ? dir->N - r0 : B, D = dir->D;
                if ((st = al_emb_read(m, d, gi, r0, nb, x, e)) != AL_OK) break;
                if ((st = al_emb_read(m, d, -1, r0, nb, y, e)) != AL_OK) break;
#pragma omp parallel for schedule(static)
                for (int64_t i = 0; i < nb; i++) al_cosine_rows(x + i * D, D, y + i * D, D, 1, D, cs + i);
                for (int64_t i = 0; i < nb; i++) {
                    if (isnan(cs[i])) {
                        int zero_g = 1;
                        for (int64_t k = 0; k < D; k++) zero_g &= x[i * D + k] == 0;
                        st = al_fail(e, AL_EVALUE, m->path, zero_g ? dir->dsets[gi].path : dir->ref.path,
                                     "sample %lld: embedding of zero norm (no cosine)", (long long)(r0 + i));
                        break;
                    }
                    s->dir_of[at] = d;
                    s->gen[at] = dir->gen[gi];
                    s->sim[at++] = cs[i];
                }
            }
    }
    al_free(x);
    al_free(y);
    al_free(cs);
    if (st != AL_OK) al_similarities_free(s);
    return st;
}
