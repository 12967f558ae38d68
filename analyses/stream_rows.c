/* Row-block streaming across all heads. Reads are serial (HDF5 is not thread-safe); turning q and k into
 * probabilities runs one head per OpenMP iteration. Validation is the same as the per-head engine's. */
#include "stream_rows.h"

#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/exec.h"
#include "../datasets/validate.h"
#include "../metrics/qk.h"
#include "stream.h"

int64_t al_stream_rows_all(const al_rec *r, int64_t T, int64_t mem, size_t extra) {
    int64_t P = r->L * r->H;
    size_t eb = r->has[AL_T_ATT] ? al_dtype_size(r->dtype[AL_T_ATT]) : 4;
    int64_t per_row = T * (P * (int64_t)(4 + extra) + (int64_t)eb);
    int64_t rows = (mem / 2) / (per_row > 0 ? per_row : 1);
    if (rows < 1) rows = 1;
    return rows > T ? T : rows;
}

/* One block of all heads from q and k over the sample's Tn tokens: kb holds one head's keys [Tn, D] as read, then
 * a layer's keys transposed [H_kv, D, ldk]; queries [H, B, D]; A: [P, nr, Tn]; ent: [P, nr] the rows' entropies. */
static al_status al_rows_from_qk(al_rec *r, int64_t n, int64_t T, int64_t Tn, int64_t row0, int64_t nr, float *A,
                                 int64_t B, float *kb, float *qb, double *ent, al_error *e) {
    int64_t D = r->D, group = r->H / r->H_kv, ldk = al_qk_ldk(T);
    float *kt = kb + T * D;
    char qn[64], kn[64];
    for (int64_t l = 0; l < r->L; l++) {
        al_rec_dset_name(r, AL_T_Q, l, qn, sizeof qn);
        al_rec_dset_name(r, AL_T_K, l, kn, sizeof kn);
        double kmax = 0, qmax = 0;
        for (int64_t g = 0; g < r->H_kv; g++) {
            if (al_rec_read_qkv(r, AL_T_K, n, l, g, 0, Tn, kb, e) != AL_OK) return e->status;
            if (al_check_finite(kb, Tn * D, r->path, kn, "keys", e) != AL_OK) return e->status;
            kmax = fmax(kmax, al_max_row_norm(kb, Tn, D));
            al_qk_pack_keys(kb, Tn, D, kt + g * D * ldk, ldk);
        }
        for (int64_t h = 0; h < r->H; h++) {
            if (al_rec_read_qkv(r, AL_T_Q, n, l, h, row0, nr, qb + h * B * D, e) != AL_OK) return e->status;
            if (al_check_finite(qb + h * B * D, nr * D, r->path, qn, "queries", e) != AL_OK) return e->status;
            qmax = fmax(qmax, al_max_row_norm(qb + h * B * D, nr, D));
        }
        if (al_check_score_range(qmax, kmax, r->q_scale, r->path, qn, e) != AL_OK) return e->status;
#pragma omp parallel for schedule(dynamic, 1)
        for (int64_t h = 0; h < r->H; h++)
            al_qk_probs_packed(qb + h * B * D, kt + (h / group) * D * ldk, ldk, nr, Tn, D, row0, r->q_scale, r->causal,
                               A + (l * r->H + h) * nr * Tn, Tn, ent + (l * r->H + h) * nr);
    }
    return AL_OK;
}

al_status al_stream_all_heads(al_rec *r, int64_t T, int64_t B, const al_exec *x, al_rows_visitor *v, al_error *e) {
    if (x->device == AL_DEVICE_CUDA)
        return al_fail(e, AL_EUSAGE, "--device", NULL,
                       "cuda: statistics over pairs of heads run on the CPU only (use --device cpu)");
    int qk = !r->has[AL_T_ATT] || x->from_qk;
    if (qk && !r->has[AL_T_Q]) return al_fail(e, AL_EUSAGE, r->path, NULL, "--from-qk: the recording has no /q and /k");
    int64_t P = r->L * r->H, D = r->D;
    float *A = al_malloc((size_t)(P * B), (size_t)T * sizeof(float)); /* [P, B, T] */
    float *kb = qk ? al_malloc((size_t)(T * D + r->H_kv * D * al_qk_ldk(T)), sizeof(float))
                   : NULL;                                                    /* [T, D] + [H_kv, D, ldk] */
    float *qb = qk ? al_malloc((size_t)(r->H * B * D), sizeof(float)) : NULL; /* [H, B, D] */
    double *ent = qk ? al_malloc((size_t)(P * B), sizeof(double)) : NULL;     /* [P, B] row entropies */
    if (!A || (qk && (!kb || !qb || !ent))) {
        al_free(ent);
        al_free(A);
        al_free(kb);
        al_free(qb);
        return al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for %lld row blocks of %lld x %lld", (long long)P,
                       (long long)B, (long long)T);
    }
    al_ticker pg;
    al_ticker_begin(&pg, x, "attnlab", al_valid_rows(r, T), 0);
    char dname[64];
    al_status st = AL_OK;
    for (int64_t n = 0; n < r->N && st == AL_OK; n++) {
        int64_t Tn = al_sample_tokens(r, n, T); /* this sample's rows and keys */
        for (int64_t row0 = 0; row0 < Tn && st == AL_OK; row0 += B) {
            int64_t nr = Tn - row0 < B ? Tn - row0 : B;
            /* head p's block lands at A + p * nr * Tn: the visitor's [P, nr, Tn] layout, whatever nr is */
            if (qk) {
                st = al_rows_from_qk(r, n, T, Tn, row0, nr, A, B, kb, qb, ent, e);
            } else {
                for (int64_t l = 0; l < r->L && st == AL_OK; l++) {
                    al_rec_dset_name(r, AL_T_ATT, l, dname, sizeof dname);
                    for (int64_t h = 0; h < r->H && st == AL_OK; h++) {
                        float *a = A + (l * r->H + h) * nr * Tn;
                        if ((st = al_rec_read_att(r, n, l, h, row0, nr, Tn, a, e)) != AL_OK) break;
                        st = al_check_map_rows(a, nr, Tn, Tn, row0, r->causal, r->path, dname, n, h, e);
                    }
                }
            }
            if (st == AL_OK) st = v->block(v->ctx, n, Tn, A, P, Tn, row0, nr, qk ? ent : NULL, e);
            al_ticker_add(&pg, nr);
        }
    }
    al_ticker_end(&pg);
    al_free(ent);
    al_free(A);
    al_free(kb);
    al_free(qb);
    return st;
}
