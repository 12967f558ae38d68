/* Attention probabilities recomputed from recorded queries and keys, one block of query rows at a time:
 * P = softmax(scale * Q_blk K^T) under the causal mask. The T x T map is never held. */
#ifndef AL_METRICS_QK_H
#define AL_METRICS_QK_H

#include <stdint.h>

/* Q: [nrows, D] rows row0.. of one head's queries; K: [T, D] its keys; P: [nrows, ldp] (ldp >= T).
 * Causal: entries j > row0 + r are set to 0. Reference: logits and softmax in double. */
void al_qk_probs_ref(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                     int causal, float *P, int64_t ldp);

/* Keys transposed once per head for the score kernel, in panels of AL_QK_PANEL keys: Kt [ldk / 64, D, 64],
 * key j's component d at (j / 64) * D * 64 + d * 64 + j % 64; ldk = al_qk_ldk(T) (T rounded up to 64, the
 * padding zero). Size D * ldk floats. */
#define AL_QK_PANEL 64
int64_t al_qk_ldk(int64_t T);
void al_qk_pack_keys(const float *K, int64_t T, int64_t D, float *Kt, int64_t ldk);

/* Scores S[r, j] = scale * sum_d Q[r, d] Kt[d, j] for j < ncols(r), ncols(r) = min(row0 + r + 1, T) rounded
 * up to a multiple of 4 rows' worth (causal) or T; S: [nrows, lds], lds >= T. Each score is one chain of
 * float FMAs over d in order, then one multiply: the same bits on every code path (AVX-512, AVX2, plain C)
 * and for any split of the rows into blocks. Reference: al_qk_scores_ref (the plain-C path itself). */
void al_qk_scores(const float *Q, int64_t nrows, int64_t D, const float *Kt, int64_t ldk, int64_t T, int64_t row0,
                  int causal, float scale, float *S, int64_t lds);
void al_qk_scores_ref(const float *Q, int64_t nrows, int64_t D, const float *Kt, int64_t ldk, int64_t T, int64_t row0,
                      int causal, float scale, float *S, int64_t lds);

/* Tuned probabilities: al_qk_scores, then al_softmax_rows_ent (ent: [nrows] row entropies, or NULL). Every
 * row is computed the same way whatever the block it falls in, so results do not depend on --mem or
 * --threads. Kt: from al_qk_pack_keys. */
void al_qk_probs_packed(const float *Q, const float *Kt, int64_t ldk, int64_t nrows, int64_t T, int64_t D, int64_t row0,
                        double scale, int causal, float *P, int64_t ldp, double *ent);
/* The same from K [T, D] (packs the keys into a temporary first); returns -1 when out of memory. */
int al_qk_probs(const float *Q, const float *K, int64_t nrows, int64_t T, int64_t D, int64_t row0, double scale,
                int causal, float *P, int64_t ldp);

/* In place: each row r of S [nrows, lds] becomes softmax(S[r, 0..vis-1]), vis = min(row0 + r + 1, ncols)
 * when causal, ncols otherwise; entries from vis to ncols-1 become 0. exp is al_expf_poly's; the row sum is
 * accumulated in double in 16 lanes (key j in lane j mod 16), the same bits on every code path. With ent
 * ([nrows], or NULL), each row's entropy -sum p ln p = ln z - sum e x / z (x = s - max, e = exp x), from the
 * logits: no log per key. */
void al_softmax_rows_ent(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal, double *ent);
void al_softmax_rows(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal);
/* The plain-C path of al_softmax_rows_ent (its reference twin for identical bits). */
void al_softmax_rows_ref(float *S, int64_t nrows, int64_t ncols, int64_t lds, int64_t row0, int causal, double *ent);

/* Caps the code path (2: AVX-512, 1: AVX2, 0: plain C) for the tests that compare them; returns the path now
 * used. Not thread-safe: call before any kernel runs. */
int al_qk_isa_cap(int cap);

/* exp(x) in float from a range reduction and a degree-5 polynomial (Cephes' coefficients), FMA steps only:
 * within 2 ulp of exp for x >= -87; 0 below. Exposed for its accuracy test. */
float al_expf_poly(float x);

#endif
