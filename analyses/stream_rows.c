/* Row-block streaming across all heads. Reads are serial (HDF5 is not thread-safe); turning q and k into
 * probabilities runs one head per OpenMP iteration. Validation is the same as the per-head engine's. */
#include "stream_rows.h"

#include <string.h>

#include "../core/alloc.h"
#include "../core/exec.h"
#include "../datasets/validate.h"
#include "../metrics/qk.h"

int64_t al_stream_rows_all(const al_rec *r, int64_t T, int64_t mem, size_t extra) {
    int64_t P = r->L * r->H;
    size_t eb = r->has[AL_T_ATT] ? al_dtype_size(r->dtype[AL_T_ATT]) : 4;
    int64_t per_row = T * (P * (int64_t)(4 + extra) + (int64_t)eb);
    int64_t rows = (mem / 2) / (per_row > 0 ? per_row : 1);
    if (rows < 1) rows = 1;
    if (r->has[AL_T_Q]) /* q/k blocks start at multiples of AL_QK_TILE, so rows never depend on the block size */
        rows = rows >= AL_QK_TILE ? rows / AL_QK_TILE * AL_QK_TILE : AL_QK_TILE;
    return rows > T ? T : rows;
}

/* One block of all heads from q and k: keys [H_kv, T, D] of a layer, queries [H, B, D]. */
static al_status al_rows_from_qk(al_rec *r, int64_t n, int64_t T, int64_t row0, int64_t nr, float *A, int64_t B,
                                 float *kb, float *qb, al_error *e) {
    int64_t D = r->D, group = r->H / r->H_kv;
    char qn[64], kn[64];
    for (int64_t l = 0; l < r->L; l++) {
        al_rec_dset_name(r, AL_T_Q, l, qn, sizeof qn);
        al_rec_dset_name(r, AL_T_K, l, kn, sizeof kn);
        for (int64_t g = 0; g < r->H_kv; g++) {
            if (al_rec_read_qkv(r, AL_T_K, n, l, g, 0, T, kb + g * T * D, e) != AL_OK) return e->status;
            if (al_check_finite(kb + g * T * D, T * D, r->path, kn, "keys", e) != AL_OK) return e->status;
        }
        for (int64_t h = 0; h < r->H; h++) {
            if (al_rec_read_qkv(r, AL_T_Q, n, l, h, row0, nr, qb + h * B * D, e) != AL_OK) return e->status;
            if (al_check_finite(qb + h * B * D, nr * D, r->path, qn, "queries", e) != AL_OK) return e->status;
        }
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t h = 0; h < r->H; h++)
            al_qk_probs(qb + h * B * D, kb + (h / group) * T * D, nr, T, D, row0, r->q_scale, r->causal,
                        A + (l * r->H + h) * B * T, T);
    }
    return AL_OK;
}

al_status al_stream_all_heads(al_rec *r, int64_t T, int64_t B, const al_exec *x, al_rows_visitor *v, al_error *e) {
    if (x->device == AL_DEVICE_CUDA)
        return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: statistics over pairs of heads run on the CPU only (use --device cpu)");
    int qk = !r->has[AL_T_ATT] || x->from_qk;
    if (qk && !r->has[AL_T_Q]) return al_fail(e, AL_EUSAGE, r->path, NULL, "--from-qk: the recording has no /q and /k");
    int64_t P = r->L * r->H, D = r->D;
    float *A = al_malloc((size_t)(P * B), (size_t)T * sizeof(float)); /* [P, B, T] */
    float *kb = qk ? al_malloc((size_t)(r->H_kv * T * D), sizeof(float)) : NULL; /* [H_kv, T, D] */
    float *qb = qk ? al_malloc((size_t)(r->H * B * D), sizeof(float)) : NULL;    /* [H, B, D] */
    if (!A || (qk && (!kb || !qb))) {
        al_free(A);
        al_free(kb);
        al_free(qb);
        return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for %lld row blocks of %lld x %lld", (long long)P,
                       (long long)B, (long long)T);
    }
    al_ticker pg;
    al_ticker_begin(&pg, x, "attnlab", r->N * T, 0);
    char dname[64];
    al_status st = AL_OK;
    for (int64_t n = 0; n < r->N && st == AL_OK; n++)
        for (int64_t row0 = 0; row0 < T && st == AL_OK; row0 += B) {
            int64_t nr = T - row0 < B ? T - row0 : B;
            if (qk) {
                st = al_rows_from_qk(r, n, T, row0, nr, A, B, kb, qb, e);
            } else {
                for (int64_t l = 0; l < r->L && st == AL_OK; l++) {
                    al_rec_dset_name(r, AL_T_ATT, l, dname, sizeof dname);
                    for (int64_t h = 0; h < r->H && st == AL_OK; h++) {
                        float *a = A + (l * r->H + h) * B * T;
                        if ((st = al_rec_read_att(r, n, l, h, row0, nr, T, a, e)) != AL_OK) break;
                        st = al_check_map_rows(a, nr, T, T, row0, r->causal, r->path, dname, n, h, e);
                    }
                }
            }
            /* the visitor sees heads at a stride of B rows: repack when the last block is shorter */
            if (st == AL_OK && nr < B)
                for (int64_t p = 1; p < P; p++) memmove(A + p * nr * T, A + p * B * T, sizeof(float) * (size_t)(nr * T));
            if (st == AL_OK) st = v->block(v->ctx, n, A, P, T, row0, nr, e);
            al_ticker_add(&pg, nr);
        }
    al_ticker_end(&pg);
    al_free(A);
    al_free(kb);
    al_free(qb);
    return st;
}
