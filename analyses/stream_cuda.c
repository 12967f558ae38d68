/* The streaming engine on the GPU (--device cuda): map blocks are read into pinned staging buffers while the
 * previous block is processed on the device (double buffering); q/k heads go through the flash-style kernels.
 * Per-head results reach the visitors through head_summary, in the CPU engine's fixed order. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/exec.h"
#include "../metrics/cuda/al_cuda.h"
#include "../datasets/validate.h"
#include "../metrics/headstats.h"
#include "stream.h"
#include "stream_cuda.h"

/* What the visitors need from the GPU; refuses combinations it cannot compute. */
static al_status al_cuda_needs(const al_rec *r, al_map_visitor *v, int nv, int qk, al_cu_mapcfg *cfg, al_error *e) {
    int have_window = 0;
    cfg->sink_tokens = 4;
    cfg->recent = 64;
    cfg->clark = 0;
    for (int k = 0; k < nv; k++) {
        if (!v[k].head_summary)
            return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: one of the requested statistics has no GPU version (use --device cpu)");
        if (v[k].needs_classes)
            return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: token-class attention is computed on the CPU only (use --device cpu)");
        if (v[k].needs_clark && qk)
            return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: --clark from queries and keys is computed on the CPU only");
        cfg->clark |= v[k].needs_clark;
        if (v[k].needs_window) {
            if (have_window && (cfg->sink_tokens != v[k].sink_tokens || cfg->recent != v[k].recent))
                return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: two different distant-mass windows in one pass");
            cfg->sink_tokens = v[k].sink_tokens;
            cfg->recent = v[k].recent;
            have_window = 1;
        }
    }
    (void)r;
    return AL_OK;
}

al_status al_cuda_fold_rows(const double *rt, int64_t row0, int64_t nr, int64_t T, int causal, int clark,
                                   double *hs, const char *file, const char *dset, int64_t n, int64_t h, al_error *e) {
    double cs = 1e-4 / (double)T, cterm = cs * log(cs);
    for (int64_t r = 0; r < nr; r++) {
        const double *q = rt + r * AL_CQ;
        int64_t i = row0 + r, vis = causal ? (i + 1 < T ? i + 1 : T) : T;
        if (q[AL_CQ_BAD] > 0)
            return al_fail(e, AL_EVALUE, file, dset, "non-finite or out-of-range value in row %lld of sample %lld, head %lld",
                           (long long)i, (long long)n, (long long)h);
        if (causal && q[AL_CQ_FUT] > AL_ROWSUM_TOL) /* the CPU engine's check and words */
            return al_fail(e, AL_EVALUE, file, dset,
                           "row %lld of sample %lld, head %lld puts %.6g of its attention on later keys; a causal map puts "
                           "none there (if the map is bidirectional, the recording's causal attribute should be 0)",
                           (long long)i, (long long)n, (long long)h, q[AL_CQ_FUT]);
        if (fabs(q[AL_CQ_SUM] - 1.0) > AL_ROWSUM_TOL)
            return al_fail(e, AL_EVALUE, file, dset, "row %lld of sample %lld, head %lld sums to %.6g, not 1", (long long)i,
                           (long long)n, (long long)h, q[AL_CQ_SUM]);
        hs[AL_HS_ENTROPY] += q[AL_CQ_ENT];
        if (vis > 1) {
            hs[AL_HS_ENTROPY_NORM] += q[AL_CQ_ENT] / log((double)vis);
            hs[AL_HS_NORM_ROWS] += 1;
        }
        if (clark) hs[AL_HS_CLARK] += q[AL_CQ_CLARK] - (double)(T - vis) * cterm;
        hs[AL_HS_FIRST] += q[AL_CQ_FIRST];
        hs[AL_HS_SELF] += q[AL_CQ_SELF];
        hs[AL_HS_PREV] += q[AL_CQ_PREV];
        if (!causal) hs[AL_HS_NEXT] += q[AL_CQ_NEXT];
        hs[AL_HS_DISTANCE] += q[AL_CQ_DIST];
        hs[AL_HS_DISTANT] += q[AL_CQ_DISTANT];
    }
    return AL_OK;
}

void al_cuda_fold_qk(const double *rows, int64_t T, int causal, double *hs) {
    memset(hs, 0, sizeof(double) * AL_HS_COUNT);
    for (int64_t i = 0; i < T; i++) {
        const double *o = rows + i * AL_QQ;
        int64_t vis = causal ? i + 1 : T;
        hs[AL_HS_ENTROPY] += o[AL_QQ_ENT];
        if (vis > 1) {
            hs[AL_HS_ENTROPY_NORM] += o[AL_QQ_ENT] / log((double)vis);
            hs[AL_HS_NORM_ROWS] += 1;
        }
        hs[AL_HS_FIRST] += o[AL_QQ_FIRST];
        hs[AL_HS_SELF] += o[AL_QQ_SELF];
        hs[AL_HS_PREV] += o[AL_QQ_PREV];
        hs[AL_HS_DISTANCE] += o[AL_QQ_DIST];
        hs[AL_HS_DISTANT] += o[AL_QQ_DISTANT];
    }
}

static void al_cuda_deliver(al_map_visitor *v, int nv, unsigned char *ws, size_t *off, const al_head_id *hd,
                            const double *colsum, const double *hs) {
    for (int k = 0; k < nv; k++) {
        memset(ws + off[k], 0, v[k].ws_bytes);
        if (v[k].head_begin) v[k].head_begin(v[k].ctx, hd, ws + off[k]);
        v[k].head_summary(v[k].ctx, hd, ws + off[k], colsum, hs);
        if (v[k].head_done) v[k].head_done(v[k].ctx, hd, ws + off[k]);
    }
}

static al_status al_cuda_maps(al_rec *r, int64_t T, const al_exec *x, al_map_visitor *v, int nv, const al_cu_mapcfg *cfg0,
                              unsigned char *ws, size_t *off, double *colsum, double *hs, al_error *e) {
    int64_t B = (x->mem / 4) / (T * 4 * 2); /* two float32 staging blocks, pinned, plus the device copies */
    if (B < 1) B = 1;
    if (B > T) B = T;
    char why[256];
    al_cu_maps *m = al_cu_maps_new(T, B, AL_CU_F32, why, sizeof why);
    double *rt[2] = {al_malloc((size_t)(B * AL_CQ), sizeof(double)), al_malloc((size_t)(B * AL_CQ), sizeof(double))};
    al_status st = AL_OK;
    if (!m) st = al_fail(e, AL_ENODEV, "--device", NULL, "cuda: %s", why);
    else if (!rt[0] || !rt[1]) st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    al_cu_mapcfg cfg = *cfg0;
    cfg.T = T;
    cfg.causal = r->causal;
    al_ticker pg;
    al_ticker_begin(&pg, x, "attnlab (cuda)", r->L * r->N * r->H * T, 0);
    char dname[64];
    for (int64_t l = 0; l < r->L && st == AL_OK; l++) {
        al_rec_dset_name(r, AL_T_ATT, l, dname, sizeof dname);
        for (int64_t n = 0; n < r->N && st == AL_OK; n++)
            for (int64_t h = 0; h < r->H && st == AL_OK; h++) {
                memset(hs, 0, sizeof(double) * AL_HS_COUNT);
                if (al_cu_maps_head_begin(m) != 0) {
                    st = al_fail(e, AL_EINTERNAL, "--device", NULL, "cuda: %s", al_cuda_last_error());
                    break;
                }
                /* block b is read into slot b % 2 while block b - 1 runs on the device; block b - 2's row totals
                 * are folded (in block order) before its slot is reused */
                int64_t nb = (T + B - 1) / B, row_of[2] = {0, 0}, nr_of[2] = {0, 0};
                int pending[2] = {0, 0};
                for (int64_t b = 0; b < nb + 2 && st == AL_OK; b++) {
                    int slot = (int)(b & 1);
                    if (pending[slot]) {
                        pending[slot] = 0;
                        if (al_cu_maps_wait(m, slot, rt[slot]) != 0) {
                            st = al_fail(e, AL_EINTERNAL, "--device", NULL, "cuda: %s", al_cuda_last_error());
                            break;
                        }
                        st = al_cuda_fold_rows(rt[slot], row_of[slot], nr_of[slot], T, r->causal, cfg.clark, hs, r->path,
                                               dname, n, h, e);
                        if (st != AL_OK) break;
                    }
                    if (b >= nb) continue;
                    int64_t row0 = b * B, nr = T - row0 < B ? T - row0 : B;
                    float *stage = al_cu_maps_staging(m, slot);
                    if ((st = al_rec_read_att_heads(r, n, l, h, 1, row0, nr, T, stage, B * T, e)) != AL_OK) break;
                    row_of[slot] = row0;
                    nr_of[slot] = nr;
                    if (al_cu_maps_submit(m, slot, row0, nr, &cfg) != 0) {
                        st = al_fail(e, AL_EINTERNAL, "--device", NULL, "cuda: %s", al_cuda_last_error());
                        break;
                    }
                    pending[slot] = 1;
                    al_ticker_add(&pg, nr);
                }
                if (st != AL_OK) { /* let the device finish what was submitted before the buffers go */
                    for (int sl = 0; sl < 2; sl++)
                        if (pending[sl]) al_cu_maps_wait(m, sl, NULL);
                }
                if (st != AL_OK) break;
                if (al_cu_maps_colsum(m, colsum) != 0) {
                    st = al_fail(e, AL_EINTERNAL, "--device", NULL, "cuda: %s", al_cuda_last_error());
                    break;
                }
                al_head_id hd = {n, l, h, T, r->causal};
                al_cuda_deliver(v, nv, ws, off, &hd, colsum, hs);
            }
    }
    al_ticker_end(&pg);
    al_cu_maps_free(m);
    al_free(rt[0]);
    al_free(rt[1]);
    return st;
}

static al_status al_cuda_qk(al_rec *r, int64_t T, const al_exec *ex, al_map_visitor *v, int nv, const al_cu_mapcfg *cfg0,
                            unsigned char *ws, size_t *off, double *colsum, double *hs, al_error *e) {
    int64_t D = r->D;
    if (D % 16 != 0 || D > 256)
        return al_fail(e, AL_EUSAGE, "--device", NULL, "cuda: head_dim %lld is not a multiple of 16 up to 256", (long long)D);
    float *q = al_malloc((size_t)(T * D), sizeof(float)), *k = al_malloc((size_t)(T * D), sizeof(float));
    double *rows = al_malloc((size_t)(T * AL_QQ), sizeof(double));
    al_status st = AL_OK;
    if (!q || !k || !rows) st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    al_cu_qkcfg cfg = {T, D, r->q_scale, r->causal, cfg0->sink_tokens, cfg0->recent, 0};
    int64_t group = r->H / r->H_kv;
    for (int64_t l = 0; l < r->L && st == AL_OK; l++)
        for (int64_t n = 0; n < r->N && st == AL_OK; n++)
            for (int64_t h = 0; h < r->H && st == AL_OK; h++) {
                if ((st = al_rec_read_qkv(r, AL_T_Q, n, l, h, 0, T, q, e)) != AL_OK) break;
                if ((st = al_rec_read_qkv(r, AL_T_K, n, l, h / group, 0, T, k, e)) != AL_OK) break;
                for (int64_t x = 0; x < T * D; x++)
                    if (!isfinite(q[x]) || !isfinite(k[x])) {
                        st = al_fail(e, AL_EVALUE, r->path, "q/k", "non-finite value in layer %lld, head %lld", (long long)l, (long long)h);
                        break;
                    }
                if (st == AL_OK) {
                    char qn[64];
                    al_rec_dset_name(r, AL_T_Q, l, qn, sizeof qn);
                    st = al_check_score_range(al_max_row_norm(q, T, D), al_max_row_norm(k, T, D), r->q_scale, r->path,
                                              qn, e);
                }
                if (st != AL_OK) break;
                if (al_cu_qkstats(q, k, AL_CU_F32, &cfg, rows, colsum) != 0) {
                    st = al_fail(e, AL_EINTERNAL, "--device", NULL, "cuda: %s", al_cuda_last_error());
                    break;
                }
                al_cuda_fold_qk(rows, T, r->causal, hs);
                al_head_id hd = {n, l, h, T, r->causal};
                al_cuda_deliver(v, nv, ws, off, &hd, colsum, hs);
            }
    al_free(q);
    al_free(k);
    al_free(rows);
    return st;
}

al_status al_stream_cuda(al_rec *r, int64_t T, const al_exec *x, al_map_visitor *v, int nv, al_error *e) {
    char why[256];
    for (int64_t n = 0; n < r->N; n++)
        if (al_sample_tokens(r, n, T) < T)
            return al_fail(
                e, AL_EUSAGE, "--device", NULL,
                "cuda: sample %lld has %lld valid tokens, fewer than the %lld analysed: the GPU path analyses "
                "samples of one length (use --device cpu, or lower --tokens)",
                (long long)n, (long long)r->lengths[n], (long long)T);
    if (al_cuda_init(why, sizeof why) != 0) return al_fail(e, AL_ENODEV, "--device", NULL, "cuda: %s", why);
    int qk = !r->has[AL_T_ATT] || x->from_qk;
    if (qk && !r->has[AL_T_Q]) return al_fail(e, AL_EUSAGE, r->path, NULL, "--from-qk: the recording has no /q and /k");
    al_cu_mapcfg cfg;
    if (al_cuda_needs(r, v, nv, qk, &cfg, e) != AL_OK) return e->status;
    size_t off[16], tot = 0;
    if (nv > 16) return al_fail(e, AL_EINTERNAL, NULL, NULL, "too many statistics in one pass");
    for (int k = 0; k < nv; k++) {
        off[k] = tot;
        tot += (v[k].ws_bytes + 63) & ~(size_t)63;
    }
    unsigned char *ws = al_malloc(tot ? tot : 1, 1);
    double *colsum = al_malloc((size_t)T, sizeof(double)), hs[AL_HS_COUNT];
    al_status st;
    if (!ws || !colsum) st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory");
    else if (qk) st = al_cuda_qk(r, T, x, v, nv, &cfg, ws, off, colsum, hs, e);
    else st = al_cuda_maps(r, T, x, v, nv, &cfg, ws, off, colsum, hs, e);
    al_free(ws);
    al_free(colsum);
    return st;
}
