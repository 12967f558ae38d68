/* Block streaming of attention maps. Reads are serial (HDF5 is not thread-safe); the statistics of the
 * heads of one batch run in parallel, one head per OpenMP iteration, and are folded in a fixed order. */
#include "stream.h"

#include <stdio.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/exec.h"
#include "../datasets/validate.h"
#include "../metrics/qk.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int64_t al_stream_rows(int64_t T, int64_t P, int64_t mem, size_t elem_bytes) {
    /* the float32 blocks of P heads plus one raw copy in the stored type; half the budget leaves room for
     * the visitors' workspaces, HDF5's chunk cache and the program itself */
    int64_t per_row = T * (4 * P + (int64_t)elem_bytes);
    int64_t rows = (mem / 2) / (per_row > 0 ? per_row : 1);
    if (rows < 1) rows = 1;
    if (rows > T) rows = T;
    return rows;
}

static int64_t al_longest(const al_rec *r) {
    int64_t m = 0;
    for (int64_t n = 0; n < r->N; n++)
        m = r->lengths[n] > m ? r->lengths[n] : m;
    return m;
}

int64_t al_resolve_tokens(const al_rec *r, int64_t tokens, int64_t def, al_error *e) {
    int64_t T, longest = al_longest(r);
    if (!r->causal) {
        if (tokens > 0 && tokens != r->T) {
            al_fail(e, AL_EUSAGE, r->path, NULL,
                    "--tokens %lld: non-causal maps are analysed whole (T = %lld); their top-left block is not a "
                    "distribution",
                    (long long)tokens, (long long)r->T);
            return -1;
        }
        return longest; /* every sample over its own valid length */
    }
    T = tokens > 0 ? tokens : (def > 0 ? def : longest);
    if (T > r->T) {
        al_fail(e, AL_EUSAGE, r->path, NULL, "--tokens %lld is beyond the recorded length %lld%s", (long long)T,
                (long long)r->T, tokens > 0 ? "" : " (the default; lower it with --tokens)");
        return -1;
    }
    if (T > longest) {
        al_fail(e, AL_EUSAGE, r->path, "lengths", "--tokens %lld is beyond the longest sample (%lld valid tokens)%s",
                (long long)T, (long long)longest, tokens > 0 ? "" : " (the default; lower it with --tokens)");
        return -1;
    }
    return T;
}

int64_t al_sample_tokens(const al_rec *r, int64_t n, int64_t T) {
    return r->lengths[n] < T ? r->lengths[n] : T;
}

int64_t al_short_samples(const al_rec *r, int64_t T, const char *analysis, int quiet) {
    int64_t k = 0;
    for (int64_t n = 0; n < r->N; n++)
        k += r->lengths[n] < T;
    if (k && !quiet)
        fprintf(stderr,
                "attnlab: warning: %s: %lld of %lld samples have fewer than %lld valid tokens and are left out of %s "
                "(it needs one common length; lower --tokens to include them)\n",
                r->path, (long long)k, (long long)r->N, (long long)T, analysis);
    return k;
}

int64_t al_valid_rows(const al_rec *r, int64_t T) {
    int64_t s = 0;
    for (int64_t n = 0; n < r->N; n++)
        s += al_sample_tokens(r, n, T);
    return s;
}

/* Walks the visitors of head slot p: the offsets of their workspaces inside the slot. */
#define AL_WS_ALIGN(x) (((x) + 63) & ~(size_t)63)

static void al_heads_begin(al_map_visitor *v, int nv, unsigned char *ws, size_t ws_head, int64_t np, int64_t n,
                           int64_t l, int64_t h0, int64_t T, int causal) {
    memset(ws, 0, (size_t)np * ws_head);
    for (int64_t p = 0; p < np; p++) {
        al_head_id hd = {n, l, h0 + p, T, causal};
        size_t off = 0;
        for (int k = 0; k < nv; k++) {
            if (v[k].head_begin) v[k].head_begin(v[k].ctx, &hd, ws + (size_t)p * ws_head + off);
            off += AL_WS_ALIGN(v[k].ws_bytes);
        }
    }
}

static void al_heads_block(al_map_visitor *v, int nv, unsigned char *ws_p, const al_head_id *hd, const float *A,
                           int64_t lda, int64_t row0, int64_t nr) {
    size_t off = 0;
    for (int k = 0; k < nv; k++) {
        v[k].block(v[k].ctx, hd, ws_p + off, A, lda, row0, nr);
        off += AL_WS_ALIGN(v[k].ws_bytes);
    }
}

static void al_heads_done(al_map_visitor *v, int nv, unsigned char *ws, size_t ws_head, int64_t np, int64_t n,
                          int64_t l, int64_t h0, int64_t T, int causal) {
    for (int64_t p = 0; p < np; p++) {
        al_head_id hd = {n, l, h0 + p, T, causal};
        size_t off = 0;
        for (int k = 0; k < nv; k++) {
            if (v[k].head_done) v[k].head_done(v[k].ctx, &hd, ws + (size_t)p * ws_head + off);
            off += AL_WS_ALIGN(v[k].ws_bytes);
        }
    }
}

/* q/k path: each head's queries and keys (first T tokens) are read whole ([T, D] each, linear in T), then
 * one thread per head turns them into probability blocks of B rows and feeds the visitors. */
static al_status al_stream_qk(al_rec *r, int64_t T, const al_exec *x, al_map_visitor *v, int nv, al_error *e) {
    int64_t D = r->D, P = al_exec_threads(x);
    if (P > r->H) P = r->H;
    if (P < 1) P = 1;
    int64_t ldk = al_qk_ldk(T);
    int64_t fixed = P * (2 * T + ldk) * D * 4;
    int64_t rows = (x->mem / 2 - fixed) / (P * T * 4);
    if (rows < 1) rows = 1;
    /* a block of about 512 KiB per head stays in the core's cache from the scores to the last statistic, but
     * at least 32 rows: each panel of keys then serves 8 groups of rows per block (at T = 32768 the keys are
     * 8-16 MiB, read from L3 once per block: 4-row blocks took twice as long). Each row is computed alone, so
     * the block size never changes a result. */
    int64_t Bc = (512 << 10) / (T * 4);
    if (Bc < 32) Bc = 32;
    if (rows > Bc) rows = Bc / 4 * 4;
    int64_t B = rows < T ? rows : T;
    size_t ws_head = 0;
    for (int k = 0; k < nv; k++)
        ws_head += AL_WS_ALIGN(v[k].ws_bytes);
    float *qb = al_malloc((size_t)(P * T * D), sizeof(float));    /* [P, T, D] */
    float *kb = al_malloc((size_t)(P * T * D), sizeof(float));    /* [P, T, D] */
    float *ktb = al_malloc((size_t)(P * D * ldk), sizeof(float)); /* [P, D, ldk] keys transposed */
    float *sb = al_malloc((size_t)(P * B * T), sizeof(float));    /* [P, B, T] */
    double *eb = al_malloc((size_t)(P * B), sizeof(double));      /* [P, B] row entropies of each block */
    unsigned char *ws = al_malloc((size_t)P, ws_head ? ws_head : 1);
    al_status st = AL_OK;
    if (!qb || !kb || !ktb || !sb || !eb || !ws)
        st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for q/k blocks");
    al_ticker pg;
    al_ticker_begin(&pg, x, "attnlab", r->L * r->N * r->H, 0);
    int64_t group = r->H / r->H_kv;
    char qn[64], kn[64];
    for (int64_t l = 0; l < r->L && st == AL_OK; l++) {
        al_rec_dset_name(r, AL_T_Q, l, qn, sizeof qn);
        al_rec_dset_name(r, AL_T_K, l, kn, sizeof kn);
        for (int64_t n = 0; n < r->N && st == AL_OK; n++)
            for (int64_t h0 = 0; h0 < r->H && st == AL_OK; h0 += P) {
                int64_t np = r->H - h0 < P ? r->H - h0 : P, Tn = al_sample_tokens(r, n, T); /* [T, D] slots */
                for (int64_t p = 0; p < np && st == AL_OK; p++) {
                    float *q = qb + p * T * D, *k = kb + p * T * D;
                    int64_t kvh = (h0 + p) / group;
                    if (p > 0 && (h0 + p - 1) / group == kvh)
                        memcpy(k, k - T * D, sizeof(float) * (size_t)(Tn * D));
                    else if ((st = al_rec_read_qkv(r, AL_T_K, n, l, kvh, 0, Tn, k, e)) != AL_OK)
                        break;
                    if ((st = al_rec_read_qkv(r, AL_T_Q, n, l, h0 + p, 0, Tn, q, e)) != AL_OK) break;
                    if ((st = al_check_finite(q, Tn * D, r->path, qn, "queries", e)) != AL_OK) break;
                    if ((st = al_check_finite(k, Tn * D, r->path, kn, "keys", e)) != AL_OK) break;
                    st = al_check_score_range(al_max_row_norm(q, Tn, D), al_max_row_norm(k, Tn, D), r->q_scale, r->path,
                                              qn, e);
                }
                if (st != AL_OK) break;
                al_heads_begin(v, nv, ws, ws_head, np, n, l, h0, Tn, r->causal);
#pragma omp parallel for schedule(static, 1) num_threads((int)np) if (np > 1)
                for (int64_t p = 0; p < np; p++) {
                    al_head_id hd = {n, l, h0 + p, Tn, r->causal, eb + p * B};
                    float *S = sb + p * B * T, *Kt = ktb + p * D * ldk; /* S: [B, Tn] */
                    al_qk_pack_keys(kb + p * T * D, Tn, D, Kt, ldk);
                    for (int64_t row0 = 0; row0 < Tn; row0 += B) {
                        int64_t nr = Tn - row0 < B ? Tn - row0 : B;
                        /* the softmax gives each row's entropy from its logits (no log per key): hd tells the
                         * visitors, which use it instead of computing it from the probabilities */
                        al_qk_probs_packed(qb + p * T * D + row0 * D, Kt, ldk, nr, Tn, D, row0, r->q_scale, r->causal,
                                           S, Tn, eb + p * B);
                        al_heads_block(v, nv, ws + (size_t)p * ws_head, &hd, S, Tn, row0, nr);
                    }
                }
                al_heads_done(v, nv, ws, ws_head, np, n, l, h0, Tn, r->causal);
                al_ticker_add(&pg, np);
            }
    }
    al_ticker_end(&pg);
    al_free(qb);
    al_free(kb);
    al_free(ktb);
    al_free(sb);
    al_free(eb);
    al_free(ws);
    return st;
}

al_status al_stream_maps(al_rec *r, int64_t T, const al_exec *x, al_map_visitor *v, int nv, al_error *e) {
    if (x->device == AL_DEVICE_CUDA) {
#ifdef AL_HAVE_CUDA
        return al_stream_cuda(r, T, x, v, nv, e);
#else
        return al_fail(e, AL_ENODEV, "--device", NULL,
                       "this attnlab was built without CUDA (configure with -DATTNLAB_CUDA=ON)");
#endif
    }
    if (!r->has[AL_T_ATT] || x->from_qk) {
        if (!r->has[AL_T_Q]) return al_fail(e, AL_EUSAGE, r->path, NULL, "--from-qk: the recording has no /q and /k");
        return al_stream_qk(r, T, x, v, nv, e);
    }
    size_t eb = al_dtype_size(r->dtype[AL_T_ATT]);
    int64_t P = al_exec_threads(x); /* heads per batch */
    if (P > r->H) P = r->H;
    if (P < 1) P = 1;
    int64_t B = al_stream_rows(T, P, x->mem, eb);
    /* blocks of about 256 KiB per head stay in the core's cache between validation and the statistics */
    int64_t Bc = (256 << 10) / (T * 4);
    if (B > Bc) B = Bc > 0 ? Bc : 1;
    int64_t cr = al_rec_chunk_rows(r, 0); /* whole chunks per block: each chunk is inflated once */
    if (cr > 0) B = B >= cr ? B / cr * cr : (al_stream_rows(T, P, x->mem, eb) >= cr ? cr : B);
    size_t ws_head = 0;
    for (int k = 0; k < nv; k++)
        ws_head += AL_WS_ALIGN(v[k].ws_bytes);
    /* each head's block starts on a page: pread copies into it at full speed */
    int64_t Bp = (B * T * 4 + 4095) / 4096 * 1024;           /* floats per head slot */
    float *buf = al_malloc((size_t)(P * Bp), sizeof(float)); /* [P, Bp >= B * T], page-aligned (core/alloc.c) */
    /* Heads are handed to threads one at a time (dynamic), HB heads between two barriers: as many as a quarter
     * of the budget holds workspaces for, so a slow head does not idle the other threads at every pair */
    int64_t HB = (x->mem / 4) / (int64_t)(ws_head ? ws_head : 1);
    if (HB > r->H) HB = r->H;
    if (HB < P) HB = P;
    unsigned char *ws = al_malloc((size_t)HB, ws_head ? ws_head : 1);    /* [HB, ws_head] */
    al_error *errs = al_calloc((size_t)HB, sizeof(al_error));            /* [HB] per-head errors */
    al_chunk_reader *rd = al_calloc((size_t)P, sizeof(al_chunk_reader)); /* [P] one reader per thread */
    int rd_ok = rd != NULL;
    for (int64_t p = 0; rd_ok && p < P; p++)
        rd_ok = al_chunk_reader_init(&rd[p]) == 0;
    al_status st = AL_OK;
    if (!buf || !ws || !errs || !rd_ok)
        st = al_fail(e, AL_ENOMEM, r->path, NULL, "out of memory for %lld blocks of %lld x %lld", (long long)P,
                     (long long)B, (long long)T);
    al_ticker pg;
    al_ticker_begin(&pg, x, "attnlab", r->L * r->H * al_valid_rows(r, T), st != AL_OK);
    char dname[64];
    for (int64_t l = 0; l < r->L && st == AL_OK; l++) {
        al_rec_dset_name(r, AL_T_ATT, l, dname, sizeof dname);
        for (int64_t n = 0; n < r->N && st == AL_OK; n++)
            for (int64_t h0 = 0; h0 < r->H && st == AL_OK; h0 += HB) {
                int64_t np = r->H - h0 < HB ? r->H - h0 : HB, nt = np < P ? np : P;
                int64_t Tn = al_sample_tokens(r, n, T); /* rows and keys of this sample */
                al_heads_begin(v, nv, ws, ws_head, np, n, l, h0, Tn, r->causal);
                int64_t stop = np; /* the lowest failing head so far: later heads quit, earlier ones go on */
                /* Each thread streams a head from first row to last: no barrier per block, so a core busy with
                 * another program delays only its own head. HDF5 calls are serialised by a lock; the inflating,
                 * validation and statistics of a block overlap the other threads' reads. */
#pragma omp parallel for schedule(dynamic, 1) num_threads((int)nt) if (nt > 1)
                for (int64_t p = 0; p < np; p++) {
                    int64_t h = h0 + p;
                    int tid = 0;
#ifdef _OPENMP
                    tid = omp_get_thread_num();
#endif
                    al_head_id hd = {n, l, h, Tn, r->causal};
                    al_error *ep = &errs[p];
                    ep->status = AL_OK;
                    for (int64_t row0 = 0; row0 < Tn; row0 += B) {
                        int64_t quit;
#pragma omp atomic read
                        quit = stop;
                        if (quit < p) break;
                        int64_t nr = Tn - row0 < B ? Tn - row0 : B;
                        /* contiguous float32 maps are read with pread, outside HDF5; the rest through it */
                        float *A = buf + tid * Bp; /* [nr, Tn] */
                        int pr = al_rec_att_pread(r, n, l, h, row0, nr, Tn, A);
                        if (pr < 0) {
                            al_fail(ep, AL_EIO, r->path, dname,
                                    "cannot read rows %lld.. of sample %lld, head %lld (file truncated "
                                    "while reading?)",
                                    (long long)row0, (long long)n, (long long)h);
                        } else if (pr == 0) {
                            al_status sp;
#pragma omp critical(al_hdf5)
                            sp = al_rec_att_fetch(r, &rd[tid], n, l, h, row0, nr, Tn, A, ep);
                            if (sp == AL_OK) al_rec_att_finish(r, &rd[tid], l, row0, nr, Tn, A, ep);
                        }
                        if (ep->status == AL_OK)
                            al_check_map_rows(A, nr, Tn, Tn, row0, r->causal, r->path, dname, n, h, ep);
                        if (ep->status != AL_OK) {
#pragma omp critical(al_stop)
                            if (p < stop) stop = p;
                            break;
                        }
                        al_heads_block(v, nv, ws + (size_t)p * ws_head, &hd, A, Tn, row0, nr);
#pragma omp critical(al_progress)
                        al_ticker_add(&pg, nr);
                    }
                }
                /* the first bad row of the first failing head: the same report for any number of threads */
                for (int64_t p = 0; p < np && st == AL_OK; p++)
                    if (errs[p].status != AL_OK) {
                        *e = errs[p];
                        st = e->status;
                    }
                if (st != AL_OK) break;
                al_heads_done(v, nv, ws, ws_head, np, n, l, h0, Tn, r->causal);
            }
    }
    al_ticker_end(&pg);
    for (int64_t p = 0; rd && p < P; p++)
        al_chunk_reader_free(&rd[p]);
    al_free(rd);
    al_free(buf);
    al_free(ws);
    al_free(errs);
    return st;
}
