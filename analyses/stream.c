/* Block streaming of attention maps. The block buffer is allocated once per run; layers are the outer
 * loop so each HDF5 dataset (and its chunk cache) is visited once. */
#include "stream.h"

#include <stdio.h>

#include "../core/alloc.h"
#include "../core/progress.h"
#include "../datasets/validate.h"

int64_t al_stream_rows(int64_t T, int64_t mem, size_t elem_bytes) {
    /* the float32 block plus its raw copy in the stored type; half the budget leaves room for the rest */
    int64_t per_row = T * (int64_t)(4 + elem_bytes);
    int64_t rows = (mem / 2) / (per_row > 0 ? per_row : 1);
    if (rows < 1) rows = 1;
    if (rows > T) rows = T;
    return rows;
}

int64_t al_resolve_tokens(const al_rec *r, int64_t tokens, int64_t def, al_error *e) {
    int64_t T;
    if (!r->causal) {
        if (tokens > 0 && tokens != r->T) {
            al_fail(e, AL_EUSAGE, r->path, NULL,
                    "--tokens %lld: non-causal maps are analysed whole (T = %lld); their top-left block is not a distribution",
                    (long long)tokens, (long long)r->T);
            return -1;
        }
        T = r->T;
    } else {
        T = tokens > 0 ? tokens : (def > 0 ? def : r->T);
        if (T > r->T) {
            al_fail(e, AL_EUSAGE, r->path, NULL, "--tokens %lld is beyond the recorded length %lld%s", (long long)T,
                    (long long)r->T, tokens > 0 ? "" : " (the default; lower it with --tokens)");
            return -1;
        }
    }
    for (int64_t n = 0; n < r->N; n++)
        if (r->lengths[n] < T) {
            al_fail(e, AL_EUSAGE, r->path, "lengths", "sample %lld has %lld valid tokens, fewer than the %lld analysed (lower --tokens)",
                    (long long)n, (long long)r->lengths[n], (long long)T);
            return -1;
        }
    return T;
}

al_status al_stream_maps(al_rec *r, int64_t T, const al_common *c, al_map_visitor *v, int nv, al_error *e) {
    size_t eb = al_dtype_size(r->dtype[AL_T_ATT]);
    int64_t B = al_stream_rows(T, c->mem, eb);
    float *buf = al_malloc((size_t)(B * T), sizeof(float)); /* [B, T] */
    if (!buf) return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for a %lld x %lld block", (long long)B, (long long)T);
    al_progress pg;
    al_progress_begin(&pg, "attnlab", r->L * r->N * r->H * T, c->quiet);
    char dname[64];
    al_status st = AL_OK;
    for (int64_t l = 0; l < r->L && st == AL_OK; l++) {
        al_rec_dset_name(r, AL_T_ATT, l, dname, sizeof dname);
        for (int64_t n = 0; n < r->N && st == AL_OK; n++)
            for (int64_t h = 0; h < r->H && st == AL_OK; h++) {
                al_head_id hd = {n, l, h, T, r->causal};
                for (int64_t row0 = 0; row0 < T; row0 += B) {
                    int64_t nr = T - row0 < B ? T - row0 : B;
                    if ((st = al_rec_read_att(r, n, l, h, row0, nr, T, buf, e)) != AL_OK) break;
                    if ((st = al_check_map_rows(buf, nr, T, T, row0, r->causal, r->path, dname, n, h, e)) != AL_OK) break;
                    for (int k = 0; k < nv; k++) v[k].block(v[k].ctx, &hd, buf, T, row0, nr);
                    al_progress_add(&pg, nr);
                }
                if (st == AL_OK)
                    for (int k = 0; k < nv; k++)
                        if (v[k].head_done) v[k].head_done(v[k].ctx, &hd);
            }
    }
    al_progress_end(&pg);
    al_free(buf);
    return st;
}
